// `bnn-gen report`: shapes, binary MACs, BOPs and weight bits per layer; totals, weight flash and the exact arena.
import { formatReport, modelReport, reportJson } from '../../report.ts';
import { modelFrom, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

export interface ReportFlags extends ImportFlags {
  json?: boolean;
}

export function reportCommand(modelPath: string | undefined, f: ReportFlags, io: Io): number {
  const model = modelFrom(modelPath, f, io.progress);
  io.progress.phase('planning');
  const r = modelReport(model);
  io.out(f.json ? reportJson(r) : formatReport(r));
  return 0;
}
