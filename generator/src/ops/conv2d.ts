import type { AffineLayer, BinarizeLayer, Conv2dLayer } from '../model/ir.ts';
import { outSize, struct, windowInit } from './common.ts';
import type { Field, LowerContext, Lowering, OpDef } from './types.ts';

const IN = { u8: 'u8', i8: 's8', f32: 'f32' } as const;

function fields(l: Conv2dLayer, ctx: LowerContext, post: { affine?: AffineLayer; binarize?: BinarizeLayer }): Field[] {
  const x = ctx.inputs[0];
  const raw = x.dtype === 'u8' || x.dtype === 'i8';
  return [
    { name: 'g', value: windowInit(x, { dtype: 'f32', shape: ctx.output.shape }, l.kernel, l.stride, l.pad) },
    { name: 'weights', value: ctx.table('weights', 'float', l.weights, 'real') },
    { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
    { name: 'in_scale', value: raw ? ctx.table('in_scale', 'float', ctx.modelInput.scale, 'real') : 'NULL' },
    { name: 'in_bias', value: raw ? ctx.table('in_bias', 'float', ctx.modelInput.bias, 'real') : 'NULL' },
    { name: 'post_scale', value: post.affine ? ctx.table('post_scale', 'float', post.affine.scale, 'real') : 'NULL' },
    { name: 'post_bias', value: post.affine ? ctx.table('post_bias', 'float', post.affine.bias, 'real') : 'NULL' },
    { name: 'shift', value: post.binarize?.shift ? ctx.table('shift', 'float', post.binarize.shift, 'real') : 'NULL' },
  ];
}

export const conv2d: OpDef<Conv2dLayer> = {
  lower(l, ctx) {
    const kernel = `bnn_conv2d_${IN[ctx.inputs[0].dtype as keyof typeof IN]}_f32`;
    return { kernel, params: { type: 'bnn_conv2d_params_t', init: struct(fields(l, ctx, {})) }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'] };
  },
  cost(l, ins, out) {
    return { binaryMacs: 0, realMacs: outSize(out) * ins[0].shape[0] * l.kernel[0] * l.kernel[1] };
  },
};

/** conv2d -> [affine] -> binarize as one kernel writing b1 (ctx.output is the binarize's output). */
export function lowerConv2dBinarized(l: Conv2dLayer, affine: AffineLayer | undefined, binarize: BinarizeLayer, ctx: LowerContext): Lowering {
  const kernel = `bnn_conv2d_${IN[ctx.inputs[0].dtype as keyof typeof IN]}_b1`;
  return { kernel, params: { type: 'bnn_conv2d_params_t', init: struct(fields(l, ctx, { affine, binarize })) }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'] };
}
