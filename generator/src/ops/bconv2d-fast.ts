// Fast binary 3x3 convolution (runtime-c/bnn_bconv2d_lanes.c): eligibility, working set and the cost model the
// generator uses to choose between it and the portable _ref kernels. Cost constants are executed Cortex-M4
// instructions per unit of work, fitted to exact counts from the QEMU icount plugin (bench/results/).
import type { BConv2dLayer, TensorInfo } from '../model/ir.ts';

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

/** Estimated Cortex-M4 instructions of bnn_bconv2d_lanes. */
export function lanesCost(C: number, H: number, W: number, O: number, OH: number, OW: number, n: number, share: boolean, batch: number): number {
  const R = Math.max(1, Math.min(OH, Math.floor(32 / OW)));
  const units = Math.ceil(OH / R);
  const batches = Math.ceil(C / batch);
  const transpose = C * H * W * 6 + C * H;
  const perUnitC = 60 * R + 190 + (share ? 42 * n : 0);
  const perPair = share ? 19 : 40;
  const perUnitO = 16 + 40 * batches + 13 * 32 + 6 * 32 * (1 / 1); // threshold + output transpose per position
  return transpose + units * (600 + C * perUnitC + O * C * perPair + O * perUnitO);
}

/** Estimated Cortex-M4 instructions of the _ref kernels (same fitting). */
export function refCost(l: BConv2dLayer, C: number, O: number, OH: number, OW: number): number {
  const P = OH * OW;
  const taps = l.kernel[0] * l.kernel[1];
  if (l.weights.kind === 'codebook') {
    const n = l.weights.codewords.length;
    const share = n < O;
    return P * (C * (taps * 16 + 10 + (share ? n * 18 + O * 16 : O * 30)) + O * 20);
  }
  const words = Math.ceil(C / 32);
  return P * O * (taps * (words * 22 + 12) + 20);
}

export function planLanes(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, preferShare = false): LanesPlan | null {
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
      const est = lanesCost(C, H, W, O, OH, OW, n, share, batch);
      if (!best || (preferShare ? share && !best.share : est < best.estInstructions)) best = { share, batch, rowsPerUnit, scratchBytes, estInstructions: est };
      break; // the largest batch that fits is the cheapest for this variant
    }
  }
  return best;
}
