// The firmware folder `flash` and `monitor` work on: one bnn-gen wrote for a real board (its golden.json names the
// board and holds the TS reference's expected scores).
import { BnnError, printable } from '../core/errors.ts';
import type { Board } from '../model/board.ts';
import { readGoldenFile, type GoldenFile } from '../verify/golden-file.ts';
import { boardByName } from './common.ts';

export function firmwareFolder(dirArg: string | undefined, boardName: string | undefined): { dir: string; board: Board; golden: GoldenFile } {
  const dir = dirArg ?? '.';
  const golden = readGoldenFile(dir);
  const board = boardByName(boardName ?? golden.board);
  if (board.name !== golden.board) throw new BnnError(`--board ${board.name}: ${printable(dir)} holds firmware for ${golden.board}`);
  if (board.output.method !== 'uart') throw new BnnError(`board ${board.name} reports over semihosting: run it in QEMU (make run), not from flash`);
  return { dir, board, golden };
}
