// Hand-computed cases for every layer type of the reference interpreter. Every expected number below was worked
// out by hand (the arithmetic is in the comments); none comes from the reference or a copy of it.
//
// Conventions used throughout:
// - Models take u8/i8 input. To feed an f32 / b1 / i32 map into the layer under test, a "stem" turns the raw input
//   into that map exactly: a 1x1 conv2d with identity weights and zero bias reads the normalised input
//   (scale 1, bias 0 -> x = q), a binarize after it gives signs (0 -> +1), a 1x1 qconv2d with weight 1 gives q - zp.
// - A model's output must be an f32/i32 vector made by its last layer, so maps get a globalavgpool tail.
// - Binary 3x3 kernels: codeword id i has tap t = 3*ky + kx equal to +1 iff bit t of i is 1.
import { describe, expect, it } from 'vitest';
import { samePadding, type InputSpec, type Layer, type Model, type Padding, type Shape, type Threshold } from '../generator/src/model/ir.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { runReference, type RunResult } from '../generator/src/reference/interpreter.ts';
import type { Tensor } from '../generator/src/ir/tensor.ts';
import { expf, logf } from '../generator/src/ops/softmax.ts';

const VALID: Padding = { top: 0, left: 0, bottom: 0, right: 0 };
const SAME3: Padding = { top: 1, left: 1, bottom: 1, right: 1 }; // "same" for a 3x3 kernel, stride 1
const TWO24 = 16777216; // 2^24: above it float32 cannot hold every integer

function inputSpec(dtype: 'u8' | 'i8', shape: Shape, o: { zeroPoint?: number; scale?: number[]; bias?: number[] } = {}): InputSpec {
  const C = shape[0];
  return {
    shape,
    dtype,
    zeroPoint: o.zeroPoint ?? 0,
    scale: Float32Array.from(o.scale ?? new Array<number>(C).fill(1)),
    bias: Float32Array.from(o.bias ?? new Array<number>(C).fill(0)),
  };
}

/** 1x1 conv2d with identity weights, zero bias: out[c] = the (normalised) input channel c. */
function identity(name: string, from: string, C: number): Layer {
  const weights = new Float32Array(C * C);
  for (let c = 0; c < C; c++) weights[c * C + c] = 1;
  return { name, op: 'conv2d', inputs: [from], output: name, outChannels: C, kernel: [1, 1], stride: [1, 1], pad: VALID, weights, bias: new Float32Array(C) };
}

function binarize(name: string, from: string, shift: number[] | null = null): Layer {
  return { name, op: 'binarize', inputs: [from], output: name, shift: shift ? Float32Array.from(shift) : null };
}

function gap(name: string, from: string): Layer {
  return { name, op: 'globalavgpool', inputs: [from], output: name };
}

function flatten(name: string, from: string): Layer {
  return { name, op: 'flatten', inputs: [from], output: name };
}

function threshold(value: number[], flip: number[]): Threshold {
  return { value: Int32Array.from(value), flip: Uint8Array.from(flip) };
}

function codebookConv(
  name: string,
  from: string,
  o: { outChannels: number; bits: number; codewords: number[]; indices: number[]; pad: Padding; padValue: 0 | 1 | -1; stride?: [number, number]; threshold?: Threshold },
): Layer {
  return {
    name,
    op: 'bconv2d',
    inputs: [from],
    output: name,
    outChannels: o.outChannels,
    kernel: [3, 3],
    stride: o.stride ?? [1, 1],
    pad: o.pad,
    padValue: o.padValue,
    weights: { kind: 'codebook', bits: o.bits, codewords: Uint16Array.from(o.codewords), indices: Uint16Array.from(o.indices) },
    threshold: o.threshold,
  };
}

function model(input: InputSpec, layers: Layer[]): Model {
  return { name: 'hand', input, layers, output: layers[layers.length - 1].output };
}

/** Validate (must pass) and run. */
function run(m: Model, raw: number[]): RunResult {
  expect(() => inferModel(m)).not.toThrow();
  return runReference(m, m.input.dtype === 'u8' ? Uint8Array.from(raw) : Int8Array.from(raw));
}

function expectTensor(t: Tensor, dtype: Tensor['dtype'], shape: Shape, values: number[]): void {
  expect(t.dtype).toBe(dtype);
  expect(t.shape).toEqual(shape);
  // toEqual compares numbers with Object.is, so +0 and -0 are told apart.
  expect(Array.from(t.data)).toEqual(values);
}

