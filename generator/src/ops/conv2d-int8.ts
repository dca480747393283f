// conv2d -> [affine] -> binarize on the model input as one int8 qconv2d (`--stem int8`, compact/stem.ts): int8
// weights, exact int32 accumulation, the threshold folded in, for cores without an FPU. It approximates the float
// chain (the weights are rounded); compact/stem.ts measures what that costs.
import { BnnError } from '../core/errors.ts';
import type { InputSpec, LayerBase } from '../ir/types.ts';
import type { AffineLayer } from './affine.ts';
import type { BinarizeLayer } from './binarize.ts';
import type { Conv2dLayer } from './conv2d.ts';
import type { QConv2dLayer } from './qconv2d.ts';

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

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
  const clamp = (v: number) => Math.min(INT32_MAX, Math.max(INT32_MIN, v));
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
    if (a * delta > 0) value[o] = clamp(Math.ceil(t));
    else {
      value[o] = clamp(Math.floor(t));
      flip[o] = 1;
    }
  }
  return {
    op: 'qconv2d', name: conv.name, inputs: conv.inputs, output: binarize.output, outChannels: O, kernel: conv.kernel, stride: conv.stride, pad: conv.pad,
    weights, bias: new Int32Array(O), threshold: { value, flip },
  };
}
