// Real multipliers as the integer ops take them: requant's mult / 2^shift (ops/requant.ts), and the int8 scale and
// zero point of a calibrated range.
import { BnnError } from '../core/errors.ts';
import { clamp32 } from '../ops/shared/int8-path.ts';
import type { Int8Grid } from '../ops/types.ts';
import type { TensorRange } from './calibrate.ts';

/** requant's largest |mult| (docs/semantics.md §10). */
export const MULT_MAX = 2 ** 30 - 1;



/** The grid of a calibrated range on `bits`-bit integers: [min, max] widened to hold 0, spread over every step. */
export function int8Grid(r: TensorRange, bits: 8 | 16 = 8): Int8Grid {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  const qmin = -(2 ** (bits - 1));
  const qmax = 2 ** (bits - 1) - 1;
  const scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint, bits };
}

/**
 * One shift for a set of real multipliers (per input, per channel) so that every round(m * 2^shift) stays within
 * ±MULT_MAX and the largest uses ~30 bits; `what` names the layer for the error when no shift in 1..62 fits.
 */
export function fixedShift(multipliers: Float64Array[], what: string): number {
  let max = 0;
  for (const m of multipliers) for (const v of m) max = Math.max(max, Math.abs(v));
  if (max === 0) return 1;
  let s = Math.min(62, Math.floor(Math.log2(MULT_MAX / max)));
  while (s >= 1 && Math.round(max * 2 ** s) > MULT_MAX) s--;
  if (s < 1) throw new BnnError(`${what}: a multiplier of ${max.toPrecision(4)} output steps per input unit is too large for requant (at most 2^29)`);
  return s;
}

/** round(m * 2^shift) per element, as requant's int32 table. */
export function toMult(m: Float64Array, shift: number): Int32Array {
  return Int32Array.from(m, (v) => Math.round(v * 2 ** shift));
}

/** Rounded and clamped to int32 (biases and offsets whose calibrated values cannot exceed it in practice). */
export function toInt32(v: Float64Array): Int32Array {
  return Int32Array.from(v, (x) => clamp32(Math.round(x)));
}
