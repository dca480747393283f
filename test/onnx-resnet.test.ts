// ONNX import of a ReActNet / Bi-Real-style binary ResNet-18 built and exported by
// test/fixtures/pytorch/make_resnet18.py (Debian's /usr/bin/python3 with PyTorch 1.13), at reduced width
// (8, 16, 32, 64 channels; 3x64x64 input; 10 classes) so it runs quickly and fits a Cortex-M4 board. The graph is
// the full ResNet-18 structure: real 7x7/2 stem + batch norm + max pool; 16 Bi-Real units (RSign, binary 3x3
// conv, batch norm, residual add, RPReLU); three downsample shortcuts (AvgPool + real 1x1 conv + batch norm);
// global average pool; Linear. The full-size network is benchmarked by bench/resnet18-report.ts.
//
// Two exports: weights binarised in the forward pass (the importer constant-folds Abs/ReduceMean/Sign/Mul on
// the latent weights; codebooks of τ = 4) and weights baked as sign(W)·α before export (τ = 5; PyTorch's exporter
// then fuses each batch norm into its conv). Checked against PyTorch's eval-mode outputs:
// - every sign activation equals PyTorch with the sign(0) = +1 rule, except where the value the sign reads is
//   within float32 noise of 0 (real-valued paths sum in another order than PyTorch) — counted and printed;
// - scores within 1e-4 of the largest score, same argmax;
// - the emitted C equals the reference (WebAssembly), and end to end: `bnn-gen --target cortex-m4 model.onnx` (and
//   `--board mps2-an500-h743`: the M7 within the STM32H743's flash and RAM) makes firmware that passes under QEMU on
//   PyTorch's inputs, with PyTorch's argmax.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseNpy } from 'npyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { importOnnx, importOnnxFile, type ImportResult } from '../generator/src/import/onnx/index.ts';
import { parseOnnx } from '../generator/src/import/onnx/proto.ts';
import { modelReport } from '../generator/src/report.ts';
import type { BConv2dLayer } from '../generator/src/model/ir.ts';
import { runReference, type RunResult } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { verifyWasm } from '../generator/src/verify/verify-model.ts';
import { parseCaseScores } from '../generator/src/verify/firmware-run.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'fixtures', 'pytorch', 'make_resnet18.py');
const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const REDUCED = ['--width', '8', '--size', '64', '--classes', '10', '--inputs', '3', '--seed', '3'];

interface Npy {
  data: ArrayLike<number>;
  shape: number[];
}

function npy(path: string): Npy {
  const b = readFileSync(path);
  const p = parseNpy(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
  return { data: p.data as unknown as ArrayLike<number>, shape: p.shape };
}

function slice(a: Npy, n: number): ArrayLike<number> {
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return Array.prototype.slice.call(a.data, n * per, (n + 1) * per) as number[];
}

interface Meta {
  distinct_kernels: Record<string, number>;
  signs: number;
  zero_ties: number[];
  binary_weights: number;
}

interface Fixture {
  dir: string;
  meta: Meta;
  inputs: Uint8Array[];
  imported: ImportResult;
  signTensors: string[];
  runs: RunResult[];
  tie: Npy[];
  pre: Npy[];
  scores: Npy;
}

/** Build, export and import; the fixture folder is removed by the caller. */
function makeResNet(args: string[]): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'bnn-resnet-'));
  const py = spawnSync(PYTHON, [SCRIPT, dir, ...REDUCED, ...args], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`make_resnet18.py failed:\n${py.stderr}`);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
  const x = npy(join(dir, 'inputs.npy'));
  const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: x.shape[0] }, (_, i) => Uint8Array.from(Array.prototype.slice.call(x.data, i * size, (i + 1) * size) as number[]));
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const imported = importOnnx(bytes, { name: 'resnet18_small' });
  const signTensors = parseOnnx(bytes)
    .nodes.filter((n) => n.op === 'Sign')
    .map((n) => n.outputs[0])
    .filter((o) => imported.tensors.has(o))
    .map((o) => imported.tensors.get(o)!);
  return {
    dir,
    meta,
    inputs,
    imported,
    signTensors,
    runs: inputs.map((q) => runReference(imported.model, q)),
    tie: Array.from({ length: meta.signs }, (_, j) => npy(join(dir, `tie_sign${j}.npy`))),
    pre: Array.from({ length: meta.signs }, (_, j) => npy(join(dir, `pre_sign${j}.npy`))),
    scores: npy(join(dir, 'tie_scores.npy')),
  };
}