describe('conv2d', () => {
  it('on u8 input reads the normalised input fround(fround(q*scale) + bias); padded taps contribute nothing', () => {
    // Input u8 [2,2,2]: ch0 q = [10,20,30,40], scale 0.5, bias -1 -> x = [4, 9, 14, 19]
    //                   ch1 q = [0,100,200,255], scale 0.25, bias 2 -> x = [2, 27, 52, 65.75]
    // Kernel 2x2, pad top 1 -> output [1, 2, 1]. Weights ch0 [[1,2],[3,-1]], ch1 [[0.5,-1],[0.25,2]], bias 0.5.
    // oy=0 (row -1 padded, only ky=1 on row 0): ch0 3*4 + -1*9 = 3; ch1 0.25*2 + 2*27 = 54.5; 57.5 + 0.5 = 58
    // oy=1 (rows 0,1): ch0 1*4 + 2*9 + 3*14 - 19 = 45; ch1 0.5*2 - 27 + 0.25*52 + 2*65.75 = 118.5; 163.5 + 0.5 = 164
    const m = model(inputSpec('u8', [2, 2, 2], { scale: [0.5, 0.25], bias: [-1, 2] }), [
      { name: 'c', op: 'conv2d', inputs: ['input'], output: 'c', outChannels: 1, kernel: [2, 2], stride: [1, 1], pad: { top: 1, left: 0, bottom: 0, right: 0 }, weights: Float32Array.of(1, 2, 3, -1, 0.5, -1, 0.25, 2), bias: Float32Array.of(0.5) },
      gap('g', 'c'),
    ]);
    const r = run(m, [10, 20, 30, 40, 0, 100, 200, 255]);
    expectTensor(r.layers[0], 'f32', [1, 2, 1], [58, 164]);
    expectTensor(r.layers[1], 'f32', [1, 1, 1], [111]); // (58 + 164) / 2
  });

  it('on an f32 map, 3x3 with zero "same" padding', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]] (i8 input through the identity stem), kernel [[0,1,0],[1,-4,1],[0,1,0]], bias 0.5.
    // out = (sum of the in-range 4-neighbours) - 4*centre + 0.5:
    // (0,0) 2+4-4 = 2      (0,1) 1+3+5-8 = 1     (0,2) 2+6-12 = -4
    // (1,0) 1+7+5-16 = -3  (1,1) 2+4+6+8-20 = 0  (1,2) 3+9+5-24 = -7
    // (2,0) 4+8-28 = -16   (2,1) 5+7+9-32 = -11  (2,2) 6+8-36 = -22
    const m = model(inputSpec('i8', [1, 3, 3]), [
      identity('x', 'input', 1),
      { name: 'c', op: 'conv2d', inputs: ['x'], output: 'c', outChannels: 1, kernel: [3, 3], stride: [1, 1], pad: SAME3, weights: Float32Array.of(0, 1, 0, 1, -4, 1, 0, 1, 0), bias: Float32Array.of(0.5) },
      gap('g', 'c'),
    ]);
    const r = run(m, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectTensor(r.layers[0], 'f32', [1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectTensor(r.layers[1], 'f32', [1, 3, 3], [2.5, 1.5, -3.5, -2.5, 0.5, -6.5, -15.5, -10.5, -21.5]);
  });

  it('stride 2 with asymmetric "same" padding (extra row/column at the end)', () => {
    // 4x4, k 3, s 2: out = ceil(4/2) = 2, total pad = (2-1)*2 + 3 - 4 = 1 -> top/left 0, bottom/right 1.
    expect(samePadding(4, 4, [3, 3], [2, 2])).toEqual({ top: 0, left: 0, bottom: 1, right: 1 });
    // x[y][x] = 4y + x (0..15), all-ones kernel, bias 0:
    // (0,0) rows 0-2, cols 0-2: 0+1+2 + 4+5+6 + 8+9+10 = 45
    // (0,1) rows 0-2, cols 2-3 (col 4 padded): 2+3 + 6+7 + 10+11 = 39
    // (1,0) rows 2-3 (row 4 padded), cols 0-2: 8+9+10 + 12+13+14 = 66
    // (1,1) rows 2-3, cols 2-3: 10+11+14+15 = 50
    const m = model(inputSpec('i8', [1, 4, 4]), [
      identity('x', 'input', 1),
      { name: 'c', op: 'conv2d', inputs: ['x'], output: 'c', outChannels: 1, kernel: [3, 3], stride: [2, 2], pad: { top: 0, left: 0, bottom: 1, right: 1 }, weights: new Float32Array(9).fill(1), bias: Float32Array.of(0) },
      gap('g', 'c'),
    ]);
    const r = run(m, Array.from({ length: 16 }, (_, i) => i));
    expectTensor(r.layers[1], 'f32', [1, 2, 2], [45, 39, 66, 50]);
  });

  it('float32 rounding pins the accumulation order: acc = +0; for c, ky, kx: acc = fround(acc + fround(w*x)); out = fround(acc + bias)', () => {
    // u8 input [2,1,2], all q = 1 (scale 1, bias 0), kernel 1x2, so every product is just the weight.
    // o0: weights c0 [2^24, 1], c1 [-2^24, 1], bias 0.
    //   specified order c0kx0, c0kx1, c1kx0, c1kx1: 2^24; 2^24+1 -> 2^24 (tie, rounds to even); 2^24-2^24 = 0; 0+1 = 1 -> 1
    //   kx outer / c inner (2^24, -2^24, 1, 1) gives 2; reverse order (1, 1-2^24, ..) gives 2; the exact sum is 2.
    // o1: weights c0 [2^24, 1], c1 [0, 0], bias -2^24.
    //   specified: acc = 2^24 (the +1 is lost), out = fround(2^24 - 2^24) = +0.
    //   starting acc at the bias instead: -2^24 + 2^24 = 0, then +1 -> 1.
    const m = model(inputSpec('u8', [2, 1, 2]), [
      { name: 'c', op: 'conv2d', inputs: ['input'], output: 'c', outChannels: 2, kernel: [1, 2], stride: [1, 1], pad: VALID, weights: Float32Array.of(TWO24, 1, -TWO24, 1, TWO24, 1, 0, 0), bias: Float32Array.of(0, -TWO24) },
      gap('g', 'c'),
    ]);
    const r = run(m, [1, 1, 1, 1]);
    expectTensor(r.layers[0], 'f32', [2, 1, 1], [1, 0]);
  });
});

describe('qconv2d', () => {
  // u8 input [1,2,3], zeroPoint 10: q = [[12,10,7],[20,0,11]] -> q - zp = [[2,0,-3],[10,-10,1]].
  // Kernel 1x2, pad left 1 (padded taps are skipped, i.e. contribute 0 in the q - zp domain), 2 outputs:
  //   o0 weights [1, 2], bias 5; o1 weights [-3, 127], bias -100. Output [2,2,3]; tap kx reads column ox - 1 + kx.
  // o0 row 0: ox0 2*2 = 4 -> 9;  ox1 1*2 + 2*0 = 2 -> 7;  ox2 1*0 + 2*(-3) = -6 -> -1
  //    row 1: ox0 2*10 = 20 -> 25; ox1 10 - 20 = -10 -> -5; ox2 -10 + 2 = -8 -> -3
  // o1 row 0: ox0 127*2 = 254 -> 154; ox1 -6 + 0 -> -106; ox2 0 + 127*(-3) = -381 -> -481
  //    row 1: ox0 1270 -> 1170; ox1 -30 - 1270 = -1300 -> -1400; ox2 30 + 127 = 157 -> 57
  const raw = [12, 10, 7, 20, 0, 11];
  const q = (t?: Threshold): Model =>
    model(inputSpec('u8', [1, 2, 3], { zeroPoint: 10 }), [
      { name: 'q', op: 'qconv2d', inputs: ['input'], output: 'q', outChannels: 2, kernel: [1, 2], stride: [1, 1], pad: { top: 0, left: 1, bottom: 0, right: 0 }, weights: Int8Array.of(1, 2, -3, 127), bias: Int32Array.of(5, -100), threshold: t },
      gap('g', 'q'),
    ]);

  it('without threshold: int32 accumulator bias + sum w * (q - zeroPoint)', () => {
    const r = run(q(), raw);
    expectTensor(r.layers[0], 'i32', [2, 2, 3], [9, 7, -1, 25, -5, -3, 154, -106, -481, 1170, -1400, 57]);
  });

  it('with threshold and flip: +1 iff acc >= T (flip 0) or acc <= T (flip 1), ties included', () => {
    // o0: T = 7, flip 0: [9, 7, -1, 25, -5, -3] >= 7 -> [+, + (tie), -, +, -, -]
    // o1: T = -106, flip 1: [154, -106, -481, 1170, -1400, 57] <= -106 -> [-, + (tie), +, -, +, -]
    const r = run(q(threshold([7, -106], [0, 1])), raw);
    expectTensor(r.layers[0], 'b1', [2, 2, 3], [1, 1, -1, 1, -1, -1, -1, 1, 1, -1, 1, -1]);
  });
});

