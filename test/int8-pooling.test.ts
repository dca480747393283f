// The int8 path's readers (docs/semantics.md §9 "int8 average", §10 "threshold"): maxpool on i8 and i32, avgpool and
// globalavgpool on i8 (the mean rounded half up, floor((2S + n) / (2n))), and threshold from i8 or i32 to b1.
// 1. Hand-computed cases: every expected number is worked out in the comments, none comes from the reference.
// 2. Seeded models (an i8 model input through chains of int8 pools, then a threshold and a float head; a qconv2d's i32
//    map into an i32 max pool), thresholds set to values the data holds so x == T happens: the WebAssembly build and
//    a sanitized host build of the emitted C equal the reference at every layer (test/ops.test.ts runs each op alone).
import { describe, expect, it } from 'vitest';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import type { Tensor } from '../generator/src/ir/tensor.ts';
import type { Layer, Model, Padding, Shape, Threshold } from '../generator/src/model/ir.ts';
import { Rand, randomInput } from '../generator/src/model/random.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { opOf } from '../generator/src/ops/registry.ts';
import { randomWindow } from '../generator/src/ops/shared/window.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { Builder } from './fixtures/builder.ts';

const VALID: Padding = { top: 0, left: 0, bottom: 0, right: 0 };
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const ctx = { input: { shape: [1, 1, 1] as Shape, dtype: 'i8' as const, zeroPoint: 0, scale: Float32Array.of(1), bias: Float32Array.of(0) } };
const names = { name: 'l', inputs: ['x'], output: 'y' };

const i8 = (shape: Shape, values: number[]): Tensor => ({ dtype: 'i8', shape, data: Int8Array.from(values) });
const i32 = (shape: Shape, values: number[]): Tensor => ({ dtype: 'i32', shape, data: Int32Array.from(values) });
const thr = (value: number[], flip: number[]): Threshold => ({ value: Int32Array.from(value), flip: Uint8Array.from(flip) });

/** One layer through its op: the output type infer() gives, and the reference's values. */
function run(l: Layer, x: Tensor): { dtype: string; shape: Shape; values: number[] } {
  const op = opOf(l);
  const info = op.infer(l, [{ dtype: x.dtype, shape: x.shape }], 'layers[0]');
  const y = op.run(l, [x], ctx);
  expect(y.dtype).toBe(info.dtype);
  expect(y.shape).toEqual(info.shape);
  return { dtype: y.dtype, shape: y.shape, values: Array.from(y.data) };
}

const avgpool = (kernel: [number, number], stride: [number, number], pad: Padding, countIncludePad: boolean): Layer => ({ ...names, op: 'avgpool', kernel, stride, pad, countIncludePad });
const maxpool = (kernel: [number, number], stride: [number, number], pad: Padding): Layer => ({ ...names, op: 'maxpool', kernel, stride, pad });

