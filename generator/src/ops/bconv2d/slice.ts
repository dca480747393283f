// The bit-sliced codebook kernel bnn_bconv2d_b1_b1_slice (runtime-c/bnn_bconv2d_slice.c, docs/kernels.md): 3x3,
// stride 1, "same" padding, a codebook and a threshold, maps up to 32 wide. Eligibility, the working set (the C
// companion bnn_bconv2d_b1_b1_slice_scratch_words computes the same), the cost model fitted to exact QEMU counts, the
// weight and start tables, and the lowering.
import type { TensorInfo } from '../../ir/types.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer, CodebookWeights } from './index.ts';
import type { CostCore } from './cost-core.ts';

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
  /** Mode 1, one batch, Thumb-2 DSP cores, any threshold: the saturating path's per-output address records and loop
   *  with plain byte adds folded into 16-bit lanes every 24 channels. */
  wide: boolean;
  rowsPerUnit: number;
  accBits: number;
  batch: number;
  /** Output channels per pass over the input channels (O, or a multiple of 8): fewer keep fewer accumulators but
   *  compute the shared counts once per group. */
  outGroup: number;
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

/** A working set of the kernel: what the planner chooses besides the mode. */
export interface SliceShape {
  C: number;
  H: number;
  W: number;
  O: number;
  n: number;
  /** A max pool fused into the output stage (each position's words ORed into the pooled map). */
  pooled?: boolean;
}
export interface SliceWorkingSet {
  mode: 0 | 1;
  batch: number;
  outGroup: number;
  rowCache?: boolean;
  ring?: boolean;
  sat?: boolean;
  wide?: boolean;
}

export const sliceRowsPerUnit = (H: number, W: number): number => Math.max(1, Math.min(H, Math.floor(32 / W)));

/** Scratch words, as bnn_bconv2d_b1_b1_slice_scratch_words computes them (see there for the layout). */
export function sliceScratchWords(s: SliceShape, w: SliceWorkingSet): number {
  const { C, H, W, O, n } = s;
  const { mode, batch } = w;
  const R = sliceRowsPerUnit(H, W);
  const G = Math.min(w.outGroup, O);
  const whole = G === O;
  const q = mode ? 8 : 4;
  const a = mode ? 16 : sliceAccBits(C) + 1;
  const cache = whole && mode && (w.rowCache || w.ring) ? (w.ring ? C * 96 + 9 * n : C * 32 * (3 - R)) : 0;
  // Saturating path: per output an address per channel (rounded up to 16) and 10 start words; a zero block. The wide
  // path: channels rounded up to 8, 18 start words.
  const satWords = !whole ? 0 : w.wide ? O * (Math.ceil(C / 8) * 8 + 18) + 8 : w.sat ? O * (Math.ceil(C / 16) * 16 + 10) + 8 : 0;
  // Working memory kept off the stack: the unit struct (48 words), one accumulator with a single batch (17), mode 1's
  // kernel-row counts (96) or mode 0's row patterns (48).
  const work = 48 + (batch >= C ? 17 : 0) + (mode ? 96 : 48);
  return C * (R + 2) + (mode ? Math.ceil(batch / 8) * 8 : batch) * n * q + (batch < C ? G * a : 0) + 32 * Math.ceil(O / 32) + 32 + (mode ? 4 * n : n) + Math.floor(batch / 8) + work + cache + satWords;
}

/** The saturating path needs every output's match threshold M (start = 2^15 - M) to fit a byte. */
export function sliceSatEligible(start: Uint32Array): boolean {
  return start.every((v) => 32768 - (v & 0xffffff) <= 255);
}

/**
 * Estimated instructions of bnn_bconv2d_b1_b1_slice. Constants fitted to exact QEMU counts of the kernel's phases
 * (bench/profile-slice.ts: input band per unit and channel word; per unit, with the border corrections computed for
 * the first, interior and last units only; per (channel, unit, output group): row patterns and n codewords; per
 * (output, channel, unit); per (output, unit); output transpose per unit and output word) on the standard shapes,
 * tau 3..5, on mps2-an386 (M4) and microbit (M0). On the M4, mode 1 runs the assembly loops (shared counts for even n;
 * per-output loop for n <= 16 and whole groups of 8 channels), elsewhere the C loops.
 */
