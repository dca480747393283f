import type { Conv2dLayer } from '../model/ir.ts';
import { outSize, struct, windowInit } from './common.ts';
import type { OpDef } from './types.ts';

const kernels = { u8: 'bnn_conv2d_u8_f32', i8: 'bnn_conv2d_s8_f32', f32: 'bnn_conv2d_f32_f32' } as const;

export const conv2d: OpDef<Conv2dLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const raw = x.dtype === 'u8' || x.dtype === 'i8';
    const fields = [
      { name: 'g', value: windowInit(x, ctx.output, l.kernel, l.stride, l.pad) },
      { name: 'weights', value: ctx.table('weights', 'float', l.weights, 'real') },
      { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
      { name: 'in_scale', value: raw ? ctx.table('in_scale', 'float', ctx.modelInput.scale, 'real') : 'NULL' },
      { name: 'in_bias', value: raw ? ctx.table('in_bias', 'float', ctx.modelInput.bias, 'real') : 'NULL' },
    ];
    return { kernel: kernels[x.dtype as keyof typeof kernels], params: { type: 'bnn_conv2d_params_t', init: struct(fields) }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_conv2d.c'] };
  },
  cost(l, ins, out) {
    return { binaryMacs: 0, realMacs: outSize(out) * ins[0].shape[0] * l.kernel[0] * l.kernel[1] };
  },
};

