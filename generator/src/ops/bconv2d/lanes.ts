// The byte-lane kernel bnn_bconv2d_b1_acc_lanes (runtime-c/bnn_bconv2d_lanes.c): 3x3, stride 1, maps up to 32 wide,
// dense or codebook weights. Eligibility, working set, the cost model the planner compares with _ref and slice (cost
// constants are executed instructions per unit of work on the Cortex-M4 and the Cortex-M55, fitted to exact counts
// from the QEMU icount plugin, bench/results/), and the lowering.
import { packBits } from '../../ir/packing.ts';
import type { TensorInfo } from '../../ir/types.ts';
import { outputStruct } from '../shared/threshold.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import { kernelIds } from './codewords.ts';
import type { BConv2dLayer } from './index.ts';
import type { SliceCore } from './slice.ts';

export interface LanesPlan {
  share: boolean;
  batch: number;
  rowsPerUnit: number;
  scratchBytes: number;
  estInstructions: number;
}

/** Byte lanes hold up to 255: 28 counts of at most 9. */
export const MAX_BATCH = 28;

export function lanesEligible(l: BConv2dLayer, x: TensorInfo, y: TensorInfo): string | null {
  const [C, , W] = x.shape;
  const [, , OW] = y.shape;
  if (l.kernel[0] !== 3 || l.kernel[1] !== 3) return 'kernel is not 3x3';
  if (l.stride[0] !== 1 || l.stride[1] !== 1) return 'stride is not 1';
  if (W > 32 || OW > 32) return 'map wider than 32';
  if (9 * C > 65535) return 'too many input channels for 16-bit lanes';
  return null;
}

export function lanesScratchWords(C: number, H: number, O: number, n: number, share: boolean, batch: number): number {
  return C * H + 96 * (share ? 1 : batch) + (share ? batch * n * 8 : 0) + 17 * O + 32;
}

/** Cortex-M4 (also the other Thumb-2 cores and the M0): the terms in lanesCost, scaled. */
const LANES_SCALE = 1.95;

/**
 * Cortex-M55, instructions per unit of work: per input pixel and channel (transpose); per unit; per (unit, channel)
 * (row sums); per channel and output row (its tap rows); per (unit, channel, codeword) when shared; per (unit, output,
 * channel); per (unit, output, batch) (the fold into 16-bit lanes); per (unit, output) and per (output, position) of
 * the output stage, for i32 accumulators (acc) or thresholded bits (thr). Least-squares fit to exact mps3-an547 counts
 * of 109 layers (C 8..128, maps 2x2..32x32 and non-square, O != C, tau 4, 5 and dense, shared and per kernel,
 * threshold and i32 output, "same" and no padding: every one within 2.1 %), in line with a per-source-line profile.
 * Why not the M4's figures: gcc for v8.1-M turns the short inner loops into low-overhead loops (DLS/LE, no compare
 * and branch per iteration): the tap-row loops of the row sums take ~25 % fewer instructions than on the M4 and the
 * fold ~40 % fewer, and the i32 store loop passes a lane past the map's positions in 7 instructions, not 12. The M4's
 * scaled terms also charge the output stage 32 positions a unit whatever the map; together they overestimated the M55
 * by up to 46 % on small maps (1.26 on the 2x2 maps of ReActNet-ResNet-18).
 */
const LANES_M55 = {
  pixel: 16, unit: 3700, chanUnit: 445, chanRow: 166, codeword: 65, pairShared: 32, pairOwn: 77, outBatch: 89,
  outAcc: 294, posAcc: 9.2, outThr: 554, posThr: 7.9,
};

/** Estimated instructions of bnn_bconv2d_b1_acc_lanes on `core` ('m0' takes the M4's figures); `thresholded`: the
 *  output is thresholded bits (else i32 accumulators). */