export function sliceCost(s: SliceShape, w: SliceWorkingSet, core: CostCore = 'm4'): number {
  const { C, H, W, O, n } = s;
  const { mode, batch } = w;
  const rowCache = !!w.rowCache, wide = !!w.wide, sat = !!w.sat && !wide, ring = !!w.ring;
  const R = sliceRowsPerUnit(H, W);
  const units = Math.ceil(H / R);
  const batches = Math.ceil(C / batch);
  const groups = Math.ceil(O / Math.min(w.outGroup, O));
  // Channels past the whole groups of 8 of each batch take the one-channel loop.
  const tail = (batches - 1) * (batch % 8) + ((C - (batches - 1) * batch) % 8);
  const words = Math.ceil(C / 32);
  if (core === 'm0') {
    // C loops only; Thumb-1: two-operand logic on 8 low registers, no shifted operands. A cached kernel row saves
    // little here (the copy costs nearly what the row's patterns do).
    const transpose = (units + 1) * words * (R === 1 ? M0.transpose1 : M0.transposeR + M0.transposeRow * R) + units * C * M0.shift;
    const border = Math.min(units, 3) * (mode ? M0.border1 : M0.border0 + M0.border0Row * R);
    const cached = mode && rowCache ? (3 - R) * (units - 1) / units : 0;
    const perUnitC = (mode ? M0.shared1 + M0.shared1Row * R + M0.sharedCw1 * n : M0.shared0 + M0.shared0Row * R + M0.sharedCw0 * n) - M0.cachedRow * cached;
    const perPair = mode ? M0.pair1 : M0.pair0 + (n <= 8 ? M0.pair0Cw8 : 0);
    const perUnitO = (mode ? M0.out1 : M0.out0) + (mode ? M0.outBatch1 : M0.outBatch) * (batches - 1) + tail * (mode ? M0.tail1 : M0.tail0);
    const perOutWord = M0.otrans + (s.pooled ? R * W * M0.poolPos : 0);
    return transpose + border + units * ((mode ? M0.unit1 : M0.unit0) + groups * C * perUnitC + O * (C * perPair + perUnitO) + perOutWord * Math.ceil(O / 32));
  }
  const asmOut = mode === 1 && n <= 16 && tail === 0;
  const mve = core === 'm55';
  const transpose = ((units + 1) * words * (R === 1 ? 955 : 1000 + 220 * R) + units * C * 6) * (mve ? MVE.transpose : 1);
  const perUnit = 400;
  const border = Math.min(units, 3) * (mode ? 3000 : 3000 + 300 * R);
  // Per kernel row: taps and row patterns ~145; a cached row costs two 32-word copies (~40) instead.
  const cached = mode && rowCache ? (3 - R) * (units - 1) / units : 0;
  // Ring: the new kernel rows (~145 each) and 24 instructions per codeword, no copies.
  const perUnitC = mve && ring ? MVE.ring + MVE.ringCw * n + (R === 1 ? MVE.ringRow1 : R === 2 ? MVE.ringRow2 : MVE.ringRow + MVE.ringRowR * R) * (3 - cached)
    : mve && mode ? MVE.shared + MVE.sharedCw * n - MVE.cachedRow * cached
    : ring ? 60 + 24 * n + 145 * (3 - cached)
    : (mode ? (n % 2 === 0 ? 450 + 5 * R + 27 * n : 510 + 20 * R + 38 * n) : 250 + 18 * R + 30 * n) - 105 * cached;
  // Wide: 11 per pair and the loop every 8 channels (fitted: 12.75), a chunk of 24 channels ~7, a fold ~37, the gather ~60.
  const chunks = Math.ceil(Math.ceil(C / 8) / 3);
  // The Helium loops run over the padded channels (sat: multiples of 16, wide: of 8).
  const c16 = Math.ceil(C / 16) * 16, c8 = Math.ceil(C / 8) * 8;
  const perPair = mve && wide ? MVE.widePair * c8 / C : mve && sat ? MVE.satPair * c16 / C : wide ? 12.75 : sat ? 11 : asmOut ? 16.7 : mode ? 17.4 + (n > 16 ? 0.8 : 0) : 31.7 + (n > 16 ? 0.6 : 0);
  // A batch after the first costs the assembly loop a call, its setup and a fold of the 16 lane words (~115).
  const perUnitO = mve && wide ? MVE.wideOut + MVE.chunk * chunks : mve && sat ? MVE.satOut : wide ? 75 + 7 * chunks + 37 * (chunks - 1) - 9 * chunks : sat ? 30 + 3 * Math.ceil(C / 16) : asmOut ? 128 + 115 * (batches - 1) : (mode ? 380 : 207) + 60 * (batches - 1) + tail * (mode ? 5 : 51);
  // A fused max pool ORs each position's word into its pooled word, found once per unit (POOL.unit) instead of storing
  // it (POOL.word more per output word).
  const perOutWord = (mode ? (mve ? MVE.otrans : 770) : 1200) + (s.pooled ? POOL.word : 0);
  // The records' count-word addresses, written once per layer (~5.5 per address; in vectors on the M55); the wide
  // path's start words once per kind of unit (first, interior, last).
  const records = (wide ? O * c8 : sat ? O * c16 : 0) * (mve ? MVE.address : 5.5) + (mve && wide ? Math.min(units, 3) * O * MVE.wideStart : 0);
  return records + transpose + border + units * (perUnit + (s.pooled ? POOL.unit : 0) + groups * C * perUnitC + O * (C * perPair + perUnitO) + perOutWord * Math.ceil(O / 32));
}

