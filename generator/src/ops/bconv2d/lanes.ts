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
export function lanesScratchWords(C: number, H: number, O: number, n: number, share: boolean, batch: number, bits = 0): number {
  const F = share ? lanesFields(bits) : 1;
  return C * H + 96 * (share ? 1 : batch) + (share ? (batch / F) * n * lanesSlots(F) * 8 + 3 * n : 0) + 17 * O + 32;
}

/**
 * Instructions per unit of work: per input pixel and channel (transpose); per unit; per (unit, channel) (row sums);
 * per channel and output row (its tap rows); per (unit, channel, codeword) when shared; per (unit, output, channel);
 * per (unit, output, batch) (the fold into 16-bit lanes); per (unit, output) and per (output, position) of the output
 * stage, for i32 accumulators (acc) or thresholded bits (thr). Least-squares fits to exact QEMU counts, each core on
 * its own: 'm4' on mps2-an386, 'm7' on mps2-an500 and 'm0' (ARMv6-M code) on mps2-an385, 95 layers each (C 8..128,
 * maps 2x2..32x32 and non-square, O != C, tau 3..6 and dense, shared and per kernel, smaller batches, threshold and
 * i32 output, "same" and no padding, pad value 0 and +-1), each within 1.8 % of every one and of 46 held-out layers of
 * other shapes; 'm55' on mps3-an547, 109 layers, within 2.1 %. The M4's figures serve the M3 and M33 within 2.5 %, but
 * for their cheaper i32 output stage (up to 7 % over on 2x2 maps). Why per core and per term: the M0 takes ~1.4x the
 * M4's instructions (no Thumb-2 data processing: shifts, masks and constants cost extra instructions); gcc for v8.1-M
 * turns the M55's short inner loops into low-overhead loops (the row sums' tap-row loops ~25 % fewer instructions than
 * on the M4, the fold ~40 % fewer); and the output stage runs per position of the map, not 32 a unit: one scale of the
 * terms for every Thumb-2 core, as before, was off by 0.82..1.18 on the M4 and by up to 46 % on the M55.
 */
interface LanesConstants {
  pixel: number; unit: number; chanUnit: number; chanRow: number; codeword: number; pairShared: number; pairOwn: number; outBatch: number;
  outAcc: number; posAcc: number; outThr: number; posThr: number;
}
const LANES: Record<CostCore, LanesConstants> = {
  m4: {
    pixel: 17.9, unit: 3930, chanUnit: 713, chanRow: 180, codeword: 68.2, pairShared: 34.8, pairOwn: 74.6, outBatch: 125,
    outAcc: 446, posAcc: 4.1, outThr: 573, posThr: 7.7,
  },
  m7: {
    pixel: 17.4, unit: 4040, chanUnit: 728, chanRow: 155, codeword: 68.3, pairShared: 34.8, pairOwn: 74.6, outBatch: 125,
    outAcc: 411, posAcc: 5.3, outThr: 570, posThr: 8.1,
  },
  m0: {
    pixel: 27.6, unit: 5120, chanUnit: 955, chanRow: 222, codeword: 95.5, pairShared: 55.8, pairOwn: 106, outBatch: 176,
    outAcc: 522, posAcc: 9.3, outThr: 771, posThr: 6.7,
  },
  m55: {
    pixel: 16, unit: 3700, chanUnit: 445, chanRow: 166, codeword: 65, pairShared: 32, pairOwn: 77, outBatch: 89,
    outAcc: 294, posAcc: 9.2, outThr: 554, posThr: 7.9,
  },
};

/** Estimated instructions of bnn_bconv2d_b1_acc_lanes on `core`; `thresholded`: the output is thresholded bits (else
 *  i32 accumulators). */
export function lanesCost(C: number, H: number, W: number, O: number, OH: number, OW: number, n: number, share: boolean, batch: number, core: CostCore = 'm4', thresholded = true, sw = 1): number {
  // Column tiles (and stride 2 across): each as a map of its own width, transposing the tile's input columns.
  const tw = lanesTileWidth(W, OW, sw);
  if (tw < OW || sw !== 1) {
    let sum = 0;
    for (let x0 = 0; x0 < OW; x0 += tw) {
      const t = Math.min(tw, OW - x0);
      sum += lanesCost(C, H, Math.min(W, sw * t + 3 - sw), O, OH, t, n, share, batch, core, thresholded);
    }
    return sum;
  }
  const R = Math.max(1, Math.min(OH, Math.floor(32 / OW)));
  const units = Math.ceil(OH / R);
  const batches = Math.ceil(C / batch);
  const k = LANES[core];
  const [out, pos] = thresholded ? [k.outThr, k.posThr] : [k.outAcc, k.posAcc];
  const perUnitC = k.chanUnit + (share ? k.codeword * n : 0);
  const perUnitO = C * (share ? k.pairShared : k.pairOwn) + k.outBatch * batches + out;
  return Math.round(C * H * W * k.pixel + C * OH * k.chanRow + units * (k.unit + C * perUnitC + O * perUnitO) + O * OH * OW * pos);
}

export function planLanes(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, preferShare = false, core: CostCore = 'm4'): LanesPlan | null {
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
      const scratchBytes = 4 * lanesScratchWords(C, H * sw, O, n, share, batch, bits);
      if (scratchLimit !== undefined && scratchBytes > scratchLimit) continue;
      const est = lanesCost(C, H, W, O, OH, OW, n, share, batch, core, !!l.threshold, sw);
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
    kernel: rq ? 'bnn_bconv2d_b1_s8_lanes' : 'bnn_bconv2d_b1_acc_lanes',
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
