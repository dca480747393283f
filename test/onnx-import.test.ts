// ONNX import against real PyTorch: small seeded BNNs (VGG-style, MLP head, ReActNet blocks) are built, run and exported by
// test/fixtures/pytorch/make_vgg_small.py (Debian's /usr/bin/python3 with PyTorch 1.13), imported, run through the
// TS reference, and compared with PyTorch's eval-mode outputs:
// - every sign activation exactly equal to PyTorch with the sign(0) = +1 rule (bnn-gen's rule, semantics §8);
// - against plain torch.sign (sign(0) = 0) the only differences are exact-zero ties, counted, and what they feed;
// - every folded threshold equal to PyTorch's own switch point over all accumulators (float32 ties included);
// - scores within 1e-4 (relative to the largest score) and the same argmax;
// - the emitted C equal to the reference (WebAssembly build).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseNpy } from 'npyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, type ImportResult } from '../generator/src/import/onnx/index.ts';
import { parseOnnx } from '../generator/src/import/onnx/proto.ts';
import { runReference, type RunResult } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { verifyWasm } from '../generator/src/verify/verify-model.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'fixtures', 'pytorch', 'make_vgg_small.py');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

interface Npy {
  data: ArrayLike<number>;
  shape: number[];
}
type Switch = { flip: 0 | 1; T: number } | { const: 1 | -1 };
interface Meta {
  distinct_kernels: Record<string, number>;
  bn_fma: boolean;
  signs: number;
  zero_ties: number[];
  switch: Record<string, { K: number; channels: Switch[]; moved_by_float32: number }>;
}

interface Fixture {
  dir: string;
  meta: Meta;
  inputs: Uint8Array[];
  scores: Record<'torch' | 'tie', Npy>;
  signs: Record<'torch' | 'tie', Npy[]>;
  imported: ImportResult;
  /** IR tensor of each ONNX Sign output, in forward order. */
  signTensors: string[];
  runs: RunResult[];
}

function npy(path: string): Npy {
  const b = readFileSync(path);
  const p = parseNpy(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
  return { data: p.data as unknown as ArrayLike<number>, shape: p.shape };
}

/** Fixtures: the script's variant and extra arguments (vgg-t268: the VGG with codebooks of τ = 2, 6 and 8). */
const FIXTURES: Record<string, { variant: string; args: string[] }> = {
  vgg: { variant: 'vgg', args: [] },
  'vgg-t268': { variant: 'vgg', args: ['--taus', '2,6,8'] },
  mlp: { variant: 'mlp', args: [] },
  reactnet: { variant: 'reactnet', args: [] },
};

function makeFixture(key: string): Fixture {
  const { variant, args } = FIXTURES[key];
  const dir = mkdtempSync(join(tmpdir(), `bnn-onnx-${key}-`));
  const py = spawnSync(PYTHON, [SCRIPT, dir, '--variant', variant, '--seed', '1', ...args], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`make_vgg_small.py failed:\n${py.stderr}`);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
  const x = npy(join(dir, 'inputs.npy'));
  const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: x.shape[0] }, (_, i) => Uint8Array.from(Array.from(x.data).slice(i * size, (i + 1) * size)));
  const rule = (r: 'torch' | 'tie') => Array.from({ length: meta.signs }, (_, j) => npy(join(dir, `${r}_sign${j}.npy`)));
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const imported = importOnnx(bytes, { name: `pytorch-${key}` });
  const signTensors = parseOnnx(bytes)
    .nodes.filter((n) => n.op === 'Sign')
    .map((n) => n.outputs[0])
    .filter((o) => imported.tensors.has(o)) // Sign nodes of the weight binarisation fold away
    .map((o) => imported.tensors.get(o)!);
  return {
    dir,
    meta,
    inputs,
    scores: { torch: npy(join(dir, 'torch_scores.npy')), tie: npy(join(dir, 'tie_scores.npy')) },
    signs: { torch: rule('torch'), tie: rule('tie') },
    imported,
    signTensors,
    runs: inputs.map((q) => runReference(imported.model, q)),
  };
}

/** Our b1 values of IR tensor `t` for input n. */
function ours(fx: Fixture, n: number, t: string): Int8Array {
  const i = fx.imported.model.layers.findIndex((l) => l.output === t);
  return fx.runs[n].layers[i].data as Int8Array;
}

