// The float stem with its chain folded into one threshold per channel (bnn_conv2d_{u8,s8}_b1_thr,
// ops/shared/float-threshold.ts) and the add/subtract binary-input dense (bnn_dense_b1_f32_addsub): hand-checked
// thresholds (a threshold exactly on a float, negative, zero and -0 post scales, constant channels), the threshold
// against the reference chain on many accumulators, and seeded stems + dense heads built with 'auto' (new kernels)
// and 'ref' (the float chain) against the TS reference at every layer: WebAssembly, a host build under
// AddressSanitizer/UBSan, and firmware under QEMU on the Cortex-M4 (assembly) and the micro:bit (Cortex-M0, C).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTree } from '../generator/src/core/files.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { generate } from '../generator/src/generate.ts';
import { Rand } from '../generator/src/ir/random.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { INPUT_TENSOR, type Model } from '../generator/src/model/ir.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { getTarget } from '../generator/src/model/target.ts';
import type { AffineLayer } from '../generator/src/ops/affine.ts';
import type { BinarizeLayer } from '../generator/src/ops/binarize.ts';
import type { Conv2dLayer } from '../generator/src/ops/conv2d.ts';
import { chainBit, floatKey, FLT_MAX, foldStemThreshold, keyFloat } from '../generator/src/ops/shared/float-threshold.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-float-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const f = (v: number[]) => Float32Array.from(v);

interface StemSpec {
  C: number; H: number; W: number; O: number; k: [number, number]; s: [number, number]; pad: number;
  dtype: 'u8' | 'i8'; integral: boolean; affine: 'none' | 'pos' | 'neg' | 'zero' | 'mixed'; shift: boolean; N: number;
}

/** u8/i8 input -> conv2d -> [affine] -> binarize -> flatten -> dense (b1 -> f32 scores). */
function stemModel(seed: number, sp: StemSpec): Model {
  const r = new Rand(seed);
  const { C, H, W, O, k, s, pad, integral } = sp;
  const taps = C * k[0] * k[1];
  const OH = Math.floor((H + 2 * pad - k[0]) / s[0]) + 1;
  const OW = Math.floor((W + 2 * pad - k[1]) / s[1]) + 1;
  // Integral weights and input (scale 1, bias 0 or -q0): sums are exact, so outputs sit exactly on thresholds often.
  const scale = integral ? f(Array(C).fill(1)) : f(Array.from({ length: C }, () => 1 / (200 + r.int(0, 100))));
  const ibias = integral ? f(Array.from({ length: C }, () => r.int(-2, 0) * 64)) : r.floats(C, 1);
  const ps = sp.affine === 'pos' ? f(Array.from({ length: O }, () => (integral ? r.int(1, 3) : 0.1 + r.next())))
    : sp.affine === 'neg' ? f(Array.from({ length: O }, () => (integral ? -r.int(1, 3) : -0.1 - r.next())))
    : sp.affine === 'zero' ? f(Array.from({ length: O }, (_, o) => (o % 2 ? -0 : 0)))
    : f(Array.from({ length: O }, (_, o) => [2, -0.5, 0, -0, 1, -3][o % 6]));
  const layers: Model['layers'] = [
    { op: 'conv2d', name: 'stem', inputs: [INPUT_TENSOR], output: 'c', outChannels: O, kernel: k, stride: s, pad: { top: pad, left: pad, bottom: pad, right: pad },
      weights: r.floats(O * taps, 0.5, integral), bias: integral ? f(Array.from({ length: O }, () => r.int(-6, 6))) : r.floats(O, 0.5) },
  ];
  let t = 'c';
  if (sp.affine !== 'none') {
    layers.push({ op: 'affine', name: 'bn', inputs: [t], output: 'a', scale: ps, bias: integral ? f(Array.from({ length: O }, (_, o) => (o % 3 === 0 ? -0 : r.int(-4, 4)))) : r.floats(O, 0.5) });
    t = 'a';
  }
  layers.push({ op: 'binarize', name: 'sign', inputs: [t], output: 'b', shift: sp.shift ? (integral ? f(Array.from({ length: O }, () => r.int(-2, 2))) : r.floats(O, 0.3)) : null });
  layers.push({ op: 'flatten', name: 'flat', inputs: ['b'], output: 'v' });
  const K = O * OH * OW;
  layers.push({ op: 'dense', name: 'fc', inputs: ['v'], output: 'scores', outFeatures: sp.N, weights: r.floats(sp.N * K, 0.5, integral), bias: r.floats(sp.N, 0.5) });
  return { name: `stem${seed}`, input: { shape: [C, H, W], dtype: sp.dtype, zeroPoint: 0, scale, bias: ibias }, layers, output: 'scores' };
}

