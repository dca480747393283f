// requant (docs/semantics.md §10): hand-computed elements (the arithmetic is in the comments, none taken from the
// reference), the exact rounding shift beyond 2^53, validation messages, the model-file round trip, and the C kernels
// (all six input-kind variants, including the mixed s32s8 / s8s32 the per-op test cannot reach) against the reference
// on a sanitized host build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIME_DIR } from '../generator/src/core/paths.ts';
import { BlobReader, BlobWriter } from '../generator/src/ir/blob.ts';
import { Rand } from '../generator/src/ir/random.ts';
import type { Tensor } from '../generator/src/ir/tensor.ts';
import type { DType, Shape, TensorInfo } from '../generator/src/ir/types.ts';
import { inferLayerOutput } from '../generator/src/model/validate.ts';
import { OPS, type RequantLayer } from '../generator/src/ops/registry.ts';
import { roundShift } from '../generator/src/ops/requant.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const MAX32 = 2 ** 31 - 1;
const MIN32 = -(2 ** 31);
const M30 = 2 ** 30 - 1;

const work = mkdtempSync(join(tmpdir(), 'bnn-requant-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface One {
  x: number[]; // one value per input, channel 0
  kinds?: DType[]; // default: all i32
  mult: number[];
  shift: number;
  bias?: number;
  prelu?: [number, number]; // slope, post
  zeroPoint?: number;
  bits?: 16;
}

function layerOf(o: One, C = 1): RequantLayer {
  const rep = (v: number) => new Int32Array(C).fill(v);
  return {
    name: 'r', op: 'requant', inputs: o.x.map((_, k) => `x${k}`), output: 'y',
    mult: o.mult.map(rep), shift: o.shift, bias: rep(o.bias ?? 0),
    ...(o.prelu ? { prelu: { slope: rep(o.prelu[0]), post: rep(o.prelu[1]) } } : {}),
    zeroPoint: o.zeroPoint ?? 0,
    ...(o.bits ? { bits: o.bits } : {}),
  };
}

function tensor(kind: DType, shape: Shape, values: number[]): Tensor {
  return { dtype: kind, shape, data: kind === 'i8' ? Int8Array.from(values) : kind === 'i16' ? Int16Array.from(values) : Int32Array.from(values) };
}

/** The reference's output for one element (validated first). */
function q(o: One): number {
  const l = layerOf(o);
  const kinds = o.kinds ?? o.x.map(() => 'i32' as DType);
  const ins = o.x.map((v, k) => tensor(kinds[k], [1, 1, 1], [v]));
  inferLayerOutput(0, l, ins.map((t) => ({ dtype: t.dtype, shape: t.shape })));
  return OPS.requant.run(l, ins, { input: { shape: [1, 1, 1], dtype: 'i8', zeroPoint: 0, scale: Float32Array.of(1), bias: Float32Array.of(0) } }).data[0];
}

describe('roundShift: floor((v + 2^(s-1)) / 2^s), round half up', () => {
  it('hand-checked, ties up also for negatives, and beyond 2^53', () => {
    expect(roundShift(5, 1)).toBe(3); // 2.5 -> 3
    expect(roundShift(-5, 1)).toBe(-2); // -2.5 -> -2 (up, not away from 0)
    expect(roundShift(-3, 1)).toBe(-1); // -1.5 -> -1
    expect(roundShift(-6, 1)).toBe(-3); // -3 exactly
    expect(roundShift(7, 2)).toBe(2); // 1.75 -> 2
    expect(roundShift(6, 2)).toBe(2); // 1.5 -> 2
    expect(roundShift(-6, 2)).toBe(-1); // -1.5 -> -1
    expect(roundShift(-7, 2)).toBe(-2); // -1.75 -> -2
    expect(roundShift(1, 62)).toBe(0);
    expect(roundShift(-1, 62)).toBe(0); // floor((2^61 - 1) / 2^62) = 0
    // 2^53 - 1 (the largest safe integer) / 2 = 2^52 - 0.5 -> 2^52: the number path hands this to bigint.
    expect(roundShift(2 ** 53 - 1, 1)).toBe(2 ** 52);
    expect(roundShift(-(2 ** 53 - 1), 1)).toBe(-(2 ** 52) + 1); // -2^52 + 0.5 -> -2^52 + 1
    expect(roundShift(-(2 ** 53 - 1), 53)).toBe(-1); // -(1 - 2^-53) -> floor(-0.5 + 2^-53) = -1
    // bigint: 2^61 + 2^29 over 2^30 = 2^31 + 0.5 -> 2^31 + 1; -2^61 over 2^62 = -0.5 -> 0; one less -> -1.
    expect(roundShift(2n ** 61n + 2n ** 29n, 30)).toBe(2n ** 31n + 1n);
    expect(roundShift(-(2n ** 61n), 62)).toBe(0n);
    expect(roundShift(-(2n ** 61n) - 1n, 62)).toBe(-1n);
    expect(() => roundShift(2 ** 53, 1)).toThrow(/not a safe integer/);
  });
});

describe('requant: hand-computed elements', () => {
  it('the multiplier and shift, rounding of V half up, then /256 half up', () => {
    // acc = 1000, mult = 2^29, shift 30: V = 1000 * 2^29 = 500 * 2^30 -> U = 500; q = floor((500 + 128) / 256) = 2.
    expect(q({ x: [1000], mult: [2 ** 29], shift: 30 })).toBe(2);
    // bias -116: U = 384 -> floor(512 / 256) = 2; bias -117: U = 383 -> floor(511 / 256) = 1.
    expect(q({ x: [1000], mult: [2 ** 29], shift: 30, bias: -116 })).toBe(2);
    expect(q({ x: [1000], mult: [2 ** 29], shift: 30, bias: -117 })).toBe(1);
    // acc = -5, mult 1, shift 1: -2.5 -> -2 (half up). bias 130: U = 128 -> floor(256 / 256) = 1 (had it rounded to
    // -3: U = 127 -> 0).
    expect(q({ x: [-5], mult: [1], shift: 1, bias: 130 })).toBe(1);
    // acc = -7: -3.5 -> -3, U = 127 -> 0.
    expect(q({ x: [-7], mult: [1], shift: 1, bias: 130 })).toBe(0);
    // The /256 step: U = -128 -> floor(0 / 256) = 0 (-0.5 -> 0); U = -129 -> floor(-1 / 256) = -1; U = 128 -> 1.
    expect(q({ x: [-128], mult: [2], shift: 1 })).toBe(0);
    expect(q({ x: [-129], mult: [2], shift: 1 })).toBe(-1);
    expect(q({ x: [128], mult: [2], shift: 1 })).toBe(1);
    // A negative multiplier: 3000 * -2^20 / 2^20 = -3000 -> floor(-2872 / 256) = floor(-11.22) = -12.
    expect(q({ x: [3000], mult: [-(2 ** 20)], shift: 20 })).toBe(-12);
  });

  it('two inputs (i32 accumulator + i8 skip): one rounding of the exact sum', () => {
    // acc 1000 * 2^29 / 2^30 = 500; skip -50 * 2^28 / 2^30 = -12.5; V / 2^30 = 487.5 -> 488 (rounding each term
    // first would give 500 - 12 = 488 too, so the bias pins the tie): bias -104: U = 384 -> 2 (487 would give 1).
    expect(q({ x: [1000, -50], kinds: ['i32', 'i8'], mult: [2 ** 29, 2 ** 28], shift: 30, bias: -104 })).toBe(2);
    // skip -51: -12.75; V / 2^30 = 487.25 -> 487; U = 383 -> 1.
    expect(q({ x: [1000, -51], kinds: ['i32', 'i8'], mult: [2 ** 29, 2 ** 28], shift: 30, bias: -104 })).toBe(1);
    // i8 first, i32 second: the same sum.
    expect(q({ x: [-50, 1000], kinds: ['i8', 'i32'], mult: [2 ** 28, 2 ** 29], shift: 30, bias: -104 })).toBe(2);
  });

  it('saturation of U to int32 before the PReLU and post', () => {
    // acc = 2^31 - 1, mult = 2^30 - 1, shift 1: V / 2 ~ 2^60 -> U = sat32 = 2^31 - 1 -> q = clamp(2^23) = 127.
    expect(q({ x: [MAX32], mult: [M30], shift: 1 })).toBe(127);
    // With prelu (U >= 0: no slope) and post = -2^31: U = 2^31 - 1 - 2^31 = -1 -> floor(127 / 256) = 0. Without the
    // saturation U would stay ~2^60 and give 127.
    expect(q({ x: [MAX32], mult: [M30], shift: 1, prelu: [8192, MIN32] })).toBe(0);
    // acc = -2^31: V / 2 = -2^60 + 2^30 -> U = -2^31 -> q = clamp(-2^23) = -128.
    expect(q({ x: [MIN32], mult: [M30], shift: 1 })).toBe(-128);
    // The bias saturates too: (2^31 - 10) * 2 / 2 + 100 -> 2^31 - 1; post -2^31 + 300 -> 299 -> floor(427 / 256) = 1
    // (unsaturated: 2^31 + 90 - 2^31 + 300 = 390 -> 2).
    expect(q({ x: [MAX32 - 9], mult: [2], shift: 1, bias: 100, prelu: [0, MIN32 + 300] })).toBe(1);
    // -2^31 * slope -2^31 = 2^62 (beyond 2^53: bigint), + 2^14 >> 15 = 2^47 -> sat32 -> 2^31 - 1 -> 127.
    expect(q({ x: [MIN32], mult: [M30], shift: 1, prelu: [MIN32, 0] })).toBe(127);
  });

  it('PReLU: slope (Q15) on U < 0 only, rounded half up; post on every element', () => {
    // U = -4000, slope 8192 (0.25): (-4000 * 8192 + 16384) / 32768 = -999.5 -> -1000; q = floor(-872 / 256) = -4
    // (without the PReLU: floor(-3872 / 256) = -16).
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000, prelu: [8192, 0] })).toBe(-4);
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000 })).toBe(-16);
    // Ties of the slope step: U = -2: (-16384 + 16384) / 32768 = 0 (-0.5 -> 0); U = -6: -32768 / 32768 = -1
    // (-1.5 -> -1). post puts the tie on a /256 boundary: 0 + 128 -> floor(256 / 256) = 1 (rounded down to -1: 127 ->
    // 0); -1 + 129 = 128 -> 1 (rounded down to -2: 127 -> 0).
    expect(q({ x: [-2], mult: [1], shift: 1, bias: -1, prelu: [8192, 128] })).toBe(1);
    expect(q({ x: [-6], mult: [1], shift: 1, bias: -3, prelu: [8192, 129] })).toBe(1);
    // post on a positive U (no slope): 4000 + 1000 = 5000 -> floor(5128 / 256) = 20.
    expect(q({ x: [4000], mult: [1], shift: 1, bias: 2000, prelu: [8192, 1000] })).toBe(20);
    // post on a negative U after the slope: -1000 + 1000 = 0 -> floor(128 / 256) = 0.
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000, prelu: [8192, 1000] })).toBe(0);
    // slope -32768 (-1.0): -4000 -> (131072000 + 16384) / 32768 = 4000.5 -> 4000 -> floor(4128 / 256) = 16.
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000, prelu: [-32768, 0] })).toBe(16);
    // slope 65536 (2.0): -4000 -> -8000 -> floor(-7872 / 256) = floor(-30.75) = -31.
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000, prelu: [65536, 0] })).toBe(-31);
    // slope 0 (ReLU): -4000 -> 0 -> 0.
    expect(q({ x: [-4000], mult: [1], shift: 1, bias: -2000, prelu: [0, 0] })).toBe(0);
  });

  it('zero point and the clamp to -128..127', () => {
    // U = 0, zeroPoint 127: 0 + 127 = 127; U = 256: 1 + 127 = 128 -> 127.
    expect(q({ x: [0], mult: [1], shift: 1, zeroPoint: 127 })).toBe(127);
    expect(q({ x: [512], mult: [1], shift: 1, zeroPoint: 127 })).toBe(127);
    // U = -129: -1 - 128 = -129 -> -128; U = -128: 0 - 128 = -128.
    expect(q({ x: [-258], mult: [1], shift: 1, zeroPoint: -128 })).toBe(-128);
    expect(q({ x: [-256], mult: [1], shift: 1, zeroPoint: -128 })).toBe(-128);
    // U = 1000: floor(1128 / 256) = 4, + zeroPoint -10 = -6.
    expect(q({ x: [2000], mult: [1], shift: 1, zeroPoint: -10 })).toBe(-6);
  });

  it('bits 16: the same U, the clamp to -32768..32767', () => {
    // U = 1000: floor(1128 / 256) = 4, + zeroPoint -20000 = -19996.
    expect(q({ x: [2000], mult: [1], shift: 1, zeroPoint: -20000, bits: 16 })).toBe(-19996);
    // U = 256 * 40000: 40000 + 0 -> 32767; U = -256 * 40000 - 256: -40001 -> -32768.
    expect(q({ x: [2 * 256 * 40000], mult: [1], shift: 1, bits: 16 })).toBe(32767);
    expect(q({ x: [-2 * (256 * 40000 + 256)], mult: [1], shift: 1, bits: 16 })).toBe(-32768);
    // U = 2^31 - 1 (saturated): floor((2^31 + 127) / 256) = 2^23 -> 32767; an int16 input and skip of 2 (x 2^7).
    expect(q({ x: [2 ** 30, 3], kinds: ['i32', 'i16'], mult: [M30, 1], shift: 1, bits: 16 })).toBe(32767);
    expect(q({ x: [-300, 2], kinds: ['i16', 'i16'], mult: [2, 128], shift: 1, bits: 16, zeroPoint: 5 })).toBe(5 + Math.floor((-300 + 128 + 128) / 256));
  });

  it('V beyond 2^53, just below a tie (a double would round onto the tie)', () => {
    // x0 = 2^25 + 2^10 + 1, m0 = 2^29 + 1: x0 m0 = 2^54 + 2^39 + 2^29 + 2^25 + 2^10 + 1.
    // x1 = -2 (i8), m1 = 2^28 + 2^24 + 513: x1 m1 = -(2^29 + 2^25 + 1026).  V = 2^54 + 2^39 - 1.
    // shift 40: floor((V + 2^39) / 2^40) = floor((2^54 + 2^40 - 1) / 2^40) = 2^14 = 16384 (the tie 2^54 + 2^39, which
    // is what V becomes in doubles, would give 16385). bias -16001: U = 383 -> floor(511 / 256) = 1 (16385: 2).
    const x0 = 2 ** 25 + 2 ** 10 + 1;
    const m0 = 2 ** 29 + 1;
    const m1 = 2 ** 28 + 2 ** 24 + 513;
    const o: One = { x: [x0, -2], kinds: ['i32', 'i8'], mult: [m0, m1], shift: 40, bias: -16001 };
    expect(q(o)).toBe(1);
    // The same from an independent bigint computation of the whole rule.
    const V = BigInt(x0) * BigInt(m0) + -2n * BigInt(m1);
    expect(V).toBe(2n ** 54n + 2n ** 39n - 1n);
    const U = (V + 2n ** 39n) / 2n ** 40n - 16001n; // V > 0: bigint / truncates = floor
    expect(U).toBe(383n);
    expect(q(o)).toBe(Number((U + 128n) / 256n));
    // One more unit of x1 (x1 = -1) lands above the tie: V = 2^54 + 2^39 + 2^28 + 2^24 + 512 -> 16385 -> U = 384 -> 2.
    expect(q({ ...o, x: [x0, -1] })).toBe(2);
  });
});