function slice(a: Npy, n: number): ArrayLike<number> {
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return Array.prototype.slice.call(a.data, n * per, (n + 1) * per) as number[];
}

const EXPECTED_WEIGHTS: Record<string, string[]> = {
  vgg: ['c1/Conv: bconv2d 16→32 3x3, codebook τ=3 (8 distinct kernels)', 'c2/Conv: bconv2d 32→32 3x3, codebook τ=5 (32 distinct kernels)', 'c3/Conv: bconv2d 32→64 3x3, plain 1-bit 3x3'],
  'vgg-t268': ['c1/Conv: bconv2d 16→32 3x3, codebook τ=2 (4 distinct kernels)', 'c2/Conv: bconv2d 32→32 3x3, codebook τ=6 (64 distinct kernels)', 'c3/Conv: bconv2d 32→64 3x3, codebook τ=8 (256 distinct kernels)'],
  mlp: ['c1/Conv: bconv2d 8→16 3x3, codebook τ=2 (4 distinct kernels)', 'c2/Conv: bconv2d 16→16 1x1, plain 1-bit 1x1', 'bdense 1024→32'],
  reactnet: ['b1/conv/Conv: bconv2d 16→16 3x3, codebook τ=4 (16 distinct kernels)', 'b2/conv/Conv: bconv2d 16→16 3x3, codebook τ=3 (8 distinct kernels)'],
};

/** IR ops each variant must lower to (a residual block is add + prelu, its strided shortcut an avgpool). */
const EXPECTED_OPS: Record<string, string[]> = {
  vgg: ['bconv2d', 'maxpool', 'dense'],
  'vgg-t268': ['bconv2d', 'maxpool', 'dense'],
  mlp: ['bconv2d', 'bdense', 'dense'],
  reactnet: ['bconv2d', 'add', 'prelu', 'avgpool', 'globalavgpool', 'dense'],
};

