// The float stem's chain after the accumulator (conv2d -> [affine] -> binarize: y = acc + bias; y = y * s + d;
// bit = y + shift >= 0, each a float32 rounding) folded into one float threshold per output channel, for the
// kernels bnn_conv2d_{u8,s8}_b1_thr (runtime-c/bnn_conv2d.c, docs/kernels.md "Float stem").
//
// Why it is exact: every step is a float32 rounding of a monotone function of its input (x + c increasing; x * s
// increasing for s > 0, decreasing for s < 0, constant for s = ±0), and rounding to nearest is monotone, so the bit is
// a monotone function of acc: [acc >= A] when increasing, [acc <= A] when decreasing. +0 and -0 give the same bit
// (an add maps ±0 to the same nonzero value or to a zero, a multiply keeps a zero a zero, and the final test takes
// -0 >= 0). It holds while no step makes a NaN: acc is bounded here (|acc| <= M from the weights and the range of the
// normalised input), and M + |bias| < FLT_MAX keeps acc + bias finite, after which ±inf only meets finite operands.
// A is found by bisection over float32 bit patterns in [-M, M], evaluating the reference's own chain (Math.fround).
// A decreasing channel gets negated weights: every product and sum changes sign exactly (rounding to nearest is
// symmetric; only the sign of an exact zero may differ, which no bit sees), so acc <= A becomes acc' >= -A.
import { f32 } from '../../ir/tensor.ts';
import type { InputSpec, TensorInfo } from '../../ir/types.ts';
import type { AffineLayer } from '../affine.ts';
import type { BinarizeLayer } from '../binarize.ts';
import type { Conv2dLayer } from '../conv2d.ts';

/** The most taps (in_c * kh * kw) the kernel's patch holds (BNN_PATCH_MAX in runtime-c/bnn_conv2d.c). */
export const PATCH_MAX = 64;
export const FLT_MAX = 3.4028234663852886e38;

const fb = new Float32Array(1);
const ub = new Uint32Array(fb.buffer);

/** Order-preserving integer of a float32 (not NaN): +0 and -0 are both 0, -x is -key(x). */
export function floatKey(v: number): number {
  fb[0] = v;
  const u = ub[0];
  return u >= 0x80000000 ? -(u & 0x7fffffff) : u;
}

/** The float32 of a key (0 gives +0). */
export function keyFloat(k: number): number {
  ub[0] = k >= 0 ? k : (0x80000000 | -k) >>> 0;
  return fb[0];
}

export interface FoldedStem {
  /** [O][taps + 1]: weights in (c, ky, kx) order (negated for a decreasing channel), then the threshold. */
  wt: Float32Array;
  /** Channels whose chain decreases in acc (stored negated). */
  decreasing: number;
  /** Channels with a constant bit (threshold ±FLT_MAX). */
  constant: number;
}

/** The chain of output channel o on a float accumulator (the reference's operations, in its order). */
export function chainBit(l: Conv2dLayer, o: number, post: { affine?: AffineLayer; binarize: BinarizeLayer }, acc: number): boolean {
  let y = f32(acc + l.bias[o]);
  if (post.affine) y = f32(f32(y * post.affine.scale[o]) + post.affine.bias[o]);
  if (post.binarize.shift) y = f32(y + post.binarize.shift[o]);
  return y >= 0;
}

/**
 * The folded form of a fused stem, or a reason it does not apply (the caller keeps bnn_conv2d_*_b1): the input must
 * be the raw u8/i8 input, at most PATCH_MAX taps, every parameter finite and |acc| + |bias| safely below FLT_MAX.
 */
export function foldStemThreshold(l: Conv2dLayer, x: TensorInfo, input: InputSpec, post: { affine?: AffineLayer; binarize: BinarizeLayer }): FoldedStem | string {
  if (x.dtype !== 'u8' && x.dtype !== 'i8') return 'input is not the raw u8/i8 model input';
  const [C] = x.shape;
  const [kh, kw] = l.kernel;
  const taps = C * kh * kw;
  if (taps > PATCH_MAX) return `${taps} taps (at most ${PATCH_MAX})`;
  const finite = (a: ArrayLike<number> | null | undefined) => !a || Array.prototype.every.call(a, (v: number) => Number.isFinite(v));
  if (![l.weights, l.bias, input.scale, input.bias, post.affine?.scale, post.affine?.bias, post.binarize.shift].every(finite)) return 'a non-finite parameter';
  // The largest |x| the normalised input takes, per channel (every q of the input type).
  const [qlo, qhi] = x.dtype === 'u8' ? [0, 255] : [-128, 127];
  const xmax = Array.from({ length: C }, (_, c) => {
    let m = 0;
    for (let q = qlo; q <= qhi; q++) m = Math.max(m, Math.abs(f32(f32(q * input.scale[c]) + input.bias[c])));
    return m;
  });
  if (!xmax.every(Number.isFinite)) return 'the normalised input overflows';
  const O = l.outChannels;
  const wt = new Float32Array(O * (taps + 1));
  let decreasing = 0;
  let constant = 0;
  for (let o = 0; o < O; o++) {
    // |acc| <= sum |w| max|x| times (1 + 2^-24)^(2 taps) for the roundings, plus the subnormal spacing per step.
    let s = 0;
    for (let t = 0; t < taps; t++) s += Math.abs(l.weights[o * taps + t]) * xmax[Math.floor(t / (kh * kw))];
    const m = s * (1 + 2 ** -10) + 2 ** -120;
    if (!(m + Math.abs(l.bias[o]) < 1e38)) return `|acc| of channel ${o} may reach ${m.toExponential(2)}`;
    let mf = f32(m);
    if (mf < m) mf = keyFloat(floatKey(mf) + 1);
    const dec = post.affine !== undefined && post.affine.scale[o] < 0;
    const bit = (k: number) => chainBit(l, o, post, dec ? -keyFloat(k) : keyFloat(k));
    if (chainBit(l, o, post, 0) !== chainBit(l, o, post, -0)) return 'internal: +0 and -0 differ'; // cannot happen (see above)
    let lo = floatKey(-mf);
    let hi = floatKey(mf);
    let thr: number;
    if (!bit(hi)) thr = FLT_MAX; // never +1 within the bound
    else if (bit(lo)) thr = -FLT_MAX; // always +1
    else {
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (bit(mid)) hi = mid;
        else lo = mid;
      }
      thr = keyFloat(hi); // the least acc (in key order) with bit 1
    }
    if (Math.abs(thr) === FLT_MAX) constant++;
    if (dec) decreasing++;
    const base = o * (taps + 1);
    for (let t = 0; t < taps; t++) wt[base + t] = dec ? -l.weights[o * taps + t] : l.weights[o * taps + t];
    wt[base + taps] = thr;
  }
  return { wt, decreasing, constant };
}