describe('requant: validation, figures and the model file', () => {
  const info = (dtype: DType, shape: Shape = [2, 3, 3]): TensorInfo => ({ dtype, shape });
  const base = (): RequantLayer => ({
    name: 'r', op: 'requant', inputs: ['a', 'b'], output: 'y',
    mult: [Int32Array.of(1, -2), Int32Array.of(3, 4)], shift: 8, bias: Int32Array.of(5, 6),
    prelu: { slope: Int32Array.of(8192, -32768), post: Int32Array.of(0, 7) }, zeroPoint: -3,
  });
  const at = 'layers[4] (r)';
  const infer = (l: RequantLayer, ins: TensorInfo[] = [info('i32'), info('i8')]) => inferLayerOutput(4, l, ins);

  it('infers i8 of the same shape, and names the field of every failure', () => {
    expect(infer(base())).toEqual({ dtype: 'i8', shape: [2, 3, 3] });
    expect(infer({ ...base(), inputs: ['a'], mult: [Int32Array.of(1, 2)] }, [info('i8', [2, 1, 1])])).toEqual({ dtype: 'i8', shape: [2, 1, 1] });
    expect(() => infer({ ...base(), inputs: ['a', 'b', 'c'] }, [info('i32'), info('i8'), info('i8')])).toThrow(`${at}.inputs: expected 1 to 2 inputs, got 3`);
    expect(() => infer(base(), [info('i32'), info('f32')])).toThrow(`${at}: input 'b' has type f32; this layer takes i32 or i8 or i16`);
    expect(() => infer(base(), [info('i32'), info('i8', [2, 3, 2])])).toThrow(`${at}.inputs: shapes differ: 'a' is [2,3,3], 'b' is [2,3,2]`);
    expect(() => infer({ ...base(), mult: [Int32Array.of(1, 2)] })).toThrow(`${at}.mult: expected 2 multiplier tables (one per input), got 1`);
    expect(() => infer({ ...base(), mult: [Int32Array.of(1, 2), Int32Array.of(3)] })).toThrow(`${at}.mult[1]: expected 2 values, got 1`);
    expect(() => infer({ ...base(), mult: [Int32Array.of(1, 2), Int32Array.of(3, -(2 ** 30))] })).toThrow(`${at}.mult[1][1]: multiplier must be within ±1073741823 (2^30 - 1), got -1073741824`);
    expect(() => infer({ ...base(), shift: 0 })).toThrow(`${at}.shift: must be an integer 1..62, got 0`);
    expect(() => infer({ ...base(), shift: 63 })).toThrow(`${at}.shift: must be an integer 1..62, got 63`);
    expect(() => infer({ ...base(), bias: Int32Array.of(1) })).toThrow(`${at}.bias: expected 2 values, got 1`);
    expect(() => infer({ ...base(), prelu: { slope: Int32Array.of(1, 2), post: Int32Array.of(1, 2, 3) } })).toThrow(`${at}.prelu.post: expected 2 values, got 3`);
    expect(() => infer({ ...base(), zeroPoint: 128 })).toThrow(`${at}.zeroPoint: must be an integer -128..127, got 128`);
    // 16-bit output: i16, its zero point within int16; int16 inputs.
    expect(infer({ ...base(), bits: 16, zeroPoint: 128 })).toEqual({ dtype: 'i16', shape: [2, 3, 3] });
    expect(infer({ ...base(), inputs: ['a'], mult: [Int32Array.of(1, 2)] }, [info('i16', [2, 1, 1])])).toEqual({ dtype: 'i8', shape: [2, 1, 1] });
    expect(() => infer({ ...base(), bits: 16, zeroPoint: 32768 })).toThrow(`${at}.zeroPoint: must be an integer -32768..32767, got 32768`);
    expect(() => infer({ ...base(), bits: 12 as 16 })).toThrow(`${at}.bits: must be 16 or absent (8), got 12`);
    // Existing ops keep their message.
    expect(() => inferLayerOutput(0, { name: 'f', op: 'flatten', inputs: ['a', 'b'], output: 'y' }, [info('f32'), info('f32')])).toThrow('layers[0] (f).inputs: expected 1 input, got 2');
  });

  it('cost, bits and describe', () => {
    const l = base();
    expect(OPS.requant.cost(l, [info('i32'), info('i8')], info('i8'))).toEqual({ binaryMacs: 0, realMacs: 2 * 18 });
    expect(OPS.requant.bits(l)).toEqual({ int: 32 * (4 + 2 + 4) });
    expect(OPS.requant.describe(l)).toBe('2 in, prelu');
    expect(OPS.requant.describe({ ...l, inputs: ['a'], prelu: undefined })).toBe('1 in');
  });

  it('model file: write then read gives the same layer (with and without prelu, int8 and int16 out)', () => {
    for (const l of [base(), { ...base(), prelu: undefined, inputs: ['a'], mult: [Int32Array.of(MIN32 + 1, MAX32)] }, { ...base(), bits: 16 as const, zeroPoint: -20000 }]) {
      const w = new BlobWriter();
      const entry = { name: l.name, inputs: l.inputs, output: l.output, op: l.op, ...OPS.requant.write(l, w, [info('i32'), info('i8')]) };
      const spec = OPS.requant.schema.parse(JSON.parse(JSON.stringify(entry)));
      const back = OPS.requant.read(spec, new BlobReader(w.bytes(), 'm.json'), info('i32'), 'layers[0]');
      expect(back).toEqual(Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)));
    }
    // The schema takes one or two multiplier tables.
    const ref = { offset: 0, dtype: 'int32', shape: [2] };
    const entry = { name: 'r', inputs: ['a'], output: 'y', op: 'requant', shift: 8, bias: ref, zeroPoint: 0 };
    expect(OPS.requant.schema.safeParse({ ...entry, mult: [] }).success).toBe(false);
    expect(OPS.requant.schema.safeParse({ ...entry, mult: [ref, ref, ref] }).success).toBe(false);
    expect(OPS.requant.schema.safeParse({ ...entry, mult: [ref] }).success).toBe(true);
  });
});

