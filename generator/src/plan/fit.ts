// Does a model fit a board? Every byte of RAM the firmware takes, counted before any build, and the scratch fast
// kernels may take beside the arena. A model this accepts links and runs (test/qemu-boards.test.ts holds the bound).
import { BnnError } from '../core/errors.ts';
import type { Board } from '../model/board.ts';

/**
 * RAM the golden harness and newlib take besides the arena and the scores: their .data + .bss, and nothing else (no
 * heap: startup.c's _sbrk refuses every request and replaces newlib's allocator, so its 1 KiB of bookkeeping is not
 * linked). Measured at 1,476 B on the QEMU boards (newlib with librdimon, GCC 12.2, -O2; `bnn-gen memory` shows it
 * plus the scores as "other"; the newlib-nano builds of the UART boards take about 310 B), rounded up to a multiple of
 * 128.
 */
export const HARNESS_STATIC_RAM = 1536;

export interface FirmwareRam {
  arena: number;
  harness: number;
  stack: number;
  total: number;
  capacity: number;
  region: string;
}

/** RAM a board's golden firmware needs, by part, for a model with this arena and number of scores: all of it static. */
export function firmwareRam(arenaSize: number, numClasses: number, board: Board): FirmwareRam {
  const data = board.memory.find((m) => m.name === board.layout.data)!;
  // The stack shares the data region on most boards; where it has its own (an547's DTCM) it takes nothing here.
  const stack = board.layout.stack === board.layout.data ? board.layout.stackSize : 0;
  const harness = HARNESS_STATIC_RAM + 4 * numClasses;
  const total = arenaSize + harness + stack;
  return { arena: arenaSize, harness, stack, total, capacity: data.length, region: data.name };
}

/** The most bytes the arena may take on `board`: its data RAM less the harness, the C library and the stack. */
export function arenaBudget(board: Board, numClasses: number): number {
  const r = firmwareRam(0, numClasses, board);
  return r.capacity - r.total;
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
    throw new BnnError(`model ${m.name} does not fit ${board.name}: its firmware needs ${n(r.total)} B of RAM (arena ${n(r.arena)}, harness and C library ${n(r.harness)}${r.stack ? `, stack ${n(r.stack)}` : ''}), ${r.region} has ${n(r.capacity)} B`);
  }
}
