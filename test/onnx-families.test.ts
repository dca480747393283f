// The field's BNN families as their authors wrote them (test/fixtures/pytorch/families.py: straight-through
// estimators in forward, expand_as biases, weight formulas evaluated in forward, padded pools, LogSoftmax), exported
// from PyTorch 1.13 with random weights, imported unchanged, and compared with PyTorch's own scores:
// - every activation sign equal to PyTorch's, except where PyTorch's input to that sign lies within float32
//   rounding of 0 (|v| <= 2^-18 of the largest |v| of that activation, or exactly 0 where torch.sign gives 0):
//   such flips are counted and each is shown to be one;
// - on every input without such a flip: the same argmax and scores within 1e-5 of the largest score;
// - the same against ONNX Runtime (onnxruntime-web) running the exported file, as a second oracle, on the inputs
//   where ONNX Runtime agrees with PyTorch itself (elsewhere one of its own signs flipped: counted);
// - the emitted C equal to the reference at every layer (WebAssembly); ReActNet-A (M4) and BinaryNet (M3) as golden
//   firmware printing PASS under QEMU.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../generator/src/format/npy.ts';
import { importOnnx, type ImportResult } from '../generator/src/import/onnx/index.ts';
import { parseOnnx } from '../generator/src/import/onnx/proto.ts';
import { argmax } from '../generator/src/model/scores.ts';
import { runReference, type RunResult } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { verifyWasm } from '../generator/src/verify/verify-model.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { generate } from '../generator/src/generate.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'bnn-families-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The variants CI imports, and what each must become (ops that prove the idiom was understood). */
/** `qemu`: the board whose golden firmware must print PASS. */
export const FAMILIES: Record<string, { family: string; expect: string[]; tau?: number; qemu?: string }> = {
  bireal18: { family: 'Bi-Real-18', expect: ['bconv2d', 'avgpool', 'add'] },
  bireal50: { family: 'Bi-Real-50', expect: ['bconv2d', 'where', 'avgpool', 'add'] },
  reactnet18: { family: 'ReActNet-18', expect: ['bconv2d', 'prelu', 'add'] },
  reactnet_a: { family: 'ReActNet-A', expect: ['bconv2d', 'concat', 'prelu'], qemu: 'mps2-an386' },
  snn4: { family: 'SNN τ=4', expect: ['bconv2d', 'prelu'], tau: 4 },
  snn6: { family: 'SNN τ=6', expect: ['bconv2d', 'prelu'], tau: 6 },
  irnet_vgg: { family: 'IR-Net VGG-small', expect: ['bconv2d', 'maxpool'] },
  irnet20a: { family: 'IR-Net ResNet-20 (A)', expect: ['bconv2d', 'add', 'maxpool', 'padchannels'] },
  irnet20b: { family: 'IR-Net ResNet-20 (B)', expect: ['bconv2d', 'add'] },
  xnor_nin: { family: 'XNOR-Net NIN', expect: ['bconv2d', 'avgpool'] },
  binarynet_vgg: { family: 'BinaryNet VGG', expect: ['bconv2d', 'bdense', 'softmax'], qemu: 'mps2-an385' },
};

/** Float and byte .npy files through the project's own reader (length-checked). */
function npy(path: string): { data: ArrayLike<number>; shape: number[] } {
  const a = readNpy(path, path);
  return { data: a.data as ArrayLike<number>, shape: a.shape };
}

/** Per input: the activation signs that differ from PyTorch, each checked to lie within rounding of 0. */
function signFlips(name: string, r: ImportResult, bytes: Uint8Array, runs: RunResult[]): { flips: number[]; signs: number; first: string[] } {
  const count = JSON.parse(readFileSync(join(work, `${name}-signs.json`), 'utf8')).signs as number;
  const tensors = parseOnnx(bytes).nodes.filter((n) => n.op === 'Sign').map((n) => n.outputs[0]).filter((o) => r.tensors.has(o)).map((o) => r.tensors.get(o)!);
  expect(tensors.length, 'activation Sign nodes vs torch.sign calls').toBe(count);
  const flips = runs.map(() => 0);
  const first: string[] = [];
  tensors.forEach((t, j) => {
    const torchIn = npy(join(work, `${name}-sign${j}.npy`));
    const per = torchIn.data.length / runs.length;
    const layer = r.model.layers.findIndex((l) => l.output === t);
    runs.forEach((run, n) => {
      const mine = run.layers[layer].data;
      expect(mine.length).toBe(per);
      let big = 0;
      for (let i = 0; i < per; i++) big = Math.max(big, Math.abs(torchIn.data[n * per + i]));
      for (let i = 0; i < per; i++) {
        const v = torchIn.data[n * per + i];
        if ((v > 0 ? 1 : -1) === mine[i] && v !== 0) continue;
        // A flip: PyTorch's input must be 0 or within float32 rounding of it (other inputs only after an earlier flip).
        if (flips[n] === 0) {
          expect(Math.abs(v), `sign ${j} input ${n} element ${i}: torch ${v}, ours ${mine[i]}`).toBeLessThanOrEqual(big * 2 ** -18);
          first.push(`input ${n}: sign ${j} at ${v.toExponential(2)} (largest |v| ${big.toPrecision(3)})`);
        }
        flips[n]++;
      }
    });
  });
  return { flips, signs: count, first };
}