// ---- the C kernels on the host ----------------------------------------------------------------------------------

const lit = (v: number) => (v === MIN32 ? '(-2147483647 - 1)' : String(v));
const arr = (ctype: string, name: string, vs: ArrayLike<number>) => `static const ${ctype} ${name}[] = {${Array.from(vs, lit).join(', ')}};`;

interface CCase {
  layer: RequantLayer;
  ins: Tensor[];
}

/** Values of a kind with the corners: int32 extremes, small accumulators, the i8 and i16 ranges. */
function values(r: Rand, kind: DType, n: number): number[] {
  return Array.from({ length: n }, () => {
    if (kind === 'i8') return r.int(-128, 127);
    if (kind === 'i16') return r.bool(0.1) ? r.pick([-32768, 32767, 0]) : r.int(-32768, 32767);
    const u = r.next();
    return u < 0.1 ? r.pick([MIN32, MAX32, MIN32 + 1, 0]) : u < 0.6 ? r.int(-5000, 5000) : r.int(-200000, 200000);
  });
}

function cCases(): CCase[] {
  const out: CCase[] = [];
  const r = new Rand(20240611);
  const kindSets: DType[][] = [['i32'], ['i8'], ['i16'], ['i32', 'i8'], ['i32', 'i32'], ['i32', 'i16'], ['i8', 'i8'], ['i8', 'i32'], ['i16', 'i16'], ['i16', 'i8'], ['i8', 'i16'], ['i16', 'i32']];
  for (const kinds of kindSets) {
    for (let n = 0; n < 12; n++) {
      const shape: Shape = [r.int(1, 5), r.int(1, 4), r.int(1, 4)];
      let layer: RequantLayer | null = null;
      while (!layer || layer.mult.length !== kinds.length) layer = OPS.requant.random(r, { dtype: kinds[0], shape }, { name: 'r', inputs: ['x0'], output: 'y' });
      layer.inputs = kinds.map((_, k) => `x${k}`);
      out.push({ layer, ins: kinds.map((k) => tensor(k, shape, values(r, k, shape[0] * shape[1] * shape[2]))) });
    }
  }
  return out;
}

