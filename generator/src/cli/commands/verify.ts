// `bnn-gen verify`: the emitted C built for WebAssembly, compared layer by layer with the TS reference; with
// --board, the golden firmware run under QEMU as well.
import { countCorrect } from '../../model/scores.ts';
import { generate, goldenInputs } from '../../generate.ts';
import { getTarget } from '../../model/target.ts';
import { runReference } from '../../reference/interpreter.ts';
import { runFirmware } from '../../verify/firmware-run.ts';
import { formatMemoryReport } from '../../verify/memory.ts';
import { verifyWasm } from '../../verify/verify-model.ts';
import { accuracyText, boardByName, labelledInputs, modelFrom, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';
import { BnnError } from '../../core/errors.ts';

export interface VerifyFlags extends ImportFlags {
  input?: string[];
  labels?: string;
  board?: string[];
  count: number;
  seed: number;
}

export async function verifyCommand(modelPath: string | undefined, f: VerifyFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  const boards = (f.board ?? []).map(boardByName);
  for (const b of boards) {
    if (!b.qemu) throw new BnnError(`--board ${b.name}: verify runs firmware under QEMU, and ${b.name} is real hardware (build it with --board ${b.name} and flash it)`);
    // Refuse a model that does not fit before any build (generate() checks weights and RAM against the board).
    generate(model, { target: getTarget(b.cpu), board: b, goldenCount: 1 });
  }
  const { inputs: given, labels } = labelledInputs(modelPath, f, model);
  const inputs = goldenInputs(model, given, given.length + f.count, f.seed);
  const r = await verifyWasm(model, inputs, io.progress);
  if (r.mismatch) {
    const m = r.mismatch;
    io.out(`FAIL ${model.name}: input ${m.input}: ${m.message}`);
    return 1;
  }
  io.out(`PASS ${model.name}: ${r.inputs} inputs x ${r.info.layers.length} layers bit-exact (WebAssembly build of the emitted C vs TS reference)`);
  if (labels) io.out(`accuracy on ${labels.length} labelled inputs (TS reference = WebAssembly): ${accuracyText(countCorrect(given.map((x) => runReference(model, x).scores), labels), labels.length)}`);
  for (const board of boards) {
    // With labels the firmware runs the labelled inputs only (its accuracy is then comparable).
    const fw = labels ? await runFirmware(model, board, given, labels, io.progress) : await runFirmware(model, board, inputs, undefined, io.progress);
    if (!fw.passed) {
      io.out(`FAIL ${model.name} on ${board.name} (${board.cpu}, QEMU): firmware exit ${fw.exitCode}`);
      io.out(fw.stdout.split('\n').filter((l) => /MISMATCH|score\[|FAIL|fault|returned/.test(l)).slice(0, 10).join('\n'));
      return 1;
    }
    io.out(`PASS ${model.name} on ${board.name} (${board.cpu}, QEMU): ${labels ? given.length : inputs.length} inputs, scores bit-identical to the TS reference`);
    if (fw.accuracy) io.out(`accuracy on ${board.name}: ${accuracyText(fw.accuracy.correct, fw.accuracy.total)}; TS reference ${accuracyText(fw.accuracy.reference, fw.accuracy.total)}`);
    io.out(formatMemoryReport(fw.memory));
  }
  return 0;
}