describe('bconv2d', () => {
  // b1 input a (1 channel, 3x3) from i8 q = [1,-1,1, 0,5,-2, -3,7,0] through identity + binarize (0 -> +1):
  //   a = [[+1,-1,+1],
  //        [+1,+1,-1],
  //        [-1,+1,+1]]
  // Codeword 341 = 0b101010101: taps t = 0,2,4,6,8 (corners, centre) are +1, taps 1,3,5,7 (edges) are -1:
  //   k = [[+1,-1,+1],[-1,+1,-1],[+1,-1,+1]].  Codeword 511: all +1 (plain window sum).
  // "same" padding (1 on each side). With padValue 0, padded taps contribute 0:
  //   341: (0,0) a00*k11 + a01*k12 + a10*k21 + a11*k22 = 1 + 1 - 1 + 1 = 2
  //        (0,1) row0: -1-1-1, row1: +1-1-1 -> -4        (0,2) +1+1+1+1 = 4
  //        (1,0) -1-1 +1-1 +1+1 = 0                        (1,1) full window: 1+1+1-1+1+1-1-1+1 = 3
  //        (1,2) -1-1 -1-1 +1-1 = -4                       (2,0) -1+1 -1-1 = -2
  //        (2,1) +1-1-1 +1+1-1 = 0                         (2,2) +1+1 -1+1 = 2
  //   511: window sums of a: [2, 2, 0, 2, 3, 2, 2, 2, 2]
  // With padValue v, each output adds v * (sum of the kernel taps that fall outside the map):
  //   341: every border position has outside taps summing to +1 (a row or column +1,-1,+1, the other taps
  //        of a corner pair -1,+1 cancel), the centre 0 -> +-[1,1,1,1,0,1,1,1,1]
  //   511: number of outside taps: corners 5, edges 3, centre 0.
  const raw = [1, -1, 1, 0, 5, -2, -3, 7, 0];
  const stem = (): Layer[] => [identity('x', 'input', 1), binarize('a', 'x')];
  const bmodel = (l: Layer): Model => model(inputSpec('i8', [1, 3, 3]), [...stem(), l, gap('g', l.output)]);

  it('binarize stem gives the expected map (0 -> +1)', () => {
    const r = run(bmodel(codebookConv('b', 'a', { outChannels: 1, bits: 1, codewords: [341], indices: [0], pad: SAME3, padValue: 0 })), raw);
    expectTensor(r.layers[1], 'b1', [1, 3, 3], [1, -1, 1, 1, 1, -1, -1, 1, 1]);
  });

  const cases: [0 | 1 | -1, number[], number[]][] = [
    [0, [2, -4, 4, 0, 3, -4, -2, 0, 2], [2, 2, 0, 2, 3, 2, 2, 2, 2]],
    // +1: 341 -> base + [1,1,1,1,0,1,1,1,1]; 511 -> base + [5,3,5,3,0,3,5,3,5]
    [1, [3, -3, 5, 1, 3, -3, -1, 1, 3], [7, 5, 5, 5, 3, 5, 7, 5, 7]],
    // -1: 341 -> base - [1,1,1,1,0,1,1,1,1]; 511 -> base - [5,3,5,3,0,3,5,3,5]
    [-1, [1, -5, 3, -1, 3, -5, -3, -1, 1], [-3, -1, -5, -1, 3, -1, -3, -1, -3]],
  ];
  for (const [padValue, o341, o511] of cases) {
    it(`codebook 3x3, "same" padding, padValue ${padValue}`, () => {
      // bits 2, codebook [0, 341, 511]; output 0 uses index 1 (341), output 1 uses index 2 (511).
      const l = codebookConv('b', 'a', { outChannels: 2, bits: 2, codewords: [0, 341, 511], indices: [1, 2], pad: SAME3, padValue });
      const r = run(bmodel(l), raw);
      expectTensor(r.layers[2], 'i32', [2, 3, 3], [...o341, ...o511]);
    });
  }

  it('codebook with threshold and flip', () => {
    // padValue 0 accumulators: o0 [2,-4,4,0,3,-4,-2,0,2] >= 0 (flip 0) -> [+,-,+,+,+,-,-,+,+]
    //                          o1 [2,2,0,2,3,2,2,2,2] <= 2 (flip 1) -> [+,+,+,+,-,+,+,+,+]
    const l = codebookConv('b', 'a', { outChannels: 2, bits: 2, codewords: [0, 341, 511], indices: [1, 2], pad: SAME3, padValue: 0, threshold: threshold([0, 2], [0, 1]) });
    const r = run(bmodel(l), raw);
    expectTensor(r.layers[2], 'b1', [2, 3, 3], [1, -1, 1, 1, 1, -1, -1, 1, 1, 1, 1, 1, 1, -1, 1, 1, 1, 1]);
  });

  it('stride 2 picks every other position: (0,0), (0,2), (2,0), (2,2) of the stride-1 result', () => {
    // out = floor((3 + 2 - 3) / 2) + 1 = 2 per axis; 341 with padValue 0 -> [2, 4, -2, 2]
    const l = codebookConv('b', 'a', { outChannels: 1, bits: 1, codewords: [341], indices: [0], pad: SAME3, padValue: 0, stride: [2, 2] });
    const r = run(bmodel(l), raw);
    expectTensor(r.layers[2], 'i32', [1, 2, 2], [2, 4, -2, 2]);
  });

  // Two-channel b1 map [2,3,4] (i8 input through identity + binarize):
  //   ch0 = [[+1,-1,-1,+1],[+1,+1,-1,-1],[-1,+1,+1,+1]]   from q [0,-1,-1,1, 2,3,-4,-5, -6,7,8,9]
  //   ch1 = [[-1,-1,+1,+1],[+1,-1,+1,-1],[+1,+1,-1,-1]]   from q [-1,-2,3,4, 5,-6,7,-8, 9,10,-11,-12]
  const raw2 = [0, -1, -1, 1, 2, 3, -4, -5, -6, 7, 8, 9, -1, -2, 3, 4, 5, -6, 7, -8, 9, 10, -11, -12];
  const bmodel2 = (l: Layer): Model => model(inputSpec('i8', [2, 3, 4]), [identity('x', 'input', 2), binarize('a', 'x'), l, gap('g', l.output)]);

  it('plain (dense bits) 3x3, two input channels, valid padding; bit layout [O, C, kh, kw]', () => {
    // ch0 kernel all +1; ch1 kernel bits [1,0,1, 0,0,0, 1,1,1] = [[+1,-1,+1],[-1,-1,-1],[+1,+1,+1]]. Output [1,1,2].
    // ox=0 (cols 0-2): ch0 sum = (1-1-1) + (1+1-1) + (-1+1+1) = 1
    //                  ch1 = (-1+1+1) + (-1+1-1) + (1+1-1) = 1 -> 2
    // ox=1 (cols 1-3): ch0 sum = (-1-1+1) + (1-1-1) + (1+1+1) = 1
    //                  ch1 = (-1-1+1) + (1-1+1) + (1-1-1) = -1 -> 0
    const bits = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1);
    const l: Layer = { name: 'b', op: 'bconv2d', inputs: ['a'], output: 'b', outChannels: 1, kernel: [3, 3], stride: [1, 1], pad: VALID, padValue: 0, weights: { kind: 'dense', bits } };
    const r = run(bmodel2(l), raw2);
    expectTensor(r.layers[1], 'b1', [2, 3, 4], [1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1]);
    expectTensor(r.layers[2], 'i32', [1, 1, 2], [2, 0]);
  });

  it('plain 1x1: per-pixel signed sums over channels', () => {
    // bits [o][c]: o0 [1,1] -> a0 + a1; o1 [1,0] -> a0 - a1; o2 [0,0] -> -a0 - a1
    const l: Layer = { name: 'b', op: 'bconv2d', inputs: ['a'], output: 'b', outChannels: 3, kernel: [1, 1], stride: [1, 1], pad: VALID, padValue: 0, weights: { kind: 'dense', bits: Uint8Array.of(1, 1, 1, 0, 0, 0) } };
    const r = run(bmodel2(l), raw2);
    // a0 = [1,-1,-1,1, 1,1,-1,-1, -1,1,1,1], a1 = [-1,-1,1,1, 1,-1,1,-1, 1,1,-1,-1]
    const sum = [0, -2, 0, 2, 2, 0, 0, -2, 0, 2, 0, 0];
    const diff = [2, 0, -2, 0, 0, 2, -2, 0, -2, 0, 2, 2];
    const neg = [0, 2, 0, -2, -2, 0, 0, 2, 0, -2, 0, 0];
    expectTensor(r.layers[2], 'i32', [3, 3, 4], [...sum, ...diff, ...neg]);
  });
});