describe.skipIf(!hasTorch)('BNN families exported as written', () => {
  const made = hasTorch ? spawnSync(PYTHON, [join(import.meta.dirname, 'fixtures', 'pytorch', 'families.py'), work, '--variants', Object.keys(FAMILIES).join(',')], { encoding: 'utf8' }) : null;

  for (const [name, f] of Object.entries(FAMILIES)) {
    it(`${f.family} (${name}): imports unchanged and matches PyTorch and ONNX Runtime`, async () => {
      expect(made?.status, made?.stderr).toBe(0);
      const bytes = readFileSync(join(work, `${name}.onnx`));
      const r = importOnnx(bytes);
      const ops = new Set<string>(r.model.layers.map((l) => l.op));
      expect(f.expect.filter((op) => !ops.has(op))).toEqual([]);
      if (f.tau) {
        // Sub-codebook kernels: every binary 3x3 layer stored as a codebook of at most 2^τ codewords.
        for (const l of r.model.layers) if (l.op === 'bconv2d' && l.kernel[0] === 3) expect(l.weights.kind === 'codebook' && l.weights.codewords.length <= 2 ** f.tau, l.name).toBe(true);
      }
      const inputs = npy(join(work, `${name}-inputs.npy`));
      const want = npy(join(work, `${name}-scores.npy`));
      const n = inputs.shape[0];
      const size = inputs.data.length / n;
      const classes = want.data.length / n;
      const xs = Array.from({ length: n }, (_, i) => Uint8Array.from(Array.prototype.slice.call(inputs.data, i * size, (i + 1) * size)));
      const runs = xs.map((x) => runReference(r.model, x));
      const { flips, signs, first } = signFlips(name, r, bytes, runs);
      const session = await ort.InferenceSession.create(bytes);
      let worst = 0;
      let worstOrt = 0;
      let ortFlips = 0;
      for (const [i, x] of xs.entries()) {
        const got = Array.from(runs[i].scores);
        const ref = Array.from(want.data).slice(i * classes, (i + 1) * classes);
        // The second oracle: ONNX Runtime running the same file on the same input (as floats / 255).
        const feed = new ort.Tensor('float32', Float32Array.from(x, (v) => Math.fround(v / 255)), [1, ...inputs.shape.slice(1)]);
        const y = Array.from((await session.run({ x: feed })).scores.data as Float32Array);
        if (flips[i] > 0) continue; // a sign at its switch point went the other way: the rest of the net differs
        expect(argmax(got), `input ${i}`).toBe(argmax(ref));
        const scale = Math.max(...ref.map(Math.abs));
        got.forEach((g, k) => (worst = Math.max(worst, Math.abs(g - ref[k]) / scale)));
        // ONNX Runtime sums in its own order: where it differs from PyTorch itself, one of its signs flipped.
        if (ref.some((v, k) => Math.abs(v - y[k]) > 1e-5 * scale)) {
          ortFlips++;
          continue;
        }
        expect(argmax(got), `input ${i} (ONNX Runtime)`).toBe(argmax(y));
        got.forEach((g, k) => (worstOrt = Math.max(worstOrt, Math.abs(g - y[k]) / scale)));
      }
      expect(worst).toBeLessThan(1e-5);
      expect(worstOrt).toBeLessThan(1e-5);
      // Most inputs must be comparable: flips are rare events, not the rule.
      expect(flips.filter((c) => c > 0).length + ortFlips).toBeLessThanOrEqual(n / 2);
      if (process.env.BNN_FAMILIES_REPORT) {
        console.log(`${name}: ${r.model.layers.length} layers, ${signs} signs, inputs with a flip ${flips.filter((c) => c > 0).length}/${n} (${flips.join(' ')}), worst vs torch ${worst.toExponential(2)}, vs ORT ${worstOrt.toExponential(2)} (ORT differs from torch on ${ortFlips})${first.length ? '; first flips: ' + first.join(', ') : ''}`);
      }
      if (haveTool('emcc')) expect((await verifyWasm(r.model, xs.slice(0, 2))).mismatch).toBeNull();
      if (f.qemu && haveTool('arm-none-eabi-gcc') && haveTool('qemu-system-arm')) {
        const board = loadBoard(f.qemu);
        const g = generate(r.model, { target: getTarget(board.cpu), board, goldenCount: 2, seed: 3 });
        const dir = join(work, `fw-${name}`);
        writeTree(dir, g.files);
        const run = await runQemu((await buildFirmware(dir, { jobs: 2 })).elf, board, { timeoutMs: 300_000 });
        expect(run.stdout, run.stdout + run.stderr).toMatch(/^PASS 2\/2$/m);
      }
    });
  }
});
