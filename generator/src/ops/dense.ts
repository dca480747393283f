import type { DenseLayer, QDenseLayer } from '../model/ir.ts';
import { struct } from './common.ts';
import type { OpDef } from './types.ts';

export const dense: OpDef<DenseLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    return {
      kernel: x.dtype === 'b1' ? 'bnn_dense_b1_f32' : 'bnn_dense_f32_f32',
      params: { type: 'bnn_dense_params_t', init: struct([
        { name: 'in_n', value: String(x.shape[0]) },
        { name: 'out_n', value: String(l.outFeatures) },
        { name: 'weights', value: ctx.table('weights', 'float', l.weights, 'real') },
        { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
      ]) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_dense.c'],
    };
  },
  cost(l, ins) {
    return { binaryMacs: 0, realMacs: ins[0].shape[0] * l.outFeatures };
  },
};

export const qdense: OpDef<QDenseLayer> = {
  lower(l, ctx) {
    return {
      kernel: 'bnn_qdense_b1_s32',
      params: { type: 'bnn_qdense_params_t', init: struct([
        { name: 'in_n', value: String(ctx.inputs[0].shape[0]) },
        { name: 'out_n', value: String(l.outFeatures) },
        { name: 'weights', value: ctx.table('weights', 'int8_t', l.weights, 'int') },
        { name: 'bias', value: ctx.table('bias', 'int32_t', l.bias, 'int') },
      ]) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_qdense.c'],
    };
  },
  cost(l, ins) {
    return { binaryMacs: 0, realMacs: ins[0].shape[0] * l.outFeatures };
  },
};