/** Fused max pool (Thumb-2): the pooled words of a unit's positions, then one OR per position and output word. */
const POOL = { unit: 700, word: 450 };

/** M55 constants of the Helium loops (bnn_bconv2d_slice_mve.c), fitted to mps3-an547 counts (bench/profile-slice.ts
 *  ... mps3-an547): per (output, padded channel) pair and per output and unit of the record loops (a chunk of 24
 *  channels: its setup and fold); per (channel, unit) of the shared counts (ring: per codeword and new kernel row;
 *  else per codeword, the three rows included); per record address; the wide start words per output and kind of
 *  unit; the C transposes against the M4's; the output transpose per unit and output word. */
const MVE = {
  widePair: 4.51, wideOut: 34, chunk: 17, satPair: 4.45, satOut: 22,
  ring: 7, ringCw: 9.5, ringRow1: 60, ringRow2: 65, ringRow: 60, ringRowR: 11, shared: 339, sharedCw: 14, cachedRow: 100,
  address: 2.2, wideStart: 37, transpose: 0.94, otrans: 1010,
};

/** M0 constants (instructions), fitted per phase to microbit counts (bench/profile-slice.ts C H W TAU 0 microbit
 *  cortex-m0) of 15 bit-plane (mode 0) and 6 byte-lane (mode 1) layers, 32..128 channels, 8x8..32x32, tau 3..5; with
 *  them every layer's estimate is within 2.1 % of its executed count, 256x4x4 and 16x32x32 (held out) included.
 *  Bit planes: 4-bit indices of 8 codewords take 6 more a pair (n > 16 costs the same as 16). */
const M0 = {
  transpose1: 1526, transposeR: 1579, transposeRow: 220, shift: 10,
  border0: 5183, border0Row: 451, border1: 4456,
  unit0: 479, unit1: 240,
  shared0: 377, shared0Row: 21, sharedCw0: 53.3, shared1: 689, shared1Row: 17.4, sharedCw1: 64.2, cachedRow: 13,
  pair0: 63, pair0Cw8: 6.4, pair1: 23.5,
  out0: 307, out1: 678, outBatch: 105.6, outBatch1: 271, tail0: 51, tail1: 10,
  otrans: 1330, poolPos: 60,
};