/** The hand cases of V beyond 2^53 and of saturation, as C cases too. */
function handCCases(): CCase[] {
  const one = (o: One): CCase => ({ layer: layerOf(o), ins: o.x.map((v, k) => tensor((o.kinds ?? [])[k] ?? 'i32', [1, 1, 1], [v])) });
  return [
    one({ x: [2 ** 25 + 2 ** 10 + 1, -2], kinds: ['i32', 'i8'], mult: [2 ** 29 + 1, 2 ** 28 + 2 ** 24 + 513], shift: 40, bias: -16001 }),
    one({ x: [MAX32], mult: [M30], shift: 1, prelu: [8192, MIN32] }),
    one({ x: [MIN32, MIN32], mult: [M30, M30], shift: 62, prelu: [MIN32, MAX32] }),
    one({ x: [MIN32, MIN32], mult: [-M30, -M30], shift: 1, bias: MAX32 }),
    one({ x: [-5], mult: [1], shift: 1, bias: 130 }),
    one({ x: [-2], mult: [1], shift: 1, bias: -1, prelu: [8192, 128] }),
    one({ x: [-6], mult: [1], shift: 1, bias: -3, prelu: [8192, 129] }),
    one({ x: [-7], mult: [1], shift: 1, bias: 130 }),
  ];
}