describe('avgpool on i8: the mean rounded half up, floor((2S + n) / (2n))', () => {
  it('ties and signs, one 2x2 window per channel (n = 4)', () => {
    // Channel values (2x2)       S     S/n     floor((2S + 4) / 8)
    //  1   1   0   0              2     0.5     floor(8/8)    =  1   (0.5 rounds up)
    // -1  -1   0   0             -2    -0.5     floor(0/8)    =  0   (-0.5 rounds up to 0)
    // -1  -1  -1   0             -3    -0.75    floor(-2/8)   = -1   (truncation would give 0)
    // -2  -2  -2   0             -6    -1.5     floor(-8/8)   = -1   (-1.5 rounds up to -1)
    //  2   2   2   0              6     1.5     floor(16/8)   =  2
    // -1   0   0   0             -1    -0.25    floor(2/8)    =  0
    // -128 x4                  -512  -128       floor(-1020/8) = floor(-127.5) = -128
    //  127 x4                   508   127       floor(1020/8)  = floor(127.5)  =  127
    const x = i8([8, 2, 2], [1, 1, 0, 0, -1, -1, 0, 0, -1, -1, -1, 0, -2, -2, -2, 0, 2, 2, 2, 0, -1, 0, 0, 0, -128, -128, -128, -128, 127, 127, 127, 127]);
    for (const cip of [true, false]) {
      expect(run(avgpool([2, 2], [2, 2], VALID, cip), x)).toEqual({ dtype: 'i8', shape: [8, 1, 1], values: [1, 0, -1, -1, 2, 0, -128, 127] });
    }
  });

  it('padding without countIncludePad: the divisor is the number of valid taps', () => {
    // Map 2x2:  4   1      kernel 2x2, stride 1, padding top 1 and left 1 -> a 2x2 output; out(oy, ox) reads
    //          -3  -7      rows oy-1..oy, columns ox-1..ox (row or column -1 is padding).
    // out(0,0): {4}              S = 4,  n = 1: floor(9/2)   = 4
    // out(0,1): {4, 1}           S = 5,  n = 2: floor(12/4)  = 3   (2.5 rounds up)
    // out(1,0): {4, -3}          S = 1,  n = 2: floor(4/4)   = 1   (0.5 rounds up)
    // out(1,1): {4, 1, -3, -7}   S = -5, n = 4: floor(-6/8)  = -1  (-1.25)
    const pad = { top: 1, left: 1, bottom: 0, right: 0 };
    expect(run(avgpool([2, 2], [1, 1], pad, false), i8([1, 2, 2], [4, 1, -3, -7]))).toEqual({ dtype: 'i8', shape: [1, 2, 2], values: [4, 3, 1, -1] });
  });

  it('refuses countIncludePad with padding on i8 (a padded tap would be the zero point), naming the field', () => {
    const l = avgpool([2, 2], [1, 1], { top: 0, left: 0, bottom: 1, right: 0 }, true);
    expect(() => opOf(l).infer(l, [{ dtype: 'i8', shape: [1, 2, 2] }], 'layers[3]')).toThrow(/layers\[3\]\.countIncludePad/);
    // The same layer on f32 is PyTorch's default and stays allowed (2x2 map, bottom padding 1: (2 + 1 - 2) + 1 = 2 rows,
    // 1 column); so is i8 with countIncludePad and no padding.
    expect(opOf(l).infer(l, [{ dtype: 'f32', shape: [1, 2, 2] }], 'layers[3]')).toEqual({ dtype: 'f32', shape: [1, 2, 1] });
    const unpadded = avgpool([2, 2], [1, 1], VALID, true);
    expect(opOf(unpadded).infer(unpadded, [{ dtype: 'i8', shape: [1, 2, 2] }], 'layers[3]')).toEqual({ dtype: 'i8', shape: [1, 1, 1] });
  });
});

describe('globalavgpool on i8', () => {
  it('3x3 maps (n = 9): floor((2S + 9) / 18)', () => {
    // ch 0: -1..-9            S = -45  mean -5        floor(-81/18) = floor(-4.5)  = -5
    // ch 1: 1,1,1,1,1,1,1,3,3 S = 13   mean 1.44      floor(35/18)  = floor(1.94)  =  1
    // ch 2: the negatives     S = -13  mean -1.44     floor(-17/18) = floor(-0.94) = -1  (truncation: 0)
    // ch 3: 2,2,2,2,2,1,1,1,1 S = 14   mean 1.56      floor(37/18)  = floor(2.06)  =  2
    // ch 4: 127, -128 x8      S = -897 mean -99.67    floor(-1785/18) = floor(-99.17) = -100
    const x = i8([5, 3, 3], [
      -1, -2, -3, -4, -5, -6, -7, -8, -9,
      1, 1, 1, 1, 1, 1, 1, 3, 3,
      -1, -1, -1, -1, -1, -1, -1, -3, -3,
      2, 2, 2, 2, 2, 1, 1, 1, 1,
      127, -128, -128, -128, -128, -128, -128, -128, -128,
    ]);
    expect(run({ ...names, op: 'globalavgpool' }, x)).toEqual({ dtype: 'i8', shape: [5, 1, 1], values: [-5, 1, -1, 2, -100] });
  });

  it('2x2 maps (n = 4): the ties of avgpool, and the other input types still give f32', () => {
    // S = 2 -> 1, S = -2 -> 0, S = -3 -> -1 (as in the avgpool case above).
    expect(run({ ...names, op: 'globalavgpool' }, i8([3, 2, 2], [1, 1, 0, 0, -1, -1, 0, 0, -1, -1, -1, 0])).values).toEqual([1, 0, -1]);
    // i32 -> f32 as before: (-1 - 1 - 1 + 0) / 4 = -0.75.
    expect(run({ ...names, op: 'globalavgpool' }, i32([1, 2, 2], [-1, -1, -1, 0]))).toEqual({ dtype: 'f32', shape: [1, 1, 1], values: [-0.75] });
  });
});