const base: StemSpec = { C: 1, H: 8, W: 8, O: 8, k: [3, 3], s: [1, 1], pad: 1, dtype: 'u8', integral: false, affine: 'pos', shift: false, N: 3 };
const SPECS: [string, StemSpec][] = [
  ['1x8x8 3x3 pad 1 -> 8, affine > 0', base],
  ['1x8x8 3x3 -> 8, integral (ties), affine < 0, shift', { ...base, integral: true, affine: 'neg', shift: true }],
  ['1x7x9 3x3 -> 37 (two words), integral, mixed affine (0, -0, <0, >0)', { ...base, H: 7, W: 9, O: 37, integral: true, affine: 'mixed' }],
  ['1x6x6 3x3 -> 5, zero affine scale', { ...base, H: 6, W: 6, O: 5, affine: 'zero', shift: true }],
  ['i8 1x8x8 3x3 valid -> 33, no affine, shift', { ...base, dtype: 'i8', pad: 0, O: 33, affine: 'none', shift: true }],
  ['3x9x7 3x3 stride 2 -> 12 (generic path), integral', { ...base, C: 3, H: 9, W: 7, O: 12, s: [2, 2], integral: true, affine: 'mixed' }],
  ['2x6x10 3x3 stride 1 -> 4 (generic path, 18 taps), i8', { ...base, C: 2, H: 6, W: 10, O: 4, dtype: 'i8', affine: 'neg' }],
  ['1x9x9 5x5 pad 2 -> 6, integral', { ...base, H: 9, W: 9, O: 6, k: [5, 5], pad: 2, integral: true }],
  ['1x8x8 3x3 stride (1, 2) -> 9', { ...base, O: 9, s: [1, 2], shift: true }],
  ['1x12x12 3x3 -> 32, integral, no affine', { ...base, H: 12, W: 12, O: 32, integral: true, affine: 'none' }],
];
const cases = SPECS.map(([name, sp], i) => ({ name, model: stemModel(700 + i, sp) }));
for (let s = 0; s < 16; s++) {
  const r = new Rand(900 + s);
  const sp: StemSpec = { C: r.int(1, 2), H: r.int(3, 10), W: r.int(3, 10), O: r.int(1, 40), k: [3, 3], s: [1, r.int(1, 2)], pad: r.int(0, 1), dtype: r.pick(['u8', 'i8'] as const),
    integral: r.bool(), affine: r.pick(['none', 'pos', 'neg', 'zero', 'mixed'] as const), shift: r.bool(), N: r.int(1, 12) };
  cases.push({ name: `random ${900 + s}`, model: stemModel(900 + s, sp) });
}

/** Every channel's bit for an accumulator, from the folded record: acc' >= thr with acc' = acc (or -acc, negated). */
function foldedBit(wt: Float32Array, taps: number, o: number, dec: boolean, acc: number): boolean {
  return floatKey(dec ? -acc : acc) >= floatKey(wt[o * (taps + 1) + taps]);
}