/** The widest input the fast form takes whole at shift s <= 32: |x| <= 2^(s-2) - 1 (runtime-c/bnn_runtime.h). */
const wholeLim = (s: number) => 2 ** (s - 2) - 1;
const kindMax = (k: DType, s: number) => (k === 'i8' ? 128 : k === 'i16' ? 32768 : wholeLim(s));

/**
 * Channels the fast form takes only by splitting its pre-shift between an input and its multiplier
 * (bnn_requant_split): int16 maps at shifts 12..18, where 32768 passes 2^(s-2) - 1, with multipliers small enough for
 * the split, and also some too large for it (the rule as written). Values at the int16 corners and random.
 */
function splitCCases(): CCase[] {
  const r = new Rand(20261205);
  const out: CCase[] = [];
  const kindSets: DType[][] = [['i32', 'i16'], ['i16', 'i16'], ['i16'], ['i16', 'i8'], ['i8', 'i16']];
  for (const kinds of kindSets)
    for (let n = 0; n < 8; n++) {
      const s = r.int(12, 18), P = 33 - s, C = 3, shape: Shape = [C, 2, 6];
      // A multiplier per input and channel within what the split allows: |m| * 2^(P - e) < 2^31 and the bound
      // (sum of max |x| |m|) * 2^P <= 2^62, spread over the inputs; the last channel of every fourth case is too big.
      const budget = 2 ** (62 - P) / kinds.length;
      const mult = kinds.map((k) => Int32Array.from({ length: C }, (_, c) => {
        const cap = Math.min(budget / kindMax(k, s), 2 ** 30 - 1);
        const m = Math.floor(cap * (c === C - 1 && n % 4 === 3 ? 1 : r.next() * 0.98));
        return r.bool(0.5) ? -m : m;
      }));
      const values = (k: DType) => Array.from({ length: C * 12 }, () => {
        const lim = k === 'i32' ? wholeLim(s) : kindMax(k, s) - 1;
        return r.bool(0.2) ? r.pick([-lim - (k === 'i32' ? 0 : 1), lim, 0]) : r.int(-lim, lim);
      });
      const prelu = r.bool(0.5) ? { slope: Int32Array.from({ length: C }, () => r.int(-32768, 32767)), post: Int32Array.from({ length: C }, () => r.int(-(2 ** 20), 2 ** 20)) } : undefined;
      const layer: RequantLayer = {
        name: 'r', op: 'requant', inputs: kinds.map((_, k) => `x${k}`), output: 'y', mult, shift: s,
        bias: Int32Array.from({ length: C }, () => r.int(-(2 ** 20), 2 ** 20)), zeroPoint: r.int(-100, 100), ...(prelu ? { prelu } : {}), ...(r.bool(0.5) ? { bits: 16 as const } : {}),
      };
      out.push({ layer, ins: kinds.map((k) => tensor(k, shape, values(k))) });
    }
  return out;
}

