// Issue 4: the PyTorch training package (training/, Debian's /usr/bin/python3 with PyTorch 1.13).
// Runs the smoke training (`python3 -m training.train --smoke --tau 4`), which trains a few batches of the small MNIST BNN
// (real stem, three Sparks 3x3 convs with learned codebooks of 2^tau codewords, real last layer), freezes the kernels,
// recomputes batch-norm statistics, dumps PyTorch's eval-mode outputs and exports ONNX (opset 13). Then:
// - the selected codewords are distinct, 2^tau per layer, and every kernel uses one of them;
// - bnn-gen imports the .onnx (importOnnxFile and loadModel), with a codebook of <= tau bits on each binary conv whose
//   codewords are the selected ones;
// - the TS reference (runReference) on the same digits gives the same sign activations as PyTorch (sign(0) = +1 rule,
//   bnn-gen's), scores within 1e-4 of the largest score, and the same argmax.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../generator/src/import/load.ts';
import { importOnnxFile, type ImportResult } from '../generator/src/import/onnx/index.ts';
import { compareWithTorch, npy, slice } from './torch-compare.ts';

const PYTHON = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const TAU = 4;
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;

interface LayerMeta {
  tau: number;
  n: number | null;
  selected: number[] | null;
  distinct_kernels: number;
  kernels: number;
}
interface Meta {
  tau: number;
  signs: number;
  dumped: number;
  test_accuracy: number;
  train_seconds: number;
  layers: Record<string, LayerMeta>;
}

describe.skipIf(!hasTorch)('training/ (PyTorch): smoke training of a Sparks BNN, exported and imported by bnn-gen', () => {
  let dir: string;
  let meta: Meta;
  let seconds: number;
  let stdout: string;
  let imported: ImportResult;
  let inputs: Uint8Array[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bnn-training-'));
    const t0 = Date.now();
    const py = spawnSync(PYTHON, ['-m', 'training.train', '--smoke', '--tau', String(TAU), '--seed', '3', '--out', dir], { cwd: ROOT, encoding: 'utf8' });
    seconds = (Date.now() - t0) / 1000;
    if (py.status !== 0) throw new Error(`training.train --smoke failed:\n${py.stdout}\n${py.stderr}`);
    stdout = py.stdout;
    meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
    imported = importOnnxFile(join(dir, 'model.onnx'));
    const x = npy(join(dir, 'inputs.npy'));
    const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
    inputs = Array.from({ length: x.shape[0] }, (_, i) => Uint8Array.from(slice(x, i)));
    expect(size).toBe(784);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the smoke run finishes in under 30 s and reports a test accuracy', () => {
    console.log(`[training] smoke run: ${seconds.toFixed(1)} s wall (${meta.train_seconds} s training)\n  ${stdout.trim().split('\n').slice(-4).join('\n  ')}`);
    expect(seconds).toBeLessThan(30);
    expect(stdout).toMatch(/test accuracy \d\.\d+ on \d+ test images/);
    expect(meta.test_accuracy).toBeGreaterThanOrEqual(0);
  });

  it('selects 2^tau distinct codewords per layer, and every kernel uses one of them', () => {
    const names = Object.keys(meta.layers);
    expect(names).toEqual(['b1', 'b2', 'b3']);
    for (const name of names) {
      const l = meta.layers[name];
      expect(l.tau).toBe(TAU);
      expect(l.selected).not.toBeNull();
      expect(l.selected!.length).toBe(2 ** TAU);
      expect(new Set(l.selected).size).toBe(2 ** TAU);
      for (const id of l.selected!) expect(id >= 0 && id < 512).toBe(true);
      expect(l.distinct_kernels).toBeLessThanOrEqual(2 ** TAU);
    }
  });

  it('bnn-gen imports the ONNX: codebooks of <= tau bits holding only selected codewords', () => {
    const report = imported.report.join('\n');
    console.log(`[training] import report:\n  ${imported.report.join('\n  ')}`);
    const convs = imported.model.layers.filter((l) => l.op === 'bconv2d');
    expect(convs.length).toBe(3);
    convs.forEach((l, i) => {
      const m = meta.layers[`b${i + 1}`];
      if (l.op !== 'bconv2d') return;
      expect(l.weights.kind).toBe('codebook');
      if (l.weights.kind !== 'codebook') return;
      expect(l.weights.bits).toBeLessThanOrEqual(TAU);
      expect(l.weights.codewords.length).toBe(m.distinct_kernels);
      const sel = new Set(m.selected);
      for (const c of l.weights.codewords) expect(sel.has(c), `${l.name}: codeword ${c} not selected`).toBe(true);
    });
    expect(report).toMatch(/b1\/Conv: bconv2d 32→64 3x3, codebook τ=\d/);
    const ops = new Set(imported.model.layers.map((l) => l.op));
    for (const op of ['conv2d', 'bconv2d', 'dense']) expect(ops).toContain(op);
    // loadModel (what every CLI command uses) reads the same .onnx to the same layers.
    const viaLoad = loadModel(join(dir, 'model.onnx'));
    expect(viaLoad.layers.map((l) => l.op)).toEqual(imported.model.layers.map((l) => l.op));
  });

  it("the TS reference reproduces PyTorch's eval outputs: identical sign activations, same argmax", () => {
    expect(inputs.length).toBe(meta.dumped);
    compareWithTorch('training', dir, imported, meta.signs);
  });
});

