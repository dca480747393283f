// The standard benchmark set: exact instruction counts per layer (QEMU icount plugin), every figure side by side
// with the portable _ref kernels:
//   - Cortex-M4 (mps2-an386) and Cortex-M0 (micro:bit, 16 KiB: every plan within its RAM): the standard shapes at
//     every tau, the example and the small fixture end to end;
//   - Cortex-M4 in little RAM: the example and the tau-4 shapes with the arena bounded to 1.5x the portable plan's
//     (--ram-budget);
//   - Cortex-M0+: the example built for cortex-m0plus, run on the micro:bit's M0 (the same ARMv6-M instructions), and
//     the rpi-pico firmware built and linked (flash and RAM from its ELF);
//   - the example with an int8 stem (--stem int8) on the micro:bit.
//   npm run bench                    -> bench/results/standard.txt and standard.json
//   npm run bench -- --quick         -> only the 16x16x64 shape at tau 4, M4 (a smoke run; writes nothing)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { loadBoard } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { buildFirmware } from '../generator/src/toolchain/qemu.ts';
import { formatMemoryReport, memoryReport } from '../generator/src/verify/memory.ts';

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
  // Cores without an FPU: the example with its stem quantised to int8 (--stem int8; bench/stem-cost.ts: its accuracy cost).
  runs.push({ board: 'microbit', shape: 'example, --stem int8 (end to end)', tau: exampleTau, model: integerStem(example) });
}

const results: (BenchResult & { shape: string; tau: string })[] = [];
const failures: string[] = [];
const summary: string[][] = [['core', 'shape', 'tau', 'kernel picked', 'instr/MAC', 'ref instr/MAC', 'x ref', 'est/exec', 'cycles/MAC', 'ref cycles/MAC', 'weights B (ref)', 'arena B (ref)']];
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
  summary.push([run.core ?? board.cpu, run.shape, run.tau, kernel, (a.instructions / macs).toFixed(3), (b.instructions / macs).toFixed(3), (a.instructions / b.instructions).toFixed(3), Number.isNaN(est) ? '-' : est.toFixed(3), (a.cycles / macs).toFixed(3), (b.cycles / macs).toFixed(3), w, `${r.totals.auto.arenaBytes} (${r.totals.ref.arenaBytes})`]);
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
  '',
  table,
  ...(failures.length ? ['', 'Not measured:', ...failures] : []),
  ...(quick ? [] : ['', await picoBuild()]),
].join('\n');
console.log(text);
if (!quick) {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'standard.txt'), text + '\n\n' + results.map((r) => formatBench(r)).join('\n\n') + '\n');
  writeFileSync(join(dir, 'standard.json'), JSON.stringify({ command, version: VERSION, summary: summary.slice(1).map((l) => Object.fromEntries(summary[0].map((h, i) => [h, l[i]]))), failures, results }, null, 1) + '\n');
}