describe('maxpool on i8 and i32: padding never wins', () => {
  it('i8, every valid value negative, padding on every side', () => {
    // Map 2x2: -5  -7      kernel 2x2, stride 1, padding 1 on each side -> 3x3; out(oy, ox) reads rows oy-1..oy,
    //        -100 -127     columns ox-1..ox. A padded tap counted as 0 would give 0 everywhere below.
    // out(0,*): {-5} -5, {-5,-7} -5, {-7} -7
    // out(1,*): {-5,-100} -5, {all} -5, {-7,-127} -7
    // out(2,*): {-100} -100, {-100,-127} -100, {-127} -127
    const all1 = { top: 1, left: 1, bottom: 1, right: 1 };
    expect(run(maxpool([2, 2], [1, 1], all1), i8([1, 2, 2], [-5, -7, -100, -127]))).toEqual({ dtype: 'i8', shape: [1, 3, 3], values: [-5, -5, -7, -5, -5, -7, -100, -100, -127] });
    // A window whose only valid value is -128 gives -128 (from the data). 1x2 map [-128, -128], kernel 1x2, pad left 1:
    // out 0: {-128}, out 1: {-128, -128}.
    expect(run(maxpool([1, 2], [1, 1], { top: 0, left: 1, bottom: 0, right: 0 }), i8([1, 1, 2], [-128, -128])).values).toEqual([-128, -128]);
  });

  it('i32, with values far below the int8 range', () => {
    // 1x3 map [-70000, -900000, INT32_MIN], kernel 1x3, padding left 1 and right 1 -> 3 outputs:
    // out 0: {-70000, -900000} -70000; out 1: all three -70000; out 2: {-900000, INT32_MIN} -900000.
    const pad = { top: 0, left: 1, bottom: 0, right: 1 };
    expect(run(maxpool([1, 3], [1, 1], pad), i32([1, 1, 3], [-70000, -900000, INT32_MIN]))).toEqual({ dtype: 'i32', shape: [1, 1, 3], values: [-70000, -70000, -900000] });
  });
});

