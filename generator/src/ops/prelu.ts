// prelu: per-channel PReLU with optional shifts before and after (ReActNet's RPReLU; slope 0 gives ReLU):
// t = fround(x + shiftIn[c]); u = t >= 0 ? t : fround(t * slope[c]); y = fround(u + shiftOut[c]). A missing shift is
// skipped, not added as 0 (which would turn -0 into +0). Kernel: runtime-c/bnn_prelu.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase, TensorRef } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { checkVector, expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface PReluLayer extends LayerBase {
  op: 'prelu';
  slope: Float32Array;
  shiftIn: Float32Array | null;
  shiftOut: Float32Array | null;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('prelu'), slope: TensorRef, shiftIn: TensorRef.optional(), shiftOut: TensorRef.optional() });

export const prelu: OpDef<PReluLayer, typeof schema> = {
  op: 'prelu',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({
    name: s.name, inputs: s.inputs, output: s.output, op: 'prelu',
    slope: blob.f32(s.slope, `${at}.slope`),
    shiftIn: s.shiftIn ? blob.f32(s.shiftIn, `${at}.shiftIn`) : null,
    shiftOut: s.shiftOut ? blob.f32(s.shiftOut, `${at}.shiftOut`) : null,
  }),
  write: (l, blob) => ({
    slope: blob.f32(l.slope, [l.slope.length]),
    ...(l.shiftIn ? { shiftIn: blob.f32(l.shiftIn, [l.shiftIn.length]) } : {}),
    ...(l.shiftOut ? { shiftOut: blob.f32(l.shiftOut, [l.shiftOut.length]) } : {}),
  }),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    const C = x.shape[0];
    checkVector(l.slope, C, `${at}.slope`);
    if (l.shiftIn) checkVector(l.shiftIn, C, `${at}.shiftIn`);
    if (l.shiftOut) checkVector(l.shiftOut, C, `${at}.shiftOut`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const out = new Float32Array(C * H * W);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H * W; i++) {
        let t = x.data[c * H * W + i];
        if (l.shiftIn) t = f32(t + l.shiftIn[c]);
        let u = t >= 0 ? t : f32(t * l.slope[c]);
        if (l.shiftOut) u = f32(u + l.shiftOut[c]);
        out[c * H * W + i] = u;
      }
    }
    return { dtype: 'f32', shape: x.shape, data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const [C, H, W] = ctx.inputs[0].shape;
    return {
      kernel: 'bnn_prelu_f32_f32',
      params: {
        type: 'bnn_prelu_params_t',
        value: { fields: [
          { name: 'c', value: C },
          { name: 'h', value: H },
          { name: 'w', value: W },
          { name: 'slope', value: ctx.table('slope', 'float', l.slope, 'real') },
          { name: 'shift_in', value: l.shiftIn ? ctx.table('shift_in', 'float', l.shiftIn, 'real') : null },
          { name: 'shift_out', value: l.shiftOut ? ctx.table('shift_out', 'float', l.shiftOut, 'real') : null },
        ] },
      },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_prelu.c'],
      inPlace: true,
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: (l) => ({ real: 32 * (l.slope.length + (l.shiftIn?.length ?? 0) + (l.shiftOut?.length ?? 0)) }),
  // int8 path: the input's form is stored as int8 with RPReLU folded into the requant.
  quantize(l, q) {
    q.int8(l.output, l.name, { slope: l.slope, shiftIn: l.shiftIn, shiftOut: l.shiftOut, input: l.inputs[0] });
  },
  describe: (l) => (l.shiftIn || l.shiftOut ? 'RPReLU' : l.slope.every((s) => s === 0) ? 'ReLU' : 'PReLU'),
  random(r, x, names) {
    if (x.dtype !== 'f32') return null;
    const C = x.shape[0];
    return { ...names, op: 'prelu', slope: r.bool(0.2) ? new Float32Array(C) : r.floats(C, 0.5), shiftIn: r.bool(0.5) ? r.floats(C, 0.5) : null, shiftOut: r.bool(0.5) ? r.floats(C, 0.5) : null };
  },
};
