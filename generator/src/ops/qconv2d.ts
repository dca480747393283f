// qconv2d: integer convolution on the raw model input or an int8 or int16 map: int8 weights (or int16: the int8 path's
// stem and shortcuts with --map-bits 16), int32 bias, acc = bias + sum over valid taps of w * (q - zeroPoint), exact in
// int32; then a threshold to b1, or the i32 accumulator. For cores without an FPU.
// Kernels: runtime-c/bnn_qconv2d.c, bnn_qconv2d_{u8,s8}_acc (the generic loop: 'ref' and the i32 output); for a b1 output
// runtime-c/bnn_qconv2d_thr.c, bnn_qconv2d_{u8,s8}_b1_thr (bias, threshold and flip folded into one record per channel).
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef, ThresholdSpec, windowSpec } from '../ir/spec.ts';
import type { BlobWriter } from '../ir/blob.ts';
import { INPUT_TENSOR, type LayerBase, type Padding, type TensorInfo, type Threshold } from '../ir/types.ts';
import { checkInt32Range, checkLength, checkPositive, checkWindow, expectDType, windowOut } from './shared/checks.ts';
import { applyThreshold, checkThreshold, outputStruct, randomThreshold, readThreshold, thresholdBits, writeThreshold } from './shared/threshold.ts';
import { randomWindow, readPadding, windowDims, windowStruct, writeWindow } from './shared/window.ts';
import { checkPadFix, classOf, padFixClasses, padFixMax, padFixStruct, randomPadFix } from './shared/pad-fix.ts';
import { winogradApplies, winogradHalf, winogradScratchWords, winogradWeights } from './shared/winograd.ts';
import type { MaxPoolLayer } from './maxpool.ts';
import { requantIncreasing, requantStruct, type RequantLayer } from './requant.ts';
import type { ThresholdLayer } from './threshold.ts';
import type { Lowering, LowerContext, OpDef } from './types.ts';

export interface QConv2dLayer extends LayerBase {
  op: 'qconv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  weights: Int8Array | Int16Array; // [O, C, kh, kw]
  bias: Int32Array; // [O]
  threshold?: Threshold; // present: output b1, absent: output i32
  /** The input's zero point when it is not the model input (an int8 map of the integer path); absent: the model input's. */
  zeroPoint?: number;
  /** [C]: the raw value a padded tap of input channel c takes (the int8 path's stem under per-channel normalisation:
   *  the raw value nearest to the real 0); absent: the zero point, so padded taps add nothing. */
  padValues?: Int32Array;
  /** [O, row classes, column classes]: added to the accumulators of the border positions (shared/pad-fix.ts): what the
   *  int8 path's stem adds where the real 0 of a channel lies between raw values; absent: nothing. */
  padFix?: Int32Array;
}

/** The values of each input type, and its name in the kernels' (bnn_qconv2d_<in>_...). */
const VALUES = { u8: [0, 255], i8: [-128, 127], i16: [-32768, 32767] } as const;
const IN_C = { u8: 'u8', i8: 's8', i16: 's16' } as const;
const inC = (dtype: string) => IN_C[dtype as keyof typeof IN_C];

/** The weights' bits (8 or 16) and the largest magnitude they can take. */
export const weightBits = (l: QConv2dLayer) => (l.weights instanceof Int16Array ? 16 : 8);
const weightMax = (l: QConv2dLayer) => (l.weights instanceof Int16Array ? 32768 : 128);

function writeWeights(blob: BlobWriter, w: Int8Array | Int16Array, shape: number[]): TensorRef {
  return w instanceof Int16Array ? blob.i16(w, shape) : blob.i8(w, shape);
}

/** Most taps (in_c * kh * kw) the _b1_thr kernels take (BNN_QPATCH_MAX in runtime-c/bnn_qconv2d_thr.c). */
export const QPATCH_MAX = 64;

/** Most input channels with pad values (the int8 path gives them to the raw input's few channels only). */
export const PAD_VALUES_MAX = 16;