describe('threshold: i8 or i32 -> b1, +1 iff (flip ? x <= T : x >= T)', () => {
  const threshold = (t: Threshold): Layer => ({ ...names, op: 'threshold', threshold: t });

  it('i8, both flips and constant channels', () => {
    // Every channel holds [-3, 5, 6].
    // ch 0: T = 5, flip 0: x >= 5     -> -1 +1 +1
    // ch 1: T = 5, flip 1: x <= 5     -> +1 +1 -1
    // ch 2: T = -128, flip 0: always  -> +1 +1 +1
    // ch 3: T = 128, flip 0: never (127 < 128) -> -1 -1 -1
    // ch 4: T = -129, flip 1: never   -> -1 -1 -1
    // ch 5: T = -3, flip 1: x <= -3   -> +1 -1 -1
    const x = i8([6, 1, 3], [-3, 5, 6, -3, 5, 6, -3, 5, 6, -3, 5, 6, -3, 5, 6, -3, 5, 6]);
    const t = thr([5, 5, -128, 128, -129, -3], [0, 1, 0, 0, 1, 1]);
    expect(run(threshold(t), x)).toEqual({ dtype: 'b1', shape: [6, 1, 3], values: [-1, 1, 1, 1, 1, -1, 1, 1, 1, -1, -1, -1, -1, -1, -1, 1, -1, -1] });
  });

  it('i8: a folded RSign, sign(0.5 (q - 3) + 1.25), is q >= ceil(3 - 1.25 / 0.5) = ceil(0.5) = 1', () => {
    // q = 0: 0.5 * -3 + 1.25 = -0.25 < 0 -> -1; q = 1: 0.5 * -2 + 1.25 = 0.25 >= 0 -> +1; q = -128 -> -1; q = 127 -> +1.
    expect(run(threshold(thr([1], [0])), i8([1, 1, 4], [0, 1, -128, 127])).values).toEqual([-1, 1, -1, 1]);
  });

  it('i32 at the ends of the range, both flips', () => {
    // Every channel holds [INT32_MIN, 0, INT32_MAX].
    // ch 0: T = 0, flip 0          -> -1 +1 +1
    // ch 1: T = 0, flip 1          -> +1 +1 -1
    // ch 2: T = INT32_MIN, flip 0  -> +1 +1 +1 (always)
    // ch 3: T = INT32_MIN, flip 1  -> +1 -1 -1 (only INT32_MIN <= INT32_MIN)
    // ch 4: T = INT32_MAX, flip 0  -> -1 -1 +1
    const v = [INT32_MIN, 0, INT32_MAX];
    const x = i32([5, 1, 3], [...v, ...v, ...v, ...v, ...v]);
    const t = thr([0, 0, INT32_MIN, INT32_MIN, INT32_MAX], [0, 1, 0, 1, 0]);
    expect(run(threshold(t), x)).toEqual({ dtype: 'b1', shape: [5, 1, 3], values: [-1, 1, 1, 1, 1, -1, 1, 1, 1, 1, -1, -1, -1, -1, 1] });
  });

  it('refuses other input types and a threshold of the wrong length', () => {
    const l = threshold(thr([0, 0], [0, 0]));
    expect(() => opOf(l).infer(l, [{ dtype: 'f32', shape: [2, 1, 1] }], 'layers[1]')).toThrow(/layers\[1\].*takes i8 or i16 or i32/);
    expect(() => opOf(l).infer(l, [{ dtype: 'i8', shape: [3, 1, 1] }], 'layers[1]')).toThrow(/layers\[1\]\.threshold\.value/);
  });
});

describe('through the interpreter', () => {
  it('i8 input -> globalavgpool -> threshold -> qdense: scores by hand', () => {
    // Input i8 [2, 2, 2]: ch 0 = [1, 1, 0, 0] (S = 2 -> 1), ch 1 = [-1, -1, -1, 0] (S = -3 -> -1).
    // threshold T = [1, 0], flip = [0, 0]: ch 0: 1 >= 1 -> +1; ch 1: -1 >= 0 is false -> -1.
    // qdense weights [[1, 0], [0, 1]], bias [0, 10]: scores [+1, 10 - 1] = [1, 9].
    const model: Model = {
      name: 'i8-gap',
      input: { shape: [2, 2, 2], dtype: 'i8', zeroPoint: 0, scale: Float32Array.of(1, 1), bias: Float32Array.of(0, 0) },
      layers: [
        { name: 'g', op: 'globalavgpool', inputs: ['input'], output: 'g' },
        { name: 't', op: 'threshold', inputs: ['g'], output: 't', threshold: thr([1, 0], [0, 0]) },
        { name: 'd', op: 'qdense', inputs: ['t'], output: 'd', outFeatures: 2, weights: Int8Array.of(1, 0, 0, 1), bias: Int32Array.of(0, 10) },
      ],
      output: 'd',
    };
    const types = inferModel(model);
    expect(types.get('g')).toEqual({ dtype: 'i8', shape: [2, 1, 1] });
    const r = runReference(model, Int8Array.of(1, 1, 0, 0, -1, -1, -1, 0));
    expect(Array.from(r.layers[0].data)).toEqual([1, -1]);
    expect(Array.from(r.layers[1].data)).toEqual([1, -1]);
    expect(Array.from(r.scores)).toEqual([1, 9]);
  });
});

// ---- the emitted C against the reference ----------------------------------------------------------------------------

const SEEDS = 16;
const INPUTS = 3;
const KERNELS: KernelChoice[] = ['auto', 'ref', 'fast'];