// The bnn.py building blocks (BinaryConv2d, RSign, RPReLU with a residual add) in a tiny net trained a few steps.
describe.skipIf(!hasTorch)('training/bnn.py blocks: exported and imported by bnn-gen', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bnn-blocks-'));
    const py = spawnSync(PYTHON, ['-m', 'training.blocks_check', dir], { cwd: ROOT, encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`training.blocks_check failed:\n${py.stdout}\n${py.stderr}`);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('RSign, RPReLU and forward-binarised convs import and match PyTorch', () => {
    const imported = importOnnxFile(join(dir, 'model.onnx'));
    const ops = new Set(imported.model.layers.map((l) => l.op));
    for (const op of ['conv2d', 'binarize', 'bconv2d', 'prelu', 'add', 'dense']) expect(ops).toContain(op);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { signs: number };
    compareWithTorch('blocks', dir, imported, meta.signs);
  });
});

// The BN recompute before evaluation and export (train.recompute_bn): layer by layer, each BatchNorm measured on the
// signs the eval-mode model computes. training.bn_check recomputes the expected statistics with forward hooks and
// also checks that a one-pass recompute (every BatchNorm in train mode at once) would differ.
describe.skipIf(!hasTorch)('training: batch-norm statistics recomputed layer by layer', () => {
  it("every BatchNorm's statistics are its eval-mode input's population statistics", () => {
    const py = spawnSync(PYTHON, ['-m', 'training.bn_check'], { cwd: ROOT, encoding: 'utf8' });
    const report = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as {
      layers: { mean_err: number; var_err: number }[];
      one_pass_var_err: number;
      ok: boolean;
    };
    expect(report.layers).toHaveLength(4);
    for (const l of report.layers) {
      expect(l.mean_err).toBeLessThan(1e-5);
      expect(l.var_err).toBeLessThan(1e-4);
    }
    expect(report.one_pass_var_err).toBeGreaterThan(1e-3);
    expect(py.status).toBe(0);
  });
});

