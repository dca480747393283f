// binarize: f32 -> b1, +1 iff fround(x + shift[c]) >= 0 (sign(0) = +1, -0 counts as 0; no shift: x >= 0). With a
// shift it is ReActNet's RSign. Kernel: runtime-c/bnn_binarize.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase, TensorRef } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { checkVector, expectDType } from './shared/checks.ts';
import { clamp32, INT32_MAX, INT32_MIN, oneTermForm } from './shared/int8-path.ts';
import type { OpDef } from './types.ts';

export interface BinarizeLayer extends LayerBase {
  op: 'binarize';
  shift: Float32Array | null; // [C] or null (no shift)
}

const schema = z.strictObject({ ...layerBase, op: z.literal('binarize'), shift: TensorRef.optional() });

export const binarize: OpDef<BinarizeLayer, typeof schema> = {
  op: 'binarize',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'binarize', shift: s.shift ? blob.f32(s.shift, `${at}.shift`) : null }),
  write: (l, blob) => (l.shift ? { shift: blob.f32(l.shift, [l.shift.length]) } : {}),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    if (l.shift) checkVector(l.shift, x.shape[0], `${at}.shift`);
    return { dtype: 'b1', shape: x.shape };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const out = new Int8Array(C * H * W);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H * W; i++) {
        const v = x.data[c * H * W + i];
        const t = l.shift ? f32(v + l.shift[c]) : v;
        out[c * H * W + i] = t >= 0 ? 1 : -1;
      }
    }
    return { dtype: 'b1', shape: x.shape, data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const [C, H, W] = ctx.inputs[0].shape;
    return {
      kernel: 'bnn_binarize_f32_b1',
      params: { type: 'bnn_binarize_params_t', value: { fields: [
        { name: 'c', value: C },
        { name: 'h', value: H },
        { name: 'w', value: W },
        { name: 'shift', value: l.shift ? ctx.table('shift', 'float', l.shift, 'real') : null },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_binarize.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: (l) => ({ real: 32 * (l.shift?.length ?? 0) }),
  describe: (l) => (l.shift ? 'sign(x + b)' : 'sign'),
  // int8 path: +1 iff a x + b + shift >= 0 for the form's one integer tensor x: an exact integer threshold on x.
  quantize(l, q) {
    const { terms: [{ src, a }], b, shape } = oneTermForm(q, l.inputs[0], l.name);
    const C = shape[0];
    const value = new Int32Array(C);
    const flip = new Uint8Array(C);
    for (let c = 0; c < C; c++) {
      const d = b[c] + (l.shift ? l.shift[c] : 0);
      if (a[c] === 0) value[c] = d >= 0 ? INT32_MIN : INT32_MAX; // a constant: always +1 / -1 (but at x = INT32_MAX)
      else if (a[c] > 0) value[c] = clamp32(Math.ceil(-d / a[c]));
      else [value[c], flip[c]] = [clamp32(Math.floor(-d / a[c])), 1];
    }
    q.push({ op: 'threshold', name: l.name, inputs: [src], output: l.output, threshold: { value, flip } } as LayerBase & { op: string });
  },
  random: (r, x, names) => (x.dtype === 'f32' ? { ...names, op: 'binarize', shift: r.bool(0.5) ? r.floats(x.shape[0], 0.5) : null } : null),
};
