// conv2d: real-valued convolution in float32 on the model input (normalised per channel) or on an f32 map.
// Accumulation order is part of the semantics (docs/semantics.md): acc = +0, then for c, ky, kx (padded taps
// skipped) acc = fround(acc + fround(w * x)); out = fround(acc + bias). It runs a following [affine ->] binarize chain
// itself (`fuses`): the float map is never stored; on the raw input that chain becomes one float threshold per
// channel (ops/shared/float-threshold.ts) unless kernels are 'ref'. It also runs a following [affine ->] maxpool
// (a ResNet stem), one conv row at a time pooled as it comes, so only one row of the full-resolution map is ever
// stored. Kernels: runtime-c/bnn_conv2d.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import { f32, type Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef, windowSpec } from '../ir/spec.ts';
import { INPUT_TENSOR, type InputSpec, type LayerBase, type Padding, type TensorInfo } from '../ir/types.ts';
import type { AffineLayer } from './affine.ts';
import type { BinarizeLayer } from './binarize.ts';
import type { MaxPoolLayer } from './maxpool.ts';
import { checkPositive, checkVector, checkWindow, expectDType, windowOut } from './shared/checks.ts';
import { randomWindow, readPadding, windowDims, windowStruct, writeWindow } from './shared/window.ts';
import type { CStruct, Lowering, LowerContext, OpDef } from './types.ts';
import { conv2dInt8, conv2dQuantize } from './conv2d-int8.ts';
import { foldStemThreshold } from './shared/float-threshold.ts';

export interface Conv2dLayer extends LayerBase {
  op: 'conv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  weights: Float32Array; // [O, C, kh, kw]
  bias: Float32Array; // [O]
}

const schema = z.strictObject({ ...layerBase, op: z.literal('conv2d'), outChannels: int.min(1), ...windowSpec, weights: TensorRef, bias: TensorRef });

/** How a real-valued op reads element (c, y, x): the raw input normalised per channel, an f32 map as it is. */
export function realReader(x: Tensor, input: InputSpec): (c: number, y: number, xx: number) => number {
  const [, H, W] = x.shape;
  if (x.dtype === 'u8' || x.dtype === 'i8') {
    const { scale, bias } = input;
    return (c, y, xx) => f32(f32(x.data[(c * H + y) * W + xx] * scale[c]) + bias[c]);
  }
  return (c, y, xx) => x.data[(c * H + y) * W + xx];
}

const IN = { u8: 'u8', i8: 's8', f32: 'f32' } as const;

