// Thresholds (docs/semantics.md §7): a binary layer's int32 accumulator becomes +1 iff (flip ? acc <= T : acc >= T).
// Shared by every op that ends in one: checks, the reference, the model file, the C output struct, report bits.
import type { BlobReader, BlobWriter } from '../../ir/blob.ts';
import type { Rand } from '../../ir/random.ts';
import type { ThresholdSpec } from '../../ir/spec.ts';
import type { Tensor } from '../../ir/tensor.ts';
import type { DType, Shape, Threshold } from '../../ir/types.ts';
import type { Arg, CStruct, LowerContext } from '../types.ts';
import { check } from '../../core/errors.ts';
import { checkLength } from './checks.ts';

/** The output type a threshold gives: b1 with one, i32 without. */
export function checkThreshold(t: Threshold | undefined, o: number, at: string): DType {
  if (!t) return 'i32';
  checkLength(t.value, o, `${at}.threshold.value`);
  checkLength(t.flip, o, `${at}.threshold.flip`);
  for (let i = 0; i < o; i++) check(t.flip[i] <= 1, `${at}.threshold.flip[${i}]`, `must be 0 or 1, got ${t.flip[i]}`);
  return 'b1';
}

/** The reference: accumulators [O, H, W] to b1 through the threshold, or kept as i32 without one. */
export function applyThreshold(acc: Int32Array, shape: Shape, t: Threshold | undefined): Tensor {
  if (!t) return { dtype: 'i32', shape, data: acc };
  const plane = shape[1] * shape[2];
  const out = new Int8Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const o = Math.floor(i / plane);
    const v = acc[i];
    const on = t.flip[o] ? v <= t.value[o] : v >= t.value[o];
    out[i] = on ? 1 : -1;
  }
  return { dtype: 'b1', shape, data: out };
}

export function readThreshold(blob: BlobReader, t: ThresholdSpec | undefined, at: string): Threshold | undefined {
  if (!t) return undefined;
  return { value: blob.i32(t.value, `${at}.threshold.value`), flip: blob.bits(t.flip, `${at}.threshold.flip`) };
}

/** The entry's threshold field (absent without one). */
export function writeThreshold(blob: BlobWriter, t: Threshold | undefined): { threshold?: ThresholdSpec } {
  return t ? { threshold: { value: blob.i32(t.value, [t.value.length]), flip: blob.packed(t.flip, 1, [t.flip.length]) } } : {};
}

/** Flip flags as bit words: bit o of word o >> 5. */
export function flipWords(flip: Uint8Array): Uint32Array {
  const w = new Uint32Array(Math.ceil(flip.length / 32));
  flip.forEach((f, o) => {
    if (f) w[o >> 5] |= 1 << (o & 31);
  });
  return w;
}

/** bnn_output_t: the thresholds and flip words, or NULLs for an s32 output; with a fused max pool, its bnn_pool_t. */
/** A requant fused into an accumulating kernel's output: its params (accumulator first), the skip map's argument (or
 *  NULL for one input) and that map's C kind (bnn_runtime.h's BNN_SKIP_*: 0 int8 or none, 1 int32, 2 int16). */
export interface FusedRequant {
  params: CStruct;
  skipArg: Arg;
  skipKind: 0 | 1 | 2;
  /** int16 output (the kernels' _s16_ entry points), else int8. */
  wide: boolean;
}

export function outputStruct(ctx: LowerContext, t: Threshold | undefined, pool?: CStruct, rq?: FusedRequant): CStruct {
  // A fused requant (int8 or int16 output): its params, and the kind of the skip map it adds.
  if (rq) return { fields: [{ name: 'thresh', value: null }, { name: 'flip', value: null }, { name: 'rq', value: rq.params }, { name: 'skip_kind', value: rq.skipKind }] };
  if (!t) return { inline: true, fields: [{ name: 'thresh', value: null }, { name: 'flip', value: null }] };
  const thresh = ctx.table('thresh', 'int32_t', t.value, 'thresholds');
  const flip = ctx.table('flip', 'uint32_t', flipWords(t.flip), 'thresholds');
  return { inline: true, fields: [{ name: 'thresh', value: thresh }, { name: 'flip', value: flip }, ...(pool ? [{ name: 'pool', value: pool }] : [])] };
}

/** Report bits: a 32-bit threshold and a flip bit per channel. */
export function thresholdBits(t: Threshold | undefined): number {
  return t ? 33 * t.value.length : 0;
}

/** A threshold whose values sit inside the accumulator range (|acc| <= range), so outputs are mixed +1/-1. */
export function randomThreshold(r: Rand, O: number, range: number): Threshold {
  const value = new Int32Array(O);
  const flip = new Uint8Array(O);
  for (let o = 0; o < O; o++) {
    value[o] = r.int(-Math.ceil(range / 4), Math.ceil(range / 4));
    flip[o] = r.bool(0.25) ? 1 : 0;
  }
  return { value, flip };
}
