// Per-channel elementwise chains between a producer (conv, dense) and whatever consumes them, and how a chain
// ending in Sign folds into an integer threshold.
//
// Every step is monotone per channel, so sign(chain(acc)) switches at most once as the integer accumulator grows.
// Rather than trusting the real-number formula (semantics §7) at exact ties, the switch point is found by
// evaluating the chain in float32 the way PyTorch's CPU kernels do, on the integers themselves.
import type { Threshold } from '../../model/ir.ts';

const f32 = Math.fround;

export type Step =
  /**
   * y = mul*x + add per channel; fused: one rounding (PyTorch's CPU batch norm is compiled to FMA). `exact` holds
   * the real-number coefficients when float32 rounded them (batch norm), for the textbook threshold.
   */
  | { kind: 'affine'; mul: Float32Array; add: Float32Array; fused: boolean; node: string; exact?: [Float64Array, Float64Array] }
  | { kind: 'div'; by: Float32Array; node: string }
  | { kind: 'clip'; lo: number; hi: number; node: string; op: string }
  | { kind: 'prelu'; slope: Float32Array; node: string; op: string }
  | { kind: 'pool'; kernel: [number, number]; stride: [number, number]; pad: { top: number; left: number; bottom: number; right: number }; node: string };

// ---- exact float32 fused multiply-add -------------------------------------------------------------------

const bits = new BigInt64Array(1);
const dbl = new Float64Array(bits.buffer);

/** The neighbouring float64 of x (x != 0) in direction dir. */
function nextDouble(x: number, dir: number): number {
  dbl[0] = x;
  bits[0] += (x > 0) === (dir > 0) ? 1n : -1n;
  return dbl[0];
}

function oddMantissa(x: number): boolean {
  dbl[0] = x;
  return (bits[0] & 1n) === 1n;
}

/**
 * fma(x, a, b) rounded once to float32, for float32 operands. x*a is exact in float64 (24+24 bits); the sum is
 * rounded to odd in float64 (TwoSum gives its exact error), which makes the final rounding to float32 correct.
 */
export function fma32(x: number, a: number, b: number): number {
  const p = x * a;
  const s = p + b;
  if (!Number.isFinite(s)) return f32(s);
  const bb = s - p;
  const err = p - (s - bb) + (b - bb);
  if (err === 0 || oddMantissa(s)) return f32(s);
  return f32(nextDouble(s, err));
}

/** PyTorch CPU eval batch norm as y = fma(x, a, b) per channel (batch_norm_cpu_collect_linear_and_constant_terms). */
export function batchNormStep(gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, eps: number, node: string): Step {
  const C = gamma.length;
  const mul = new Float32Array(C);
  const add = new Float32Array(C);
  const mul64 = new Float64Array(C);
  const add64 = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const invstd = f32(1 / f32(Math.sqrt(f32(variance[c] + f32(eps)))));
    mul[c] = f32(invstd * gamma[c]);
    add[c] = fma32(-mean[c], mul[c], beta[c]);
    mul64[c] = gamma[c] / Math.sqrt(variance[c] + eps);
    add64[c] = beta[c] - mean[c] * mul64[c];
  }
  return { kind: 'affine', mul, add, fused: true, node, exact: [mul64, add64] };
}

// ---- evaluation and monotonicity -------------------------------------------------------------------------

/** Apply the steps to a float32 value of channel c (pools pass values through: they act on windows). */
export function replay(steps: Step[], c: number, x: number): number {
  let y = x;
  for (const s of steps) {
    switch (s.kind) {
      case 'affine':
        y = s.fused ? fma32(y, s.mul[c], s.add[c]) : f32(f32(y * s.mul[c]) + s.add[c]);
        break;
      case 'div':
        y = f32(y / s.by[c]);
        break;
      case 'clip':
        y = Math.min(Math.max(y, s.lo), s.hi);
        break;
      case 'prelu':
        y = y < 0 ? f32(y * s.slope[c]) : y;
        break;
      case 'pool':
        break;
    }
  }
  return y;
}

