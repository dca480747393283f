// `bnn-gen verify`: the emitted C built for WebAssembly, compared layer by layer with the TS reference; with
// --board, the golden firmware run under QEMU as well (a real board's own UART firmware with --emulate).
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
import { listBoards, loadBoard } from '../../model/board.ts';

/** Real boards whose firmware QEMU runs (their `emulation` machine). */
function emulatedBoards(): string[] {
  return listBoards().filter((n) => loadBoard(n).emulation);
}

export interface VerifyFlags extends ImportFlags {
  input?: string[];
  labels?: string;
  board?: string[];
  emulate?: boolean;
  count: number;
  seed: number;
}

export async function verifyCommand(modelPath: string | undefined, f: VerifyFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  const boards = (f.board ?? []).map(boardByName);
  for (const b of boards) {
    if (!b.qemu && !f.emulate) throw new BnnError(`--board ${b.name}: verify runs firmware under QEMU, and ${b.name} is real hardware: ${b.emulation ? `add --emulate to run its own firmware on QEMU's ${b.emulation.machine}` : `build it with --board ${b.name} and flash it (bnn-gen flash, bnn-gen monitor)`}`);
    if (!b.qemu && !b.emulation) throw new BnnError(`--board ${b.name} --emulate: QEMU 7.2 emulates no chip compatible with ${b.name}'s; boards that run emulated: ${emulatedBoards().join(', ')} (docs/boards.md)`);
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
    const where = board.qemu ? `${board.cpu}, QEMU` : `${board.cpu}, its own firmware on QEMU ${board.emulation!.machine}`;
    if (fw.emulated?.problem) {
      io.out(`FAIL ${model.name} on ${board.name} (${where}): ${fw.emulated.problem}`);
      return 1;
    }
    if (!fw.passed) {
      io.out(`FAIL ${model.name} on ${board.name} (${where}): ${board.qemu ? `firmware exit ${fw.exitCode}` : `verdict ${fw.emulated?.transcript?.verdict}`}`);
      io.out(fw.stdout.split('\n').filter((l) => /MISMATCH|score\[|FAIL|fault|returned/.test(l)).slice(0, 10).join('\n'));
      return 1;
    }
    io.out(`PASS ${model.name} on ${board.name} (${where}): ${labels ? given.length : inputs.length} inputs, scores bit-identical to the TS reference`);
    if (fw.accuracy) io.out(`accuracy on ${board.name}: ${accuracyText(fw.accuracy.correct, fw.accuracy.total)}; TS reference ${accuracyText(fw.accuracy.reference, fw.accuracy.total)}`);
    io.out(formatMemoryReport(fw.memory));
  }
  return 0;
}
