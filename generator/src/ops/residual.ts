// Real-valued ops of residual (ReActNet / Bi-Real) blocks: add, PReLU/RPReLU, clip, average pooling.
import type { AddLayer, AvgPoolLayer, ClipLayer, PReluLayer } from '../model/ir.ts';
import { cFloat } from '../emit/templates.ts';
import { outSize, struct, windowInit } from './common.ts';
import type { OpDef } from './types.ts';

const none = () => ({ binaryMacs: 0, realMacs: 0 });

export const add: OpDef<AddLayer> = {
  lower(_l, ctx) {
    return { kernel: 'bnn_add_f32_f32', args: [{ literal: `${outSize(ctx.output)}u` }, 'in', { input: 1 }, 'out'], scratchBytes: 0, runtime: ['bnn_add.c'], inPlace: true };
  },
  cost: none,
};

export const prelu: OpDef<PReluLayer> = {
  lower(l, ctx) {
    const [C, H, W] = ctx.inputs[0].shape;
    return {
      kernel: 'bnn_prelu_f32_f32',
      params: {
        type: 'bnn_prelu_params_t',
        init: struct([
          { name: 'c', value: String(C) },
          { name: 'h', value: String(H) },
          { name: 'w', value: String(W) },
          { name: 'slope', value: ctx.table('slope', 'float', l.slope, 'real') },
          { name: 'shift_in', value: l.shiftIn ? ctx.table('shift_in', 'float', l.shiftIn, 'real') : 'NULL' },
          { name: 'shift_out', value: l.shiftOut ? ctx.table('shift_out', 'float', l.shiftOut, 'real') : 'NULL' },
        ]),
      },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_prelu.c'],
      inPlace: true,
    };
  },
  cost: none,
};

export const clip: OpDef<ClipLayer> = {
  lower(l, ctx) {
    return { kernel: 'bnn_clip_f32_f32', args: [{ literal: `${outSize(ctx.output)}u` }, { literal: cFloat(l.min) }, { literal: cFloat(l.max) }, 'in', 'out'], scratchBytes: 0, runtime: ['bnn_clip.c'], inPlace: true };
  },
  cost: none,
};

export const avgpool: OpDef<AvgPoolLayer> = {
  lower(l, ctx) {
    const g = windowInit(ctx.inputs[0], ctx.output, l.kernel, l.stride, l.pad);
    return {
      kernel: 'bnn_avgpool_f32_f32',
      params: { type: 'bnn_avgpool_params_t', init: struct([{ name: 'g', value: g }, { name: 'count_include_pad', value: l.countIncludePad ? '1' : '0' }]) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_avgpool.c'],
    };
  },
  cost: none,
};
