// The portable kernels bnn_bconv2d_b1_acc_plain_ref and bnn_bconv2d_b1_acc_codebook_ref (runtime-c/): any kernel size,
// stride, padding and pad value; the planner's fallback everywhere, and the only binary kernels on the smallest cores.
import { packBits } from '../../ir/packing.ts';
import { outputStruct, type FusedRequant } from '../shared/threshold.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer } from './index.ts';
import { costCore, type CostCore } from './cost-core.ts';

/**
 * Estimated instructions of the _ref kernels on `core`, for input C x H x W and output O x OH x OW. Per output
 * position: per input channel the taps, per codeword (when shared) and per output channel; per output channel its
 * store (thresholded or i32). Plain weights: per output and tap, per channel word. A padded tap (pad value 0: no
 * load, no match) costs less than one inside the input; with a pad value of +-1 every tap counts as a valid one.
 */
export function refCost(l: BConv2dLayer, [C, H, W]: readonly number[], [O, OH, OW]: readonly number[], core: CostCore = 'm4'): number {
  const P = OH * OW;
  const taps = l.kernel[0] * l.kernel[1];
  const k = REF[core];
  const padded = l.padValue === 0 ? P * taps - insideTaps(l, H, W, OH, OW) : 0;
  const store = l.threshold ? k.storeThr : k.store;
  if (l.weights.kind === 'codebook') {
    const n = l.weights.codewords.length;
    const share = n < O;
    const saved = C * padded * (k.tap - k.padTap);
    return Math.round(P * (C * (taps * k.tap + k.chan + (share ? n * k.cw + O * k.out : O * k.outOwn)) + O * store) - saved);
  }
  const words = Math.ceil(C / 32);
  const saved = O * padded * (words * k.word + k.plainTap - k.plainPadTap);
  return Math.round(P * O * (taps * (words * k.word + k.plainTap) + store) - saved);
}

/** Taps of all output positions that fall inside the H x W input (per kernel row, the output rows that read an input
 *  row, times the same for the columns). */
function insideTaps(l: BConv2dLayer, H: number, W: number, OH: number, OW: number): number {
  const reads = (out: number, stride: number, pad: number, size: number, t: number) => {
    let k = 0;
    for (let o = 0; o < out; o++) if (o * stride + t - pad >= 0 && o * stride + t - pad < size) k++;
    return k;
  };
  let rows = 0, cols = 0;
  for (let t = 0; t < l.kernel[0]; t++) rows += reads(OH, l.stride[0], l.pad.top, H, t);
  for (let t = 0; t < l.kernel[1]; t++) cols += reads(OW, l.stride[1], l.pad.left, W, t);
  return rows * cols;
}

interface RefConstants {
  /** Codebook kernel: a valid and a padded tap per channel, per (position, channel), per codeword when shared, per
   *  output channel shared and not. */
  tap: number; padTap: number; chan: number; cw: number; out: number; outOwn: number;
  /** Plain kernel: per channel word of a valid tap, per valid tap, per padded tap. */
  word: number; plainTap: number; plainPadTap: number;
  /** Per output channel and position: i32 store, thresholded bit (bnn_output_store, both kernels). */
  store: number; storeThr: number;
}

/**
 * Instructions per unit of work, least-squares fits to exact QEMU counts, each core on its own. 'm4' on mps2-an386
 * (also the M3 and M33, within 2.5 %), 'm7' on mps2-an500 and 'm0' (ARMv6-M code) on mps2-an385: 77 layers each (C
 * 8..128, maps 2x2..32x32 and non-square, O != C, stride 1 and 2, "same" and no padding, tau 3..6 and dense, shared
 * and not, threshold and i32 output), each within 2.2 % of every one and of 47 held-out layers of other shapes but
 * those with a pad value of +-1 (within 4.1 %: their padded taps are charged as valid ones). The plain kernel's i32
 * store is not separable from its per-tap terms (both per output and position): it takes the codebook kernel's (the
 * same bnn_output_store). 'm55' on mps3-an547, 98 layers, within 1.6 %: gcc for v8.1-M makes the plain kernel's loop
 * over channel words a low-overhead loop whose setup (trip count and DLS, 6 instructions) each valid tap pays for its
 * one word, so a valid tap costs more than on the M4, and the codebook kernel's loops over outputs save their compare
 * and branch. On every core a padded tap costs about half a valid one: charged as valid ones, as before, the M4's
 * figures overestimated small and stride-2 maps by up to 62 %. gcc's M7 code takes 9 % more per codebook tap than the
 * M4's (25 % more per padded one): the M4's figures underestimated the M7's codebook layers by up to 9 %.
 */
