// conv2d -> [affine] -> binarize on the model input as one int8 qconv2d (`--stem int8`, compact/stem.ts): int8
// weights, exact int32 accumulation, the threshold folded in, for cores without an FPU. It approximates the float
// chain (the weights are rounded); compact/stem.ts measures what that costs.
import { BnnError } from '../core/errors.ts';
import { INPUT_TENSOR, type InputSpec, type LayerBase, type Shape } from '../ir/types.ts';
import type { AffineLayer } from './affine.ts';
import type { BinarizeLayer } from './binarize.ts';
import type { Conv2dLayer } from './conv2d.ts';
import { PAD_VALUES_MAX, type QConv2dLayer } from './qconv2d.ts';
import { clamp32, int8Weights, INT32_MAX, INT32_MIN, sumBoundedWeights } from './shared/int8-path.ts';
import { classMembers, padFixClasses } from './shared/pad-fix.ts';
import { windowDims } from './shared/window.ts';
import type { Int8Context } from './types.ts';


/**
 * The chain as a qconv2d (docs/semantics.md §2, §7). Per output channel o the float chain computes
 * y = a_o (sum w x + b_o) + d_o with x = s_c (q - z) (the input normalisation; its bias must be -z s_c for one integer
 * zero point z, so that padded taps are 0 in both); with W' = w s_c and Δ_o = max |W'_o| / 127 the integer layer
 * accumulates acc = sum round(W' / Δ_o) (q - z) exactly and outputs +1 iff a_o (Δ_o acc + b_o) + d_o >= 0, i.e.
 * acc >= ceil(t) when a_o Δ_o > 0 and acc <= floor(t) when it is < 0, t = (-d_o / a_o - b_o) / Δ_o.
 */
export function conv2dInt8(conv: Conv2dLayer, members: (LayerBase & { op: string })[], input: InputSpec): QConv2dLayer {
  const affine = members.find((m) => m.op === 'affine') as AffineLayer | undefined;
  const binarize = members[members.length - 1] as BinarizeLayer;
  const { scale, bias: nbias, zeroPoint } = input;
  const C = input.shape[0];
  const taps = conv.kernel[0] * conv.kernel[1];
  for (let c = 0; c < C; c++) {
    if (Math.abs(nbias[c] + zeroPoint * scale[c]) > 1e-6 * Math.max(1, Math.abs(nbias[c]))) {
      throw new BnnError(`--stem int8: input.normalize.bias[${c}] = ${nbias[c]} is not -zeroPoint * scale (${-zeroPoint * scale[c]}): the integer stem subtracts the zero point only`);
    }
  }
  const O = conv.outChannels;
  const weights = new Int8Array(O * C * taps);
  const value = new Int32Array(O);
  const flip = new Uint8Array(O);
  for (let o = 0; o < O; o++) {
    let max = 0;
    for (let c = 0; c < C; c++) for (let k = 0; k < taps; k++) max = Math.max(max, Math.abs(conv.weights[(o * C + c) * taps + k] * scale[c]));
    const delta = max / 127;
    if (delta > 0) for (let c = 0; c < C; c++) for (let k = 0; k < taps; k++) weights[(o * C + c) * taps + k] = Math.round((conv.weights[(o * C + c) * taps + k] * scale[c]) / delta);
    const a = affine ? affine.scale[o] : 1;
    const d = (affine ? affine.bias[o] : 0) + (binarize.shift ? binarize.shift[o] : 0);
    if (a * delta === 0) {
      // A constant: +1 iff a b + d >= 0 (acc is 0, or does not matter).
      value[o] = a * conv.bias[o] + d >= 0 ? INT32_MIN : INT32_MAX;
      continue;
    }
    const t = (-d / a - conv.bias[o]) / delta;
    if (a * delta > 0) value[o] = clamp32(Math.ceil(t));
    else {
      value[o] = clamp32(Math.floor(t));
      flip[o] = 1;
    }
  }
  return {
    op: 'qconv2d', name: conv.name, inputs: conv.inputs, output: binarize.output, outChannels: O, kernel: conv.kernel, stride: conv.stride, pad: conv.pad,
    weights, bias: new Int32Array(O), threshold: { value, flip },
  };
}

/**
 * The int8 path (`--quantize int8`, docs/int8.md): a qconv2d with int8 weights (one scale per output channel) whose
 * accumulator stands for the conv's output. On a stored int8 map it reads q - zeroPoint (padding is the real 0). On
 * the raw input, real x_c = s_c q + b_c = s_c (q - z) + s_c (z - z_c) with z_c = -b_c / s_c: the kernels take one zero
 * point z for all channels, the constant part joins the bias, and a padded tap of channel c takes the raw value
 * round(z_c) (padValues), so that it stands for the real 0 up to that rounding, as the float conv's padding does.
 */