// The table's pipeline (training/sweep.py): a plain BNN, then Sparks from it (--init) and the top-n baseline from the
// same checkpoint without retraining; both keep 2^tau distinct codewords and import as codebooks.
describe.skipIf(!hasTorch)('training: warm start from a plain BNN (Sparks and the top-n baseline)', () => {
  let dir: string;
  const run = (...args: string[]) => {
    const py = spawnSync(PYTHON, ['-m', 'training.train', '--smoke', '--seed', '5', ...args], { cwd: ROOT, encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`training.train ${args.join(' ')} failed:\n${py.stdout}\n${py.stderr}`);
    return py.stdout;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bnn-warm-'));
    run('--tau', '9', '--out', join(dir, 'plain'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Sparks from the plain checkpoint: selection starts at step 0, settles, imports as tau-3 codebooks', () => {
    const out = run('--tau', '3', '--init', join(dir, 'plain', 'model.pt'), '--out', join(dir, 'sparks'));
    expect(out).toMatch(/step 0: selection starts \(sparks, scores: greedy\)/);
    expect(out).toMatch(/selection frozen/);
    const meta = JSON.parse(readFileSync(join(dir, 'sparks', 'meta.json'), 'utf8')) as Meta & { method: string };
    expect(meta.method).toBe('sparks');
    for (const l of Object.values(meta.layers)) expect(new Set(l.selected).size).toBe(8);
    const m = importOnnxFile(join(dir, 'sparks', 'model.onnx')).model;
    for (const l of m.layers) if (l.op === 'bconv2d') expect(l.weights.kind === 'codebook' && l.weights.bits <= 3).toBe(true);
  });

  it('distillation from the plain checkpoint (--teacher): recorded in meta.json, and the teacher changes the loss', () => {
    const plain = join(dir, 'plain', 'model.pt');
    const base = run('--tau', '3', '--init', plain, '--out', join(dir, 'no-kd'));
    const kd = run('--tau', '3', '--init', plain, '--teacher', plain, '--kd', '0.5', '--out', join(dir, 'kd'));
    const firstLoss = (out: string) => Number(/ loss ([0-9.]+) /.exec(out)![1]);
    expect(firstLoss(kd)).not.toBe(firstLoss(base));
    const meta = JSON.parse(readFileSync(join(dir, 'kd', 'meta.json'), 'utf8')) as { teacher: string; kd: number };
    expect(meta.teacher).toBe(plain);
    expect(meta.kd).toBe(0.5);
  });

  it('--bn-freeze: BN statistics recomputed mid-run and held for the rest (recorded in meta.json)', () => {
    const out = run('--tau', '3', '--init', join(dir, 'plain', 'model.pt'), '--bn-freeze', '0.5', '--out', join(dir, 'bnf'));
    expect(out).toMatch(/step 3: BN statistics recomputed and held/);
    const meta = JSON.parse(readFileSync(join(dir, 'bnf', 'meta.json'), 'utf8')) as { bn_freeze: number };
    expect(meta.bn_freeze).toBe(0.5);
  });

  it('post-hoc top-n (no retraining): the n most frequent codewords of the plain kernels', () => {
    const out = run('--tau', '3', '--init', join(dir, 'plain', 'model.pt'), '--method', 'topn', '--epochs', '0', '--out', join(dir, 'topn'));
    expect(out).not.toMatch(/step \d+:/); // no optimisation step at all
    const meta = JSON.parse(readFileSync(join(dir, 'topn', 'meta.json'), 'utf8')) as Meta & { method: string; epochs: number };
    expect(meta.method).toBe('topn');
    expect(meta.epochs).toBe(0);
    // The plain model's kernels (exported as plain binary convs): count codeword ids, compare with the selection.
    const plain = importOnnxFile(join(dir, 'plain', 'model.onnx')).model;
    const convs = plain.layers.filter((l) => l.op === 'bconv2d');
    convs.forEach((l, i) => {
      if (l.op !== 'bconv2d') throw new Error('binary conv expected');
      const w = l.weights;
      const counts = new Array(512).fill(0);
      if (w.kind === 'codebook') {
        for (const ix of w.indices) counts[w.codewords[ix]]++; // the importer picks a codebook when < 512 distinct
      } else {
        for (let k = 0; k < w.bits.length / 9; k++) {
          let id = 0;
          for (let t = 0; t < 9; t++) if (w.bits[9 * k + t]) id |= 1 << t;
          counts[id]++;
        }
      }
      const order = [...counts.keys()].sort((a, b) => counts[b] - counts[a] || a - b).slice(0, 8);
      expect(meta.layers[`b${i + 1}`].selected).toEqual(order);
    });
  });
});
