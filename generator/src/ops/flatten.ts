// flatten: [C, H, W] -> [C*H*W, 1, 1], element order (c, y, x) (PyTorch's flatten). Real maps are already in that
// order and a 1x1 b1 map is already a vector, so only a b1 map with H*W > 1 runs code. Kernel: runtime-c/bnn_flatten.c.
import { z } from 'zod';
import type { Tensor } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import { oneTermForm, perElement } from './shared/int8-path.ts';
import type { OpDef } from './types.ts';

export interface FlattenLayer extends LayerBase {
  op: 'flatten';
}

const schema = z.strictObject({ ...layerBase, op: z.literal('flatten') });

export const flatten: OpDef<FlattenLayer, typeof schema> = {
  op: 'flatten',
  arity: 1,
  reshapesOnly: true,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'flatten' }),
  write: () => ({}),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'f32', 'i32', 'i8', 'i16'], at, l.inputs[0]);
    return { dtype: x.dtype, shape: [x.shape[0] * x.shape[1] * x.shape[2], 1, 1] };
  },
  run: (_l, [x]) => ({ dtype: x.dtype, shape: [x.shape[0] * x.shape[1] * x.shape[2], 1, 1], data: x.data }) satisfies Tensor,
  lower(_l, ctx) {
    const x = ctx.inputs[0];
    if (x.dtype !== 'b1' || (x.shape[1] === 1 && x.shape[2] === 1)) return { kernel: '', args: [], scratchBytes: 0, runtime: [], aliasInput: true };
    return { kernel: 'bnn_flatten_b1_b1', args: [...x.shape.map((v) => ({ value: v })), 'in', 'out'], scratchBytes: 0, runtime: ['bnn_flatten.c', 'bnn_bits.c'] };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: () => '',
  // int8 path: the reshape of the form's one integer tensor; per-channel multipliers repeat per element.
  quantize(l, q) {
    const f = oneTermForm(q, l.inputs[0], l.name);
    const [C, H, W] = f.shape;
    const src = `${l.output}:int`;
    q.push({ ...l, inputs: [f.terms[0].src], output: src });
    q.setForm(l.output, { terms: [{ src, a: perElement(f.terms[0].a, H, W) }], b: perElement(f.b, H, W), shape: [C * H * W, 1, 1] });
  },
  random: (_r, x, names) => (x.dtype === 'b1' || x.dtype === 'f32' || x.dtype === 'i32' || x.dtype === 'i8' || x.dtype === 'i16' ? { ...names, op: 'flatten' } : null),
};
