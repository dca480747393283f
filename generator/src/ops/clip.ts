// clip: clamp to [min, max] (Hardtanh), y = x < min ? min : x > max ? max : x. Kernel: runtime-c/bnn_clip.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { finite, layerBase } from '../ir/spec.ts';
import { numel, type LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface ClipLayer extends LayerBase {
  op: 'clip';
  min: number;
  max: number;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('clip'), min: finite, max: finite });

export const clip: OpDef<ClipLayer, typeof schema> = {
  op: 'clip',
  arity: 1,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'clip', min: s.min, max: s.max }),
  write: (l) => ({ min: l.min, max: l.max }),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    check(Number.isFinite(l.min) && Number.isFinite(l.max) && l.min <= l.max, at, `clip needs finite min <= max, got [${l.min}, ${l.max}]`);
    check(Math.fround(l.min) === l.min && Math.fround(l.max) === l.max, at, `clip bounds must be float32 values, got [${l.min}, ${l.max}]`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(l, [x]) {
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i];
      out[i] = v < l.min ? l.min : v > l.max ? l.max : v;
    }
    return { dtype: 'f32', shape: x.shape, data: out } satisfies Tensor;
  },
  lower: (l, ctx) => ({
    kernel: 'bnn_clip_f32_f32',
    args: [{ value: { u32: numel(ctx.output) } }, { value: { f32: l.min } }, { value: { f32: l.max } }, 'in', 'out'],
    scratchBytes: 0,
    runtime: ['bnn_clip.c'],
    inPlace: true,
  }),
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  random(r, x, names) {
    if (x.dtype !== 'f32') return null;
    const lo = Math.fround(-r.next() * 2);
    return { ...names, op: 'clip', min: lo, max: r.bool(0.2) ? lo : Math.fround(r.next() * 2) };
  },
};
