// requant: integer requantisation of one or two integer tensors (i32 accumulators, i8 or i16 maps) to an i8 map, or
// an i16 one (bits 16), with an optional integer PReLU (ReActNet's RPReLU): per element of channel c
// (docs/semantics.md §10, "requant"),
//   V = sum_k x_k * mult[k][c] (exact), U = sat32(roundShift(V, shift) + bias[c]),
//   with prelu: U < 0 -> U = sat32(roundShift(U * slope[c], 15)); then U = sat32(U + post[c]),
//   q = clamp(floor((U + 128) / 256) + zeroPoint, -2^(bits-1), 2^(bits-1) - 1).
// Kernels: runtime-c/bnn_requant.c, bnn_requant_<in kinds>_<s8|s16> (each input s32, s8 or s16).
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Rand } from '../ir/random.ts';
import type { Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef } from '../ir/spec.ts';
import { numel, type LayerBase } from '../ir/types.ts';
import { checkLength, expectDType } from './shared/checks.ts';
import { INT32_MAX, INT32_MIN, INT_MAPS, intMapData, intMapType, isIntMap, type IntMapType } from './shared/int8-path.ts';
import type { CStruct, LowerContext, OpDef } from './types.ts';

export interface RequantLayer extends LayerBase {
  op: 'requant';
  /** One per input, each [C]; |m| <= 2^30 - 1. */
  mult: Int32Array[];
  /** s, 1..62. */
  shift: number;
  /** [C]. */
  bias: Int32Array;
  /** [C] each; slope is Q15 (32768 = 1.0), applied when U < 0; post is added to every element. */
  prelu?: { slope: Int32Array; post: Int32Array };
  /** Output zero point, within the output's range. */
  zeroPoint: number;
  /** The output's bits: 8 (i8, the default) or 16 (i16). */
  bits?: 16;
}

export const REQUANT_MULT_MAX = 2 ** 30 - 1;
const TWO53 = 2 ** 53;

/**
 * floor((v + 2^(s-1)) / 2^s), exactly: the rounding right shift (round half up) of an integer v, given as a safe-integer
 * number (|v| <= 2^53 - 1) or a bigint, by s = 1..62 bits. A bigint gives a bigint; a number gives the exact number.
 */
export function roundShift(v: bigint, s: number): bigint;
export function roundShift(v: number, s: number): number;
export function roundShift(v: number | bigint, s: number): number | bigint {
  if (typeof v === 'bigint') return (v + (1n << BigInt(s - 1))) >> BigInt(s); // bigint >> is floor division
  if (!Number.isSafeInteger(v)) throw new RangeError(`roundShift: ${v} is not a safe integer`);
  const half = 2 ** (s - 1);
  // A rounded |v| + half below 2^53 means the true one is (rounding is monotone and 2^53 is a double): then v + half
  // is an exact integer, / 2^s is exact (a power of two) and so is floor.
  if (Math.abs(v) + half < TWO53) return Math.floor((v + half) / 2 ** s);
  return Number(roundShift(BigInt(v), s)); // |result| < 2^53: exact as a number
}

/** Clamp an integer to int32 (a bigint only matters by its range, so the result is a number). */
export function sat32(v: number | bigint): number {
  if (v < INT32_MIN) return INT32_MIN;
  if (v > INT32_MAX) return INT32_MAX;
  return Number(v);
}

/** a * b exactly: a number when it is below 2^53 in magnitude, else a bigint (a and b integers, |a|, |b| < 2^53). */
function exactProduct(a: number, b: number): number | bigint {
  const p = a * b;
  // Rounding is monotone and 2^53 is a double: a rounded |p| < 2^53 means the true product is below it, so exact.
  return Math.abs(p) < TWO53 ? p : BigInt(a) * BigInt(b);
}