describe('binarize', () => {
  it('with a per-channel shift: +1 iff fround(x + shift) >= 0, so x + shift == 0 gives +1', () => {
    // i8 input [2,1,3], scale 0.25: ch0 q [-2,-3,0] -> x [-0.5,-0.75,0]; ch1 q [4,3,8] -> x [1,0.75,2]
    // shift [0.5, -1]: ch0 x+s = [0, -0.25, 0.5] -> [+1,-1,+1]; ch1 x+s = [0, -0.25, 1] -> [+1,-1,+1]
    const m = model(inputSpec('i8', [2, 1, 3], { scale: [0.25, 0.25] }), [identity('x', 'input', 2), binarize('b', 'x', [0.5, -1]), gap('g', 'b')]);
    const r = run(m, [-2, -3, 0, 4, 3, 8]);
    expectTensor(r.layers[0], 'f32', [2, 1, 3], [-0.5, -0.75, 0, 1, 0.75, 2]);
    expectTensor(r.layers[1], 'b1', [2, 1, 3], [1, -1, 1, 1, -1, 1]);
  });

  it('without shift: sign with 0 -> +1, and -0 -> +1', () => {
    // i8 input [2,1,2]: ch0 q [1,-2], ch1 q [3,0]; affine scale [0.5,-1], bias [-1,-0]:
    //   ch0: 1*0.5 - 1 = -0.5, -2*0.5 - 1 = -2;  ch1: 3*-1 + -0 = -3, fround(0*-1) = -0 and -0 + -0 = -0
    // binarize: [-1, -1, -1, +1 (for -0)]
    const m = model(inputSpec('i8', [2, 1, 2]), [
      identity('x', 'input', 2),
      { name: 'f', op: 'affine', inputs: ['x'], output: 'f', scale: Float32Array.of(0.5, -1), bias: Float32Array.of(-1, -0) },
      binarize('b', 'f'),
      gap('g', 'b'),
    ]);
    const r = run(m, [1, -2, 3, 0]);
    expectTensor(r.layers[1], 'f32', [2, 1, 2], [-0.5, -2, -3, -0]);
    expect(Object.is(r.layers[1].data[3], -0)).toBe(true);
    expectTensor(r.layers[2], 'b1', [2, 1, 2], [-1, -1, -1, 1]);
  });

  it('without shift on small fractions: -0.25 -> -1, 0 -> +1, 0.25 -> +1', () => {
    const m = model(inputSpec('i8', [1, 1, 3], { scale: [0.25] }), [identity('x', 'input', 1), binarize('b', 'x'), gap('g', 'b')]);
    const r = run(m, [-1, 0, 1]);
    expectTensor(r.layers[1], 'b1', [1, 1, 3], [-1, 1, 1]);
    expectTensor(r.layers[2], 'f32', [1, 1, 1], [Math.fround(1 / 3)]); // (-1 + 1 + 1) / 3
  });
});

