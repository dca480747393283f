// Does a model fit a board? Every byte of RAM the firmware takes, counted before any build, and the scratch fast
// kernels may take beside the arena. A model this accepts links and runs (test/qemu-boards.test.ts holds the bound).
import { BnnError } from '../core/errors.ts';
import type { Board } from '../model/board.ts';

/**
 * RAM the golden harness and newlib take besides the arena and the scores: their .data + .bss, measured at
 * 2,924-2,936 B on every QEMU board (GCC 12.2, -O2; `bnn-gen memory` shows it as "other"), rounded up.
 */
export const HARNESS_STATIC_RAM = 3072;

/** Heap the harness keeps free (newlib's printf of a float mallocs its big-number scratch, about 1.1 KiB on Cortex-M0). */
export const HEAP_MIN = 2048;

export interface FirmwareRam {
  arena: number;
  harness: number;
  heap: number;
  stack: number;
  total: number;
  capacity: number;
  region: string;
}

/** RAM a board's golden firmware needs, by part, for a model with this arena and number of scores. */
export function firmwareRam(arenaSize: number, numClasses: number, board: Board): FirmwareRam {
  const data = board.memory.find((m) => m.name === board.layout.data)!;
  // The stack shares the data region on most boards; where it has its own (an547's DTCM) it takes nothing here.
  const stack = board.layout.stack === board.layout.data ? board.layout.stackSize : 0;
  const harness = HARNESS_STATIC_RAM + 4 * numClasses;
  const total = arenaSize + harness + HEAP_MIN + stack;
  return { arena: arenaSize, harness, heap: HEAP_MIN, stack, total, capacity: data.length, region: data.name };
}

/** Refuse, before any build, a model whose weights or RAM exceed the board's memory, naming both figures. */
export function checkFits(m: { name: string; totalWeightBytes: number; arenaSize: number; numClasses: number }, board: Board): void {
  const code = board.memory.find((r) => r.name === board.layout.code)!;
  const n = (v: number) => v.toLocaleString('en-US');
  if (m.totalWeightBytes > code.length) {
    throw new BnnError(`model ${m.name} does not fit ${board.name}: its weights need ${n(m.totalWeightBytes)} B of flash, ${code.name} holds ${n(code.length)} B`);
  }
  const r = firmwareRam(m.arenaSize, m.numClasses, board);
  if (r.total > r.capacity) {
    throw new BnnError(`model ${m.name} does not fit ${board.name}: its firmware needs ${n(r.total)} B of RAM (arena ${n(r.arena)}, harness and C library ${n(r.harness)}, heap ${n(r.heap)}${r.stack ? `, stack ${n(r.stack)}` : ''}), ${r.region} has ${n(r.capacity)} B`);
  }
}

/**
 * Scratch a fast kernel may use on `board`: the data region minus the stack, minus the arena the model needs with
 * _ref kernels only, minus 5 KiB for the harness's data, libc and the heap reserve. Fast kernels that need more pick
 * a smaller working set or step back to _ref, so a model that fits with _ref still fits.
 */
export function scratchBudget(board: Board, refArena: number): number {
  const data = board.memory.find((m) => m.name === board.layout.data)!;
  return Math.max(0, data.length - board.layout.stackSize - refArena - 5120);
}
