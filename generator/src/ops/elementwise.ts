import type { AffineLayer, BinarizeLayer } from '../model/ir.ts';
import { struct } from './common.ts';
import type { OpDef } from './types.ts';

export const binarize: OpDef<BinarizeLayer> = {
  lower(l, ctx) {
    const [C, H, W] = ctx.inputs[0].shape;
    return {
      kernel: 'bnn_binarize_f32_b1',
      params: { type: 'bnn_binarize_params_t', init: struct([
        { name: 'c', value: String(C) },
        { name: 'h', value: String(H) },
        { name: 'w', value: String(W) },
        { name: 'shift', value: l.shift ? ctx.table('shift', 'float', l.shift, 'real') : 'NULL' },
      ]) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_binarize.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
};

export const affine: OpDef<AffineLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const [C, H, W] = x.shape;
    return {
      kernel: x.dtype === 'i32' ? 'bnn_affine_s32_f32' : 'bnn_affine_f32_f32',
      params: { type: 'bnn_affine_params_t', init: struct([
        { name: 'c', value: String(C) },
        { name: 'h', value: String(H) },
        { name: 'w', value: String(W) },
        { name: 'scale', value: ctx.table('scale', 'float', l.scale, 'real') },
        { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
      ]) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_affine.c'],
      inPlace: true,
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
};