export function planSlice(l: BConv2dLayer, x: TensorInfo, y: TensorInfo, scratchLimit?: number, dsp = true, core: CostCore = 'm4', pooled = false): SlicePlan | null {
  if (sliceEligible(l, x, y)) return null;
  const [C, H, W] = x.shape;
  const [O] = y.shape;
  const n = (l.weights as CodebookWeights).codewords.length;
  const shape: SliceShape = { C, H, W, O, n, pooled };
  const rowsPerUnit = sliceRowsPerUnit(H, W);
  // Batches: all channels, whole groups of 8, or 4 (channel tails only: the smallest count memory).
  const batches = [C, ...Array.from({ length: Math.floor((C - 1) / 8) }, (_, i) => 8 * (Math.floor((C - 1) / 8) - i)), ...(C > 4 ? [4] : [])];
  const groups = [O, ...Array.from({ length: Math.floor((O - 1) / 8) }, (_, i) => 8 * (Math.floor((O - 1) / 8) - i))];
  let best: SlicePlan | null = null;
  const satOk = dsp && sliceSatEligible(sliceStartWords(l.threshold!.value, l.threshold!.flip, C, 15));
  for (const mode of [0, 1] as const) {
    if (mode === 1 && 9 * C >= 2 ** 15) continue;
    for (const outGroup of groups) {
      const whole = outGroup === O;
      for (const rowCache of whole && mode === 1 && rowsPerUnit <= 2 && H > rowsPerUnit ? [true, false] : [false]) {
        // The ring also serves units of more than 2 rows (nothing to reuse): every channel's rows, then the counts
        // codeword by codeword.
        for (const ring of (rowCache || rowsPerUnit > 2) && whole && mode === 1 && dsp && C % 8 === 0 ? [true, false] : [false]) {
          // Output records: saturating bytes (thresholds <= 255), wide lanes (any), or none.
          const records = whole && mode === 1 && dsp ? [...(satOk ? ['sat'] : []), 'wide', ''] : [''];
          for (const rec of records) {
            const sat = rec === 'sat', wide = rec === 'wide';
            // The largest batch that fits: fewer batches cost less.
            for (const batch of rec || ring ? [C] : batches) {
              const ws: SliceWorkingSet = { mode, batch, outGroup, rowCache, ring, sat, wide };
              const scratchBytes = 4 * sliceScratchWords(shape, ws);
              if (scratchLimit !== undefined && scratchBytes > scratchLimit) continue;
              const est = Math.round(sliceCost(shape, ws, core));
              if (!best || est < best.estInstructions) best = { mode, rowCache, ring, sat, wide, rowsPerUnit, accBits: mode ? 15 : sliceAccBits(C), batch, outGroup, indexBits: n <= 16 ? 4 : 8, scratchBytes, estInstructions: est };
              break;
            }
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
export function lowerSlice(l: BConv2dLayer, ctx: LowerContext, plan: SlicePlan, why: string, pool?: CStruct): Lowering | null {
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
      { name: 'sat', value: plan.wide ? 2 : plan.sat ? 1 : 0 },
      { name: 'n_codewords', value: w.codewords.length },
      { name: 'batch', value: plan.batch },
      ...(pool ? [{ name: 'pool', value: pool }] : []),
      { name: 'out_group', value: plan.outGroup },
      { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
      { name: 'indices', value: ctx.table('indices', 'uint32_t', sliceIndexWords(w.indices, O, C, plan.indexBits), 'indices') },
      { name: 'start', value: ctx.table('start', 'uint32_t', sliceStartWords(l.threshold.value, l.threshold.flip, C, plan.accBits), 'thresholds') },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_slice.c', 'bnn_bconv2d_slice_t1.c', 'bnn_bconv2d_slice_t2.c', 'bnn_bconv2d_slice_mve.c', 'bnn_bconv2d_slice.h', 'bnn_output.c', 'bnn_requant.c', 'bnn_bits.c'],
    why: `bit-sliced codebook, ${plan.mode ? 'byte lanes' : 'bit planes'}${plan.ring ? ', row ring' : plan.rowCache ? ', row cache' : ''}${plan.sat ? ', saturating' : plan.wide ? ', wide lanes' : ''}, batch ${plan.batch}${plan.outGroup < O ? `, ${Math.ceil(O / plan.outGroup)} output groups of ${plan.outGroup}` : ''}, ${plan.indexBits}-bit indices: est ${plan.estInstructions}${why}`,
    estInstructions: plan.estInstructions,
  };
}
