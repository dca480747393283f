import type { QConv2dLayer } from '../model/ir.ts';
import { outSize, outputInit, struct, windowInit } from './common.ts';
import type { OpDef } from './types.ts';

export const qconv2d: OpDef<QConv2dLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const fields = [
      { name: 'g', value: windowInit(x, ctx.output, l.kernel, l.stride, l.pad) },
      { name: 'weights', value: ctx.table('weights', 'int8_t', l.weights, 'int') },
      { name: 'bias', value: ctx.table('bias', 'int32_t', l.bias, 'int') },
      { name: 'zero_point', value: String(ctx.modelInput.zeroPoint) },
      { name: 'out', value: outputInit(ctx, l.threshold) },
    ];
    return {
      kernel: x.dtype === 'u8' ? 'bnn_qconv2d_u8_acc' : 'bnn_qconv2d_s8_acc',
      params: { type: 'bnn_qconv2d_params_t', init: struct(fields) },
      args: ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * l.outChannels,
      runtime: ['bnn_qconv2d.c', 'bnn_output.c'],
    };
  },
  cost(l, ins, out) {
    return { binaryMacs: 0, realMacs: outSize(out) * ins[0].shape[0] * l.kernel[0] * l.kernel[1] };
  },
};