/** Flatten, then dense to float scores: the model. */
function withFloatHead(g: Builder, r: Rand, name: string): Model {
  if (g.info.shape[1] * g.info.shape[2] > 1) g.add({ ...g.names(), op: 'flatten' });
  const K = g.info.shape[0];
  const N = r.int(2, 6);
  g.add({ ...g.names(), op: 'dense', outFeatures: N, weights: r.floats(N * K, 0.5), bias: r.floats(N, 0.5) });
  const model: Model = { name, input: g.input, layers: g.layers, output: g.cur };
  inferModel(model);
  return model;
}

/**
 * A threshold for the builder's current tensor: per channel, mostly a value that tensor holds on the first input the
 * WebAssembly test runs (so x == T, where >= and <= differ from > and <, happens), else one in [-range, range] (on
 * i8, past either end now and then: a constant channel); flip half the time.
 */
function thresholdAt(r: Rand, g: Builder, seed: number, range: number): Threshold {
  const [C, H, W] = g.info.shape;
  const partial: Model = { name: 'partial', input: g.input, layers: g.layers, output: g.cur };
  const x = partial.layers.length ? runReference(partial, randomInput(partial, seed * 31)).layers[g.layers.length - 1].data : randomInput(partial, seed * 31);
  const value = new Int32Array(C).map((_, c) => (r.bool(0.75) ? x[c * H * W + r.int(0, H * W - 1)] : r.int(-range, range)));
  return { value, flip: new Uint8Array(C).map(() => (r.bool() ? 1 : 0)) };
}

/** Seeded: an i8 input through zero to three int8 pools, a threshold to b1, a float head. */
function int8Model(seed: number): Model {
  const r = new Rand(seed * 104729 + 17);
  const C = r.int(1, 5);
  const shape: Shape = [C, r.int(1, 7), r.int(1, 7)];
  const g = new Builder({ shape, dtype: 'i8', zeroPoint: r.int(-128, 127), scale: new Float32Array(C).fill(0.05), bias: new Float32Array(C) });
  const pools = r.int(0, 3);
  for (let k = 0; k < pools; k++) {
    const op = r.pick(['maxpool', 'avgpool', 'globalavgpool'] as const);
    if (op === 'globalavgpool') {
      g.add({ ...g.names(), op });
      continue;
    }
    const w = randomWindow(r, g.info.shape);
    if (!w) continue;
    // avgpool on i8: countIncludePad only without padding (infer refuses it with padding).
    const padded = w.pad.top + w.pad.left + w.pad.bottom + w.pad.right > 0;
    g.add(op === 'maxpool' ? { ...g.names(), op, ...w } : { ...g.names(), op, ...w, countIncludePad: !padded && r.bool() });
  }
  g.add({ ...g.names(), op: 'threshold', threshold: thresholdAt(r, g, seed, 140) });
  return withFloatHead(g, r, `int8-${seed}`);
}

/** Seeded: a u8 input, a 1x1 qconv2d to i32, an i32 max pool, an i32 threshold, a float head. */
function int32Model(seed: number): Model {
  const r = new Rand(seed * 7919 + 3);
  const C = r.int(1, 3);
  const g = new Builder({ shape: [C, r.int(2, 6), r.int(2, 6)], dtype: 'u8', zeroPoint: r.int(0, 255), scale: new Float32Array(C).fill(0.01), bias: new Float32Array(C) });
  const O = r.int(1, 6);
  g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [1, 1], stride: [1, 1], pad: VALID, weights: new Int8Array(O * C).map(() => r.int(-128, 127)), bias: new Int32Array(O).map(() => r.int(-5000, 5000)) });
  const w = randomWindow(r, g.info.shape);
  if (w) g.add({ ...g.names(), op: 'maxpool', ...w });
  g.add({ ...g.names(), op: 'threshold', threshold: thresholdAt(r, g, seed, 8000) });
  return withFloatHead(g, r, `int32-${seed}`);
}

/**
 * Seeded: an i8 input, on even seeds widened to an int16 map (a requant with bits 16), through an avgpool of a random
 * window that its requant (to int16 on seeds 0, 1 mod 4, else int8; with or without PReLU) fuses into (bnn_avgpool_{s8,s16}_rq_{s8,s16}:
 * interior windows without bounds checks, border windows counted), then a threshold and a float head.
 */
