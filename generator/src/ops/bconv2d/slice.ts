// The bit-sliced codebook kernel bnn_bconv2d_b1_b1_slice (runtime-c/bnn_bconv2d_slice.c, docs/kernels.md): 3x3,
// stride 1, "same" padding, a codebook and a threshold, maps up to 32 wide. Eligibility, the working set (the C
// companion bnn_bconv2d_b1_b1_slice_scratch_words computes the same), the cost model fitted to exact QEMU counts, the
// weight and start tables, and the lowering.
import type { TensorInfo } from '../../ir/types.ts';
import { windowStruct } from '../shared/window.ts';
import type { Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer, CodebookWeights } from './index.ts';

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
  const n = (l.weights as CodebookWeights).codewords.length;
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

/** The sliced kernel for a plan (planSlice); `why` adds the estimates it beat. */
export function lowerSlice(l: BConv2dLayer, ctx: LowerContext, plan: SlicePlan, why: string): Lowering | null {
  const x = ctx.inputs[0];
  const w = l.weights;
  if (w.kind !== 'codebook' || !l.threshold) return null;
  const [C] = x.shape;
  const [O] = ctx.output.shape;
  return {
    kernel: 'bnn_bconv2d_b1_b1_slice',
    params: { type: 'bnn_bconv2d_slice_params_t', value: { fields: [
      { name: 'g', value: windowStruct(x, ctx.output, l) },
      { name: 'pad_value', value: l.padValue },
      { name: 'rows_per_unit', value: plan.rowsPerUnit },
      { name: 'acc_bits', value: plan.accBits },
      { name: 'mode', value: plan.mode },
      { name: 'row_cache', value: plan.ring ? 2 : plan.rowCache ? 1 : 0 },
      { name: 'sat', value: plan.sat ? 1 : 0 },
      { name: 'n_codewords', value: w.codewords.length },
      { name: 'batch', value: plan.batch },
      { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
      { name: 'indices', value: ctx.table('indices', 'uint32_t', sliceIndexWords(w.indices, O, C, plan.indexBits), 'indices') },
      { name: 'start', value: ctx.table('start', 'uint32_t', sliceStartWords(l.threshold.value, l.threshold.flip, C, plan.accBits), 'thresholds') },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_slice.c', 'bnn_bconv2d_slice_t2.c', 'bnn_bconv2d_slice.h'],
    why: `bit-sliced codebook, ${plan.mode ? 'byte lanes' : 'bit planes'}${plan.ring ? ', row ring' : plan.rowCache ? ', row cache' : ''}${plan.sat ? ', saturating' : ''}, batch ${plan.batch}, ${plan.indexBits}-bit indices: est ${plan.estInstructions}${why}`,
    estInstructions: plan.estInstructions,
  };
}
