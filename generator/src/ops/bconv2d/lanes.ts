// The byte-lane kernel bnn_bconv2d_b1_acc_lanes (runtime-c/bnn_bconv2d_lanes.c): 3x3, stride 1 or 2, dense or
// codebook weights; maps wider than 32 in column tiles (a tile's input columns fit one 32-bit row word, or two at
// stride 2 across: even and odd columns). Eligibility, working set, the cost model the planner compares with _ref and slice (cost
// constants are executed instructions per unit of work on the Cortex-M4, M7, M0 and M55, fitted to exact counts from
// the QEMU icount plugin), and the lowering.
import { packBits } from '../../ir/packing.ts';
import type { TensorInfo } from '../../ir/types.ts';
import { outputStruct, type FusedRequant } from '../shared/threshold.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import { kernelIds } from './codewords.ts';
import type { BConv2dLayer } from './index.ts';
import type { CostCore } from './cost-core.ts';

export interface LanesPlan {
  share: boolean;
  tileW: number;
  batch: number;
  rowsPerUnit: number;
  scratchBytes: number;
  estInstructions: number;
}

/** Output columns per tile: the whole map up to 32 wide (input and output) at stride 1, else equal tiles of at most
 *  30 (stride 1: a tile reads tw + 2 input columns into 32 bits) or 31 (stride 2: 2 tw + 1 columns into 2 x 32). */
export function lanesTileWidth(W: number, OW: number, sw = 1): number {
  if (sw === 1 && W <= 32 && OW <= 32) return OW;
  const most = sw === 1 ? 30 : 31;
  return Math.ceil(OW / Math.ceil(OW / most));
}

/** Byte lanes hold up to 255: 28 counts of at most 9. */
export const MAX_BATCH = 28;

export function lanesEligible(l: BConv2dLayer, x: TensorInfo, _y: TensorInfo): string | null {
  const C = x.shape[0];
  if (l.kernel[0] !== 3 || l.kernel[1] !== 3) return 'kernel is not 3x3';
  if (l.stride[0] > 2 || l.stride[1] > 2) return 'stride above 2';
  if (9 * C > 65535) return 'too many input channels for 16-bit lanes';
  return null;
}

/** Shared codebook (runtime-c/bnn_bconv2d_lanes.c): a batch's channels in groups of F, one index word of F fields
 *  each; a group's responses hold SL slots of 8 words per codeword (SL: F rounded up to a power of two >= 4). */
export function lanesFields(bits: number): number {
  return Math.min(16, Math.floor(32 / bits));
}
function lanesSlots(F: number): number {
  return F <= 4 ? 4 : F <= 8 ? 8 : 16;
}

/** Index words of the shared kernel: per output, ceil(C / F) words; channel F g + j in field j of word g. */
export function lanesIndexWords(indices: ArrayLike<number>, O: number, C: number, bits: number): Uint32Array {
  const F = lanesFields(bits);
  const rowWords = Math.ceil(C / F);
  const out = new Uint32Array(O * rowWords);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++) out[o * rowWords + Math.floor(c / F)] |= indices[o * C + c] << ((c % F) * bits);
  return out;
}

/** `bits`: index bits of a shared codebook (its batch a multiple of lanesFields(bits)). */
export function lanesScratchWords(C: number, H: number, O: number, n: number, share: boolean, batch: number, bits = 0, fusedRq = false): number {
  const F = share ? lanesFields(bits) : 1;
  return C * H + 96 * (share ? 1 : batch) + (share ? (batch / F) * n * lanesSlots(F) * 8 + 3 * n : 0) + 17 * O + 32 + (fusedRq ? RQ_CHAN_WORDS * O : 0);
}

/** Words of one output channel's requant constants (bnn_requant_chan_t, BNN_RQ_CHAN_WORDS in runtime-c/bnn_runtime.h):
 *  with a fused requant the kernel works them out once per call, not once per unit. */
export const RQ_CHAN_WORDS = 18;

/**
 * Instructions per unit of work: per input row, phase and 32-channel word of a column tile (the transpose, 32 columns
 * by 32 channels at a time); per unit; per (unit, channel) (row sums); per channel and output row of a tile (its tap
 * rows: chanRow at stride 1, which reads each input row once; chanRowS2 at stride 2, the general loop, ~3x dearer); per
 * (unit, channel, codeword) when shared; per (unit, output, channel) (shared: channels rounded up to whole index
 * words); per (unit, output, batch) (the fold into 16-bit lanes); per (unit, output) and per (output, position) of the
 * output stage, for i32 accumulators (acc) or thresholded bits (thr). On DSP cores the Thumb-2 routines (lanesT2) do
 * some index widths' codeword counts, gather and fold at 40..50 % of the C loops' cost: the *T2 constants.
 * Fitted by bench/fit-lanes.ts (relative least squares to exact QEMU icount counts), each core on its own: 'm4' on
 * mps2-an386, 'm7' on mps2-an500, 'm0' (ARMv6-M code) on mps2-an385, 'm55' on mps3-an547; 48 layers each (C 8..128,
 * O != C, maps 2x2..40x40, non-square and wider than 32, stride 2, tau 2..8 shared, odd n, tau 9 and dense per kernel,
 * smaller batches, threshold and i32 output, "same" and no padding, pad value 0 and +-1). Largest error on them and on
 * 17 held-out layers of other shapes: m4 2.8 % and 3.4 %, m7 2.8 % and 3.5 %, m0 3.4 % and 4.6 %, m55 2.9 % and 3.8 %
 * (the largest misses: ~2.5 % low for +-1 padding, ~4 % high for one-row units of maps 28..30 wide). The M4's figures
 * serve the M33 within 3 %, and the M3 (no DSP: the C loops, lanesCost's dsp = false) within 5 %.
 */