export function conv2dQuantize(l: Conv2dLayer, q: Int8Context, at: string): void {
  const out = q.type(l.output).shape;
  const O = l.outChannels;
  const base = { op: 'qconv2d', name: l.name, output: `${l.output}:acc`, outChannels: O, kernel: l.kernel, stride: l.stride, pad: l.pad, bias: new Int32Array(O) };
  if (l.inputs[0] !== INPUT_TENSOR) {
    // With --map-bits 16 the conv reads the int16 map itself (an int8 copy of a shortcut's input was the int16 path's
    // largest loss, docs/int8.md), with int16 weights as fine as the int32 sum allows: 65535 * sum |w| < 2^31 per
    // channel, about 11 bits at 64 taps and 9 at 256. They cost no flash or time in the rows kernel's int16 pairs.
    const x = q.int8(l.inputs[0], l.name);
    const { q: weights, delta } = x.grid.bits === 16 ? sumBoundedWeights(l.weights, O, 32768) : int8Weights(l.weights, O);
    q.accumulator({ ...base, inputs: [x.name], weights, zeroPoint: x.grid.zeroPoint } as LayerBase & { op: string }, l.output, delta.map((d) => d * x.grid.scale), Float64Array.from(l.bias), out);
    return;
  }
  const { scale, bias, dtype } = q.modelInput;
  const C = scale.length;
  const taps = l.kernel[0] * l.kernel[1];
  const zc = Array.from(scale, (s, c) => -bias[c] / s);
  const [lo, hi] = dtype === 'u8' ? [0, 255] : [-128, 127];
  const z = Math.min(hi, Math.max(lo, Math.round(zc.reduce((a, b) => a + b, 0) / C)));
  const w = Float32Array.from(l.weights, (v, k) => v * scale[Math.floor(k / taps) % C]);
  // The stem's weights follow the maps' bits unless --stem-weight-bits says otherwise: its direct kernel multiplies
  // int16 pairs either way (runtime-c/bnn_qconv2d_rows.c), so int16 weights cost only flash there, and at 16-bit maps
  // the int8 weights' rounding is the stem's largest error. But int16 weights keep a 7x7/2 stem off the Winograd
  // path, whose int16 transforms hold int8 weights (about 9.5 bits at most): 8 buys that speed (docs/int8.md).
  const { q: weights, delta } = int8Weights(w, O, q.stemWeightBits);
  const b = Float64Array.from(l.bias, (v, o) => {
    let s = v;
    for (let k = 0; k < C * taps; k++) s += w[o * C * taps + k] * (z - zc[Math.floor(k / taps)]);
    return s;
  });
  // Padded taps take the raw value nearest each channel's real 0 (round(z_c)): the border then matches the interior's
  // bias correction up to that rounding.
  const padValues = Int32Array.from(zc, (v) => Math.min(hi, Math.max(lo, Math.round(v))));
  const pads = padValues.some((v) => v !== z) && C <= PAD_VALUES_MAX ? { padValues } : {};
  const layer = { ...base, inputs: l.inputs, weights, zeroPoint: z, ...pads } as unknown as QConv2dLayer;
  // What is left at the border, where a raw pad value misses the real 0 by a fraction: one entry per border class.
  const padFix = stemPadFix(layer, q.modelInput.shape, w, delta, (c) => (pads.padValues ? padValues[c] : z), zc);
  q.accumulator((padFix ? { ...layer, padFix } : layer) as unknown as LayerBase & { op: string }, l.output, delta, b, out);
}

/**
 * padFix of the stem (ops/shared/pad-fix.ts): a padded tap of channel c adds w' (p_c - z) to the sum, and the bias
 * assumes (w s_c / delta) (z - z_c) for it; the float conv's zero padding adds nothing. Per class (its first member
 * stands for it), round of minus their sum over the padded taps, so that the border sums are exact up to 1/2 of an
 * accumulator step. w: the real weights times s_c; pad(c) = p_c. Undefined when every entry is 0.
 */
function stemPadFix(l: QConv2dLayer, shape: Shape, w: Float32Array, delta: Float64Array, pad: (c: number) => number, zc: number[]): Int32Array | undefined {
  const z = l.zeroPoint!;
  const [C, H, W] = shape;
  const [kh, kw] = l.kernel;
  const [OH, OW] = windowDims(shape, l);
  const { rows, cols } = padFixClasses(H, W, l.kernel, l.stride, l.pad, OH, OW);
  const ys = classMembers(rows, OH), xs = classMembers(cols, OW);
  const O = l.outChannels;
  const fix = new Int32Array(O * rows.count * cols.count);
  for (let o = 0; o < O; o++) {
    for (let cy = 0; cy < rows.count; cy++) {
      for (let cx = 0; cx < cols.count; cx++) {
        if (ys[cy] < 0 || xs[cx] < 0 || delta[o] === 0) continue;
        let s = 0;
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = ys[cy] * l.stride[0] - l.pad.top + ky, ix = xs[cx] * l.stride[1] - l.pad.left + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) continue;
              const k = ((o * C + c) * kh + ky) * kw + kx;
              s += l.weights[k] * (pad(c) - z) + (w[k] / delta[o]) * (z - zc[c]);
            }
          }
        }
        fix[(o * rows.count + cy) * cols.count + cx] = -Math.round(s);
      }
    }
  }
  return fix.some((v) => v !== 0) ? fix : undefined;
}