describe('affine', () => {
  it('on f32: fround(fround(x*scale[c]) + bias[c]) per channel', () => {
    // i8 [2,1,2]: ch0 [2,-4], ch1 [6,1]; scale [0.5, -0.25], bias [1, 0.5]
    // ch0: 2*0.5+1 = 2, -4*0.5+1 = -1; ch1: 6*-0.25+0.5 = -1, 1*-0.25+0.5 = 0.25
    const m = model(inputSpec('i8', [2, 1, 2]), [
      identity('x', 'input', 2),
      { name: 'f', op: 'affine', inputs: ['x'], output: 'f', scale: Float32Array.of(0.5, -0.25), bias: Float32Array.of(1, 0.5) },
      gap('g', 'f'),
    ]);
    const r = run(m, [2, -4, 6, 1]);
    expectTensor(r.layers[1], 'f32', [2, 1, 2], [2, -1, -1, 0.25]);
  });

  it('on i32: the integer converts to float32 first', () => {
    // qconv2d 1x1 on u8 q = [1, 7] (zp 0), weights [1, 1], bias [2^24, -3]:
    //   ch0 = [2^24 + 1, 2^24 + 7] = [16777217, 16777223];  ch1 = [-2, 4]
    // affine scale [3, -0.5], bias [0, 0.25]:
    //   ch0: fround(16777217) = 16777216 (tie to even), *3 = 50331648 (exact)
    //        [without converting first: 16777217*3 = 50331651 -> 50331652]
    //        fround(16777223) = 16777224 (tie to even), *3 = 50331672 (exact, float32 spacing 4 there)
    //        [without converting first: 50331669 -> 50331668]
    //   ch1: -2*-0.5 + 0.25 = 1.25; 4*-0.5 + 0.25 = -1.75
    const m = model(inputSpec('u8', [1, 1, 2]), [
      { name: 'q', op: 'qconv2d', inputs: ['input'], output: 'q', outChannels: 2, kernel: [1, 1], stride: [1, 1], pad: VALID, weights: Int8Array.of(1, 1), bias: Int32Array.of(TWO24, -3) },
      { name: 'f', op: 'affine', inputs: ['q'], output: 'f', scale: Float32Array.of(3, -0.5), bias: Float32Array.of(0, 0.25) },
      gap('g', 'f'),
    ]);
    const r = run(m, [1, 7]);
    expectTensor(r.layers[0], 'i32', [2, 1, 2], [16777217, 16777223, -2, 4]);
    expectTensor(r.layers[1], 'f32', [2, 1, 2], [50331648, 50331672, 1.25, -1.75]);
  });
});

describe('maxpool', () => {
  it('on f32 with padding: padded positions are ignored (not read as 0)', () => {
    // x = [[-5,-1,-7],[-3,-4,-2],[-8,-6,-9]]; kernel 2x2, stride 2, pad top 1 left 1 -> out 2x2
    // (0,0) {x00} = -5; (0,1) {x01,x02} = max(-1,-7) = -1; (1,0) {x10,x20} = max(-3,-8) = -3;
    // (1,1) {x11,x12,x21,x22} = max(-4,-2,-6,-9) = -2. (Treating padding as 0 would give 0 in the first three.)
    const m = model(inputSpec('i8', [1, 3, 3]), [
      identity('x', 'input', 1),
      { name: 'p', op: 'maxpool', inputs: ['x'], output: 'p', kernel: [2, 2], stride: [2, 2], pad: { top: 1, left: 1, bottom: 0, right: 0 } },
      gap('g', 'p'),
    ]);
    const r = run(m, [-5, -1, -7, -3, -4, -2, -8, -6, -9]);
    expectTensor(r.layers[1], 'f32', [1, 2, 2], [-5, -1, -3, -2]);
  });

  it('on f32, a -0/+0 tie keeps the first value in scan order', () => {
    // affine scale 0, bias -0: x = -1 -> fround(-1*0) = -0, -0 + -0 = -0; x = 1 -> +0 + -0 = +0.
    // ch0 x = [-1, 1] -> [-0, +0]; ch1 x = [1, -1] -> [+0, -0]. maxpool 1x2: ch0 -> -0, ch1 -> +0.
    const m = model(inputSpec('i8', [2, 1, 2]), [
      identity('x', 'input', 2),
      { name: 'f', op: 'affine', inputs: ['x'], output: 'f', scale: Float32Array.of(0, 0), bias: Float32Array.of(-0, -0) },
      { name: 'p', op: 'maxpool', inputs: ['f'], output: 'p', kernel: [1, 2], stride: [1, 1], pad: VALID },
      gap('g', 'p'),
    ]);
    const r = run(m, [-1, 1, 1, -1]);
    expectTensor(r.layers[1], 'f32', [2, 1, 2], [-0, 0, 0, -0]);
    expectTensor(r.layers[2], 'f32', [2, 1, 1], [-0, 0]);
  });

  it('on b1 with padding: logical OR of +1 over the in-range taps', () => {
    // a = [[-1,-1,+1],[-1,-1,-1],[+1,-1,-1]]; kernel 2x2, stride 2, pad top 1 left 1:
    // (0,0) {a00} = -1; (0,1) {a01,a02} -> +1; (1,0) {a10,a20} -> +1; (1,1) {a11,a12,a21,a22} -> -1
    const m = model(inputSpec('i8', [1, 3, 3]), [
      identity('x', 'input', 1),
      binarize('a', 'x'),
      { name: 'p', op: 'maxpool', inputs: ['a'], output: 'p', kernel: [2, 2], stride: [2, 2], pad: { top: 1, left: 1, bottom: 0, right: 0 } },
      gap('g', 'p'),
    ]);
    const r = run(m, [-1, -1, 2, -1, -1, -1, 3, -1, -1]);
    expectTensor(r.layers[2], 'b1', [1, 2, 2], [-1, 1, 1, -1]);
    expectTensor(r.layers[3], 'f32', [1, 1, 1], [0]); // (-1 + 1 + 1 - 1) / 4
  });
});

