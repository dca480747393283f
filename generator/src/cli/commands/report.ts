// `bnn-gen report`: shapes, binary MACs, BOPs and weight bits per layer; totals, weight flash and the exact arena.
// With --quantize int8 it reports the integer model, then the float model's totals beside it and the agreement.
import { agreement, formatAgreement } from '../../quantize/index.ts';
import { randomInput } from '../../model/random.ts';
import { formatReport, modelReport, reportJson } from '../../report.ts';
import { loadedModel, readAllInputs, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

const num = (v: number) => v.toLocaleString('en-US');

export interface ReportFlags extends ImportFlags {
  json?: boolean;
  input?: string[];
}

export function reportCommand(modelPath: string | undefined, f: ReportFlags, io: Io): number {
  const loaded = loadedModel(modelPath, f, io.progress);
  io.progress.phase('planning');
  const r = modelReport(loaded.model);
  if (!loaded.int8) {
    io.out(f.json ? reportJson(r) : formatReport(r));
    return 0;
  }
  const fr = modelReport(loaded.float);
  io.progress.phase('measuring the int8 model against the float one');
  const a = agreementOn(loaded, f.input);
  if (f.json) {
    io.out(JSON.stringify({ int8: JSON.parse(reportJson(r)), float: JSON.parse(reportJson(fr)), agreement: a.agreement, calibrationInputs: loaded.int8.calibration.inputs, calibrationPercentile: loaded.int8.calibration.percentile, agreementInputs: a.from }, null, 2));
    return 0;
  }
  io.out(formatReport(r));
  io.out('');
  io.out(`float model (as exported): weight flash ${num(fr.flash.total)} B, arena ${num(fr.arenaBytes)} B; int8 model: weight flash ${num(r.flash.total)} B, arena ${num(r.arenaBytes)} B`);
  io.out(formatAgreement(a.agreement, loaded.int8.calibration).join('\n'));
  io.out(`  (agreement inputs: ${a.from})`);
  return 0;
}

/** The int8 model's agreement with the float one on --input (never the calibration inputs), else seeded random inputs. */
export function agreementOn(loaded: ReturnType<typeof loadedModel>, files: string[] | undefined) {
  const given = readAllInputs(files, loaded.float);
  const inputs = given.length ? given : Array.from({ length: 32 }, (_, k) => randomInput(loaded.float, 1000 + k));
  const from = given.length ? (files ?? []).join(', ') : '32 seeded random inputs (synthetic; give yours with --input)';
  return { agreement: agreement(loaded.float, loaded.model, loaded.int8!.stored, inputs, loaded.int8!.inputs), from };
}
