// The standard benchmark set: exact instruction counts per layer (QEMU icount plugin), every figure side by side
// with the portable _ref kernels:
//   - Cortex-M4 (mps2-an386) and Cortex-M0 (micro:bit, 16 KiB: every plan within its RAM): the standard shapes at
//     every tau, the example and the small fixture end to end;
//   - Cortex-M4 in little RAM: the example and the tau-4 shapes with the arena bounded to 1.5x the portable plan's
//     (--ram-budget);
//   - Cortex-M0+: the example built for cortex-m0plus, run on the micro:bit's M0 (the same ARMv6-M instructions), and
//     the rpi-pico firmware built and linked (flash and RAM from its ELF);
//   - the example with an int8 stem (--stem int8) on the micro:bit and the M4;
//   - Cortex-M7 (mps2-an500) and Cortex-M55 (mps3-an547): the standard shapes at every tau, the example end to end,
//     and a reduced ReActNet-ResNet-18 (test/fixtures/pytorch/make_resnet18.py as in test/onnx-resnet.test.ts:
//     width 8, 3x64x64, 10 classes, tau 4, seed 3; exported by PyTorch at bench time, deterministic) end to end;
//   - every row that bench/results/baseline-2026-12-04.json (the figures of commit eb5cccc) has: the ratio of its
//     instr/MAC to the baseline's ("x before").
//   npm run bench                    -> bench/results/standard.txt and standard.json
//   npm run bench -- --quick         -> only the 16x16x64 shape at tau 4, M4 (a smoke run; writes nothing)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchModel, formatBench, type BenchOptions, type BenchResult } from '../generator/src/bench/bench.ts';
import { STANDARD_SHAPES, STANDARD_TAUS, standardLayerModel } from '../generator/src/bench/standard.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { VERSION } from '../generator/src/core/version.ts';
import { integerStem } from '../generator/src/compact/stem.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { generate } from '../generator/src/generate.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { buildFirmware } from '../generator/src/toolchain/qemu.ts';
import { formatMemoryReport, memoryReport } from '../generator/src/verify/memory.ts';

const started = performance.now();
const quick = process.argv.includes('--quick');
const EXAMPLE = join(PROJECT_ROOT, 'examples', 'mnist-sparks', 'model.json');
const SMALL = join(PROJECT_ROOT, 'test', 'fixtures', 'mnist-untrained', 'model.json');

interface Run {
  board: string;
  /** The core column: the board's, or the build's when it differs (M0+ code on the M0). */
  core?: string;
  shape: string;
  tau: string;
  model: Model;
  opts?: BenchOptions;
}

const example = loadModel(EXAMPLE);
const exampleTau = String(Math.max(...example.layers.map((l) => (l.op === 'bconv2d' && l.weights.kind === 'codebook' ? l.weights.bits : 0))));
const standard: { shape: string; tau: string; model: Model }[] = [];
for (const [C, H, W] of quick ? [STANDARD_SHAPES[0]] : STANDARD_SHAPES)
  for (const tau of quick ? [4] : STANDARD_TAUS) standard.push({ shape: `${H}x${W}x${C}->${C}`, tau: tau === null ? 'dense' : String(tau), model: standardLayerModel(C, H, W, tau) });
const whole = [
  { shape: 'example (end to end)', tau: exampleTau, model: example },
  { shape: 'small fixture (end to end)', tau: '4', model: loadModel(SMALL) },
];

/** The reduced ReActNet-ResNet-18 of test/onnx-resnet.test.ts (τ = 4 codebooks), exported by PyTorch now: the
 *  script is seeded, so the ONNX is the same bytes every run. Without PyTorch: why not (a line under "Not measured"). */