/** One element: U from V (exact integer), then the PReLU, then the output in [lo, hi]. */
function requantOne(l: RequantLayer, c: number, v: number | bigint, lo: number, hi: number): number {
  const r = typeof v === 'bigint' ? roundShift(v, l.shift) : roundShift(v, l.shift);
  // number path: |r| <= 2^52, so r + bias is exact; bigint path: exact in bigint, then clamped.
  let u = typeof r === 'bigint' ? sat32(r + BigInt(l.bias[c])) : sat32(r + l.bias[c]);
  if (l.prelu) {
    if (u < 0) {
      const p = exactProduct(u, l.prelu.slope[c]);
      u = sat32(typeof p === 'bigint' ? roundShift(p, 15) : roundShift(p, 15));
    }
    u = sat32(u + l.prelu.post[c]); // two int32 values: exact
  }
  const q = Math.floor((u + 128) / 256) + l.zeroPoint;
  return Math.min(hi, Math.max(lo, q));
}

type ScaleMode = 'fit' | 'tie' | 'edge' | 'corner';

/**
 * Random multipliers and shift for `random`. The per-op test's stems give i32 accumulators of ~2^15..2^17 and i8 up
 * to 2^7. 'fit': a multiplier of ~2^e with s ~ log2|x| + e - 14 brings U to ~2^14, so q lands near ±64. 'tie':
 * multipliers odd * 2^(s-1) (even * 2^(s-1) for a second input), so V / 2^s is a tie for every odd x. 'edge': V / 2^s
 * of ~2^3, which `random` puts next to a /256 boundary (so a rounding off by one shows). 'corner': huge multipliers
 * with the smallest or largest shifts (saturation).
 */
function randomScale(r: Rand, dtype: string, K: number, C: number, mode: ScaleMode): { mult: Int32Array[]; shift: number } {
  const log2x = dtype === 'i32' || dtype === 'i16' ? 15 : 7;
  if (mode === 'tie') {
    const oddMax = dtype === 'i32' ? 3 : 511;
    const shift = r.int(1, 31 - Math.ceil(Math.log2(oddMax + 1)));
    const mult = Array.from({ length: K }, (_, k) => new Int32Array(C).map(() => (r.bool(0.5) ? -1 : 1) * (2 * r.int(0, (oddMax - 1) / 2) + (k === 0 ? 1 : 0)) * 2 ** (shift - 1)));
    return { mult, shift };
  }
  const e = mode === 'corner' ? 30 : r.int(0, 30);
  const target = mode === 'edge' ? 3 : 14;
  const shift = mode === 'corner' ? r.pick([1, 2, 62]) : Math.min(62, Math.max(1, log2x + e - target + r.int(-3, 2)));
  const one = () => {
    if (r.bool(0.05)) return r.pick([0, REQUANT_MULT_MAX, -REQUANT_MULT_MAX]);
    const ec = Math.min(30, Math.max(0, e + r.int(-2, 0)));
    return (r.bool(0.5) ? -1 : 1) * r.int(0, 2 ** ec - 1);
  };
  return { mult: Array.from({ length: K }, () => new Int32Array(C).map(one)), shift };
}

const schema = z.strictObject({
  ...layerBase,
  op: z.literal('requant'),
  mult: z.array(TensorRef).min(1).max(2),
  shift: int,
  bias: TensorRef,
  prelu: z.strictObject({ slope: TensorRef, post: TensorRef }).optional(),
  zeroPoint: int.default(0),
  bits: z.literal(16).optional(),
});

/** The C kind of an input: s32 for i32, s8 for i8, s16 for i16. */
const kind = (dtype: string) => (dtype === 'i32' ? 's32' : dtype === 'i16' ? 's16' : 's8');
/** The layer's output map type. */
export const requantOut = (l: RequantLayer): IntMapType => intMapType(l.bits ?? 8);

/**
 * The bnn_requant_params_t of a layer for a map of `shape`; `first`: the input whose mult row goes first (a kernel that
 * fuses the requant feeds its accumulator as the first input, whichever the layer lists first).
 */
export function requantStruct(l: RequantLayer, shape: [number, number, number], ctx: LowerContext, first = 0, prefix = ''): CStruct {
  const [C, H, W] = shape;
  const rows = first === 0 ? l.mult : [l.mult[first], ...l.mult.filter((_, k) => k !== first)];
  const mult = new Int32Array(rows.length * C);
  rows.forEach((m, k) => mult.set(m, k * C));
  return { fields: [
    { name: 'c', value: C },
    { name: 'plane', value: { u32: H * W } },
    { name: 'mult', value: ctx.table(`${prefix}mult`, 'int32_t', mult, 'int') },
    { name: 'bias', value: ctx.table(`${prefix}bias`, 'int32_t', l.bias, 'int') },
    { name: 'slope', value: l.prelu ? ctx.table(`${prefix}slope`, 'int32_t', l.prelu.slope, 'int') : null },
    { name: 'post', value: l.prelu ? ctx.table(`${prefix}post`, 'int32_t', l.prelu.post, 'int') : null },
    { name: 'shift', value: l.shift },
    { name: 'out16', value: l.bits === 16 ? 1 : 0 },
    { name: 'zero_point', value: l.zeroPoint },
  ] };
}