/** +1 non-decreasing, -1 non-increasing, 0 constant, NaN neither (a PReLU with a negative slope), for channel c. */
export function direction(steps: Step[], c: number): number {
  let d = 1;
  for (const s of steps) {
    if (s.kind === 'affine') d *= Math.sign(s.mul[c]);
    else if (s.kind === 'div') d *= Math.sign(s.by[c]);
    else if (s.kind === 'prelu' && s.slope[c] < 0) return NaN;
  }
  return d === 0 ? 0 : d; // normalise -0
}

/** Whether every channel is monotone (so its sign switches at most once and folds into a threshold). */
export function monotone(steps: Step[], channels: number): boolean {
  for (let c = 0; c < channels; c++) if (Number.isNaN(direction(steps, c))) return false;
  return true;
}

/** Steps that never change the sign of their input (a sign-preserving tail can be dropped before Sign). */
export function preservesSign(s: Step): boolean {
  if (s.kind === 'clip') return s.lo < 0 && s.hi > 0;
  if (s.kind === 'prelu') return s.slope.every((v) => v > 0);
  return false;
}

/** The chain as y = A*x + B in float64 when it holds only affine/div steps (for the real-number threshold). */
function linear(steps: Step[], c: number): [number, number] | undefined {
  let A = 1;
  let B = 0;
  for (const s of steps) {
    if (s.kind === 'affine') {
      const [m, a] = s.exact ? [s.exact[0][c], s.exact[1][c]] : [s.mul[c], s.add[c]];
      [A, B] = [A * m, B * m + a];
    }
    else if (s.kind === 'div') [A, B] = [A / s.by[c], B / s.by[c]];
    else if (s.kind !== 'pool') return undefined;
  }
  return [A, B];
}

// ---- thresholds ------------------------------------------------------------------------------------------

const INT32_MIN = -2147483648;
/** Constant channels, encoded as semantics §7 says. */
export const ALWAYS = { value: INT32_MIN, flip: 0 } as const;
export const NEVER = { value: INT32_MIN, flip: 1 } as const;

export interface ThresholdFold {
  threshold: Threshold;
  flipped: number;
  constant: number;
  /** Channels whose float32 switch point differs from the float64 formula ⌈t⌉ / ⌊t⌋ (ties and near-ties). */
  movedByRounding: number;
}

/**
 * Fold `sign(steps(acc))` (sign(0) = +1) into an integer threshold for every channel, for accumulators in [-K, K].
 * The steps' first entry must turn the integer into the layer's real output (e.g. the affine α·acc + bias), and
 * every channel must be monotone (see `monotone`).
 */
export function foldThreshold(steps: Step[], channels: number, K: number): ThresholdFold {
  const value = new Int32Array(channels);
  const flip = new Uint8Array(channels);
  let flipped = 0;
  let constant = 0;
  let movedByRounding = 0;
  for (let c = 0; c < channels; c++) {
    const on = (k: number) => replay(steps, c, k) >= 0;
    const dir = direction(steps, c);
    let t: { value: number; flip: number };
    if (dir === 0) t = on(0) ? ALWAYS : NEVER;
    else if (dir > 0) {
      // smallest k with on(k); on is non-decreasing in k
      if (!on(K)) t = NEVER;
      else if (on(-K)) t = ALWAYS;
      else {
        let lo = -K; // !on(lo)
        let hi = K; // on(hi)
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (on(mid)) hi = mid;
          else lo = mid;
        }
        t = { value: hi, flip: 0 };
      }
    } else {
      // largest k with on(k); on is non-increasing in k
      if (!on(-K)) t = NEVER;
      else if (on(K)) t = ALWAYS;
      else {
        let lo = -K; // on(lo)
        let hi = K; // !on(hi)
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (on(mid)) lo = mid;
          else hi = mid;
        }
        t = { value: lo, flip: 1 };
      }
    }
    value[c] = t.value;
    flip[c] = t.flip;
    if (t.value === INT32_MIN) constant++;
    else if (t.flip) flipped++;
    const lin = linear(steps, c);
    if (lin && t.value !== INT32_MIN && lin[0] !== 0) {
      const real = -lin[1] / lin[0];
      const naive = dir > 0 ? Math.ceil(real) : Math.floor(real);
      if (naive !== t.value) movedByRounding++;
    }
  }
  return { threshold: { value, flip }, flipped, constant, movedByRounding };
}