describe('globalavgpool', () => {
  it('on b1', () => {
    // ch0 signs [+1,-1,+1,+1] -> 2/4 = 0.5; ch1 [-1,-1,-1,+1] -> -2/4 = -0.5
    const m = model(inputSpec('i8', [2, 2, 2]), [identity('x', 'input', 2), binarize('a', 'x'), gap('g', 'a')]);
    const r = run(m, [1, -1, 1, 1, -1, -1, -1, 1]);
    expectTensor(r.layers[2], 'f32', [2, 1, 1], [0.5, -0.5]);
  });

  it('on i32', () => {
    // u8 q [5,1,6,3], zp 2 -> [3,-1,4,1]; qconv2d 1x1 weights [1,2]: ch0 [3,-1,4,1] -> 7/4 = 1.75, ch1 [6,-2,8,2] -> 14/4 = 3.5
    const m = model(inputSpec('u8', [1, 2, 2], { zeroPoint: 2 }), [
      { name: 'q', op: 'qconv2d', inputs: ['input'], output: 'q', outChannels: 2, kernel: [1, 1], stride: [1, 1], pad: VALID, weights: Int8Array.of(1, 2), bias: Int32Array.of(0, 0) },
      gap('g', 'q'),
    ]);
    const r = run(m, [5, 1, 6, 3]);
    expectTensor(r.layers[0], 'i32', [2, 2, 2], [3, -1, 4, 1, 6, -2, 8, 2]);
    expectTensor(r.layers[1], 'f32', [2, 1, 1], [1.75, 3.5]);
  });

  it('on f32, summing in y, x order with float32 rounding after every add', () => {
    // 1x1 conv2d on u8 [2,2,2], weights [131072 (2^17), 1]: ch0 q [128,0,0,0], ch1 q [0,1,1,2]
    //   -> map [2^24, 1, 1, 2] (128 * 2^17 = 2^24, all exact)
    // acc: 2^24; 2^24+1 -> 2^24 (tie to even); again 2^24; 2^24+2 = 16777218 (exact); /4 = 4194304.5
    // (summing in reverse, 2+1+1+2^24 = 16777220, would give 4194305)
    const m = model(inputSpec('u8', [2, 2, 2]), [
      { name: 'c', op: 'conv2d', inputs: ['input'], output: 'c', outChannels: 1, kernel: [1, 1], stride: [1, 1], pad: VALID, weights: Float32Array.of(131072, 1), bias: Float32Array.of(0) },
      gap('g', 'c'),
    ]);
    const r = run(m, [128, 0, 0, 0, 0, 1, 1, 2]);
    expectTensor(r.layers[0], 'f32', [1, 2, 2], [TWO24, 1, 1, 2]);
    expectTensor(r.layers[1], 'f32', [1, 1, 1], [4194304.5]);
  });
});

