// padchannels: zero channels before and after an f32 map, y = [0 x before, x, 0 x after] along C (the zeros are +0).
// ResNet's option-A shortcut (IR-Net's ResNet-20): the strided input x[:, :, ::2, ::2] widened with zero channels to
// match the block's output. Kernel: runtime-c/bnn_padchannels.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface PadChannelsLayer extends LayerBase {
  op: 'padchannels';
  before: number;
  after: number;
}

const count = z.number().int().min(0).max(65535);
const schema = z.strictObject({ ...layerBase, op: z.literal('padchannels'), before: count, after: count });

export const padchannels: OpDef<PadChannelsLayer, typeof schema> = {
  op: 'padchannels',
  arity: 1,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'padchannels', before: s.before, after: s.after }),
  write: (l) => ({ before: l.before, after: l.after }),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    for (const k of ['before', 'after'] as const) check(Number.isInteger(l[k]) && l[k] >= 0, `${at}.${k}`, `must be a non-negative integer, got ${l[k]}`);
    return { dtype: 'f32', shape: [l.before + x.shape[0] + l.after, x.shape[1], x.shape[2]] };
  },
  run(l, [x]) {
    const hw = x.shape[1] * x.shape[2];
    const out = new Float32Array((l.before + x.shape[0] + l.after) * hw);
    out.set(x.data, l.before * hw);
    return { dtype: 'f32', shape: [l.before + x.shape[0] + l.after, x.shape[1], x.shape[2]], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const [C, H, W] = ctx.inputs[0].shape;
    const fields = [{ name: 'hw', value: { u32: H * W } }, { name: 'c', value: C }, { name: 'before', value: l.before }, { name: 'after', value: l.after }];
    return { kernel: 'bnn_padchannels_f32_f32', params: { type: 'bnn_padchannels_params_t', value: { fields } }, args: ['params', 'in', 'out'], scratchBytes: 0, runtime: ['bnn_padchannels.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => `+${l.before}/+${l.after} channels`,
  random: (r, x, names) => (x.dtype === 'f32' ? { ...names, op: 'padchannels', before: r.int(0, 5), after: r.int(0, 40) } : null),
};