function driver(cases: CCase[]): string {
  const lines = ['#include <stdio.h>', '#include "bnn_runtime.h"', 'int main(void) {'];
  cases.forEach(({ layer: l, ins }, i) => {
    const [C, H, W] = ins[0].shape;
    const kinds = ins.map((t) => ({ i32: 's32', i16: 's16' })[t.dtype as 'i32'] ?? 's8');
    const [out, ot] = l.bits === 16 ? ['s16', 'int16_t'] : ['s8', 'int8_t'];
    const mult = l.mult.flatMap((m) => Array.from(m));
    lines.push(`    { ${arr('int32_t', 'm', mult)} ${arr('int32_t', 'bi', l.bias)}`);
    if (l.prelu) lines.push(`      ${arr('int32_t', 'sl', l.prelu.slope)} ${arr('int32_t', 'po', l.prelu.post)}`);
    ins.forEach((t, k) => lines.push(`      ${arr(({ i32: 'int32_t', i16: 'int16_t' })[t.dtype as 'i32'] ?? 'int8_t', `x${k}`, t.data)}`));
    lines.push(`      static const bnn_requant_params_t p = { .c = ${C}, .plane = ${H * W}u, .mult = m, .bias = bi, .slope = ${l.prelu ? 'sl' : 'NULL'}, .post = ${l.prelu ? 'po' : 'NULL'}, .shift = ${l.shift}, .out16 = ${l.bits === 16 ? 1 : 0}, .zero_point = ${l.zeroPoint} };`);
    lines.push(`      static ${ot} y[${C * H * W}]; bnn_requant_${kinds.join('')}_${out}(&p, ${ins.map((_, k) => `x${k}`).join(', ')}, y);`);
    lines.push(`      printf("${i}"); for (int j = 0; j < ${C * H * W}; j++) printf(" %d", y[j]); printf("\\n"); }`);
  });
  lines.push('    return 0;', '}');
  return lines.join('\n') + '\n';
}

