// Helpers of the ops' int8-path conversions (OpDef.quantize; quantize/int8.ts runs them).
import type { Int8Context, Int8Form } from '../types.ts';

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
/** Clamped to the int32 range (thresholds and tables folded from real values). */
export const clamp32 = (v: number) => Math.min(INT32_MAX, Math.max(INT32_MIN, v));

/** int8 weights with one scale per output channel: w ≈ delta[o] * q, delta[o] = max |w_o| / 127 (round half up); with
 *  bits 16, int16 weights on 32767 steps a side. */
export function int8Weights(w: Float32Array, outputs: number): { q: Int8Array; delta: Float64Array };
export function int8Weights(w: Float32Array, outputs: number, bits: 8 | 16): { q: Int8Array | Int16Array; delta: Float64Array };
export function int8Weights(w: Float32Array, outputs: number, bits: 8 | 16 = 8): { q: Int8Array | Int16Array; delta: Float64Array } {
  const per = w.length / outputs;
  const top = bits === 16 ? 32767 : 127;
  const q = bits === 16 ? new Int16Array(w.length) : new Int8Array(w.length);
  const delta = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    let max = 0;
    for (let k = 0; k < per; k++) max = Math.max(max, Math.abs(w[o * per + k]));
    delta[o] = max / top;
    if (max > 0) for (let k = 0; k < per; k++) q[o * per + k] = Math.round(w[o * per + k] / delta[o]);
  }
  return { q, delta };
}

/**
 * int16 weights for an int16 input (the int8 path's shortcut convs at --map-bits 16): one scale per output channel, as
 * fine as both max |q| <= 32767 and sum |q| <= maxSum allow (maxSum = 32768 keeps 65535 * sum |q| within int32, the
 * bound of a sum over an int16 map's |value - zeroPoint| <= 65535).
 */
export function sumBoundedWeights(w: Float32Array, outputs: number, maxSum: number): { q: Int16Array; delta: Float64Array } {
  const per = w.length / outputs;
  const q = new Int16Array(w.length);
  const delta = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    let max = 0, sum = 0;
    for (let k = 0; k < per; k++) {
      max = Math.max(max, Math.abs(w[o * per + k]));
      sum += Math.abs(w[o * per + k]);
    }
    if (max === 0) continue;
    // Each |q| rounds up by at most 1/2: aim the sum that much below the bound, then widen the step until it holds.
    let d = Math.max(max / 32767, sum / Math.max(1, maxSum - per / 2));
    for (;;) {
      let s = 0;
      for (let k = 0; k < per; k++) s += Math.abs((q[o * per + k] = Math.round(w[o * per + k] / d)));
      if (s <= maxSum) break;
      d *= 1 + 1 / maxSum;
    }
    delta[o] = d;
  }
  return { q, delta };
}

/** The tensor's form over one integer tensor: a two-term form (a sum) is stored as int8 first. */
export function oneTermForm(q: Int8Context, tensor: string, reader: string): Int8Form {
  const f = q.form(tensor);
  return f.terms.length > 1 ? q.form(q.int8(tensor, reader).name) : f;
}

/** The same per-channel numbers for every element of a flattened [C, H, W] map. */
export function perElement(v: Float64Array, H: number, W: number): Float64Array {
  return Float64Array.from({ length: v.length * H * W }, (_, k) => v[Math.floor(k / (H * W))]);
}

/** The int8 path's stored map types (i8, and i16 with --map-bits 16) and their ranges. */
export const INT_MAPS = { i8: { bits: 8, min: -128, max: 127, c: 's8' }, i16: { bits: 16, min: -32768, max: 32767, c: 's16' } } as const;
export type IntMapType = keyof typeof INT_MAPS;
export const isIntMap = (dtype: string): dtype is IntMapType => dtype in INT_MAPS;
export const intMapType = (bits: 8 | 16): IntMapType => (bits === 16 ? 'i16' : 'i8');
/** A reference tensor's storage for an int map of n elements. */
export const intMapData = (dtype: IntMapType, n: number): Int8Array | Int16Array => (dtype === 'i16' ? new Int16Array(n) : new Int8Array(n));