const PYTHON = '/usr/bin/python3';
const RESNET_ARGS = ['--width', '8', '--size', '64', '--classes', '10', '--inputs', '0', '--seed', '3', '--tau', '4'];
function reactnet(): Model | string {
  const dir = mkdtempSync(join(tmpdir(), 'bnn-bench-resnet-'));
  try {
    const py = spawnSync(PYTHON, [join(PROJECT_ROOT, 'test', 'fixtures', 'pytorch', 'make_resnet18.py'), dir, ...RESNET_ARGS], { encoding: 'utf8' });
    if (py.status !== 0) return `make_resnet18.py ${RESNET_ARGS.join(' ')} failed (${PYTHON} with PyTorch needed): ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}`;
    return importOnnxFile(join(dir, 'model.onnx'), { name: 'reactnet-resnet18-w8' }).model;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 1.5x the arena of the model's portable plan: the RAM-bounded rows' budget. */
const bounded = (m: Model) => Math.floor(1.5 * emitModel(m, { kernels: 'ref' }).info.arenaSize);

const runs: Run[] = [];
for (const board of quick ? ['mps2-an386'] : ['mps2-an386', 'microbit']) for (const m of [...standard, ...(quick ? [] : whole)]) runs.push({ board, ...m });
if (!quick) {
  for (const m of [whole[0], ...standard.filter((s) => s.tau === '4')]) {
    const ramBudget = bounded(m.model);
    runs.push({ board: 'mps2-an386', core: 'cortex-m4, arena <= 1.5x ref', ...m, opts: { ramBudget } });
  }
  // The example's arena before conv -> max pool fusion was 9,728 B with the portable kernels: 1.5x that, too.
  runs.push({ board: 'mps2-an386', core: 'cortex-m4, arena <= 14,592 B', ...whole[0], opts: { ramBudget: 14_592 } });
  runs.push({ board: 'microbit', core: 'cortex-m0plus', ...whole[0], opts: { cpu: 'cortex-m0plus' } });
  // The example with its stem quantised to int8 (--stem int8; bench/stem-cost.ts: its accuracy cost): for cores
  // without an FPU, and on the M4 (SMLAD).
  for (const board of ['microbit', 'mps2-an386']) runs.push({ board, shape: 'example, --stem int8 (end to end)', tau: exampleTau, model: integerStem(example) });
}
// The big cores: Cortex-M7 (dual issue) and Cortex-M55 (Helium), each with its own cycle model (bench.ts timingModel).
const BIG = ['mps2-an500', 'mps3-an547'];
const bigFailures: string[] = [];
if (!quick) {
  const resnet = reactnet();
  if (typeof resnet === 'string') bigFailures.push(`${BIG.join(', ')} ReActNet-ResNet-18: ${resnet}`);
  for (const board of BIG) {
    for (const m of [...standard, whole[0]]) runs.push({ board, ...m });
    if (typeof resnet !== 'string') runs.push({ board, shape: 'ReActNet-ResNet-18 w8 64x64 (end to end)', tau: '4', model: resnet });
  }
}

/** The figures of commit eb5cccc (bench/results/baseline-2026-12-04.json): exact instr/MAC of the auto build per
 *  summary row, keyed by core, shape and tau. */
const BASELINE_FILE = 'bench/results/baseline-2026-12-04.json';
const baseline = new Map<string, number>();
{
  type Saved = { summary: Record<string, string>[]; results: (BenchResult & { shape: string; tau: string })[] };
  const saved = JSON.parse(readFileSync(join(PROJECT_ROOT, BASELINE_FILE), 'utf8')) as Saved;
  saved.summary.forEach((row, i) => {
    const r = saved.results[i];
    if (r.shape !== row.shape || r.tau !== row.tau) throw new Error(`${BASELINE_FILE}: summary row ${i} and result ${i} differ`);
    baseline.set(`${row.core}|${row.shape}|${row.tau}`, instrPerMac(r, row.shape).auto);
  });
}

/** instr/MAC of the auto and ref builds: the convolution layer, or per inference for a whole model. */
function instrPerMac(r: BenchResult, shape: string) {
  const all = shape.endsWith('(end to end)');
  const conv = r.rows.find((x) => x.name === 'conv');
  const macs = all ? r.totals.auto.binaryMacs : conv!.binaryMacs;
  return { auto: (all ? r.totals.auto : conv!.builds.auto).instructions / macs, ref: (all ? r.totals.ref : conv!.builds.ref).instructions / macs };
}

const results: (BenchResult & { shape: string; tau: string })[] = [];
const failures: string[] = [...bigFailures];
const summary: string[][] = [['core', 'shape', 'tau', 'kernel picked', 'instr/MAC', 'ref instr/MAC', 'x ref', 'x before', 'est/exec', 'cycles/MAC', 'ref cycles/MAC', 'weights B (ref)', 'arena B (ref)']];
for (const run of runs) {
  const board = loadBoard(run.board);
  let r: BenchResult;
  try {
    r = await benchModel(run.model, board, run.opts);
  } catch (e) {
    // The first line says where; the linker's or compiler's own line says why.
    const lines = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /error|does not fit|leave/i.test(l) && l !== lines[0]);
    failures.push(`${run.board} ${run.shape} tau ${run.tau}: ${lines[0]}${why ? ` ${why.replace(/^.*\/ld: /, '')}` : ''}`);
    console.error(failures[failures.length - 1]);
    continue;
  }
  results.push({ ...r, shape: run.shape, tau: run.tau });
  console.log(formatBench(r) + '\n');
  const all = run.shape.endsWith('(end to end)');
  const conv = r.rows.find((x) => x.name === 'conv');
  const a = all ? r.totals.auto : conv!.builds.auto;
  const b = all ? r.totals.ref : conv!.builds.ref;
  const macs = all ? r.totals.auto.binaryMacs : conv!.binaryMacs;
  const bconv = r.rows.filter((x) => x.op === 'bconv2d');
  const kernel = [...new Set(bconv.map((x) => x.builds.auto.kernel))].join('+');
  // The cost model against the executed count, over the binary convolutions of the auto build.
  const est = bconv.reduce((s, x) => s + (x.builds.auto.estInstructions ?? NaN), 0) / bconv.reduce((s, x) => s + x.builds.auto.instructions, 0);
  const w = all ? `${r.totals.auto.weightBytes} (${r.totals.ref.weightBytes})` : `${conv!.builds.auto.weightBytes} (${conv!.builds.ref.weightBytes})`;
  const core = run.core ?? board.cpu;
  const before = baseline.get(`${core}|${run.shape}|${run.tau}`);
  const xBefore = before === undefined ? 'new' : (instrPerMac(r, run.shape).auto / before).toFixed(3);
  summary.push([core, run.shape, run.tau, kernel, (a.instructions / macs).toFixed(3), (b.instructions / macs).toFixed(3), (a.instructions / b.instructions).toFixed(3), xBefore, Number.isNaN(est) ? '-' : est.toFixed(3), (a.cycles / macs).toFixed(3), (b.cycles / macs).toFixed(3), w, `${r.totals.auto.arenaBytes} (${r.totals.ref.arenaBytes})`]);
}

/** The example's rpi-pico (RP2040, Cortex-M0+) firmware, built and linked: its flash and RAM from the ELF. */
async function picoBuild(): Promise<string> {
  const board = loadBoard('rpi-pico');
  const g = generate(example, { target: getTarget(board.cpu), board, goldenCount: 4, seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'bnn-bench-pico-'));
  try {
    writeTree(dir, g.files);
    const { elf } = await buildFirmware(dir);
    const kernels = [...new Set(g.info.layers.filter((l) => l.op === 'bconv2d').map((l) => l.kernel))].join('+');
    return `rpi-pico (cortex-m0plus), the example built and linked (${kernels}, arena ${g.info.arenaSize} B):\n${formatMemoryReport(await memoryReport(elf, board, g.info, null))}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const widths = summary[0].map((_, i) => Math.max(...summary.map((l) => l[i].length)));
const table = summary.map((l) => l.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
const command = `npm run bench${quick ? ' -- --quick' : ''}`;
const text = [
  `bnn-gen ${VERSION} standard benchmark; command: ${command}`,
  'Exact executed instructions per layer (QEMU TCG icount plugin, markers around each layer, -DBNN_BENCH builds of the',
  'golden firmware; arm-none-eabi-gcc -O2). Every figure side by side with the portable _ref build of the same model.',
  'For the example, figures are per inference over all layers, instr/MAC over its binary MACs. est/exec: the cost',
  "model's estimate over the executed count, binary convolutions of the auto build. Cycles: estimate from instruction",
  'classes (see generator/src/bench/bench.ts timingModel). Every plan fits its board: on the micro:bit the arena, the',
  'harness, the C library and the 2 KiB stack within 16 KiB; "arena <= 1.5x ref": --ram-budget of 1.5x the portable',
  "plan's arena. cortex-m0plus: M0+ code run on the micro:bit's M0 (the same ARMv6-M instructions).",
  `x before: instr/MAC over the same row's figure in ${BASELINE_FILE} (the committed results of eb5cccc, exact`,
  "counts); 'new': no such row there. cortex-m7: mps2-an500, cortex-m55: mps3-an547 (code in the 512 KiB ITCM, data",
  'in the 4 MiB SRAM). ReActNet-ResNet-18 w8: test/fixtures/pytorch/make_resnet18.py ' + RESNET_ARGS.join(' ') + ',',
  'exported by PyTorch at bench time (seeded: the same ONNX every run), as in test/onnx-resnet.test.ts.',
  'Cycle models (stated, not measured; QEMU is not cycle-accurate; classes counted by bench/plugin/icount.c):',
  '  cortex-m0/m0+: 1/instr, +1 load, +1 store, +N LDM/STM/PUSH/POP, taken branch +2 (M0) / +1 (M0+).',
  '  cortex-m4: 1/instr, +1 load, +2 LDRD, +N LDM/STM/PUSH/POP, +2 taken branch, +1 long multiply/divide.',
  '  cortex-m7, dual issue: an instruction pairs with the one before it (issues in the same cycle) when it follows it',
  '    directly (no taken branch between), that one is not already paired, neither is LDRD, LDM/STM/PUSH/POP or MVE,',
  '    at most one is a load/store (one load/store port) and at most one a multiply; register dependencies are not',
  '    looked at, so this is optimistic. Else 1/instr (loads too: load-use stalls not modelled); LDRD 1 (64-bit',
  '    path); LDM/STM ceil(N/2); taken branch +1 (predicted; mispredictions not modelled).',
  '    cycles = instr - pairs + sum(ceil(N/2) - 1 per LDM/STM) + taken.',
  '  cortex-m55, beat-wise MVE: scalar instructions as the M4 model, except that a taken LE/LETP (low-overhead',
  '    loop) is free; a 128-bit MVE instruction takes 2 cycles (2 beats of 64 bits), 1 when it directly follows an',
  '    MVE instruction of the other kind (load/store after ALU or the reverse: its first beat overlaps that one\'s',
  '    last). Scalar and vector instructions do not overlap. cycles = M4(scalar) + 2 x MVE - overlaps.',
  '',
  table,
  ...(failures.length ? ['', 'Not measured:', ...failures] : []),
  ...(quick ? [] : ['', await picoBuild()]),
].join('\n');
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
console.log(text);
console.log(`\nbench wall time ${minutes} min`);
if (!quick) {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'standard.txt'), text + '\n\n' + results.map((r) => formatBench(r)).join('\n\n') + '\n');
  writeFileSync(join(dir, 'standard.json'), JSON.stringify({ command, version: VERSION, summary: summary.slice(1).map((l) => Object.fromEntries(summary[0].map((h, i) => [h, l[i]]))), failures, results }, null, 1) + '\n');
}