export interface LanesConstants {
  rowWord: number; unit: number; chanUnit: number; chanRow: number; chanRowS2: number; codeword: number; pairShared: number; pairOwn: number;
  outBatch: number; outAcc: number; posAcc: number; outThr: number; posThr: number;
  /** The Thumb-2 routines of DSP cores (lanesT2); absent where there are none (ARMv6-M). */
  codewordT2?: number; pairSharedT2?: number; outBatchT2?: number;
}
export const LANES: Record<CostCore, LanesConstants> = {
  m4: {
    rowWord: 843, unit: 4320, chanUnit: 662, chanRow: 90.1, chanRowS2: 294, codeword: 67.5, pairShared: 28.4,
    pairOwn: 75.4, outBatch: 130, outAcc: 344, posAcc: 5.8, outThr: 479, posThr: 11.9, codewordT2: 26,
    pairSharedT2: 14.9, outBatchT2: 51.6,
  },
  m7: {
    rowWord: 879, unit: 4400, chanUnit: 644, chanRow: 90, chanRowS2: 295, codeword: 67.5, pairShared: 28.5,
    pairOwn: 75.4, outBatch: 130, outAcc: 342, posAcc: 5.8, outThr: 478, posThr: 11.9, codewordT2: 26,
    pairSharedT2: 14.9, outBatchT2: 51.7,
  },
  m0: {
    rowWord: 1250, unit: 7490, chanUnit: 1050, chanRow: 128, chanRowS2: 446, codeword: 90.1, pairShared: 42.3,
    pairOwn: 98.3, outBatch: 182, outAcc: 289, posAcc: 11.6, outThr: 435, posThr: 15.9,
  },
  m55: {
    rowWord: 591, unit: 4760, chanUnit: 664, chanRow: 96.2, chanRowS2: 295, codeword: 65.7, pairShared: 27.6,
    pairOwn: 75.9, outBatch: 99.2, outAcc: 225, posAcc: 9.33, outThr: 451, posThr: 11.8, codewordT2: 26.1,
    pairSharedT2: 15, outBatchT2: 51.6,
  },
};

/** Which shared-codebook loops run as Thumb-2 routines (runtime-c/bnn_bconv2d_lanes.c, BNN_T2_DSP_ASM): the codeword
 *  counts when a group has 8 slots (4- to 6-bit indices) and n is even, the gather for 4- and 5-bit indices. */
export function lanesT2(bits: number, n: number): { codeword: boolean; gather: boolean } {
  return { codeword: lanesSlots(lanesFields(bits)) === 8 && n % 2 === 0, gather: bits === 4 || bits === 5 };
}

/** Estimated instructions of bnn_bconv2d_b1_acc_lanes on `core`; `thresholded`: the output is thresholded bits (else
 *  i32 accumulators); `bits`: index bits of a shared codebook. */
export function lanesCost(C: number, H: number, W: number, O: number, OH: number, OW: number, n: number, share: boolean, batch: number, core: CostCore = 'm4', thresholded = true, sw = 1, sh = 1, bits = 0, dsp = true): number {
  // Column tiles as the kernel runs them: each transposes its rows and has its own units (rows per unit from the
  // planned tile width).
  const tw = lanesTileWidth(W, OW, sw);
  const tiles = Math.ceil(OW / tw);
  const units = tiles * Math.ceil(OH / Math.max(1, Math.min(OH, Math.floor(32 / tw))));
  const batches = Math.ceil(C / batch);
  const k = LANES[core];
  // The routines exist only in DSP builds: a core without DSP (the M3 on the M4's constants) runs the C loops.
  const t2 = share && dsp ? lanesT2(bits, n) : { codeword: false, gather: false };
  const [out, pos] = thresholded ? [k.outThr, k.posThr] : [k.outAcc, k.posAcc];
  const perCodeword = t2.codeword && k.codewordT2 !== undefined ? k.codewordT2 : k.codeword;
  const gatherT2 = t2.gather && k.pairSharedT2 !== undefined && k.outBatchT2 !== undefined;
  const perPair = !share ? k.pairOwn : gatherT2 ? k.pairSharedT2! : k.pairShared;
  const perRow = sh === 1 && sw === 1 ? k.chanRow : k.chanRowS2;
  // The shared gather runs whole index words: the channels rounded up to F.
  const F = share ? lanesFields(bits) : 1;
  const perUnitC = k.chanUnit + (share ? perCodeword * n : 0);
  const perUnitO = F * Math.ceil(C / F) * perPair + (gatherT2 ? k.outBatchT2! : k.outBatch) * batches + out;
  return Math.round(tiles * (H * sw * Math.ceil(C / 32) * k.rowWord + C * OH * perRow) + units * (k.unit + C * perUnitC + O * perUnitO) + O * OH * OW * pos);
}