describe.skipIf(!haveTool('gcc'))('requant C kernels (host, ASan + UBSan)', () => {
  it('every variant (inputs s8, s16, s32; output s8, s16) equals the reference, element for element', async () => {
    const split = splitCCases();
    const cases = [...handCCases(), ...cCases(), ...split];
    // The split cases reach the split: an input past 2^(s-2) - 1 in most of them.
    expect(split.filter(({ layer, ins }) => ins.some((t) => kindMax(t.dtype, layer.shift) > wholeLim(layer.shift))).length).toBeGreaterThan(25);
    const ctx = { input: { shape: [1, 1, 1] as Shape, dtype: 'i8' as const, zeroPoint: 0, scale: Float32Array.of(1), bias: Float32Array.of(0) } };
    writeFileSync(join(work, 'main.c'), driver(cases));
    const exe = join(work, 'requant');
    await runTool('gcc', ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
      '-I', RUNTIME_DIR, join(work, 'main.c'), join(RUNTIME_DIR, 'bnn_requant.c'), '-o', exe]);
    const got = (await runTool(exe, [])).stdout.toString('utf8').trim().split('\n');
    expect(got.length).toBe(cases.length);
    const failures: string[] = [];
    cases.forEach(({ layer, ins }, i) => {
      inferLayerOutput(0, layer, ins.map((t) => ({ dtype: t.dtype, shape: t.shape })));
      const want = `${i} ${Array.from(OPS.requant.run(layer, ins, ctx).data).join(' ')}`;
      if (got[i] !== want) failures.push(`case ${i} (${ins.map((t) => t.dtype).join('+')}): C ${got[i]} vs TS ${want}`);
    });
    expect(failures).toEqual([]);
    // The outputs are not all saturated: the random layers reach the middle of the range.
    const inside = cases.flatMap(({ layer }, i) => {
      const top = layer.bits === 16 ? 32767 : 127;
      return got[i].split(' ').slice(1).map((v) => Math.abs(Number(v) + 0.5) < top + 0.5);
    });
    expect(inside.filter(Boolean).length).toBeGreaterThan(inside.length / 4);
    // Both outputs occur.
    expect(new Set(cases.map((c) => c.layer.bits ?? 8))).toEqual(new Set([8, 16]));
  });
});

