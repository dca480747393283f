import type { FlattenLayer, GlobalAvgPoolLayer, MaxPoolLayer } from '../model/ir.ts';
import { windowInit } from './common.ts';
import type { OpDef } from './types.ts';

const dims = (s: [number, number, number]) => s.map((v) => ({ literal: String(v) }));

export const maxpool: OpDef<MaxPoolLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    return {
      kernel: x.dtype === 'b1' ? 'bnn_maxpool_b1_b1' : 'bnn_maxpool_f32_f32',
      params: { type: 'bnn_window_t', init: windowInit(x, ctx.output, l.kernel, l.stride, l.pad) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_maxpool.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
};

export const globalavgpool: OpDef<GlobalAvgPoolLayer> = {
  lower(_l, ctx) {
    const x = ctx.inputs[0];
    const suffix = { b1: 'b1', f32: 'f32', i32: 's32' }[x.dtype as 'b1' | 'f32' | 'i32'];
    return { kernel: `bnn_globalavgpool_${suffix}_f32`, args: [...dims(x.shape), 'in', 'out'], scratchBytes: 0, runtime: ['bnn_globalavgpool.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
};

export const flatten: OpDef<FlattenLayer> = {
  lower(_l, ctx) {
    const x = ctx.inputs[0];
    // Planar real tensors are already in (c, y, x) order, and a 1x1 b1 map is already a vector.
    if (x.dtype !== 'b1' || (x.shape[1] === 1 && x.shape[2] === 1)) {
      return { kernel: '', args: [], scratchBytes: 0, runtime: [], aliasInput: true };
    }
    return { kernel: 'bnn_flatten_b1_b1', args: [...dims(x.shape), 'in', 'out'], scratchBytes: 0, runtime: ['bnn_flatten.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
};
