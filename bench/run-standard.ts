// The standard benchmark set: exact instruction counts per layer (QEMU icount plugin), every figure side by side
// with the portable _ref kernels, on a Cortex-M4 (mps2-an386) and a Cortex-M0 (microbit).
//   npm run bench                    -> bench/results/standard.txt and standard.json
//   npm run bench -- --quick         -> only the 16x16x64 shape at tau 4, M4 (a smoke run; writes nothing)
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchModel, formatBench, type BenchResult } from '../generator/src/bench/bench.ts';
import { STANDARD_SHAPES, STANDARD_TAUS, standardLayerModel } from '../generator/src/bench/standard.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { VERSION } from '../generator/src/core/version.ts';

const quick = process.argv.includes('--quick');
const BOARDS = quick ? ['mps2-an386'] : ['mps2-an386', 'microbit'];
const EXAMPLE = join(PROJECT_ROOT, 'examples', 'mnist-sparks', 'model.json');
// The trained example needs more RAM than the micro:bit has; the small untrained fixture (two binary layers) fits
// everywhere, so every core gets an end-to-end row.
const SMALL = join(PROJECT_ROOT, 'test', 'fixtures', 'mnist-untrained', 'model.json');

const models: { shape: string; tau: string; model: Model }[] = [];
for (const [C, H, W] of quick ? [STANDARD_SHAPES[0]] : STANDARD_SHAPES)
  for (const tau of quick ? [4] : STANDARD_TAUS) models.push({ shape: `${H}x${W}x${C}->${C}`, tau: tau === null ? 'dense' : String(tau), model: standardLayerModel(C, H, W, tau) });
if (!quick) {
  models.push({ shape: 'example (end to end)', tau: String(exampleTau()), model: loadModel(EXAMPLE) });
  models.push({ shape: 'small fixture (end to end)', tau: '4', model: loadModel(SMALL) });
}

function exampleTau(): number {
  const m = loadModel(EXAMPLE);
  return Math.max(...m.layers.map((l) => (l.op === 'bconv2d' && l.weights.kind === 'codebook' ? l.weights.bits : 0)));
}

const results: (BenchResult & { shape: string; tau: string })[] = [];
const failures: string[] = [];
const summary: string[][] = [['core', 'shape', 'tau', 'kernel picked', 'instr/MAC', 'ref instr/MAC', 'x ref', 'cycles/MAC', 'ref cycles/MAC', 'weights B (ref)', 'arena B (ref)']];
for (const boardName of BOARDS) {
  const board = loadBoard(boardName);
  for (const m of models) {
    let r: BenchResult;
    try {
      r = await benchModel(m.model, board);
    } catch (e) {
      // The first line says where; the linker's or compiler's own line says why (e.g. RAM overflow on the micro:bit).
      const lines = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean);
      const why = lines.find((l) => /error|does not fit|leave/i.test(l) && l !== lines[0]);
      failures.push(`${boardName} ${m.shape} tau ${m.tau}: ${lines[0]}${why ? ` ${why.replace(/^.*\/ld: /, '')}` : ''}`);
      console.error(failures[failures.length - 1]);
      continue;
    }
    results.push({ ...r, shape: m.shape, tau: m.tau });
    console.log(formatBench(r) + '\n');
    const whole = m.shape.endsWith('(end to end)');
    const conv = r.rows.find((x) => x.name === 'conv');
    const a = whole ? r.totals.auto : conv!.builds.auto;
    const b = whole ? r.totals.ref : conv!.builds.ref;
    const macs = whole ? r.totals.auto.binaryMacs : conv!.binaryMacs;
    const kernel = whole ? [...new Set(r.rows.filter((x) => x.op === 'bconv2d').map((x) => x.builds.auto.kernel))].join('+') : conv!.builds.auto.kernel;
    const w = whole ? `${r.totals.auto.weightBytes} (${r.totals.ref.weightBytes})` : `${conv!.builds.auto.weightBytes} (${conv!.builds.ref.weightBytes})`;
    summary.push([board.cpu, m.shape, m.tau, kernel, (a.instructions / macs).toFixed(3), (b.instructions / macs).toFixed(3), (a.instructions / b.instructions).toFixed(3), (a.cycles / macs).toFixed(3), (b.cycles / macs).toFixed(3), w, `${r.totals.auto.arenaBytes} (${r.totals.ref.arenaBytes})`]);
  }
}
const widths = summary[0].map((_, i) => Math.max(...summary.map((l) => l[i].length)));
const table = summary.map((l) => l.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
const command = `npm run bench${quick ? ' -- --quick' : ''}`;
const text = [
  `bnn-gen ${VERSION} standard benchmark; command: ${command}`,
  'Exact executed instructions per layer (QEMU TCG icount plugin, markers around each layer, -DBNN_BENCH builds of the',
  'golden firmware; arm-none-eabi-gcc -O2). Every figure side by side with the portable _ref build of the same model.',
  'For the example, figures are per inference over all layers, instr/MAC over its binary MACs. Cycles: estimate from',
  'instruction classes (see generator/src/bench/bench.ts timingModel).',
  '',
  table,
  ...(failures.length ? ['', 'Not measured:', ...failures] : []),
].join('\n');
console.log(text);
if (!quick) {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'standard.txt'), text + '\n\n' + results.map((r) => formatBench(r)).join('\n\n') + '\n');
  writeFileSync(join(dir, 'standard.json'), JSON.stringify({ command, version: VERSION, summary: summary.slice(1).map((l) => Object.fromEntries(summary[0].map((h, i) => [h, l[i]]))), failures, results }, null, 1) + '\n');
}
