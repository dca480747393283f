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

const LANES_SCALE = 1.95;

/** Estimated Cortex-M4 instructions of bnn_bconv2d_b1_acc_lanes. */
export function lanesCost(C: number, H: number, W: number, O: number, OH: number, OW: number, n: number, share: boolean, batch: number): number {
  const R = Math.max(1, Math.min(OH, Math.floor(32 / OW)));
  const units = Math.ceil(OH / R);
  const batches = Math.ceil(C / batch);
  const transpose = C * H * W * 6 + C * H;
  const perUnitC = 60 * R + 190 + (share ? 42 * n : 0);
  const perPair = share ? 19 : 40;
  const perUnitO = 16 + 40 * batches + 13 * 32 + 6 * 32 * (1 / 1); // threshold + output transpose per position
  // Recalibrated against bench/results/standard.txt (GCC 12.2 -O2): the terms above undercount by a uniform ~1.95x.
  return Math.round(LANES_SCALE * (transpose + units * (600 + C * perUnitC + O * C * perPair + O * perUnitO)));
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

// ---- Bit-sliced codebook kernel (runtime-c/bnn_bconv2d_slice.c) ----

export interface SlicePlan {
  /** 0: bit-plane accumulation; 1: byte lanes folded into 16-bit lanes. */
  mode: 0 | 1;
  /** Mode 1 with at most 2 rows per unit: kernel-row counts kept for the next unit (C * 32 * (3 - R) words). */
  rowCache: boolean;
  /** Row cache as a ring of three slots for every channel (one batch, whole groups of 8 channels, DSP cores): no
   *  copies, codeword counts computed codeword by codeword across channels. */
  ring: boolean;
  /** Mode 1, one batch, every threshold a byte (M <= 255): saturating byte lanes on Thumb-2 DSP cores. */
  sat: boolean;
  rowsPerUnit: number;
  accBits: number;
  batch: number;
  indexBits: 4 | 8;
  scratchBytes: number;
  estInstructions: number;
}

export function sliceEligible(l: BConv2dLayer, x: TensorInfo, y: TensorInfo): string | null {
  const [C, H, W] = x.shape;
  const [, OH, OW] = y.shape;
  if (l.weights.kind !== 'codebook') return 'not a codebook layer';
  if (l.weights.codewords.length > 256) return 'more than 256 codewords';
  if (!l.threshold) return 'no threshold (i32 output)';
  if (l.kernel[0] !== 3 || l.kernel[1] !== 3) return 'kernel is not 3x3';
  if (l.stride[0] !== 1 || l.stride[1] !== 1) return 'stride is not 1';
  if (l.pad.top !== 1 || l.pad.left !== 1 || OH !== H || OW !== W) return 'padding is not "same" (1 on each side)';
  if (W > 32) return 'map wider than 32';
  if (sliceAccBits(C) > 16) return 'too many input channels';
  return null;
}

/** K: the accumulator's top bit; 2^K > 9 C. */
export function sliceAccBits(C: number): number {
  let K = 1;
  while (2 ** K <= 9 * C) K++;
  return K;
}

export function sliceScratchWords(C: number, H: number, O: number, n: number, batch: number, mode: 0 | 1, rowCache = false, R = 1, sat = false, ring = false): number {
  const q = mode ? 8 : 4;
  const a = mode ? 16 : sliceAccBits(C) + 1;
  const cache = mode && rowCache ? (ring ? C * 96 + 9 * n : C * 32 * (3 - R)) : 0;
  // Saturating path: per output an address per channel (rounded up to 16) and 10 start words; a zero block.
  const satWords = sat ? O * (Math.ceil(C / 16) * 16 + 10) + 8 : 0;
  return C * (H + 2) + (mode ? Math.ceil(batch / 8) * 8 : batch) * n * q + (batch < C ? O * a : 0) + 32 * Math.ceil(O / 32) + 32 + (mode ? 4 * n : n) + Math.floor(batch / 8) + cache + satWords;
}

/** The saturating path needs every output's match threshold M (start = 2^15 - M) to fit a byte. */
export function sliceSatEligible(start: Uint32Array): boolean {
  return start.every((v) => 32768 - (v & 0xffffff) <= 255);
}

/**
 * Estimated Cortex-M4 instructions of bnn_bconv2d_b1_b1_slice. Constants fitted to exact QEMU counts of the kernel's phases
 * (bench/profile-slice.ts: input transpose per R rows and channel word; per unit, with the border corrections computed
 * for the first, interior and last units only; per (channel, unit): row patterns and n codewords; per (output,
 * channel, unit); per (output, unit); output transpose per unit and output word) on the standard shapes, tau 3..5.
 * Mode 1 on Thumb-2 with DSP runs the assembly loops (shared counts for even n; per-output loop for n <= 16 and whole
 * groups of 8 channels), the other cases the C loops.
 */
export function sliceCost(C: number, H: number, W: number, O: number, n: number, batch: number, mode: 0 | 1, rowCache = false, sat = false, ring = false): number {
  const R = Math.max(1, Math.min(H, Math.floor(32 / W)));
  const units = Math.ceil(H / R);
  const batches = Math.ceil(C / batch);
  const tail = C % 8;
  const asmOut = mode === 1 && n <= 16 && tail === 0;
  const transpose = Math.ceil(H / R) * Math.ceil(C / 32) * (R === 1 ? 955 : 1000 + 220 * R);
  const perUnit = 400;
  const border = Math.min(units, 3) * (mode ? 3000 : 3000 + 300 * R);
  // Per kernel row: taps and row patterns ~145; a cached row costs two 32-word copies (~40) instead.
  const cached = mode && rowCache ? (3 - R) * (units - 1) / units : 0;
  // Ring: the new kernel rows (~145 each) and 24 instructions per codeword, no copies.
  const perUnitC = ring
    ? 60 + 24 * n + 145 * (3 - cached)
    : (mode ? (n % 2 === 0 ? 450 + 5 * R + 27 * n : 510 + 20 * R + 38 * n) : 250 + 18 * R + 30 * n) - 105 * cached;
  const perPair = sat ? 11 : asmOut ? 16.7 : mode ? 17.4 + (n > 16 ? 0.8 : 0) : 31.7 + (n > 16 ? 0.6 : 0);
  const perUnitO = sat ? 30 + 3 * Math.ceil(C / 16) : asmOut ? 128 + 30 * (batches - 1) : (mode ? 380 : 207) + 60 * (batches - 1) + tail * (mode ? 5 : 15);
  const perOutWord = mode ? 770 : 1200;
  return transpose + border + units * (perUnit + C * perUnitC + O * (C * perPair + perUnitO) + perOutWord * Math.ceil(O / 32));
}

export function planSlice(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, dsp = true): SlicePlan | null {
  if (sliceEligible(l, x, y)) return null;
  const [C, H, W] = x.shape;
  const [O] = y.shape;
  const n = (l.weights as Extract<BConv2dLayer['weights'], { kind: 'codebook' }>).codewords.length;
  const rowsPerUnit = Math.max(1, Math.min(H, Math.floor(32 / W)));
  const candidates = [C, ...Array.from({ length: Math.floor((C - 1) / 8) }, (_, i) => 8 * (Math.floor((C - 1) / 8) - i))];
  let best: SlicePlan | null = null;
  const satOk = dsp && sliceSatEligible(sliceStartWords(l.threshold!.value, l.threshold!.flip, C, 15));
  for (const mode of [0, 1] as const) {
    if (mode === 1 && 9 * C >= 2 ** 15) continue;
    for (const rowCache of mode === 1 && rowsPerUnit <= 2 && H > rowsPerUnit ? [true, false] : [false]) {
      for (const ring of rowCache && dsp && C % 8 === 0 ? [true, false] : [false]) {
        for (const sat of mode === 1 && satOk ? [true, false] : [false]) {
          for (const batch of sat || ring ? [C] : candidates) {
            const scratchBytes = 4 * sliceScratchWords(C, H, O, n, batch, mode, rowCache, rowsPerUnit, sat, ring);
            if (scratchLimit !== undefined && scratchBytes > scratchLimit) continue;
            const est = Math.round(sliceCost(C, H, W, O, n, batch, mode, rowCache, sat, ring));
            if (!best || est < best.estInstructions) best = { mode, rowCache, ring, sat, rowsPerUnit, accBits: mode ? 15 : sliceAccBits(C), batch, indexBits: n <= 16 ? 4 : 8, scratchBytes, estInstructions: est };
            break;
          }
        }
      }
    }
  }
  return best;
}

/** Index table of the slice kernel: [O][row words], entry (o, c) at bit (c * bits) & 31 of word (c * bits) >> 5. */
export function sliceIndexWords(indices: ArrayLike<number>, O: number, C: number, bits: 4 | 8): Uint32Array {
  const rowWords = Math.ceil((C * bits) / 32);
  const out = new Uint32Array(O * rowWords);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++) out[o * rowWords + ((c * bits) >> 5)] |= indices[o * C + c] << ((c * bits) & 31);
  return out;
}

/** Start values: bits 0..23 = 2^K - M, bit 24 = threshold value X odd, bit 25 = flip (see bnn_bconv2d_slice.c). */
export function sliceStartWords(thresh: ArrayLike<number>, flip: ArrayLike<number>, C: number, K: number): Uint32Array {
  const out = new Uint32Array(thresh.length);
  for (let o = 0; o < thresh.length; o++) {
    const f = flip[o] ? 1 : 0;
    const X = thresh[o] + f + 9 * C;
    const M = Math.min(Math.max(Math.ceil(X / 2), 0), 2 ** K);
    const odd = ((X % 2) + 2) % 2;
    out[o] = ((2 ** K - M) | (odd << 24) | (f << 25)) >>> 0;
  }
  return out;
}