describe('flatten', () => {
  it('[C,H,W] -> [C*H*W,1,1] in c, y, x order', () => {
    // ch0 = [[0,1,2],[3,4,5]], ch1 = [[10,11,12],[13,14,15]] -> [0,1,2,3,4,5,10,11,12,13,14,15]
    // dense with one-hot rows picks element 1 (= 1) and element 9 (= ch1 y1 x0 = 13); bias [0.5, 0]
    const w = new Float32Array(24);
    w[1] = 1;
    w[12 + 9] = 1;
    const m = model(inputSpec('i8', [2, 2, 3]), [
      identity('x', 'input', 2),
      flatten('v', 'x'),
      { name: 'd', op: 'dense', inputs: ['v'], output: 'd', outFeatures: 2, weights: w, bias: Float32Array.of(0.5, 0) },
    ]);
    const r = run(m, [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    expectTensor(r.layers[1], 'f32', [12, 1, 1], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    expectTensor(r.layers[2], 'f32', [2, 1, 1], [1.5, 13]);
  });
});

describe('dense', () => {
  it('on f32', () => {
    // x = q * 0.5 with q [2,-4,1] -> [1,-2,0.5]; weights [[1,2,3],[0.5,-1,4]], bias [0.25,-1]
    // row0: 1 - 4 + 1.5 = -1.5, + 0.25 = -1.25; row1: 0.5 + 2 + 2 = 4.5, - 1 = 3.5
    const m = model(inputSpec('i8', [1, 1, 3], { scale: [0.5] }), [
      identity('x', 'input', 1),
      flatten('v', 'x'),
      { name: 'd', op: 'dense', inputs: ['v'], output: 'd', outFeatures: 2, weights: Float32Array.of(1, 2, 3, 0.5, -1, 4), bias: Float32Array.of(0.25, -1) },
    ]);
    const r = run(m, [2, -4, 1]);
    expectTensor(r.layers[2], 'f32', [2, 1, 1], [-1.25, 3.5]);
    expect(Array.from(r.scores)).toEqual([-1.25, 3.5]);
  });

  it('on f32, float32 rounding pins the order k = 0..K-1 and the bias added last', () => {
    // x = [1,1,1,1], weights [2^24, 1, -2^24, 1], bias 0:
    // 2^24; 2^24+1 -> 2^24 (tie to even); 0; 1 -> 1.  (Reverse order or the exact sum: 2.)
    const m = model(inputSpec('u8', [1, 1, 4]), [
      identity('x', 'input', 1),
      flatten('v', 'x'),
      { name: 'd', op: 'dense', inputs: ['v'], output: 'd', outFeatures: 1, weights: Float32Array.of(TWO24, 1, -TWO24, 1), bias: Float32Array.of(0) },
    ]);
    expectTensor(run(m, [1, 1, 1, 1]).layers[2], 'f32', [1, 1, 1], [1]);
  });

  it('on b1: each input contributes +w or -w', () => {
    // x signs of q [3,-2,0,1] = [+1,-1,+1,+1]; weights [0.5,0.25,-2,1]: 0.5 - 0.25 - 2 + 1 = -0.75
    const m = model(inputSpec('i8', [1, 1, 4]), [
      identity('x', 'input', 1),
      binarize('a', 'x'),
      flatten('v', 'a'),
      { name: 'd', op: 'dense', inputs: ['v'], output: 'd', outFeatures: 1, weights: Float32Array.of(0.5, 0.25, -2, 1), bias: Float32Array.of(0) },
    ]);
    const r = run(m, [3, -2, 0, 1]);
    expectTensor(r.layers[2], 'b1', [4, 1, 1], [1, -1, 1, 1]);
    expectTensor(r.layers[3], 'f32', [1, 1, 1], [-0.75]);
  });
});

describe('qdense and bdense', () => {
  // b1 vector x = [+1,-1,+1,+1] (signs of i8 q [3,-2,0,1]).
  const raw = [3, -2, 0, 1];
  const vec = (): Layer[] => [identity('x', 'input', 1), binarize('a', 'x'), flatten('v', 'a')];

  it('qdense: int32 bias + sum w * x', () => {
    // row0: 1000 + 127 + (-128)(-1) + 3 + 0 = 1258; row1: -5 + 1 - 1 + 1 + 1 = -3
    const m = model(inputSpec('i8', [1, 1, 4]), [
      ...vec(),
      { name: 'd', op: 'qdense', inputs: ['v'], output: 'd', outFeatures: 2, weights: Int8Array.of(127, -128, 3, 0, 1, 1, 1, 1), bias: Int32Array.of(1000, -5) },
    ]);
    const r = run(m, raw);
    expectTensor(r.layers[3], 'i32', [2, 1, 1], [1258, -3]);
  });

  // bits rows: [1,1,1,1] -> w [+1,+1,+1,+1]: 1-1+1+1 = 2
  //            [0,1,0,0] -> w [-1,+1,-1,-1]: -1-1-1-1 = -4
  //            [1,0,0,1] -> w [+1,-1,-1,+1]: 1+1-1+1 = 2
  const bits = Uint8Array.of(1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1);

  it('bdense without threshold: int32 accumulator', () => {
    const m = model(inputSpec('i8', [1, 1, 4]), [...vec(), { name: 'd', op: 'bdense', inputs: ['v'], output: 'd', outFeatures: 3, bits }]);
    expectTensor(run(m, raw).layers[3], 'i32', [3, 1, 1], [2, -4, 2]);
  });

  it('bdense with threshold and flip', () => {
    // T [3,-4,1], flip [0,1,1]: 2 >= 3 no -> -1; -4 <= -4 yes -> +1; 2 <= 1 no -> -1
    const m = model(inputSpec('i8', [1, 1, 4]), [
      ...vec(),
      { name: 'd', op: 'bdense', inputs: ['v'], output: 'd', outFeatures: 3, bits, threshold: threshold([3, -4, 1], [0, 1, 1]) },
      gap('g', 'd'),
    ]);
    expectTensor(run(m, raw).layers[3], 'b1', [3, 1, 1], [-1, 1, -1]);
  });
});

describe('residual-block ops: add, prelu, clip, avgpool', () => {
  // Input i8 [1,2,2] = [-3, -1, 0, 5] through the identity stem gives x = [-3, -1, 0, 5] as f32.
  const input = inputSpec('i8', [1, 2, 2]);
  const raw = [-3, -1, 0, 5];

  it('add: y = a + b element-wise (here x + x = 2x)', () => {
    const m = model(input, [identity('x', 'input', 1), { name: 's', op: 'add', inputs: ['x', 'x'], output: 's' }, gap('g', 's')]);
    const r = run(m, raw);
    expectTensor(r.layers[1], 'f32', [1, 2, 2], [-6, -2, 0, 10]);
    expectTensor(r.layers[2], 'f32', [1, 1, 1], [0.5]); // (-6 - 2 + 0 + 10) / 4
  });

  it('prelu with shifts (RPReLU): t = x + 1; u = t >= 0 ? t : 0.5 t; y = u - 2', () => {
    // x = -3: t = -2 -> u = -1 -> y = -3.   x = -1: t = 0 -> u = 0 -> y = -2.
    // x = 0: t = 1 -> y = -1.                x = 5: t = 6 -> y = 4.
    const m = model(input, [identity('x', 'input', 1), { name: 'p', op: 'prelu', inputs: ['x'], output: 'p', slope: Float32Array.of(0.5), shiftIn: Float32Array.of(1), shiftOut: Float32Array.of(-2) }, gap('g', 'p')]);
    expectTensor(run(m, raw).layers[1], 'f32', [1, 2, 2], [-3, -2, -1, 4]);
  });

  it('prelu with slope 0 and no shifts is ReLU, and a negative input gives -0 (0 * negative)', () => {
    const m = model(input, [identity('x', 'input', 1), { name: 'p', op: 'prelu', inputs: ['x'], output: 'p', slope: Float32Array.of(0), shiftIn: null, shiftOut: null }, gap('g', 'p')]);
    expectTensor(run(m, raw).layers[1], 'f32', [1, 2, 2], [-0, -0, 0, 5]);
  });

  it('clip to [-1, 1]', () => {
    const m = model(input, [identity('x', 'input', 1), { name: 'c', op: 'clip', inputs: ['x'], output: 'c', min: -1, max: 1 }, gap('g', 'c')]);
    expectTensor(run(m, raw).layers[1], 'f32', [1, 2, 2], [-1, -1, 0, 1]);
  });

  it('avgpool 2x2 stride 2 with one padded row/column: count_include_pad divides by 4, else by the valid taps', () => {
    // i8 [1,3,3] = [[1,2,3],[4,5,6],[7,8,9]], kernel 2, stride 2, pad bottom 1, right 1 -> output [1,2,2].
    // Windows: (0,0) {1,2,4,5} sum 12; (0,1) {3,6} sum 9; (1,0) {7,8} sum 15; (1,1) {9} sum 9.
    // count_include_pad: /4 -> [3, 2.25, 3.75, 2.25];  valid count: [12/4, 9/2, 15/2, 9/1] = [3, 4.5, 7.5, 9].
    const inp = inputSpec('i8', [1, 3, 3]);
    const pad = { top: 0, left: 0, bottom: 1, right: 1 };
    for (const [countIncludePad, expected] of [[true, [3, 2.25, 3.75, 2.25]], [false, [3, 4.5, 7.5, 9]]] as const) {
      const m = model(inp, [identity('x', 'input', 1), { name: 'a', op: 'avgpool', inputs: ['x'], output: 'a', kernel: [2, 2], stride: [2, 2], pad, countIncludePad }, gap('g', 'a')]);
      expectTensor(run(m, [1, 2, 3, 4, 5, 6, 7, 8, 9]).layers[1], 'f32', [1, 2, 2], [...expected]);
    }
  });

  it('add refuses inputs of different shapes', () => {
    const m = model(input, [identity('x', 'input', 1), { name: 'a', op: 'avgpool', inputs: ['x'], output: 'a', kernel: [2, 2], stride: [2, 2], pad: VALID, countIncludePad: true }, { name: 's', op: 'add', inputs: ['x', 'a'], output: 's' }, gap('g', 's')]);
    expect(() => inferModel(m)).toThrow(/shapes differ: 'x' is \[1,2,2\], 'a' is \[1,1,1\]/);
  });
});

describe('softmax and log-softmax over a score vector', () => {
  // i8 [4,1,1] through the identity stem gives the vector x as f32.
  const input = inputSpec('i8', [4, 1, 1]);
  const soft = (log: boolean): Layer => ({ name: 's', op: 'softmax', inputs: ['x'], output: 's', log });

  it('equal scores: e = 1 each (x - max = 0, k = 0, r = 0, polynomial = 1), sum 4, y = 1/4', () => {
    const m = model(input, [identity('x', 'input', 4), soft(false)]);
    expectTensor(run(m, [3, 3, 3, 3]).layers[1], 'f32', [4, 1, 1], [0.25, 0.25, 0.25, 0.25]);
  });

  it('a score 128 below the max contributes exactly 0 (below -87 the exponential is 0): [1, 1, -127, 1] -> thirds', () => {
    const m = model(input, [identity('x', 'input', 4), soft(false)]);
    const third = Math.fround(1 / 3);
    expectTensor(run(m, [1, 1, -127, 1]).layers[1], 'f32', [4, 1, 1], [third, third, 0, third]);
  });

  it('log: equal scores give -log 4 = -2 ln 2; log(4) is e = 2, m = 1, s = 0: 2*0.693359375 + 2*(-2.1219444e-4)', () => {
    const m = model(input, [identity('x', 'input', 4), soft(true)]);
    const l4 = Math.fround(Math.fround(2 * 0.693359375) + Math.fround(2 * Math.fround(-2.1219444e-4)));
    expect(l4).toBe(Math.fround(Math.log(4)));
    expectTensor(run(m, [-5, -5, -5, -5]).layers[1], 'f32', [4, 1, 1], [-l4, -l4, -l4, -l4]);
  });

  it('exp within 1 ulp of Math.exp on [-87, 0], log within 1 ulp of Math.log on [1, 65536]', () => {
    let worstExp = 0;
    let worstLog = 0;
    for (let i = 0; i <= 20000; i++) {
      const x = Math.fround((-87 * i) / 20000);
      const want = Math.exp(x);
      worstExp = Math.max(worstExp, Math.abs(expf(x) - want) / want);
      const y = Math.fround(1 + (65535 * i) / 20000);
      if (y > 1) worstLog = Math.max(worstLog, Math.abs(logf(y) - Math.log(y)) / Math.log(y));
    }
    expect(worstExp).toBeLessThan(2 ** -23);
    expect(worstLog).toBeLessThan(2 ** -23);
  });

  it('refuses a map: scores must be a vector', () => {
    const m = model(inputSpec('i8', [1, 2, 2]), [identity('x', 'input', 1), soft(false)]);
    expect(() => inferModel(m)).toThrow(/softmax takes a vector \[N,1,1\] of scores, got \[1,2,2\]/);
  });
});

describe('concat along the channels', () => {
  // i8 [2,1,2] = [[-3, 5], [0, -1]] through the identity stem gives x (2 channels, 1x2 map).
  const input = inputSpec('i8', [2, 1, 2]);
  const raw = [-3, 5, 0, -1];

  it('f32: [x, x] puts x\'s two channels first, then the same two again', () => {
    const m = model(input, [identity('x', 'input', 2), { name: 'c', op: 'concat', inputs: ['x', 'x'], output: 'c' }, gap('g', 'c')]);
    const r = run(m, raw);
    expectTensor(r.layers[1], 'f32', [4, 1, 2], [-3, 5, 0, -1, -3, 5, 0, -1]);
    expectTensor(r.layers[2], 'f32', [4, 1, 1], [1, -0.5, 1, -0.5]); // channel means: (-3+5)/2, (0-1)/2
  });

  it('b1: signs of x (0 -> +1) then signs of a binarize with shift -2 (x - 2 >= 0 only for 5)', () => {
    const m = model(input, [
      identity('x', 'input', 2),
      { name: 'a', op: 'binarize', inputs: ['x'], output: 'a', shift: null },
      { name: 'b', op: 'binarize', inputs: ['x'], output: 'b', shift: Float32Array.of(-2, -2) },
      { name: 'c', op: 'concat', inputs: ['a', 'b'], output: 'c' },
      gap('g', 'c'),
    ]);
    // a: [[-1, +1], [+1, -1]]; b: x - 2 = [[-5, 3], [-2, -3]] -> [[-1, +1], [-1, -1]].
    expectTensor(run(m, raw).layers[3], 'b1', [4, 1, 2], [-1, 1, 1, -1, -1, 1, -1, -1]);
  });

  it('refuses maps of different sizes or dtypes', () => {
    const m = model(input, [identity('x', 'input', 2), { name: 'a', op: 'avgpool', inputs: ['x'], output: 'a', kernel: [1, 2], stride: [1, 2], pad: VALID, countIncludePad: true }, { name: 'c', op: 'concat', inputs: ['x', 'a'], output: 'c' }, gap('g', 'c')]);
    expect(() => inferModel(m)).toThrow(/maps differ in size: 'x' is \[2,1,2\], 'a' is \[2,1,1\]/);
    const d = model(input, [identity('x', 'input', 2), { name: 'a', op: 'binarize', inputs: ['x'], output: 'a', shift: null }, { name: 'c', op: 'concat', inputs: ['x', 'a'], output: 'c' }, gap('g', 'c')]);
    expect(() => inferModel(d)).toThrow(/'a'/);
  });
});

describe('padchannels', () => {
  it('one zero channel before and two after a 1-channel 1x2 map: [+0 +0 | -3 5 | +0 +0 +0 +0]', () => {
    const m = model(inputSpec('i8', [1, 1, 2]), [identity('x', 'input', 1), { name: 'p', op: 'padchannels', inputs: ['x'], output: 'p', before: 1, after: 2 }, gap('g', 'p')]);
    expectTensor(run(m, [-3, 5]).layers[1], 'f32', [4, 1, 2], [0, 0, -3, 5, 0, 0, 0, 0]);
  });
});

describe('where', () => {
  // i8 [1,1,4] = [-3, -1, 0, 5] -> x; a = affine(x; 0.5, 0) = x/2; b = x. where(x < 0, a, b): halves negatives.
  it('x < 0 takes a = x/2 (-1.5, -0.5), else b = x (0, 5); x >= 0 swaps the choice', () => {
    const input = inputSpec('i8', [1, 1, 4]);
    for (const [cmp, want] of [['lt', [-1.5, -0.5, 0, 5]], ['ge', [-3, -1, 0, 2.5]]] as const) {
      const m = model(input, [
        identity('x', 'input', 1),
        { name: 'a', op: 'affine', inputs: ['x'], output: 'a', scale: Float32Array.of(0.5), bias: Float32Array.of(0) },
        { name: 'w', op: 'where', inputs: ['x', 'a', 'x'], output: 'w', cmp, value: 0 },
        gap('g', 'w'),
      ]);
      expectTensor(run(m, [-3, -1, 0, 5]).layers[2], 'f32', [1, 1, 4], [...want]);
    }
  });
});
