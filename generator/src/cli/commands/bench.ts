// `bnn-gen bench`: executed instructions per layer under QEMU (exact, TCG plugin), beside the portable _ref kernels.
import { benchModel, formatBench } from '../../bench/bench.ts';
import { BnnError } from '../../core/errors.ts';
import { boardByName, modelFrom, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';
import { emitJson } from './report-file.ts';

export interface BenchFlags extends ImportFlags {
  board: string;
  json?: string | boolean;
  force?: boolean;
}

export async function benchCommand(modelPath: string | undefined, f: BenchFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  const board = boardByName(f.board);
  if (!board.qemu) throw new BnnError(`bench needs a QEMU board; ${board.name} is real hardware (its firmware prints DWT cycles instead)`);
  const r = await benchModel(model, board, { progress: io.progress });
  emitJson(io, f.json, () => formatBench(r), r, f.force);
  return 0;
}