/** A requant a kernel may run on its accumulators as they are made and pool afterwards: one input, increasing. */
export function requantIncreasing(l: RequantLayer): boolean {
  return l.mult.length === 1 && l.mult[0].every((m) => m > 0) && !l.prelu;
}

export const requant: OpDef<RequantLayer, typeof schema> = {
  op: 'requant',
  arity: [1, 2],
  schema,
  read: (s, blob, _x, at) => ({
    name: s.name, inputs: s.inputs, output: s.output, op: 'requant',
    mult: s.mult.map((m, k) => blob.i32(m, `${at}.mult[${k}]`)),
    shift: s.shift,
    bias: blob.i32(s.bias, `${at}.bias`),
    ...(s.prelu ? { prelu: { slope: blob.i32(s.prelu.slope, `${at}.prelu.slope`), post: blob.i32(s.prelu.post, `${at}.prelu.post`) } } : {}),
    zeroPoint: s.zeroPoint,
    ...(s.bits ? { bits: s.bits } : {}),
  }),
  write: (l, blob) => ({
    mult: l.mult.map((m) => blob.i32(m, [m.length])),
    shift: l.shift,
    bias: blob.i32(l.bias, [l.bias.length]),
    ...(l.prelu ? { prelu: { slope: blob.i32(l.prelu.slope, [l.prelu.slope.length]), post: blob.i32(l.prelu.post, [l.prelu.post.length]) } } : {}),
    zeroPoint: l.zeroPoint,
    ...(l.bits ? { bits: l.bits } : {}),
  }),
  infer(l, ins, at) {
    const x = ins[0];
    ins.forEach((t, k) => expectDType(t, ['i32', 'i8', 'i16'], at, l.inputs[k]));
    ins.forEach((t, k) => check(t.shape.join() === x.shape.join(), `${at}.inputs`, `shapes differ: '${l.inputs[0]}' is [${x.shape}], '${l.inputs[k]}' is [${t.shape}]`));
    const C = x.shape[0];
    check(l.mult.length === ins.length, `${at}.mult`, `expected ${ins.length} multiplier table${ins.length > 1 ? 's' : ''} (one per input), got ${l.mult.length}`);
    l.mult.forEach((m, k) => {
      checkLength(m, C, `${at}.mult[${k}]`);
      for (let i = 0; i < m.length; i++) check(Math.abs(m[i]) <= REQUANT_MULT_MAX, `${at}.mult[${k}][${i}]`, `multiplier must be within ±${REQUANT_MULT_MAX} (2^30 - 1), got ${m[i]}`);
    });
    check(Number.isInteger(l.shift) && l.shift >= 1 && l.shift <= 62, `${at}.shift`, `must be an integer 1..62, got ${l.shift}`);
    checkLength(l.bias, C, `${at}.bias`);
    if (l.prelu) {
      checkLength(l.prelu.slope, C, `${at}.prelu.slope`);
      checkLength(l.prelu.post, C, `${at}.prelu.post`);
    }
    check(l.bits === undefined || l.bits === 16, `${at}.bits`, `must be 16 or absent (8), got ${l.bits}`);
    const out = INT_MAPS[requantOut(l)];
    check(Number.isInteger(l.zeroPoint) && l.zeroPoint >= out.min && l.zeroPoint <= out.max, `${at}.zeroPoint`, `must be an integer ${out.min}..${out.max}, got ${l.zeroPoint}`);
    return { dtype: requantOut(l), shape: x.shape };
  },
  run(l, ins) {
    const [C, H, W] = ins[0].shape;
    const plane = H * W;
    const [a, b] = ins.map((t) => t.data);
    const dtype = requantOut(l);
    const { min, max } = INT_MAPS[dtype];
    const out = intMapData(dtype, C * plane);
    for (let c = 0; c < C; c++) {
      const ma = l.mult[0][c];
      const mb = b ? l.mult[1][c] : 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) {
        const xa = a[i];
        const xb = b ? b[i] : 0;
        // Both products and their sum are exact doubles when the magnitudes add up to less than 2^53 (each
        // rounded product is at most the rounded sum, and rounding is monotone); otherwise exact in bigint.
        const exact = Math.abs(xa * ma) + Math.abs(xb * mb) < TWO53;
        const v = exact ? xa * ma + xb * mb : BigInt(xa) * BigInt(ma) + BigInt(xb) * BigInt(mb);
        out[i] = requantOne(l, c, v, min, max);
      }
    }
    return { dtype, shape: ins[0].shape, data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    return {
      kernel: `bnn_requant_${ctx.inputs.map((t) => kind(t.dtype)).join('')}_${INT_MAPS[requantOut(l)].c}`,
      params: { type: 'bnn_requant_params_t', value: requantStruct(l, ctx.output.shape, ctx) },
      args: l.inputs.length > 1 ? ['params', 'in', { input: 1 }, 'out'] : ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_requant.c'],
    };
  },
  cost: (l, [x]) => ({ binaryMacs: 0, realMacs: numel(x) * l.inputs.length }),
  bits: (l) => ({ int: 32 * (l.mult.reduce((n, m) => n + m.length, 0) + l.bias.length + (l.prelu ? l.prelu.slope.length + l.prelu.post.length : 0)) }),
  describe: (l) => `${l.inputs.length} in${l.prelu ? ', prelu' : ''}${l.bits ? `, ${l.bits}-bit` : ''}`,
  random(r, x, names) {
    if (x.dtype !== 'i32' && !isIntMap(x.dtype)) return null;
    const C = x.shape[0];
    const inputs = r.bool(0.5) ? [names.inputs[0], names.inputs[0]] : [names.inputs[0]];
    const mode = r.pick(['fit', 'tie', 'tie', 'edge', 'edge', 'corner'] as const);
    const { mult, shift } = randomScale(r, x.dtype, inputs.length, C, mode);
    const extremes = r.bool(mode === 'corner' ? 0.3 : 0.03);
    const wide16 = r.bool(x.dtype === 'i16' ? 0.7 : 0.3);
    const wide = (lim: number) => new Int32Array(C).map(() => (extremes && r.bool(0.5) ? r.pick([INT32_MIN, INT32_MAX]) : r.int(-lim, lim)));
    // 'edge': U = V / 2^s + bias within a few units of a /256 boundary (256 k - 128), and after the PReLU the same.
    const boundary = () => 256 * r.int(-3, 3) - 128;
    const bias = mode === 'edge' ? new Int32Array(C).map(() => boundary() + r.int(-8, 8)) : wide(40000);
    // Slopes: any (negative, above 1.0), the corners, and odd multiples of 2^14 (a tie in U * slope / 2^15 for odd U).
    const slope = new Int32Array(C).map(() => (r.bool(mode === 'corner' ? 0.7 : 0.15) ? r.pick([0, 8192, 32768, -32768, 65536, -65536, INT32_MAX, INT32_MIN]) : r.bool(0.5) ? (2 * r.int(-3, 5) + 1) * 2 ** 14 : r.int(-40000, 80000)));
    const post = mode === 'edge' ? bias.map((b, c) => sat32(boundary() - (b < 0 ? Math.round((b * slope[c]) / 32768) : b) + r.int(-4, 4)))
      // 'corner': a saturated U (±2^31) plus a post near the other extreme lands in view, so each saturation shows.
      : mode === 'corner' ? new Int32Array(C).map(() => (r.bool(0.5) ? INT32_MIN + r.int(0, 32767) : INT32_MAX - r.int(0, 32767)))
      : wide(20000);
    return {
      ...names, inputs, op: 'requant', mult, shift, bias,
      ...(r.bool(0.6) ? { prelu: { slope, post } } : {}),
      ...(wide16 ? { bits: 16 as const } : {}),
      zeroPoint: r.bool(0.3) ? 0 : wide16 ? r.int(-32768, 32767) : r.int(-128, 127),
    };
  },
};
