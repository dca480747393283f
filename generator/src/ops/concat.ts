// concat: two tensors of one dtype (f32 or b1) and the same H x W joined along the channels, a's first (ONNX Concat
// on axis 1; ReActNet-A's downsampling blocks). Values are copied, never computed. The ONNX importer turns a Concat of
// more inputs into a chain of these. Kernel: runtime-c/bnn_concat.c (a plain copy for planar f32, bit moves for
// channel-packed b1).
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import { numel, type LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface ConcatLayer extends LayerBase {
  op: 'concat';
}

const schema = z.strictObject({ ...layerBase, op: z.literal('concat') });

export const concat: OpDef<ConcatLayer, typeof schema> = {
  op: 'concat',
  arity: 2,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'concat' }),
  write: () => ({}),
  infer(l, [a, b], at) {
    expectDType(a, ['f32', 'b1'], at, l.inputs[0]);
    expectDType(b, [a.dtype], at, l.inputs[1]);
    check(a.shape[1] === b.shape[1] && a.shape[2] === b.shape[2], `${at}.inputs`, `maps differ in size: '${l.inputs[0]}' is [${a.shape}], '${l.inputs[1]}' is [${b.shape}]`);
    return { dtype: a.dtype, shape: [a.shape[0] + b.shape[0], a.shape[1], a.shape[2]] };
  },
  run(_l, [a, b]) {
    // Tensors are planar (c, y, x) in the reference for every dtype, so channels concatenate as arrays.
    const data = a.dtype === 'f32' ? new Float32Array(a.data.length + b.data.length) : new Int8Array(a.data.length + b.data.length);
    data.set(a.data);
    data.set(b.data, a.data.length);
    return { dtype: a.dtype, shape: [a.shape[0] + b.shape[0], a.shape[1], a.shape[2]], data } as Tensor;
  },
  lower(_l, ctx) {
    const [a, b] = ctx.inputs;
    if (a.dtype === 'f32') {
      return { kernel: 'bnn_concat_f32_f32', args: [{ value: { u32: numel(a) } }, { value: { u32: numel(b) } }, 'in', { input: 1 }, 'out'], scratchBytes: 0, runtime: ['bnn_concat.c'] };
    }
    const fields = [{ name: 'hw', value: { u32: a.shape[1] * a.shape[2] } }, { name: 'ca', value: a.shape[0] }, { name: 'cb', value: b.shape[0] }];
    return { kernel: 'bnn_concat_b1_b1', params: { type: 'bnn_concat_params_t', value: { fields } }, args: ['params', 'in', { input: 1 }, 'out'], scratchBytes: 0, runtime: ['bnn_concat.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  // Two tensors of one size are needed; the per-op test joins x with itself.
  random: (_r, x, names) => (x.dtype === 'f32' || x.dtype === 'b1' ? { ...names, inputs: [names.inputs[0], names.inputs[0]], op: 'concat' } : null),
};