export function planLanes(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, preferShare = false, core: CostCore = 'm4', dsp = true, fusedRq = false): LanesPlan | null {
  if (lanesEligible(l, x, y)) return null;
  const [C, H, W] = x.shape;
  const [O, OH, OW] = y.shape;
  const n = l.weights.kind === 'codebook' ? l.weights.codewords.length : 0;
  const sw = l.stride[1];
  const tileW = lanesTileWidth(W, OW, sw);
  const rowsPerUnit = Math.max(1, Math.min(OH, Math.floor(32 / tileW)));
  let best: LanesPlan | null = null;
  const bits = l.weights.kind === 'codebook' ? l.weights.bits : 9;
  for (const share of l.weights.kind === 'codebook' && n <= 256 ? [true, false] : [false]) {
    // Shared: whole groups of F channels a batch (one index word each), no more groups than the channels fill.
    const step = share ? lanesFields(bits) : 1;
    for (let batch = Math.min(Math.floor(MAX_BATCH / step), Math.ceil(C / step)) * step; batch >= 1; batch -= step) {
      const scratchBytes = 4 * lanesScratchWords(C, H * sw, O, n, share, batch, bits, fusedRq);
      if (scratchLimit !== undefined && scratchBytes > scratchLimit) continue;
      const est = lanesCost(C, H, W, O, OH, OW, n, share, batch, core, !!l.threshold, sw, l.stride[0], bits, dsp);
      if (!best || (preferShare ? share && !best.share : est < best.estInstructions)) best = { share, tileW, batch, rowsPerUnit, scratchBytes, estInstructions: est };
      break; // the largest batch that fits is the cheapest for this variant
    }
  }
  return best;
}

/** The lanes kernel for a plan (planLanes); `ref` is the _ref estimate, for the reason shown in reports. */
export function lowerLanes(l: BConv2dLayer, ctx: LowerContext, plan: LanesPlan, ref: number, pool?: CStruct, rq?: FusedRequant): Lowering {
  const w = l.weights;
  const share = plan.share && w.kind === 'codebook';
  return {
    kernel: rq ? `bnn_bconv2d_b1_${rq.wide ? 's16' : 's8'}_lanes` : 'bnn_bconv2d_b1_acc_lanes',
    params: { type: 'bnn_bconv2d_lanes_params_t', value: { fields: [
      { name: 'g', value: windowStruct(ctx.inputs[0], ctx.output, l) },
      { name: 'pad_value', value: l.padValue },
      { name: 'tile_w', value: plan.tileW },
      { name: 'rows_per_unit', value: plan.rowsPerUnit },
      { name: 'share', value: share ? 1 : 0 },
      { name: 'batch', value: plan.batch },
      // Weights stay nearly as compact as for _ref: tau-bit indices into the codebook (shared: whole fields a word,
      // 30 of 32 bits used at tau 5), or 9-bit kernel ids for plain weights.
      { name: 'n_codewords', value: w.kind === 'codebook' ? w.codewords.length : 0 },
      { name: 'index_bits', value: w.kind === 'codebook' ? w.bits : 9 },
      { name: 'codewords', value: w.kind === 'codebook' ? ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') : null },
      {
        name: 'indices',
        value: share ? null : w.kind === 'codebook'
          ? ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices')
          : ctx.table('kernels', 'uint8_t', packBits(kernelIds(l), 9, 1), 'binary'),
      },
      {
        name: 'index_words',
        value: share && w.kind === 'codebook' ? ctx.table('indices', 'uint32_t', lanesIndexWords(w.indices, ctx.output.shape[0], ctx.inputs[0].shape[0], w.bits), 'indices') : null,
      },
      { name: 'out', value: outputStruct(ctx, l.threshold, pool, rq) },
    ] } },
    args: rq ? ['params', 'in', rq.skipArg, 'out', 'scratch'] : ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_lanes.c', 'bnn_bconv2d_lanes_t2.c', 'bnn_bconv2d_slice_t2.c', 'bnn_bconv2d_slice.h', 'bnn_bits.c', 'bnn_output.c', 'bnn_requant.c'],
    why: `lanes ${share ? 'shared codebook' : 'per kernel'}, batch ${plan.batch}${share && w.kind === 'codebook' ? `, ${lanesFields(w.bits)} indices a word` : ''}${plan.tileW < ctx.output.shape[2] ? `, column tiles of ${plan.tileW}` : ''}: est ${plan.estInstructions} vs ref ${ref}`,
    estInstructions: plan.estInstructions,
  };
}