describe('folded stem threshold', () => {
  const one = (w: number, b: number, post?: [number, number], shift?: number) => {
    const l: Conv2dLayer = { op: 'conv2d', name: 's', inputs: [INPUT_TENSOR], output: 'c', outChannels: 1, kernel: [1, 1], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights: f([w]), bias: f([b]) };
    const affine: AffineLayer | undefined = post && { op: 'affine', name: 'a', inputs: ['c'], output: 'a', scale: f([post[0]]), bias: f([post[1]]) };
    const binarize: BinarizeLayer = { op: 'binarize', name: 'b', inputs: ['a'], output: 'b', shift: shift === undefined ? null : f([shift]) };
    const input = { shape: [1, 1, 1] as [number, number, number], dtype: 'u8' as const, zeroPoint: 0, scale: f([1]), bias: f([0]) };
    const r = foldStemThreshold(l, { dtype: 'u8', shape: [1, 1, 1] }, input, { affine, binarize });
    if (typeof r === 'string') throw new Error(r);
    return { wt: [...r.wt], r, l, post: { affine, binarize } };
  };

  it('by hand: on a float, below one, negative, zero and -0 post scales', () => {
    // acc - 0.5 >= 0 exactly when acc >= 0.5 (Sterbenz: no rounding near 0.5).
    expect(one(1, -0.5).wt).toEqual([1, 0.5]);
    // acc + 0.1f >= 0: the least acc is -0.1f itself.
    expect(one(1, Math.fround(0.1)).wt).toEqual([1, -Math.fround(0.1)]);
    // f(acc + 1) >= 0 is acc >= -1; then 2 y + 3 >= 0: y >= -1.5: acc >= -2.5.
    expect(one(1, 1, [2, 3]).wt).toEqual([1, -2.5]);
    // Decreasing: -2 f(acc + 1) + 4 >= 0 is f(acc + 1) <= 2: acc <= 1 + 2^-23 (2 + 2^-23 is a tie, to even: 2),
    // stored negated: -acc >= -(1 + 2^-23).
    const d = one(1, 1, [-2, 4]);
    expect(d.wt).toEqual([-1, -(1 + 2 ** -23)]);
    expect(d.r.decreasing).toBe(1);
    // Zero scale: the sign of d decides (constant); -0 scale and -0 bias: y = -0 >= 0, always +1.
    expect(one(1, 1, [0, -1]).wt).toEqual([1, FLT_MAX]);
    expect(one(1, 1, [-0, -0]).wt).toEqual([1, -FLT_MAX]);
    expect(one(1, 1, [0, 2]).r.constant).toBe(1);
    // A shift after the affine: (acc * 1) + 0 - 3 >= 0: acc >= 3 ... with bias -1: acc >= 4.
    expect(one(1, -1, [1, 0], -3).wt).toEqual([1, 4]);
    // Rounding, not real arithmetic: f(acc + 2^24) >= 2^24 + 2; acc = 1 is a tie that rounds to even (2^24): the
    // least acc is the float after 1.
    expect(one(1, 16777216, [1, -16777218]).wt).toEqual([1, 1 + 2 ** -23]);
  });

  it('the threshold equals the reference chain on accumulators around it and across the range (random chains)', () => {
    const r = new Rand(4242);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const integral = r.bool();
      const v = (s: number) => (integral ? r.int(-8, 8) : (r.next() * 2 - 1) * s);
      const l: Conv2dLayer = { op: 'conv2d', name: 's', inputs: [INPUT_TENSOR], output: 'c', outChannels: 1, kernel: [1, 1], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights: f([v(1)]), bias: f([v(4)]) };
      const ps = r.pick([v(3), 0, -0, -v(3)]);
      const affine: AffineLayer | undefined = r.bool(0.8) ? { op: 'affine', name: 'a', inputs: ['c'], output: 'a', scale: f([ps]), bias: f([r.bool(0.2) ? -0 : v(2)]) } : undefined;
      const binarize: BinarizeLayer = { op: 'binarize', name: 'b', inputs: ['a'], output: 'b', shift: r.bool() ? f([v(1)]) : null };
      const input = { shape: [1, 1, 1] as [number, number, number], dtype: 'u8' as const, zeroPoint: 0, scale: f([1 / 255]), bias: f([-0.5]) };
      const res = foldStemThreshold(l, { dtype: 'u8', shape: [1, 1, 1] }, input, { affine, binarize });
      if (typeof res === 'string') throw new Error(res);
      const dec = affine !== undefined && affine.scale[0] < 0;
      const thr = res.wt[1];
      const tk = floatKey(dec ? -thr : thr);
      const m = Math.abs(l.weights[0]) * 0.5; // the largest |acc| (|x| <= 0.5)
      const accs = [0, -0, m, -m];
      for (let d = -4; d <= 4; d++) if (Math.abs(thr) < FLT_MAX) accs.push(keyFloat(tk + d));
      for (let j = 0; j < 40; j++) accs.push(Math.fround((r.next() * 2 - 1) * m));
      for (const acc of accs) {
        if (!(Math.abs(acc) <= m)) continue;
        expect(foldedBit(res.wt, 1, 0, dec, acc), `chain ${i} acc ${acc}`).toBe(chainBit(l, 0, { affine, binarize }, acc));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('auto picks the new kernels, ref the float chain; an f32 input or too many taps keeps the float chain', () => {
    for (const c of cases) {
      const a = emitModel(c.model, { kernels: 'auto' }).info.layers;
      const ref = emitModel(c.model, { kernels: 'ref' }).info.layers;
      const dt = c.model.input.dtype === 'u8' ? 'u8' : 's8';
      expect(a[0].kernel, c.name).toBe(`bnn_conv2d_${dt}_b1_thr`);
      expect(ref[0].kernel).toBe(`bnn_conv2d_${dt}_b1`);
      expect(a.find((l) => l.op === 'dense')!.kernel).toBe('bnn_dense_b1_f32_addsub');
      expect(ref.find((l) => l.op === 'dense')!.kernel).toBe('bnn_dense_b1_f32');
    }
    const big = stemModel(1, { ...base, C: 3, H: 6, W: 6, k: [5, 5], pad: 2 }); // 75 taps
    expect(emitModel(big, { kernels: 'auto' }).info.layers[0].kernel).toBe('bnn_conv2d_u8_b1');
  });
});

const KINDS: KernelChoice[] = ['ref', 'auto'];
const emitted = cases.map((c, i) => Object.fromEntries(KINDS.map((k) => [k, emitModel(c.model, { prefix: `fl${i}${k}_`, kernels: k })])) as Record<KernelChoice, ReturnType<typeof emitModel>>);

describe.skipIf(!haveTool('emcc'))('WebAssembly: ref and auto builds == TS reference, every layer', () => {
  it(`${cases.length} models x 2 builds x 3 inputs`, async () => {
    const builds = emitted.flatMap((e) => KINDS.map((k) => e[k]));
    const engine = await WasmEngine.load(await buildWasm({ files: Object.assign({}, ...builds.map((e) => e.files)), models: builds.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    cases.forEach((c, i) => {
      for (let k = 0; k < 3; k++) {
        const x = randomInput(c.model, 31 + k);
        const ref = runReference(c.model, x);
        for (const kind of KINDS) {
          const m = compareRun(c.model, emitted[i][kind].info, ref, engine.run(engineModel(emitted[i][kind].info), x, { trace: true }));
          if (m) failures.push(`${c.name} ${kind} input ${k}: ${m.message}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan', () => {
  it('every case matches the reference with the new kernels', async () => {
    const exe = await buildHost({ files: Object.assign({}, ...emitted.map((e) => e.auto.files)), models: emitted.map((e) => ({ prefix: e.auto.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const inputs = [0, 1, 2].map((k) => randomInput(c.model, 600 + k));
      const runs = await runHost(exe, engineModel(emitted[i].auto.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, emitted[i].auto.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.name} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('firmware under QEMU: golden outputs from the reference', () => {
  const boards: [string, string][] = [['mps2-an386', 'cortex-m4'], ['microbit', 'cortex-m0']];
  for (const [board, cpu] of boards) {
    for (const i of [0, 1, 2, 4, 5, 9]) {
      it(`${board}: ${cases[i].name}`, async () => {
        const g = generate(cases[i].model, { target: getTarget(cpu), board: loadBoard(board), goldenCount: 4, seed: 3, kernels: 'auto' });
        expect(g.info.layers[0].kernel).toMatch(/_b1_thr$/);
        const dir = join(work, `${board}-${i}`);
        writeTree(dir, g.files);
        const { elf } = await buildFirmware(dir);
        const r = await runQemu(elf, loadBoard(board));
        expect(r.stdout).toMatch(/^PASS 4\/4$/m);
        expect(r.exitCode).toBe(0);
      });
    }
  }
});
