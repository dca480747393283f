// Benchmark (not a test): the full ImageNet ReActNet/Bi-Real-style binary ResNet-18 (about 11 M binary weights,
// ~45 MB of ONNX), built and exported by test/fixtures/pytorch/make_resnet18.py with Debian's PyTorch, then
// imported and reported by bnn-gen. Prints the timings and the report's totals.
//
//   npx tsx bench/resnet18-report.ts [--tau 9] [--prebinarised] [--width 64] [--size 224] [--keep DIR] [--full]
//
// --tau T: 2^T distinct 3x3 kernels per binary conv (Sparks-style codebooks; 9 = random signs, plain 1-bit).
// --full prints the whole per-layer report, not just the totals. Timings: ONNX export (PyTorch), import (parse,
// constant folding of the forward-pass binarisation, lowering, validation), report (emitModel for the weight
// flash and arena + the BOP / weight-bit counts), and the same through the CLI (`bnn-gen report model.onnx`,
// process start included).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { formatReport, modelReport } from '../generator/src/report.ts';

const { values: a } = parseArgs({
  options: {
    tau: { type: 'string', default: '9' },
    prebinarised: { type: 'boolean', default: false },
    width: { type: 'string', default: '64' },
    size: { type: 'string', default: '224' },
    keep: { type: 'string' },
    full: { type: 'boolean', default: false },
  },
});

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(PROJECT_ROOT, 'test', 'fixtures', 'pytorch', 'make_resnet18.py');
const dir = a.keep ?? mkdtempSync(join(tmpdir(), 'bnn-resnet18-'));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  const args = [SCRIPT, dir, '--width', a.width!, '--size', a.size!, '--tau', a.tau!, ...(a.prebinarised ? ['--prebinarised'] : [])];
  let t = performance.now();
  const py = spawnSync(PYTHON, args, { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`make_resnet18.py failed:\n${py.stderr}`);
  const pyWall = performance.now() - t;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { binary_weights: number; onnx_bytes: number; build_s: number; export_s: number; torch: string };
  const onnx = join(dir, 'model.onnx');

  t = performance.now();
  const imported = importOnnxFile(onnx, { name: 'resnet18' });
  const importMs = performance.now() - t;
  t = performance.now();
  const report = modelReport(imported.model);
  const reportMs = performance.now() - t;

  t = performance.now();
  const cli = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'bnn-gen.js'), 'report', onnx], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const cliMs = performance.now() - t;
  if (cli.status !== 0) throw new Error(`bnn-gen report failed:\n${cli.stderr}`);

  const text = formatReport(report);
  const lines = text.split('\n');
  console.log(a.full ? text : [lines[0], ...lines.slice(lines.findIndex((l) => l.startsWith('totals')))].join('\n'));
  console.log('');
  console.log(`ResNet-18 (width ${a.width}, ${a.size}x${a.size}, τ ${a.tau}${a.prebinarised ? ', pre-binarised weights' : ', weights binarised in forward'}): ${meta.binary_weights.toLocaleString('en-US')} binary weights, ONNX ${(statSync(onnx).size / 1e6).toFixed(1)} MB, PyTorch ${meta.torch}`);
  console.log(`  PyTorch build + BN calibration ${meta.build_s} s; ONNX export ${meta.export_s} s (python process ${s(pyWall)})`);
  console.log(`  import ${s(importMs)} (${imported.model.layers.length} IR layers); report ${s(reportMs)} (emitModel + counts); import + report ${s(importMs + reportMs)}`);
  console.log(`  CLI 'bnn-gen report model.onnx' wall time ${s(cliMs)} (node + tsx start included)`);
} finally {
  if (!a.keep) rmSync(dir, { recursive: true, force: true });
}
