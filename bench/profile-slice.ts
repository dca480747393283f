// Where bnn_bconv2d_b1_b1_slice spends its instructions: builds one standard layer (fast kernels, -DBNN_SLICE_PROF) for
// the M4 board and prints the exact instructions of each kernel phase (docs/kernels.md, "Profiling").
//   npx tsx bench/profile-slice.ts C H W TAU [scratchLimitBytes] [board] [cpu]
// board: mps2-an386 (M4) by default. ARMv6-M code runs unchanged on the M3 board (mps2-an385, 4 MiB of RAM), so
// `... mps2-an385 cortex-m0` profiles M0 code at working sets the micro:bit's 16 KiB cannot hold (same instructions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWithCounts } from '../generator/src/bench/icount.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { generate } from '../generator/src/generate.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { writeTree } from '../generator/src/core/files.ts';

const [C, H, W, tau, limit] = process.argv.slice(2, 7).map(Number);
const board = loadBoard(process.argv[7] ?? 'mps2-an386');
const target = getTarget(process.argv[8] ?? board.cpu);
const model = standardLayerModel(C, H, W, tau);
const g = generate(model, { target, board, goldenCount: 1, seed: 1, kernels: 'fast', scratchLimit: limit || undefined, armv6m: target.arch === 'armv6-m' });
const dir = mkdtempSync(join(tmpdir(), 'bnn-prof-'));
try {
  writeTree(dir, g.files);
  execFileSync('make', ['-C', dir, '-j2', `CPUFLAGS=${target.cflags.join(' ')} -DBNN_BENCH -DBNN_SLICE_PROF`, 'firmware.elf'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const phases = ['bnn_sp_transpose', 'bnn_sp_unit', 'bnn_sp_shared', 'bnn_sp_outputs', 'bnn_sp_otrans'];
  const layers = g.info.layers.filter((l) => l.marker);
  const conv = layers.find((l) => l.name === 'conv')!;
  const next = layers[layers.indexOf(conv) + 1]?.marker ?? g.info.markEnd;
  const r = await runWithCounts(join(dir, 'firmware.elf'), board, [conv.marker!, ...phases, next], { timeoutMs: 600_000 });
  if (r.exitCode !== 0 || !/^PASS 1\/1$/m.test(r.stdout)) throw new Error(`firmware did not PASS:\n${r.stdout}${r.stderr}`);
  const macs = conv.cost.binaryMacs;
  const units = Math.ceil(H / Math.max(1, Math.floor(32 / W)));
  let total = 0;
  for (const reg of r.regions.slice(0, phases.length + 1)) total += reg.instructions;
  console.log(`${model.name} on ${board.name}: kernel ${conv.kernel} (${conv.why}), ${total.toLocaleString()} instructions (est ${conv.estInstructions?.toLocaleString()}), ${(total / macs).toFixed(4)} instr/MAC, scratch ${conv.scratchBytes} B`);
  for (const reg of r.regions.slice(0, phases.length + 1))
    console.log(`  ${reg.name.padEnd(20)} ${String(reg.visits).padStart(6)} visits ${reg.instructions.toLocaleString().padStart(12)}  ${(reg.instructions / macs).toFixed(4)}/MAC  ${(reg.instructions / (C * units)).toFixed(0).padStart(6)} per (channel, unit)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