function avgRqModel(seed: number): Model {
  const r = new Rand(seed * 6151 + 5);
  const C = r.int(1, 4);
  const g = new Builder({ shape: [C, r.int(2, 9), r.int(2, 9)], dtype: 'i8', zeroPoint: r.int(-20, 20), scale: new Float32Array(C).fill(0.05), bias: new Float32Array(C) });
  const mult = () => [new Int32Array(C).map(() => r.int(1 << 18, 1 << 22))];
  if (seed % 2 === 0) g.add({ ...g.names(), op: 'requant', mult: mult(), shift: 12, bias: new Int32Array(C).map(() => r.int(-3000, 3000)), zeroPoint: r.int(-50, 50), bits: 16 });
  const w = randomWindow(r, g.info.shape) ?? { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], pad: VALID };
  const padded = w.pad.top + w.pad.left + w.pad.bottom + w.pad.right > 0;
  g.add({ ...g.names(), op: 'avgpool', ...w, countIncludePad: !padded && r.bool() });
  const wide = g.info.dtype === 'i16';
  const prelu = r.bool(0.3) ? { slope: new Int32Array(C).map(() => r.int(1000, 30000)), post: new Int32Array(C).map(() => r.int(-300, 300)) } : undefined;
  g.add({ ...g.names(), op: 'requant', mult: mult(), shift: wide ? 30 : 22, bias: new Int32Array(C).map(() => r.int(-500, 500)), zeroPoint: r.int(-10, 10), ...(prelu ? { prelu } : {}), ...(seed % 4 < 2 ? { bits: 16 as const } : {}) });
  g.add({ ...g.names(), op: 'threshold', threshold: thresholdAt(r, g, seed, 140) });
  return withFloatHead(g, r, `avgrq-${seed}`);
}

interface Case {
  seed: number;
  model: Model;
  emitted: EmittedModel;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const kernels = KERNELS[seed % KERNELS.length];
    for (const [tag, model] of [['a', int8Model(seed)], ['b', int32Model(seed)], ['c', avgRqModel(seed)]] as const) {
      out.push({ seed, model, emitted: emitModel(model, { prefix: `i8p${tag}${seed}_`, kernels }) });
    }
  }
  return out;
}

describe('the emitted C equals the reference at every layer', () => {
  const all = cases();

  it('the seeded models cover every int8 kernel', () => {
    const kernels = new Set(all.flatMap((c) => c.emitted.info.layers.map((l) => l.kernel)));
    for (const k of ['bnn_maxpool_s8_s8', 'bnn_avgpool_s8_s8', 'bnn_globalavgpool_s8_s8', 'bnn_threshold_s8_b1', 'bnn_maxpool_s32_s32', 'bnn_threshold_s32_b1']) expect(kernels).toContain(k);
    for (const k of ['bnn_avgpool_s8_rq_s8', 'bnn_avgpool_s8_rq_s16', 'bnn_avgpool_s16_rq_s8', 'bnn_avgpool_s16_rq_s16']) expect(kernels).toContain(k);
  });

  it.skipIf(!haveTool('emcc'))('WebAssembly build', async () => {
    const files: Record<string, string> = {};
    for (const c of all) Object.assign(files, c.emitted.files);
    const engine = await WasmEngine.load(await buildWasm({ files, models: all.map((c) => ({ prefix: c.emitted.info.prefix })) }));
    const failures: string[] = [];
    for (const c of all) {
      for (let k = 0; k < INPUTS; k++) {
        const x = randomInput(c.model, c.seed * 31 + k);
        const m = compareRun(c.model, c.emitted.info, runReference(c.model, x), engine.run(engineModel(c.emitted.info), x, { trace: true }));
        if (m) failures.push(`${c.model.name} input ${k}: ${m.message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan', async () => {
    const files: Record<string, string> = {};
    for (const c of all) Object.assign(files, c.emitted.files);
    const exe = await buildHost({ files, models: all.map((c) => ({ prefix: c.emitted.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const c of all) {
      const inputs = [0, 1].map((k) => randomInput(c.model, c.seed * 131 + k));
      const runs = await runHost(exe, engineModel(c.emitted.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, c.emitted.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.model.name} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});
