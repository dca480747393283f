// where: an element-wise choice between two f32 maps by comparing a third with a constant,
// y = cmp(x, value) ? a : b  (cmp one of < <= > >=; values are copied, never computed). Mask arithmetic in PyTorch
// forward code, a * m + b * (1 - m) with m = (x < value).float(), becomes this (Bi-Real-50's leaky clip: two of
// them around affine layers). Kernel: runtime-c/bnn_where.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { finite, layerBase } from '../ir/spec.ts';
import { numel, type LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export const COMPARISONS = ['lt', 'le', 'gt', 'ge'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface WhereLayer extends LayerBase {
  op: 'where';
  /** inputs: [x, a, b]. */
  cmp: Comparison;
  value: number;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('where'), cmp: z.enum(COMPARISONS), value: finite });

const TEST: Record<Comparison, (x: number, v: number) => boolean> = {
  lt: (x, v) => x < v,
  le: (x, v) => x <= v,
  gt: (x, v) => x > v,
  ge: (x, v) => x >= v,
};

export const where: OpDef<WhereLayer, typeof schema> = {
  op: 'where',
  arity: 3,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'where', cmp: s.cmp, value: s.value }),
  write: (l) => ({ cmp: l.cmp, value: l.value }),
  infer(l, [x, a, b], at) {
    l.inputs.forEach((name, i) => expectDType([x, a, b][i], ['f32'], at, name));
    check(a.shape.join() === x.shape.join() && b.shape.join() === x.shape.join(), `${at}.inputs`, `shapes differ: [${x.shape}], [${a.shape}], [${b.shape}]`);
    check(Math.fround(l.value) === l.value, `${at}.value`, `must be a float32 value, got ${l.value}`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(l, [x, a, b]) {
    const test = TEST[l.cmp];
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = test(x.data[i], l.value) ? a.data[i] : b.data[i];
    return { dtype: 'f32', shape: x.shape, data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const fields = [{ name: 'n', value: { u32: numel(ctx.output) } }, { name: 'cmp', value: COMPARISONS.indexOf(l.cmp) }, { name: 'value', value: { f32: l.value } }];
    return { kernel: 'bnn_where_f32_f32', params: { type: 'bnn_where_params_t', value: { fields } }, args: ['params', 'in', { input: 1 }, { input: 2 }, 'out'], scratchBytes: 0, runtime: ['bnn_where.c'], inPlace: true };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => `x ${{ lt: '<', le: '<=', gt: '>', ge: '>=' }[l.cmp]} ${l.value}`,
  // Three maps of one shape are needed; the per-op test uses x for all three, which checks the kernel's reads and
  // writes. The choice itself is checked by the hand cases and the Bi-Real-50 fixture (PyTorch, WASM).
  random: (r, x, names) => (x.dtype === 'f32' ? { ...names, inputs: [names.inputs[0], names.inputs[0], names.inputs[0]], op: 'where', cmp: r.pick(COMPARISONS), value: Math.fround(r.next() - 0.5) } : null),
};