const REF: Record<CostCore, RefConstants> = {
  m4: { tap: 40.5, padTap: 22.8, chan: 7, cw: 18.6, out: 14.9, outOwn: 29.7, word: 16.7, plainTap: 39.6, plainPadTap: 24, store: 8.1, storeThr: 20.5 },
  m7: { tap: 44.1, padTap: 28.6, chan: 8.1, cw: 18.6, out: 14.9, outOwn: 30.7, word: 16.7, plainTap: 41.3, plainPadTap: 24.7, store: 8.3, storeThr: 20.8 },
  m0: { tap: 87.8, padTap: 48.5, chan: 15.1, cw: 30.7, out: 19, outOwn: 48.7, word: 24.6, plainTap: 61.6, plainPadTap: 35, store: 15.6, storeThr: 33.2 },
  m55: { tap: 43.7, padTap: 24.6, chan: 7.6, cw: 17.7, out: 13.9, outOwn: 28.4, word: 15.6, plainTap: 46.4, plainPadTap: 23.9, store: 8, storeThr: 21.3 },
};

/** Plain weights as the kernel reads them: [O][kh][kw][words(C)], channel c at bit c & 31 of word c >> 5. */
export function plainWeightWords(bits: Uint8Array, O: number, C: number, kh: number, kw: number): Uint32Array {
  const wpc = Math.ceil(C / 32);
  const out = new Uint32Array(O * kh * kw * wpc);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          if (bits[((o * C + c) * kh + ky) * kw + kx]) out[((o * kh + ky) * kw + kx) * wpc + (c >> 5)] |= 1 << (c & 31);
  return out;
}

/** The _ref kernel; `pool`: a max pool fused into its output (ctx.output is then the pre-pool map). */
export function lowerRef(l: BConv2dLayer, ctx: LowerContext, pool?: CStruct, rq?: FusedRequant): Lowering {
  const x = ctx.inputs[0];
  const C = x.shape[0];
  const O = l.outChannels;
  const w = l.weights;
  const head = [
    { name: 'g', value: windowStruct(x, ctx.output, l) },
    { name: 'pad_value', value: l.padValue },
  ];
  if (w.kind === 'codebook') {
    const n = w.codewords.length;
    // Sharing pays when there are fewer codewords than output channels to gather them.
    const share = n < O;
    return {
      estInstructions: refCost(l, x.shape, ctx.output.shape, costCore(ctx)),
      kernel: rq ? `bnn_bconv2d_b1_${rq.wide ? 's16' : 's8'}_codebook_ref` : 'bnn_bconv2d_b1_acc_codebook_ref',
      params: { type: 'bnn_bconv2d_params_t', value: { fields: [
        ...head,
        { name: 'weights', value: null },
        { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
        // One spare byte lets the kernel read every index with a two-byte load.
        { name: 'indices', value: ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices') },
        { name: 'n_codewords', value: n },
        { name: 'index_bits', value: w.bits },
        { name: 'share', value: share ? 1 : 0 },
        { name: 'out', value: outputStruct(ctx, l.threshold, pool, rq) },
      ] } },
      args: rq ? ['params', 'in', rq.skipArg, 'out', 'scratch'] : ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * (O + (share ? n : 0)),
      runtime: ['bnn_bconv2d_codebook_ref.c', 'bnn_output.c', 'bnn_requant.c'],
    };
  }
  return {
    estInstructions: refCost(l, x.shape, ctx.output.shape, costCore(ctx)),
    kernel: rq ? `bnn_bconv2d_b1_${rq.wide ? 's16' : 's8'}_plain_ref` : 'bnn_bconv2d_b1_acc_plain_ref',
    params: { type: 'bnn_bconv2d_params_t', value: { fields: [
      ...head,
      { name: 'weights', value: ctx.table('weights', 'uint32_t', plainWeightWords(w.bits, O, C, l.kernel[0], l.kernel[1]), 'binary') },
      { name: 'codewords', value: null },
      { name: 'indices', value: null },
      { name: 'n_codewords', value: 0 },
      { name: 'index_bits', value: 0 },
      { name: 'share', value: 0 },
      { name: 'out', value: outputStruct(ctx, l.threshold, pool, rq) },
    ] } },
    args: rq ? ['params', 'in', rq.skipArg, 'out', 'scratch'] : ['params', 'in', 'out', 'scratch'],
    scratchBytes: 4 * O,
    runtime: ['bnn_bconv2d_plain_ref.c', 'bnn_output.c', 'bnn_requant.c'],
  };
}
