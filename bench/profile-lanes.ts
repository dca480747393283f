// Where the lanes kernel (runtime-c/bnn_bconv2d_lanes.c) spends its instructions on a whole network: the int8 path of
// an exported network (DIR: model.onnx and inputs.npy as test/fixtures/pytorch/make_resnet18.py writes them; the first
// 4 inputs calibrate) built for the M7 with the H743's budget (mps2-an500-h743) with -DBNN_LANES_PROF, run once under
// QEMU; every phase's exact instructions summed over all its binary convolutions (docs/kernels.md, "Profiling").
//   npx tsx bench/profile-lanes.ts DIR
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWithCounts } from '../generator/src/bench/icount.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { generate } from '../generator/src/generate.ts';
import { readInputs } from '../generator/src/import/inputs.ts';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { calibrate, quantizeInt8 } from '../generator/src/quantize/index.ts';

const src = process.argv[2];
if (!src) throw new Error('usage: npx tsx bench/profile-lanes.ts DIR');
const board = loadBoard('mps2-an500-h743');
const target = getTarget(board.cpu);
const float = importOnnxFile(join(src, 'model.onnx'), { name: 'profiled' }).model;
const model = quantizeInt8(float, calibrate(float, readInputs(join(src, 'inputs.npy'), float).slice(0, 4))).model;
const g = generate(model, { target, board, goldenCount: 1, seed: 1, kernels: 'auto' });
const dir = mkdtempSync(join(tmpdir(), 'bnn-prof-lanes-'));
try {
  writeTree(dir, g.files);
  execFileSync('make', ['-C', dir, '-j2', `CPUFLAGS=${target.cflags.join(' ')} -DBNN_BENCH -DBNN_LANES_PROF`, 'firmware.elf'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Each marker starts a phase; bnn_lp_end closes the kernel (what follows it is other layers).
  const phases = ['bnn_lp_transpose', 'bnn_lp_rows', 'bnn_lp_sums', 'bnn_lp_resp', 'bnn_lp_gather', 'bnn_lp_epi', 'bnn_lp_end'];
  const r = await runWithCounts(join(dir, 'firmware.elf'), board, phases, { timeoutMs: 1_800_000 });
  if (r.exitCode !== 0 || !/^PASS 1\/1$/m.test(r.stdout)) throw new Error(`firmware did not PASS:\n${r.stdout}${r.stderr}`);
  const what: Record<string, string> = {
    bnn_lp_transpose: 'input -> bit rows', bnn_lp_rows: 'taps of a unit', bnn_lp_sums: 'row-pattern sums', bnn_lp_resp: 'codeword counts',
    bnn_lp_gather: 'per-output gather + folds', bnn_lp_epi: 'output stage (requant / threshold)',
  };
  let total = 0;
  for (const reg of r.regions) if (what[reg.name]) total += reg.instructions;
  console.log(`${model.name} on ${board.name}: lanes kernels ${total.toLocaleString('en-US')} instructions`);
  for (const reg of r.regions) if (what[reg.name]) console.log(`  ${what[reg.name].padEnd(36)} ${reg.instructions.toLocaleString('en-US').padStart(13)}  ${((100 * reg.instructions) / total).toFixed(1).padStart(5)} %  (${reg.visits} visits)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