// Each variant's firmware runs on one QEMU board: the M4's, and the M7 within the STM32H743's budget (mps2-an500-h743:
// 2 MiB for code and weights, 512 KiB for data, the stack in a 128 KiB region of its own).
const VARIANTS = [
  { key: 'weights binarised in forward, τ = 4', args: ['--tau', '4'], tau: 4, cli: ['--target', 'cortex-m4'], board: 'mps2-an386' },
  { key: 'weights pre-binarised (sign(W)·α in the state dict), τ = 5', args: ['--tau', '5', '--prebinarised'], tau: 5, cli: ['--board', 'mps2-an500-h743'], board: 'mps2-an500-h743' },
];

describe.skipIf(!hasTorch)('ONNX import: ReActNet/Bi-Real ResNet-18 from PyTorch (reduced width)', () => {
  for (const v of VARIANTS) {
    describe(v.key, () => {
      let fx: Fixture;
      beforeAll(() => {
        fx = makeResNet(v.args);
      });
      afterAll(() => {
        if (fx) rmSync(fx.dir, { recursive: true, force: true });
      });

      it('lowers every block: RSign, codebook binary conv, residual add, RPReLU, AvgPool + 1x1 conv downsample', () => {
        const layers = fx.imported.model.layers;
        const count = (f: (l: (typeof layers)[number]) => boolean) => layers.filter(f).length;
        const bconvs = layers.filter((l): l is BConv2dLayer => l.op === 'bconv2d');
        expect(bconvs).toHaveLength(16);
        for (const l of bconvs) {
          expect(l.weights.kind === 'codebook' && [l.weights.bits, l.weights.codewords.length]).toEqual([v.tau, 2 ** v.tau]);
          expect(l.threshold).toBeUndefined(); // every binary conv's batch norm feeds a residual add
        }
        expect(bconvs.reduce((s, l) => s + (l.weights.kind === 'codebook' ? l.weights.indices.length * 9 : l.weights.bits.length), 0)).toBe(fx.meta.binary_weights);
        expect(count((l) => l.op === 'conv2d' && l.kernel[0] === 7)).toBe(1); // stem
        expect(count((l) => l.op === 'conv2d' && l.kernel[0] === 1)).toBe(3); // downsample shortcuts
        expect(count((l) => l.op === 'avgpool')).toBe(3);
        expect(count((l) => l.op === 'maxpool')).toBe(1);
        expect(count((l) => l.op === 'binarize' && l.shift !== null)).toBe(16); // RSign
        expect(count((l) => l.op === 'add')).toBe(16);
        expect(count((l) => l.op === 'prelu' && l.shiftIn !== null && l.shiftOut !== null)).toBe(16); // RPReLU
        expect(count((l) => l.op === 'globalavgpool')).toBe(1);
        expect(layers[layers.length - 1].op).toBe('dense');
        expect(fx.signTensors).toHaveLength(fx.meta.signs);
        const report = fx.imported.report.join('\n');
        const lines = fx.imported.report.filter((l) => / bconv2d /.test(l));
        expect(lines).toHaveLength(16);
        for (const l of lines) expect(l).toContain(`codebook τ=${v.tau} (${2 ** v.tau} distinct kernels)`);
        expect(report).toMatch(/downsample|down.1\/Conv: conv2d \d+→\d+ 1x1 \(real-valued\)/);
        if (v.args.includes('--prebinarised')) {
          // PyTorch's exporter folded each batch norm into its conv; γ < 0 negated whole channels.
          expect(report).toMatch(/output channels stored negated \(α < 0\) to share codewords/);
        }
      });

      it('sign activations equal PyTorch (sign(0) = +1) except at float32 near-ties, which are counted', () => {
        const lines: string[] = [];
        let total = 0;
        let differ = 0;
        for (let j = 0; j < fx.meta.signs; j++) {
          const layer = fx.imported.model.layers.findIndex((l) => l.output === fx.signTensors[j]);
          let values = 0;
          let nearTies = 0;
          let downstream = 0;
          let smallest = Infinity;
          for (let n = 0; n < fx.inputs.length; n++) {
            const mine = fx.runs[n].layers[layer].data as Int8Array;
            const want = slice(fx.tie[j], n);
            const pre = slice(fx.pre[j], n);
            const scale = Math.max(...Array.from(pre, Math.abs));
            expect(mine.length).toBe(want.length);
            const earlier = fx.signTensors.slice(0, j).some((t) => {
              const i = fx.imported.model.layers.findIndex((l) => l.output === t);
              const jj = fx.signTensors.indexOf(t);
              const w = slice(fx.tie[jj], n);
              return (fx.runs[n].layers[i].data as Int8Array).some((x, k) => x !== w[k]);
            });
            for (let i = 0; i < mine.length; i++) {
              values++;
              if (mine[i] === want[i]) continue;
              if (Math.abs(pre[i]) <= 1e-5 * scale) {
                nearTies++;
                smallest = Math.min(smallest, Math.abs(pre[i]) / scale);
              } else if (earlier) downstream++;
              else expect.fail(`sign ${j}, input ${n}, element ${i}: ours ${mine[i]}, PyTorch ${want[i]}, PyTorch reads ${pre[i]} (not a near-tie)`);
            }
          }
          total += values;
          differ += nearTies + downstream;
          lines.push(`sign ${j}: ${values} values, ${nearTies} differ at near-ties (|x| ≤ 1e-5 of the layer's largest), ${downstream} downstream of them`);
        }
        console.log(`[resnet ${v.key}] sign activations vs PyTorch: ${differ} of ${total} differ (${((differ / total) * 100).toFixed(4)} %); exact-zero ties under torch.sign: ${fx.meta.zero_ties.reduce((a, b) => a + b, 0)}\n  ${lines.join('\n  ')}`);
        expect(differ / total).toBeLessThan(1e-3);
      });

      it('scores agree within 1e-4 of the largest score, with the same argmax', () => {
        let worst = 0;
        for (let n = 0; n < fx.inputs.length; n++) {
          const mine = Array.from(fx.runs[n].scores);
          const want = Array.from(slice(fx.scores, n));
          const scale = Math.max(1, ...want.map(Math.abs));
          const err = Math.max(...mine.map((x, i) => Math.abs(x - want[i]))) / scale;
          worst = Math.max(worst, err);
          expect(err, `input ${n}: ours [${mine}], PyTorch [${want}]`).toBeLessThanOrEqual(1e-4);
          expect(mine.indexOf(Math.max(...mine))).toBe(want.indexOf(Math.max(...want)));
        }
        console.log(`[resnet ${v.key}] scores: largest difference ${worst.toExponential(2)} of the largest score over ${fx.inputs.length} inputs; argmax equal`);
      });

      it.skipIf(!haveTool('emcc'))('the emitted C equals the reference at every layer (WebAssembly)', async () => {
        const r = await verifyWasm(fx.imported.model, fx.inputs);
        expect(r.mismatch).toBeNull();
      });

      it.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))(
        `end to end: \`bnn-gen ${v.cli.join(' ')} model.onnx\` firmware passes under QEMU (${v.board}) on PyTorch's inputs, with PyTorch's argmax`,
        async () => {
          const out = join(fx.dir, 'fw');
          const gen = spawnSync(process.execPath, [BIN, ...v.cli, join(fx.dir, 'model.onnx'), '-o', out, '--input', join(fx.dir, 'inputs.npy'), '--golden', '3'], {
            cwd: fx.dir,
            encoding: 'utf8',
          });
          expect(gen.stderr).toBe('');
          expect(gen.status).toBe(0);
          expect(gen.stdout).toContain(`board ${v.board})`);
          expect(existsSync(join(out, 'Makefile'))).toBe(true);
          const run = spawnSync('make', ['-C', out, 'run'], { encoding: 'utf8', timeout: 300_000 });
          expect(run.stdout).toMatch(/^PASS 3\/3$/m);
          expect(run.status).toBe(0);
          const cases = [...run.stdout.matchAll(/^case (\d+): argmax (\d+) scores .* ok$/gm)];
          expect(cases).toHaveLength(3);
          const printed = parseCaseScores(run.stdout, true); // exact, from the bits the harness prints
          for (const [c, m] of cases.entries()) {
            const n = Number(m[1]);
            const got = Array.from(printed[c]);
            const want = Array.from(slice(fx.scores, n));
            expect(Number(m[2])).toBe(want.indexOf(Math.max(...want)));
            const scale = Math.max(1, ...want.map(Math.abs));
            for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]) / scale).toBeLessThanOrEqual(1e-4);
          }
          console.log(`[resnet ${v.key}] QEMU ${v.board}: ${run.stdout.split('\n').filter((l) => /^(PASS|stack)/.test(l)).join('; ')}`);
        },
      );

      // The int8 path (docs/int8.md) on the board with the H743's budget: the integer model's firmware equals its TS
      // reference bit for bit under QEMU (the golden cases), and generation reports its agreement with the float model.
      it.skipIf(v.board !== 'mps2-an500-h743' || !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))(
        `int8 path: \`bnn-gen ${v.cli.join(' ')} --quantize int8 --calibrate inputs.npy model.onnx\` firmware passes under QEMU (${v.board})`,
        async () => {
          const out = join(fx.dir, 'fw-int8');
          const inputs = join(fx.dir, 'inputs.npy');
          const gen = spawnSync(process.execPath, [BIN, ...v.cli, join(fx.dir, 'model.onnx'), '--quantize', 'int8', '--calibrate', inputs, '-o', out, '--input', inputs, '--golden', '3'], { cwd: fx.dir, encoding: 'utf8' });
          expect(gen.stderr).toBe('');
          expect(gen.status).toBe(0);
          expect(gen.stdout).toMatch(/^int8 path: calibrated on 3 inputs \(grids span the full range\); on 3 inputs \(3 of them calibration inputs: not a disjoint measurement\) its argmax agrees with the float model's on \d\/3/m);
          const model = readFileSync(join(out, 'bnn_model.c'), 'utf8');
          for (const k of ['bnn_qconv2d_u8_s8_rows', 'bnn_bconv2d_b1_s8_lanes', 'bnn_qdense_s8_s32']) expect(model).toContain(k);
          expect(model).not.toMatch(/bnn_(conv2d|dense|prelu|add|binarize)_f32/);
          const run = spawnSync('make', ['-C', out, 'run'], { encoding: 'utf8', timeout: 300_000 });
          expect(run.stdout).toMatch(/^PASS 3\/3$/m);
          expect(run.status).toBe(0);
          console.log(`[resnet int8] QEMU ${v.board}: ${run.stdout.split('\n').filter((l) => /^(PASS|stack)/.test(l)).join('; ')}`);
        },
      );

      // The moonshot's configuration (docs/int8.md): int16 maps, the shortcut convs on the pooled int16 maps (the pools
      // written over their inputs), int8 stem weights so that the 7x7/2 stem runs by Winograd into an int16 map.
      it.skipIf(v.board !== 'mps2-an500-h743' || !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))(
        `int16 maps, int8 stem weights: \`--quantize int8 --map-bits 16 --stem-weight-bits 8\` firmware passes under QEMU (${v.board})`,
        async () => {
          const out = join(fx.dir, 'fw-int16w8');
          const inputs = join(fx.dir, 'inputs.npy');
          const gen = spawnSync(process.execPath, [BIN, ...v.cli, join(fx.dir, 'model.onnx'), '--quantize', 'int8', '--calibrate', inputs, '--map-bits', '16', '--stem-weight-bits', '8', '-o', out, '--input', inputs, '--golden', '3'], { cwd: fx.dir, encoding: 'utf8' });
          expect(gen.stderr).toBe('');
          expect(gen.status).toBe(0);
          const model = readFileSync(join(out, 'bnn_model.c'), 'utf8');
          for (const k of ['bnn_qconv2d_u8_s16_rows', 'bnn_qconv2d_s16_s16_rows', 'bnn_avgpool_s16_s16', 'bnn_bconv2d_b1_s16_lanes']) expect(model).toContain(k);
          expect(model).toMatch(/\.wino = L0_wino,/);
          expect(model).not.toContain('bnn_avgpool_s16_rq_s8');
          const run = spawnSync('make', ['-C', out, 'run'], { encoding: 'utf8', timeout: 300_000 });
          expect(run.stdout).toMatch(/^PASS 3\/3$/m);
          expect(run.status).toBe(0);
        },
      );
    });
  }

  it('full ImageNet size (width 64, 3x224x224, 1000 classes, 11 M binary weights): import + report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnn-resnet18-'));
    try {
      const py = spawnSync(PYTHON, [SCRIPT, dir, '--tau', '6'], { encoding: 'utf8' });
      if (py.status !== 0) throw new Error(`make_resnet18.py failed:\n${py.stderr}`);
      const t0 = performance.now();
      const { model } = importOnnxFile(join(dir, 'model.onnx'));
      const t1 = performance.now();
      const r = modelReport(model);
      const t2 = performance.now();
      const t = r.totals;
      expect([t.binaryLayers, t.codebookLayers]).toEqual([16, 16]);
      expect(t.binaryWeights).toBe(10_985_472);
      // ResNet-18's binary 3x3 convs (all but the stem, the 1x1 shortcuts and the classifier): 1.68 G, as Bi-Real reports.
      expect(t.bopsDense).toBe(1_676_279_808);
      expect(t.realMacs).toBe(118_013_952 + 19_267_584 + 512_000); // 7x7 stem, three 1x1 shortcuts, classifier
      expect(t.weightBits.indices).toBe(6 * (10_985_472 / 9));
      expect(r.arenaBytes).toBeGreaterThan(0);
      console.log(`[resnet18 full] ONNX ${(statSync(join(dir, 'model.onnx')).size / 1e6).toFixed(1)} MB; import ${((t1 - t0) / 1000).toFixed(2)} s, report ${((t2 - t1) / 1000).toFixed(2)} s; BOPs dense ${t.bopsDense.toLocaleString('en-US')}, codebook ${t.bopsCodebook.toLocaleString('en-US')}; arena ${r.arenaBytes.toLocaleString('en-US')} B`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
