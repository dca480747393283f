// globalavgpool: mean of each channel's H x W map -> [C, 1, 1] f32: acc = +0; for y, x: acc = fround(acc + fround(v));
// out = fround(acc / fround(H * W)) (a b1 value is +1 or -1). Kernel: runtime-c/bnn_globalavgpool.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface GlobalAvgPoolLayer extends LayerBase {
  op: 'globalavgpool';
}

const schema = z.strictObject({ ...layerBase, op: z.literal('globalavgpool') });
const SUFFIX = { b1: 'b1', f32: 'f32', i32: 's32' } as const;

export const globalavgpool: OpDef<GlobalAvgPoolLayer, typeof schema> = {
  op: 'globalavgpool',
  arity: 1,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'globalavgpool' }),
  write: () => ({}),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'f32', 'i32'], at, l.inputs[0]);
    return { dtype: 'f32', shape: [x.shape[0], 1, 1] };
  },
  run(_l, [x]) {
    const [C, H, W] = x.shape;
    const out = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < H * W; i++) acc = f32(acc + f32(x.data[c * H * W + i]));
      out[c] = f32(acc / f32(H * W));
    }
    return { dtype: 'f32', shape: [C, 1, 1], data: out } satisfies Tensor;
  },
  lower(_l, ctx) {
    const x = ctx.inputs[0];
    const suffix = SUFFIX[x.dtype as keyof typeof SUFFIX];
    return { kernel: `bnn_globalavgpool_${suffix}_f32`, args: [...x.shape.map((v) => ({ value: v })), 'in', 'out'], scratchBytes: 0, runtime: ['bnn_globalavgpool.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  random: (_r, x, names) => (x.dtype in SUFFIX ? { ...names, op: 'globalavgpool' } : null),
};