/** The slot of each tap t = (c * kh + ky) * kw + kx in a _b1_thr record: (c, ky, kx) order, except one input channel
 * 3x3: the columns' (ky = 0, 1) pairs of kx = 0, 1, 2, then row 2 (runtime-c/bnn_qconv2d_thr.c). */
export function qthrSlots(C: number, kh: number, kw: number): number[] {
  if (C === 1 && kh === 3 && kw === 3) return [0, 2, 4, 1, 3, 5, 6, 7, 8];
  return Array.from({ length: C * kh * kw }, (_, t) => t);
}

/**
 * The _b1_thr kernels' records (runtime-c/bnn_qconv2d_thr.c): per output channel, int32 words of the weights u = -w'
 * (w' = flip ? -w : w) as int16 pairs (slot 2k in the low half of word k, 2k + 1 in the high half, a 0 in the spare
 * slot), then init = T' - 1, T' = flip ? bias - T : T - bias clamped to [-B, B + 1], B = taps * 128 * 255 >= |S'|.
 * The bit is then init + sum u (q - zp) < 0, i.e. S' >= T', i.e. flip ? bias + S <= T : bias + S >= T (exact).
 */
export function qthrRecords(l: QConv2dLayer, C: number): Int32Array {
  const [kh, kw] = l.kernel;
  const taps = C * kh * kw;
  const pairs = (taps + 1) >> 1;
  const slots = qthrSlots(C, kh, kw);
  const B = taps * weightMax(l) * 255;
  const t = l.threshold!;
  const rec = new Int32Array(l.outChannels * (pairs + 1));
  for (let o = 0; o < l.outChannels; o++) {
    const flip = t.flip[o] === 1;
    const u = new Array<number>(2 * pairs).fill(0);
    for (let k = 0; k < taps; k++) {
      const w = l.weights[o * taps + k];
      u[slots[k]] = flip ? w : -w;
    }
    for (let k = 0; k < pairs; k++) rec[o * (pairs + 1) + k] = (u[2 * k] & 0xffff) | (u[2 * k + 1] << 16);
    const T = flip ? l.bias[o] - t.value[o] : t.value[o] - l.bias[o];
    rec[o * (pairs + 1) + pairs] = Math.min(B + 1, Math.max(-B, T)) - 1;
  }
  return rec;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('qconv2d'), outChannels: int.min(1), ...windowSpec, weights: TensorRef, bias: TensorRef, threshold: ThresholdSpec.optional(), zeroPoint: int.min(-32768).max(32767).optional(), padValues: TensorRef.optional(), padFix: TensorRef.optional() });

/** The weights as int16 pairs (tap 2k low, 2k + 1 high, a 0 past an odd count), as the _rows kernel's dot products
 *  read them (runtime-c/bnn_qconv2d_rows.c): channels 4g..4g + 3 (g < O / 4) interleaved by pair, word
 *  (g * pairs + k) * 4 + j = pair k of channel 4g + j; the O % 4 last channels after them, one row of pairs each. */
function weightPairs(l: QConv2dLayer, taps: number): Uint32Array {
  const pairs = (taps + 1) >> 1;
  const O4 = l.outChannels & ~3;
  const out = new Uint32Array(l.outChannels * pairs);
  const at = (o: number, k: number) => (o < O4 ? ((o >> 2) * pairs + k) * 4 + (o & 3) : o * pairs + k);
  for (let o = 0; o < l.outChannels; o++)
    for (let k = 0; k < taps; k++) out[at(o, k >> 1)] |= (l.weights[o * taps + k] & 0xffff) << (16 * (k & 1));
  return out;
}

/** Each channel's sum of its weights (with abs, of their magnitudes). */
function weightSums(l: QConv2dLayer, abs: boolean): number[] {
  const per = l.weights.length / l.outChannels;
  return Array.from({ length: l.outChannels }, (_, o) => {
    let sum = 0;
    for (let k = 0; k < per; k++) sum += abs ? Math.abs(l.weights[o * per + k]) : l.weights[o * per + k];
    return sum;
  });
}

/** Most |q - zeroPoint| of an input type (padded taps too). */
const valueSpan = (dtype: string) => (dtype === 'i16' ? 65535 : 255);