// The fast form against the rule as written at the corners of every range it accepts, on the host with UBSan (an
// int32 overflow inside the fast form is a failure too): seeded random channels (shift, multipliers, the inputs'
// bounds as the kernels give them: accumulators 9 * C, int8, int16, int32 maps), every accepted one evaluated at
// +-amax x +-bmax, 0 and random inputs within the bounds.
const FAST_DRIVER = String.raw`#include <stdio.h>
#include "bnn_runtime.h"
static uint64_t st = 0x9E3779B97F4A7C15u;
static uint32_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (uint32_t)(st >> 16); }
static int32_t within(uint32_t lim) { return lim == 0u ? 0 : (int32_t)(rnd() % (2u * (lim > 0x3FFFFFFFu ? 0x3FFFFFFFu : lim) + 1u)) - (int32_t)(lim > 0x3FFFFFFFu ? 0x3FFFFFFFu : lim); }
static int32_t corner(uint32_t lim, int neg) { return neg ? (int32_t)(0u - lim) : (int32_t)(lim == 0x80000000u || lim == 128u || lim == 32768u ? lim - 1u : lim); }
int main(void) {
    static const uint32_t bounds[] = {0u, 128u, 32768u, 0x80000000u, 576u, 1152u, 2304u, 4608u, 9u * 200u};
    long accepted = 0, split = 0, bad = 0;
    for (int n = 0; n < 200000; n++) {
        bnn_requant_chan_t k;
        const uint32_t s = 2u + rnd() % 40u;
        const int32_t ma = (int32_t)(rnd() % 0x3FFFFFFFu) >> (rnd() % 24u), mb = (int32_t)(rnd() % 0x3FFFFFFFu) >> (rnd() % 24u);
        k.mult_a = rnd() & 1u ? -ma : ma;
        k.mult_b = rnd() & 1u ? -mb : mb;
        k.shift = s;
        k.bias = within(1u << (rnd() % 31u));
        k.prelu = (int)(rnd() & 1u);
        k.slope = k.prelu ? (int32_t)(rnd() % 65536u) - 32768 : 0;
        k.post = k.prelu ? within(1u << (rnd() % 28u)) : 0;
        k.zero_point = (int32_t)(rnd() % 256u) - 128;
        k.out16 = rnd() & 1u;
        if (k.out16) k.zero_point *= 200;
        const uint32_t amax = bounds[1u + rnd() % 8u], bmax = bounds[rnd() % 9u];
        if (!bnn_requant_chan_fast(&k, amax, bmax)) continue;
        accepted++;
        if (k.pre != k.pre_b || (s <= 32u && k.pre != 33u - s)) split++;
        for (int t = 0; t < 12; t++) {
            const int32_t a = t < 4 ? corner(amax, t & 1) : (t < 5 ? 0 : within(amax));
            const int32_t b = t < 4 ? corner(bmax, t >> 1) : (t < 5 ? 0 : within(bmax));
            const int32_t want = bnn_requant_apply(&k, a, b);
            const int32_t got = k.prelu ? bnn_requant_fastq(&k, a, b, 1, (int)k.out16) : bnn_requant_fastq(&k, a, b, 0, (int)k.out16);
            if (got != want && bad++ < 5) printf("mismatch: s %u mult %d %d amax %u bmax %u a %d b %d: %d vs %d\n", s, k.mult_a, k.mult_b, amax, bmax, a, b, got, want);
        }
    }
    printf("accepted %ld split %ld bad %ld\n", accepted, split, bad);
    return 0;
}
`;

describe.skipIf(!haveTool('gcc'))('requant fast form (host, UBSan)', () => {
  it('equals the rule at the corners of every accepted range, the split pre-shift included', async () => {
    writeFileSync(join(work, 'fast.c'), FAST_DRIVER);
    const exe = join(work, 'fast');
    await runTool('gcc', ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-fsanitize=undefined', '-fno-sanitize-recover=all', '-I', RUNTIME_DIR, join(work, 'fast.c'), '-o', exe]);
    const out = (await runTool(exe, [])).stdout.toString('utf8').trim();
    const m = /accepted (\d+) split (\d+) bad (\d+)$/.exec(out);
    expect(m, out).not.toBeNull();
    expect(out).toMatch(/bad 0$/);
    expect(Number(m![1])).toBeGreaterThan(20000);
    expect(Number(m![2])).toBeGreaterThan(5000);
  });
});
