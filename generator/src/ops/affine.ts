// affine: per-channel y = fround(fround(x * scale[c]) + bias[c]) (a folded batch norm); an i32 input converts to
// float32 first. Kernel: runtime-c/bnn_affine.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase, TensorRef } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { checkVector, expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface AffineLayer extends LayerBase {
  op: 'affine';
  scale: Float32Array;
  bias: Float32Array;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('affine'), scale: TensorRef, bias: TensorRef });

export const affine: OpDef<AffineLayer, typeof schema> = {
  op: 'affine',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'affine', scale: blob.f32(s.scale, `${at}.scale`), bias: blob.f32(s.bias, `${at}.bias`) }),
  write: (l, blob) => ({ scale: blob.f32(l.scale, [l.scale.length]), bias: blob.f32(l.bias, [l.bias.length]) }),
  infer(l, [x], at) {
    expectDType(x, ['f32', 'i32'], at, l.inputs[0]);
    checkVector(l.scale, x.shape[0], `${at}.scale`);
    checkVector(l.bias, x.shape[0], `${at}.bias`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const out = new Float32Array(C * H * W);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H * W; i++) {
        const v = f32(x.data[c * H * W + i]);
        out[c * H * W + i] = f32(f32(v * l.scale[c]) + l.bias[c]);
      }
    }
    return { dtype: 'f32', shape: x.shape, data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const [C, H, W] = x.shape;
    return {
      kernel: x.dtype === 'i32' ? 'bnn_affine_s32_f32' : 'bnn_affine_f32_f32',
      params: { type: 'bnn_affine_params_t', value: { fields: [
        { name: 'c', value: C },
        { name: 'h', value: H },
        { name: 'w', value: W },
        { name: 'scale', value: ctx.table('scale', 'float', l.scale, 'real') },
        { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_affine.c'],
      inPlace: true,
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: (l) => ({ real: 32 * (l.scale.length + l.bias.length) }),
  describe: () => '',
  // int8 path: scales the form (no rounding).
  quantize(l, q) {
    const f = q.form(l.inputs[0]);
    q.setForm(l.output, { terms: f.terms.map((t) => ({ src: t.src, a: t.a.map((a, c) => a * l.scale[c]) })), b: f.b.map((b, c) => b * l.scale[c] + l.bias[c]), shape: f.shape });
  },
  random(r, x, names) {
    if (x.dtype !== 'f32' && x.dtype !== 'i32') return null;
    const C = x.shape[0];
    return { ...names, op: 'affine', scale: r.floats(C, 2), bias: r.floats(C, 0.5) };
  },
};
