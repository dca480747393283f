// Wall-clock cost of counting: run an ELF without the plugin and in each counting mode, best of `runs`.
//   npx tsx generator/src/bench/overhead.ts <elf> [board=mps2-an386] [runs=3] [marker ...]
// With no ELF argument it times the known-count loop with 250M iterations (1,000,000,024 instructions).
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadBoard, type Board } from '../model/board.ts';
import { qemuArgs } from '../toolchain/qemu.ts';
import { runWithCounts, type CountMode } from './icount.ts';
import { buildKnownFirmware, KNOWN_MARKERS } from './selftest.ts';

export interface OverheadRow {
  mode: 'none' | CountMode;
  seconds: number;
  instructions?: number;
}

export async function measureOverhead(elf: string, board: Board, markers: string[], runs = 3): Promise<OverheadRow[]> {
  const best = async (f: () => Promise<number | undefined>) => {
    let seconds = Infinity;
    let instructions: number | undefined;
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      instructions = await f();
      seconds = Math.min(seconds, Number(process.hrtime.bigint() - t) / 1e9);
    }
    return { seconds, instructions };
  };
  const rows: OverheadRow[] = [];
  rows.push({
    mode: 'none',
    ...(await best(async () => {
      const r = spawnSync('qemu-system-arm', [...qemuArgs(board), '-kernel', elf], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`QEMU exited with ${r.status}`);
      return undefined;
    })),
  });
  for (const mode of ['tb', 'insn', 'cb'] as const) {
    rows.push({ mode, ...(await best(async () => (await runWithCounts(elf, board, markers, { mode })).total)) });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [elfArg, boardName = 'mps2-an386', runsArg = '3', ...markerArgs] = process.argv.slice(2);
  const board = loadBoard(boardName);
  const elf = elfArg ?? (await buildKnownFirmware(board, { passes: 1, loopN: 250_000_000, callN: 1 }));
  const markers = elfArg ? markerArgs : [...KNOWN_MARKERS];
  const rows = await measureOverhead(elf, board, markers, Number(runsArg));
  const base = rows[0].seconds;
  for (const r of rows)
    console.log(`${r.mode.padEnd(5)} ${r.seconds.toFixed(3)} s  x${(r.seconds / base).toFixed(2)}${r.instructions ? `  ${r.instructions} instructions, ${(r.instructions / r.seconds / 1e6).toFixed(0)} M/s` : ''}`);
}
