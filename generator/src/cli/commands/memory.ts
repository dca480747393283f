// `bnn-gen memory`: the golden firmware built for a board (and run in QEMU where possible), its flash and RAM read
// from the linked ELF.
import { BnnError } from '../../core/errors.ts';
import { goldenInputs } from '../../generate.ts';
import { runFirmware } from '../../verify/firmware-run.ts';
import { formatMemoryReport } from '../../verify/memory.ts';
import { boardByName, modelFrom, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';
import { emitJson } from './report-file.ts';

export interface MemoryFlags extends ImportFlags {
  board: string;
  json?: string | boolean;
  force?: boolean;
}

export async function memoryCommand(modelPath: string | undefined, f: MemoryFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  const board = boardByName(f.board);
  if (!board.qemu && !board.emulation) throw new BnnError(`--board ${board.name}: memory builds and runs the firmware under QEMU, and ${board.name} is real hardware that QEMU does not emulate`);
  const r = await runFirmware(model, board, goldenInputs(model, [], 2, 1), undefined, io.progress);
  emitJson(io, f.json, () => formatMemoryReport(r.memory), r.memory, f.force);
  return r.passed ? 0 : 1;
}