function params(l: Conv2dLayer, ctx: LowerContext, post: { affine?: AffineLayer; binarize?: BinarizeLayer }): CStruct {
  const x = ctx.inputs[0];
  const raw = x.dtype === 'u8' || x.dtype === 'i8';
  const y: TensorInfo = { dtype: 'f32', shape: ctx.output.shape };
  return { fields: [
    { name: 'g', value: windowStruct(x, y, l) },
    { name: 'weights', value: ctx.table('weights', 'float', l.weights, 'real') },
    { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
    { name: 'in_scale', value: raw ? ctx.table('in_scale', 'float', ctx.modelInput.scale, 'real') : null },
    { name: 'in_bias', value: raw ? ctx.table('in_bias', 'float', ctx.modelInput.bias, 'real') : null },
    { name: 'post_scale', value: post.affine ? ctx.table('post_scale', 'float', post.affine.scale, 'real') : null },
    { name: 'post_bias', value: post.affine ? ctx.table('post_bias', 'float', post.affine.bias, 'real') : null },
    { name: 'shift', value: post.binarize?.shift ? ctx.table('shift', 'float', post.binarize.shift, 'real') : null },
  ] };
}

/**
 * conv2d -> [affine] -> maxpool (bnn_conv2d_*_f32_maxpool): the convolution's rows one at a time into a scratch row
 * (all channels; each position's window normalised once into a patch after it), each folded into the pooled rows
 * whose windows hold it. Rows arrive in increasing order, so every
 * pooled value sees its window in the reference's scan order (ky, kx; the first valid value, then only strictly
 * greater ones): the same floats, -0/+0 ties included.
 */
function lowerPooled(l: Conv2dLayer, affine: AffineLayer | undefined, pool: MaxPoolLayer, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const conv: TensorInfo = { dtype: 'f32', shape: [l.outChannels, ...windowDims(x.shape, l)] };
  const value: CStruct = { fields: [
    { name: 'c', value: { inline: true, fields: params(l, { ...ctx, output: conv }, { affine }).fields } },
    { name: 'pool', value: windowStruct(conv, ctx.output, pool) },
  ] };
  return {
    kernel: `bnn_conv2d_${IN[x.dtype as keyof typeof IN]}_f32_maxpool`, params: { type: 'bnn_conv2d_pool_params_t', value },
    args: ['params', 'in', 'out', 'scratch'], scratchBytes: 4 * (l.outChannels * conv.shape[2] + x.shape[0] * l.kernel[0] * l.kernel[1]), runtime: ['bnn_conv2d.c'],
    why: `max pool fused: one conv row (${l.outChannels}x${conv.shape[2]} floats) stored, not the ${conv.shape.join('x')} map; patch form`,
  };
}

export const conv2d: OpDef<Conv2dLayer, typeof schema> = {
  op: 'conv2d',
  arity: 1,
  schema,
  read: (s, blob, x, at) => ({
    name: s.name, inputs: s.inputs, output: s.output, op: 'conv2d', outChannels: s.outChannels, kernel: s.kernel, stride: s.stride,
    pad: readPadding(s.padding, x, s.kernel, s.stride), weights: blob.f32(s.weights, `${at}.weights`), bias: blob.f32(s.bias, `${at}.bias`),
  }),
  write: (l, blob, [x]) => ({ outChannels: l.outChannels, ...writeWindow(l), weights: blob.f32(l.weights, [l.outChannels, x.shape[0], ...l.kernel]), bias: blob.f32(l.bias, [l.outChannels]) }),
  infer(l, [x], at) {
    expectDType(x, ['u8', 'i8', 'f32'], at, l.inputs[0]);
    // Raw values are normalised by the model input's scale and bias: an int8 map of the integer path is not raw.
    check(x.dtype === 'f32' || l.inputs[0] === INPUT_TENSOR, `${at}.inputs[0]`, `'${l.inputs[0]}' is an int8 map, not the model input: a float conv2d reads raw values only from the input (a qconv2d reads int8 maps)`);
    checkWindow(l.kernel, l.stride, l.pad, at);
    const O = l.outChannels;
    checkPositive(O, `${at}.outChannels`);
    checkVector(l.weights, O * x.shape[0] * l.kernel[0] * l.kernel[1], `${at}.weights`);
    checkVector(l.bias, O, `${at}.bias`);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    return { dtype: 'f32', shape: [O, oh, ow] };
  },
  run(l, [x], ctx) {
    const read = realReader(x, ctx.input);
    const [C, H, W] = x.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const O = l.outChannels;
    const [OH, OW] = windowDims(x.shape, l);
    const out = new Float32Array(O * OH * OW);
    for (let o = 0; o < O; o++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - l.pad.top + ky;
              if (iy < 0 || iy >= H) continue; // zero padding: the product is 0 and adding it changes nothing
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - l.pad.left + kx;
                if (ix < 0 || ix >= W) continue;
                const w = l.weights[((o * C + c) * kh + ky) * kw + kx];
                acc = f32(acc + f32(w * read(c, iy, ix)));
              }
            }
          }
          out[(o * OH + oy) * OW + ox] = f32(acc + l.bias[o]);
        }
      }
    }
    return { dtype: 'f32', shape: [O, OH, OW], data: out };
  },
  lower(l, ctx) {
    const kernel = `bnn_conv2d_${IN[ctx.inputs[0].dtype as keyof typeof IN]}_f32`;
    const value = params(l, ctx, {});
    if (ctx.kernels === 'ref') return { kernel, params: { type: 'bnn_conv2d_params_t', value }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'] };
    // Patch form: the window normalised once per position, not once per output channel (never costs more).
    const taps = ctx.inputs[0].shape[0] * l.kernel[0] * l.kernel[1];
    return { kernel: `${kernel}_patch`, params: { type: 'bnn_conv2d_params_t', value }, args: ['params', 'in', 'out', 'scratch'], scratchBytes: 4 * taps, runtime: ['bnn_conv2d.c'], why: `patch form (${taps} taps)` };
  },
  fuses: {
    chains: [[{ op: 'affine', optional: true }, { op: 'binarize' }], [{ op: 'affine', optional: true }, { op: 'maxpool' }]],
    // conv2d -> [affine] -> binarize as one kernel writing b1 (ctx.output is the binarize's output); conv2d ->
    // [affine] -> maxpool as one kernel writing the pooled f32 map.
    lower(l, members, ctx): Lowering {
      const affine = members.find((m) => m.op === 'affine') as AffineLayer | undefined;
      const tail = members[members.length - 1];
      if (tail.op === 'maxpool') return lowerPooled(l, affine, tail as MaxPoolLayer, ctx);
      const binarize = tail as BinarizeLayer;
      const kernel = `bnn_conv2d_${IN[ctx.inputs[0].dtype as keyof typeof IN]}_b1`;
      // The chain folded into one float threshold per channel (ops/shared/float-threshold.ts), unless 'ref'.
      const folded = ctx.kernels === 'ref' ? 'kernels: ref' : foldStemThreshold(l, ctx.inputs[0], ctx.modelInput, { affine, binarize });
      if (typeof folded !== 'string') {
        const x = ctx.inputs[0];
        const y: TensorInfo = { dtype: 'f32', shape: ctx.output.shape };
        const value: CStruct = { fields: [
          { name: 'g', value: windowStruct(x, y, l) },
          { name: 'wt', value: ctx.table('wt', 'float', folded.wt, 'real') },
          { name: 'in_scale', value: ctx.table('in_scale', 'float', ctx.modelInput.scale, 'real') },
          { name: 'in_bias', value: ctx.table('in_bias', 'float', ctx.modelInput.bias, 'real') },
        ] };
        const why = `chain folded into one float threshold per channel (${folded.decreasing} decreasing, ${folded.constant} constant)`;
        return { kernel: `${kernel}_thr`, params: { type: 'bnn_conv2d_thr_params_t', value }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'], why };
      }
      return { kernel, params: { type: 'bnn_conv2d_params_t', value: params(l, ctx, { affine, binarize }) }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'], why: `float chain kept: ${folded}` };
    },
  },
  // conv2d -> [affine] -> binarize only: a max pool's float output has no integer form here.
  int8: { accepts: (members) => members[members.length - 1].op === 'binarize', make: conv2dInt8 },
  quantize: conv2dQuantize,
  cost: (l, [x], out) => ({ binaryMacs: 0, realMacs: out.shape[0] * out.shape[1] * out.shape[2] * x.shape[0] * l.kernel[0] * l.kernel[1] }),
  bits: (l) => ({ real: 32 * (l.weights.length + l.bias.length) }),
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]} float32`,
  random(r, x, names) {
    if (x.dtype !== 'f32' && names.inputs[0] !== INPUT_TENSOR) return null;
    if (x.dtype !== 'u8' && x.dtype !== 'i8' && x.dtype !== 'f32') return null;
    const w = randomWindow(r, x.shape);
    if (!w) return null;
    const O = r.int(1, 9);
    return { ...names, op: 'conv2d', outChannels: O, ...w, weights: r.floats(O * x.shape[0] * w.kernel[0] * w.kernel[1], 0.5), bias: r.floats(O, 0.5) };
  },
};