export function lanesCost(C: number, H: number, W: number, O: number, OH: number, OW: number, n: number, share: boolean, batch: number, core: SliceCore = 'm4', thresholded = true): number {
  const R = Math.max(1, Math.min(OH, Math.floor(32 / OW)));
  const units = Math.ceil(OH / R);
  const batches = Math.ceil(C / batch);
  if (core === 'm55') {
    const k = LANES_M55;
    const [out, pos] = thresholded ? [k.outThr, k.posThr] : [k.outAcc, k.posAcc];
    const perUnitC = k.chanUnit + (share ? k.codeword * n : 0);
    const perUnitO = C * (share ? k.pairShared : k.pairOwn) + k.outBatch * batches + out;
    return Math.round(C * H * W * k.pixel + C * OH * k.chanRow + units * (k.unit + C * perUnitC + O * perUnitO) + O * OH * OW * pos);
  }
  const transpose = C * H * W * 6 + C * H;
  const perUnitC = 60 * R + 190 + (share ? 42 * n : 0);
  const perPair = share ? 19 : 40;
  const perUnitO = 16 + 40 * batches + 13 * 32 + 6 * 32 * (1 / 1); // threshold + output transpose per position
  // Recalibrated against bench/results/standard.txt (GCC 12.2 -O2): the terms above undercount by a uniform ~1.95x.
  return Math.round(LANES_SCALE * (transpose + units * (600 + C * perUnitC + O * C * perPair + O * perUnitO)));
}

export function planLanes(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, preferShare = false, core: SliceCore = 'm4'): LanesPlan | null {
  if (lanesEligible(l, x, y)) return null;
  const [C, H, W] = x.shape;
  const [O, OH, OW] = y.shape;
  const n = l.weights.kind === 'codebook' ? l.weights.codewords.length : 0;
  const rowsPerUnit = Math.max(1, Math.min(OH, Math.floor(32 / OW)));
  let best: LanesPlan | null = null;
  for (const share of l.weights.kind === 'codebook' && n <= 256 ? [true, false] : [false]) {
    for (let batch = Math.min(MAX_BATCH, C); batch >= 1; batch--) {
      const scratchBytes = 4 * lanesScratchWords(C, H, O, n, share, batch);
      if (scratchLimit !== undefined && scratchBytes > scratchLimit) continue;
      const est = lanesCost(C, H, W, O, OH, OW, n, share, batch, core, !!l.threshold);
      if (!best || (preferShare ? share && !best.share : est < best.estInstructions)) best = { share, batch, rowsPerUnit, scratchBytes, estInstructions: est };
      break; // the largest batch that fits is the cheapest for this variant
    }
  }
  return best;
}

/** The lanes kernel for a plan (planLanes); `ref` is the _ref estimate, for the reason shown in reports. */
export function lowerLanes(l: BConv2dLayer, ctx: LowerContext, plan: LanesPlan, ref: number, pool?: CStruct): Lowering {
  const w = l.weights;
  const share = plan.share && w.kind === 'codebook';
  return {
    kernel: 'bnn_bconv2d_b1_acc_lanes',
    params: { type: 'bnn_bconv2d_lanes_params_t', value: { fields: [
      { name: 'g', value: windowStruct(ctx.inputs[0], ctx.output, l) },
      { name: 'pad_value', value: l.padValue },
      { name: 'rows_per_unit', value: plan.rowsPerUnit },
      { name: 'share', value: share ? 1 : 0 },
      { name: 'batch', value: plan.batch },
      // Weights stay as compact as for _ref: tau-bit indices into the codebook, or 9-bit kernel ids for plain weights.
      { name: 'n_codewords', value: w.kind === 'codebook' ? w.codewords.length : 0 },
      { name: 'index_bits', value: w.kind === 'codebook' ? w.bits : 9 },
      { name: 'codewords', value: w.kind === 'codebook' ? ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') : null },
      {
        name: 'indices',
        value: w.kind === 'codebook'
          ? ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices')
          : ctx.table('kernels', 'uint8_t', packBits(kernelIds(l), 9, 1), 'binary'),
      },
      { name: 'out', value: outputStruct(ctx, l.threshold, pool) },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_lanes.c', 'bnn_output.c'],
    why: `lanes ${share ? 'shared codebook' : 'per kernel'}, batch ${plan.batch}: est ${plan.estInstructions} vs ref ${ref}`,
    estInstructions: plan.estInstructions,
  };
}
