// add: element-wise sum of two f32 tensors of the same shape, y = fround(a + b) (residual connections).
// Kernel: runtime-c/bnn_add.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import { numel, type LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface AddLayer extends LayerBase {
  op: 'add';
}

const schema = z.strictObject({ ...layerBase, op: z.literal('add') });

export const add: OpDef<AddLayer, typeof schema> = {
  op: 'add',
  arity: 2,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'add' }),
  write: () => ({}),
  infer(l, [x, y], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    expectDType(y, ['f32'], at, l.inputs[1]);
    check(x.shape.join() === y.shape.join(), `${at}.inputs`, `shapes differ: '${l.inputs[0]}' is [${x.shape}], '${l.inputs[1]}' is [${y.shape}]`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(_l, [a, b]) {
    const out = new Float32Array(a.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f32(a.data[i] + b.data[i]);
    return { dtype: 'f32', shape: a.shape, data: out } satisfies Tensor;
  },
  lower: (_l, ctx) => ({ kernel: 'bnn_add_f32_f32', args: [{ value: { u32: numel(ctx.output) } }, 'in', { input: 1 }, 'out'], scratchBytes: 0, runtime: ['bnn_add.c'], inPlace: true }),
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  // int8 path: the terms of both forms (requant sums at most two integer tensors: an operand with two is stored).
  quantize(l, q, at) {
    let [f, g] = l.inputs.map((t) => q.form(t));
    // Two accumulators, one of a real conv (the downsample shortcut): that one is stored as int8 now (its conv then
    // writes int8 rows), so the block adds an int8 map to the binary conv's accumulator, in place, and the shortcut's
    // int32 map (4x larger) is never stored.
    const conv = [f, g].findIndex((x) => x.terms.length === 1 && !q.isStored(x.terms[0].src) && q.producerOf(x.terms[0].src) === 'qconv2d');
    const other = [f, g][1 - conv];
    if (conv >= 0 && other.terms.length === 1 && !q.isStored(other.terms[0].src)) {
      if (conv === 0) f = q.form(q.int8(l.inputs[0], l.name).name);
      else g = q.form(q.int8(l.inputs[1], l.name).name);
    }
    if (f.terms.length + g.terms.length > 2 && g.terms.length > 1) g = q.form(q.int8(l.inputs[1], l.name).name);
    if (f.terms.length + g.terms.length > 2) f = q.form(q.int8(l.inputs[0], l.name).name);
    check(!f.terms.some((t) => g.terms.some((u) => u.src === t.src)), at, 'adds a tensor to itself, which the int8 path does not take');
    q.setForm(l.output, { terms: [...f.terms, ...g.terms], b: f.b.map((b, c) => b + g.b[c]), shape: f.shape });
  },
  // A residual add needs two tensors; the per-op test adds x to itself.
  random: (_r, x, names) => (x.dtype === 'f32' ? { ...names, inputs: [names.inputs[0], names.inputs[0]], op: 'add' } : null),
};
