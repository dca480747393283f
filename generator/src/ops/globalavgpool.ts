// globalavgpool: mean of each channel's H x W map -> [C, 1, 1] f32: acc = +0; for y, x: acc = fround(acc + fround(v));
// out = fround(acc / fround(H * W)) (a b1 value is +1 or -1). On an i8 or i16 map -> the same type [C, 1, 1]: S = the int32 sum of the
// channel's q, n = H * W, out = floor((2S + n) / (2n)) (the mean rounded half up). Kernel: runtime-c/bnn_globalavgpool.c.
import { INT_MAPS, intMapData, isIntMap } from './shared/int8-path.ts';
import { z } from 'zod';
import { check } from '../core/errors.ts';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface GlobalAvgPoolLayer extends LayerBase {
  op: 'globalavgpool';
}

const schema = z.strictObject({ ...layerBase, op: z.literal('globalavgpool') });
const KERNEL = { b1: 'bnn_globalavgpool_b1_f32', f32: 'bnn_globalavgpool_f32_f32', i32: 'bnn_globalavgpool_s32_f32', i8: 'bnn_globalavgpool_s8_s8', i16: 'bnn_globalavgpool_s16_s16' } as const;
/** 2S + n must fit int32 with |S| <= 2^(bits-1) n, so n = H * W <= (2^31 - 1) / (2^bits + 1). */
const maxPlane = (bits: number) => Math.floor((2 ** 31 - 1) / (2 ** bits + 1));

export const globalavgpool: OpDef<GlobalAvgPoolLayer, typeof schema> = {
  op: 'globalavgpool',
  arity: 1,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'globalavgpool' }),
  write: () => ({}),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'f32', 'i32', 'i8', 'i16'], at, l.inputs[0]);
    if (!isIntMap(x.dtype)) return { dtype: 'f32', shape: [x.shape[0], 1, 1] };
    const n = x.shape[1] * x.shape[2];
    const max = maxPlane(INT_MAPS[x.dtype].bits);
    check(n <= max, at, `an ${x.dtype === 'i8' ? 'int8' : 'int16'} map of ${x.shape[1]}x${x.shape[2]} = ${n} positions is too large to average in int32 (at most ${max})`);
    return { dtype: x.dtype, shape: [x.shape[0], 1, 1] };
  },
  run(_l, [x]) {
    const [C, H, W] = x.shape;
    if (isIntMap(x.dtype)) {
      const n = H * W;
      const q = intMapData(x.dtype, C);
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += x.data[c * n + i];
        q[c] = Math.floor((2 * s + n) / (2 * n)); // the mean rounded half up (floor also for a negative sum)
      }
      return { dtype: x.dtype, shape: [C, 1, 1], data: q } satisfies Tensor;
    }
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
    return { kernel: KERNEL[x.dtype as keyof typeof KERNEL], args: [...x.shape.map((v) => ({ value: v })), 'in', 'out'], scratchBytes: 0, runtime: ['bnn_globalavgpool.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  // int8 path: the mean of the stored int8 map on the same grid.
  quantize(l, q, at) {
    const x = q.int8(l.inputs[0], l.name);
    q.push({ ...l, inputs: [x.name] });
    q.setStored(l.output, x.grid, q.type(l.output).shape);
  },
  random: (_r, x, names) => (x.dtype in KERNEL ? { ...names, op: 'globalavgpool' } : null),
};