/** The bound of |acc - bias| from the products: the input's value span times the largest sum of |w| of a channel. On
 *  an int16 input this is what bounds the int32 sum (the quantizer scales the weights to it). */
export const productBound = (l: QConv2dLayer, dtype: string) => valueSpan(dtype) * Math.max(0, ...weightSums(l, true));

/**
 * The rows kernel's bias and span (bnn_qconv2d_rows_params_t): span bounds |acc - bias| (the products' bound, plus the
 * largest |padFix| entry). An int16 input's patch holds raw q (q - zeroPoint may not fit int16), so the kernel starts
 * from bias - zeroPoint * sum(w) and its sums are bounded by 32768 times the sums of |w|.
 */
function rowsBias(l: QConv2dLayer, dtype: string): { bias: Int32Array; span: number } {
  if (dtype !== 'i16') return { bias: l.bias, span: productBound(l, dtype) + padFixMax(l) };
  const z = l.zeroPoint ?? 0;
  const sums = weightSums(l, false);
  return { bias: Int32Array.from(l.bias, (b, o) => b - z * sums[o]), span: 32768 * Math.max(0, ...weightSums(l, true)) + padFixMax(l) };
}

/**
 * qconv2d -> [maxpool ->] requant (the int8 path's stem and 1x1 downsample convs): streamed by conv output rows,
 * each requantised to int8 (int16 with --map-bits 16) as it is made and max pooled into the output; neither the int32 map nor the unpooled
 * int8 map is stored. Pooling after the requant equals the reference's requant of the pooled accumulators because
 * the chain's requant is increasing (requantIncreasing).
 */
