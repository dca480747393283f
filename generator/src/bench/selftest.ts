// The known-count firmware (bench/plugin/selftest/known.S): instruction sequences whose executed-instruction counts
// are computed by hand, to check that the icount plugin is exact. Built per board with the board's CPU flags.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../model/board.ts';
import { getTarget } from '../model/target.ts';
import { buildKey, requireTool, runTool, toolVersion, writeFileAtomic } from '../toolchain/tools.ts';
import { BENCH_CACHE_DIR, PLUGIN_DIR } from './icount.ts';

export const KNOWN_SOURCE = join(PLUGIN_DIR, 'selftest', 'known.S');
export const KNOWN_LINKER_SCRIPT = join(PLUGIN_DIR, 'selftest', 'known.ld');

/** The marker functions in known.S, in the order the program reaches them. */
export const KNOWN_MARKERS = ['mark_loop', 'mark_calls', 'mark_done'] as const;

export interface KnownParams {
  /** Passes over the three regions (1..255). */
  passes: number;
  /** Iterations of the 4-instruction loop (1..2^32-1). */
  loopN: number;
  /** Iterations of the 5-instruction call loop (1..2^32-1). */
  callN: number;
}

export interface KnownCounts {
  /** Instructions before the first marker. */
  beforeFirst: number;
  /** Per marker (KNOWN_MARKERS order): instructions and visits. */
  regions: { name: string; instructions: number; visits: number }[];
  total: number;
}

/** The hand computation documented at the top of known.S. */
export function expectedCounts({ passes: P, loopN: N, callN: M }: KnownParams): KnownCounts {
  const regions = [
    { name: 'mark_loop', instructions: P * (4 * N + 5), visits: P },
    { name: 'mark_calls', instructions: P * (5 * M + 2), visits: P },
    { name: 'mark_done', instructions: 5 * (P - 1) + 9, visits: P },
  ];
  const beforeFirst = 3;
  return { beforeFirst, regions, total: beforeFirst + regions.reduce((s, r) => s + r.instructions, 0) };
}

function checkParams(p: KnownParams): void {
  const ok = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
  if (!ok(p.passes, 255) || !ok(p.loopN, 2 ** 32 - 1) || !ok(p.callN, 2 ** 32 - 1))
    throw new Error(`known-count firmware: bad parameters ${JSON.stringify(p)} (passes 1..255, loopN and callN 1..2^32-1)`);
}

/** Initial stack pointer: the top of the board's stack region. */
function stackTop(board: Board): number {
  const r = board.memory.find((m) => m.name === board.layout.stack);
  if (!r) throw new Error(`board ${board.name}: no stack region ${board.layout.stack}`);
  return r.origin + r.length;
}

/** Assemble and link known.S for `board` (cached under .cache/bench). Returns the ELF path. */
export async function buildKnownFirmware(board: Board, params: KnownParams): Promise<string> {
  checkParams(params);
  const gcc = requireTool('arm-none-eabi-gcc');
  const args = [
    ...getTarget(board.cpu).cflags,
    '-nostdlib', '-nostartfiles', '-T', KNOWN_LINKER_SCRIPT,
    `-DSTACK_TOP=0x${stackTop(board).toString(16)}`,
    `-DPASSES=${params.passes}`, `-DLOOP_N=${params.loopN}`, `-DCALL_N=${params.callN}`,
    KNOWN_SOURCE,
  ];
  const key = buildKey({
    tool: await toolVersion('arm-none-eabi-gcc'),
    args,
    source: await readFile(KNOWN_SOURCE, 'utf8'),
    ld: await readFile(KNOWN_LINKER_SCRIPT, 'utf8'),
  }).slice(0, 16);
  const cached = join(BENCH_CACHE_DIR, `known-${board.name}-${key}.elf`);
  if (existsSync(cached)) return cached;
  const dir = await mkdtemp(join(tmpdir(), 'bnn-known-'));
  try {
    await runTool(gcc, [...args, '-o', join(dir, 'known.elf')]);
    await writeFileAtomic(cached, await readFile(join(dir, 'known.elf')));
    return cached;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