describe.skipIf(!hasTorch)('ONNX import of BNNs exported from PyTorch', () => {
  for (const variant of Object.keys(FIXTURES)) {
    describe(variant, () => {
      let fx: Fixture;
      beforeAll(() => {
        fx = makeFixture(variant);
      });
      afterAll(() => {
        if (fx) rmSync(fx.dir, { recursive: true, force: true });
      });

      it('recognises every layer, with the codebooks the model was built with', () => {
        const report = fx.imported.report.join('\n');
        for (const line of EXPECTED_WEIGHTS[variant]) expect(report).toContain(line);
        for (const [name, n] of Object.entries(fx.meta.distinct_kernels)) {
          expect(report).toMatch(new RegExp(`${name.replaceAll('.', '/')}/Conv: bconv2d .*\\(${n} distinct kernels`));
        }
        const ops = new Set(fx.imported.model.layers.map((l) => l.op));
        for (const op of EXPECTED_OPS[variant]) expect(ops).toContain(op);
        expect(fx.signTensors.length).toBe(fx.meta.signs);
        console.log(`[${variant}] import report:\n  ${fx.imported.report.join('\n  ')}`);
      });

      it.skipIf(variant === 'reactnet')("every folded threshold equals PyTorch's own switch point over all accumulators", () => {
        let checked = 0;
        for (const l of fx.imported.model.layers) {
          if ((l.op !== 'bconv2d' && l.op !== 'bdense') || !l.threshold) continue;
          const key = l.name.split('/')[0];
          const truth = fx.meta.switch[key];
          expect(truth, `switch points for ${key}`).toBeDefined();
          truth.channels.forEach((want, c) => {
            const got = { value: l.threshold!.value[c], flip: l.threshold!.flip[c] };
            const expected = 'const' in want ? { value: -2147483648, flip: want.const > 0 ? 0 : 1 } : { value: want.T, flip: want.flip };
            expect(got, `${l.name} channel ${c}`).toEqual(expected);
            checked++;
          });
        }
        const moved = Object.values(fx.meta.switch).reduce((s, v) => s + v.moved_by_float32, 0);
        console.log(`[${variant}] ${checked} thresholds equal PyTorch's switch points; ${moved} of them differ from the float64 formula (float32 ties); PyTorch batch norm is FMA: ${fx.meta.bn_fma}`);
        expect(checked).toBeGreaterThan(0);
        if (variant.startsWith('vgg')) expect(moved).toBeGreaterThanOrEqual(8); // the planted float32 ties are exercised
      });

      it('sign activations equal PyTorch exactly; torch.sign differs only at exact-zero ties (counted)', () => {
        const lines: string[] = [];
        for (let j = 0; j < fx.meta.signs; j++) {
          let values = 0;
          let tieRuleDiff = 0;
          let ties = 0;
          let atTies = 0;
          let downstream = 0;
          for (let n = 0; n < fx.inputs.length; n++) {
            const mine = ours(fx, n, fx.signTensors[j]);
            const tie = slice(fx.signs.tie[j], n);
            const torch = slice(fx.signs.torch[j], n);
            expect(mine.length).toBe(tie.length);
            // Was there a tie in an earlier sign layer for this input? Then torch.sign's zeros fed this one.
            const fedByTies = fx.signs.torch.slice(0, j).some((s) => Array.prototype.some.call(slice(s, n), (v: number) => v === 0));
            for (let i = 0; i < mine.length; i++) {
              values++;
              if (mine[i] !== tie[i]) tieRuleDiff++;
              if (torch[i] === 0) ties++;
              if (mine[i] === torch[i]) continue;
              if (torch[i] === 0) atTies++;
              else if (fedByTies) downstream++;
              else expect.fail(`sign ${j}, input ${n}, element ${i}: ours ${mine[i]}, torch.sign ${torch[i]} (not a tie)`);
            }
          }
          lines.push(`sign ${j} (${fx.signTensors[j]}): ${values} values; vs sign(0)=+1 PyTorch: ${tieRuleDiff} differ; vs torch.sign: ${ties} exact-zero ties (${atTies} differ there: torch gives 0), ${downstream} differ downstream of earlier ties`);
          expect(tieRuleDiff).toBe(0);
          expect(ties).toBe(fx.meta.zero_ties[j]);
        }
        console.log(`[${variant}] sign activations:\n  ${lines.join('\n  ')}`);
      });

      it('scores agree within 1e-4 of the largest score, with the same argmax', () => {
        let worst = 0;
        for (let n = 0; n < fx.inputs.length; n++) {
          const mine = Array.from(fx.runs[n].scores);
          const want = Array.from(slice(fx.scores.tie, n));
          const scale = Math.max(1, ...want.map(Math.abs));
          const err = Math.max(...mine.map((v, i) => Math.abs(v - want[i]))) / scale;
          worst = Math.max(worst, err);
          expect(err, `input ${n}: ours [${mine}], PyTorch [${want}]`).toBeLessThanOrEqual(1e-4);
          expect(mine.indexOf(Math.max(...mine))).toBe(want.indexOf(Math.max(...want)));
        }
        console.log(`[${variant}] scores: largest difference ${worst.toExponential(2)} of the largest score over ${fx.inputs.length} inputs; argmax equal`);
      });

      if (variant === 'vgg-t268') it('a wider τ (bits option) changes only the index width: same codewords, same outputs', () => {
        const bytes = readFileSync(join(fx.dir, 'model.onnx'));
        const wide = importOnnx(bytes, { bits: 8 }).model;
        const taus = wide.layers.flatMap((l) => (l.op === 'bconv2d' && l.weights.kind === 'codebook' ? [l.weights.bits] : []));
        expect(taus).toEqual([8, 8, 8]);
        fx.inputs.forEach((q, n) => expect(Array.from(runReference(wide, q).scores)).toEqual(Array.from(fx.runs[n].scores)));
        expect(() => importOnnx(bytes, { bits: 7 })).toThrow(/node '\/c3\/Conv' \(Conv\): 256 distinct 3x3 kernels do not fit a codebook of 2\^7 = 128/);
      });

      it.skipIf(!haveTool('emcc'))('the emitted C equals the reference at every layer (WebAssembly)', async () => {
        const r = await verifyWasm(fx.imported.model, fx.inputs);
        expect(r.mismatch).toBeNull();
        expect(r.inputs).toBe(fx.inputs.length);
      });
    });
  }
});