function lowerRows(l: QConv2dLayer, members: (LayerBase & { op: string })[], ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const pool = members.length > 1 ? (members[0] as MaxPoolLayer) : undefined;
  const rq = members[members.length - 1] as RequantLayer;
  const [OH, OW] = windowDims(x.shape, l);
  const wide = rq.bits === 16;
  const own: TensorInfo = { dtype: wide ? 'i16' : 'i8', shape: [l.outChannels, OH, OW] };
  const C = x.shape[0];
  const taps = C * l.kernel[0] * l.kernel[1];
  const pairs = (taps + 1) >> 1;
  // With a pool, one channel's requantised pooled row (the pool's out_w values); without, rows go straight out.
  const rowBytes = pool ? 4 * Math.ceil((ctx.output.shape[2] * (wide ? 2 : 1)) / 4) : 0;
  // Winograd takes more scratch (three rows of accumulators and its transforms): where the board's RAM leaves less
  // (scratchLimit), the direct form runs.
  const winoBytes = 4 * winogradScratchWords(C, l.outChannels, OW) + rowBytes;
  const wino = ctx.kernels !== 'ref' && x.dtype !== 'i16' && winogradApplies(l, C) && (ctx.scratchLimit === undefined || winoBytes <= ctx.scratchLimit);
  const { bias, span } = rowsBias(l, x.dtype);
  return {
    kernel: `bnn_qconv2d_${inC(x.dtype)}_${wide ? 's16' : 's8'}_rows`,
    params: { type: 'bnn_qconv2d_rows_params_t', value: { fields: [
      { name: 'g', value: windowStruct(x, own, l) },
      { name: 'wt', value: wino ? null : ctx.table('wt', 'uint32_t', weightPairs(l, taps), 'int') },
      { name: 'bias', value: ctx.table('bias', 'int32_t', bias, 'int') },
      { name: 'zero_point', value: l.zeroPoint ?? ctx.modelInput.zeroPoint },
      { name: 'pairs', value: pairs },
      { name: 'span', value: span },
      { name: 'dual_issue', value: ctx.m7 ? 1 : 0 },
      { name: 'rq', value: requantStruct(rq, own.shape, ctx, 0, 'rq_') },
      { name: 'pool', value: pool ? windowStruct(own, ctx.output, pool) : { inline: true, fields: [{ name: 'kh', value: 0 }] } },
      { name: 'pad_q', value: l.padValues ? ctx.table('pad_q', 'int32_t', l.padValues, 'int') : null },
      { name: 'wino', value: wino ? ctx.table('wino', 'uint32_t', winogradWeights(l, C), 'int') : null },
      { name: 'wino_half', value: wino && winogradHalf(l) ? 1 : 0 },
      { name: 'fix', value: padFixStruct(l, x, [OH, OW], ctx) },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    // Two positions' patches of pairs, the taps' offsets, a row of accumulators (bnn_qconv2d_rows.c); Winograd: its V and
    // M, three rows of accumulators; either way, with a pool, one channel's requantised pooled row.
    scratchBytes: wino ? winoBytes : 4 * (2 * pairs + taps + l.outChannels * OW) + rowBytes,
    runtime: ['bnn_qconv2d_rows.c', 'bnn_qconv2d_wino.c', 'bnn_qconv2d_rows_t2.c', 'bnn_requant.c'],
    why: `${wino ? 'Winograd F(3x3, 4x4) on the four stride phases, ' : ''}int16-pair dot products${ctx.dsp ? ` (SMLAD${ctx.m7 ? ', scheduled for dual issue' : ''})` : ''} by rows, requant${pool ? ' and max pool' : ''} fused`,
  };
}

function lowerQConv2d(l: QConv2dLayer, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const taps = x.shape[0] * l.kernel[0] * l.kernel[1];
  // b1 output: bias, threshold and flip folded into one record per channel (qthrRecords), unless 'ref'.
  if (l.threshold && ctx.kernels !== 'ref' && taps <= QPATCH_MAX && !l.padValues && !l.padFix && x.dtype !== 'i16') {
    const one33 = x.shape[0] === 1 && l.kernel[0] === 3 && l.kernel[1] === 3;
    const path = one33 && l.stride[1] === 1 ? 'one channel 3x3 stride 1: sliding window' : `${taps} taps`;
    return {
      kernel: x.dtype === 'u8' ? 'bnn_qconv2d_u8_b1_thr' : 'bnn_qconv2d_s8_b1_thr',
      params: { type: 'bnn_qconv2d_thr_params_t', value: { fields: [
        { name: 'g', value: windowStruct(x, ctx.output, l) },
        { name: 'wt', value: ctx.table('wt', 'int32_t', qthrRecords(l, x.shape[0]), 'int') },
        { name: 'zero_point', value: l.zeroPoint ?? ctx.modelInput.zeroPoint },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_qconv2d_thr.c'],
      why: `bias, threshold and flip folded into one record per channel (${path}${taps === 9 && ctx.dsp ? ', SMLAD' : ''})`,
    };
  }
  return {
    kernel: `bnn_qconv2d_${inC(x.dtype)}_acc`,
    params: { type: 'bnn_qconv2d_params_t', value: { fields: [
      { name: 'g', value: windowStruct(x, ctx.output, l) },
      { name: 'weights', value: ctx.table('weights', l.weights instanceof Int16Array ? 'int16_t' : 'int8_t', l.weights, 'int') },
      { name: 'w16', value: l.weights instanceof Int16Array ? 1 : 0 },
      { name: 'bias', value: ctx.table('bias', 'int32_t', l.bias, 'int') },
      { name: 'zero_point', value: l.zeroPoint ?? ctx.modelInput.zeroPoint },
      { name: 'out', value: outputStruct(ctx, l.threshold) },
      { name: 'pad_q', value: l.padValues ? ctx.table('pad_q', 'int32_t', l.padValues, 'int') : null },
      { name: 'fix', value: padFixStruct(l, x, windowDims(x.shape, l), ctx) },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: 4 * l.outChannels,
    runtime: ['bnn_qconv2d.c', 'bnn_output.c', 'bnn_requant.c'],
  };
}

export const qconv2d: OpDef<QConv2dLayer, typeof schema> = {
  op: 'qconv2d',
  arity: 1,
  schema,
  read: (s, blob, x, at) => ({
    name: s.name, inputs: s.inputs, output: s.output, op: 'qconv2d', outChannels: s.outChannels, kernel: s.kernel, stride: s.stride,
    pad: readPadding(s.padding, x, s.kernel, s.stride), weights: s.weights.dtype === 'int16' ? blob.i16(s.weights, `${at}.weights`) : blob.i8(s.weights, `${at}.weights`), bias: blob.i32(s.bias, `${at}.bias`), threshold: readThreshold(blob, s.threshold, at),
    ...(s.zeroPoint !== undefined ? { zeroPoint: s.zeroPoint } : {}),
    ...(s.padValues !== undefined ? { padValues: blob.i32(s.padValues, `${at}.padValues`) } : {}),
    ...(s.padFix !== undefined ? { padFix: blob.i32(s.padFix, `${at}.padFix`) } : {}),
  }),
  write: (l, blob, [x]) => ({ outChannels: l.outChannels, ...writeWindow(l), weights: writeWeights(blob, l.weights, [l.outChannels, x.shape[0], ...l.kernel]), bias: blob.i32(l.bias, [l.outChannels]), ...writeThreshold(blob, l.threshold), ...(l.zeroPoint !== undefined ? { zeroPoint: l.zeroPoint } : {}), ...(l.padValues ? { padValues: blob.i32(l.padValues, [x.shape[0]]) } : {}), ...(l.padFix ? { padFix: blob.i32(l.padFix, [l.outChannels, l.padFix.length / l.outChannels]) } : {}) }),
  infer(l, [x], at) {
    expectDType(x, ['u8', 'i8', 'i16'], at, l.inputs[0]);
    check(l.inputs[0] === INPUT_TENSOR || l.zeroPoint !== undefined, `${at}.zeroPoint`, `required: '${l.inputs[0]}' is not the model input, whose zero point is the default`);
    const [lo, hi] = VALUES[x.dtype as 'u8'];
    if (l.zeroPoint !== undefined) check(Number.isInteger(l.zeroPoint) && l.zeroPoint >= lo && l.zeroPoint <= hi, `${at}.zeroPoint`, `${l.zeroPoint} is not a ${x.dtype} value`);
    checkWindow(l.kernel, l.stride, l.pad, at);
    const O = l.outChannels;
    checkPositive(O, `${at}.outChannels`);
    const C = x.shape[0];
    if (l.padValues) {
      checkLength(l.padValues, C, `${at}.padValues`);
      check(C <= PAD_VALUES_MAX, `${at}.padValues`, `at most ${PAD_VALUES_MAX} input channels take pad values, the input has ${C}`);
      l.padValues.forEach((v, c) => check(v >= lo && v <= hi, `${at}.padValues[${c}]`, `${v} is not a ${x.dtype} value`));
    }
    checkLength(l.weights, O * C * l.kernel[0] * l.kernel[1], `${at}.weights`);
    // int16 weights stay symmetric, so that a negated weight (the _b1_thr records) is an int16 too.
    if (l.weights instanceof Int16Array) check(!l.weights.includes(-32768), `${at}.weights`, 'int16 weights must lie within -32767..32767');
    checkLength(l.bias, O, `${at}.bias`);
    const dtype = checkThreshold(l.threshold, O, at);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    // An int16 input's sums are bounded by its weights (the quantizer scales them to fit); else by the weights' type.
    const products = x.dtype === 'i16' ? productBound(l, 'i16') : C * l.kernel[0] * l.kernel[1] * weightMax(l) * 255;
    checkInt32Range(l.bias, products + (l.padFix ? checkPadFix(l, x, [oh, ow], at) : 0), at);
    return { dtype, shape: [O, oh, ow] };
  },
  run(l, [x], ctx) {
    const zeroPoint = l.zeroPoint ?? ctx.input.zeroPoint;
    const [C, H, W] = x.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const O = l.outChannels;
    const [OH, OW] = windowDims(x.shape, l);
    const acc = new Int32Array(O * OH * OW);
    const fix = l.padFix ? padFixClasses(H, W, l.kernel, l.stride, l.pad, OH, OW) : undefined;
    for (let o = 0; o < O; o++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let s = l.bias[o];
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - l.pad.top + ky;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - l.pad.left + kx;
                const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                // A padded tap adds nothing, or w * (padValues[c] - zeroPoint) with pad values.
                const q = inside ? x.data[(c * H + iy) * W + ix] : l.padValues ? l.padValues[c] : zeroPoint;
                s += l.weights[((o * C + c) * kh + ky) * kw + kx] * (q - zeroPoint);
              }
            }
          }
          if (fix) s += l.padFix![(o * fix.rows.count + classOf(fix.rows, oy)) * fix.cols.count + classOf(fix.cols, ox)];
          acc[(o * OH + oy) * OW + ox] = s | 0;
        }
      }
    }
    return applyThreshold(acc, [O, OH, OW], l.threshold) satisfies Tensor;
  },
  lower: lowerQConv2d,
  // The int8 path's convs: requantised (and max pooled) as the rows are made.
  fuses: {
    chains: [
      [{ op: 'maxpool', when: (h) => !(h as QConv2dLayer).threshold }, { op: 'requant', when: (_h, m) => requantIncreasing(m as RequantLayer) }],
      [{ op: 'requant', when: (h, m) => !(h as QConv2dLayer).threshold && m.inputs.length === 1 }],
      // The int8 path's threshold of an accumulator is the layer's own threshold (same rule, docs/semantics.md §7).
      [{ op: 'threshold', when: (h) => !(h as QConv2dLayer).threshold }],
    ],
    lower: (l, members, ctx) => (members[0].op === 'threshold' ? lowerQConv2d({ ...l, threshold: (members[0] as ThresholdLayer).threshold }, ctx) : lowerRows(l, members, ctx)),
  },
  cost: (l, [x], out) => ({ binaryMacs: 0, realMacs: out.shape[0] * out.shape[1] * out.shape[2] * x.shape[0] * l.kernel[0] * l.kernel[1] }),
  bits: (l) => ({ int: weightBits(l) * l.weights.length + 32 * (l.bias.length + (l.padFix?.length ?? 0)), thresholds: thresholdBits(l.threshold) }),
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]} int${weightBits(l)}${l.threshold ? ' + threshold' : ''}`,
  random(r, x, names) {
    if (x.dtype !== 'u8' && x.dtype !== 'i8' && x.dtype !== 'i16') return null;
    const w = randomWindow(r, x.shape);
    if (!w) return null;
    const O = r.int(1, 9);
    // int16 weights now and then (the int8 path's stem at --map-bits 16), where the int32 sums allow them; on an int16
    // input, weights as large as the bound 65535 * sum |w| < 2^31 lets them be (the int8 path's shortcuts).
    const taps = x.shape[0] * w.kernel[0] * w.kernel[1];
    const n = O * taps;
    // (bias and padFix entries below stay within 5000 and 3000)
    const top = x.dtype === 'i16' ? Math.min(32767, Math.floor((2 ** 31 - 1 - 5000 - 3000) / 65535 / taps)) : 0;
    if (x.dtype === 'i16' && top < 1) return null;
    const weights = top > 0 ? new Int16Array(n).map(() => r.int(-top, top))
      : taps <= 200 && r.bool(0.25) ? new Int16Array(n).map(() => r.int(-32767, 32767)) : new Int8Array(n).map(() => r.int(-128, 127));
    const [lo, hi] = VALUES[x.dtype as 'u8'];
    const zeroPoint = names.inputs[0] === INPUT_TENSOR ? undefined : r.int(Math.max(lo, -128), Math.min(hi, 127)) * (x.dtype === 'i16' ? r.int(1, 256) : 1);
    const padValues = x.shape[0] <= PAD_VALUES_MAX && r.bool(0.3) ? Int32Array.from({ length: x.shape[0] }, () => r.int(lo, hi)) : undefined;
    const l = { ...names, op: 'qconv2d', outChannels: O, ...w, weights, bias: new Int32Array(O).map(() => r.int(-5000, 5000)), threshold: r.bool(0.7) ? randomThreshold(r, O, 20000) : undefined, ...(zeroPoint !== undefined ? { zeroPoint } : {}), ...(padValues ? { padValues } : {}) } as QConv2dLayer;
    return r.bool(0.3) ? { ...l, padFix: randomPadFix(r, l, x) } : l;
  },
};
