// dense: real-valued fully connected layer on an f32 or b1 vector -> f32: acc = +0; for k: acc = fround(acc +
// fround(w[n,k] * x[k])); out = fround(acc + bias[n]). A b1 input contributes +-w exactly. Kernel: runtime-c/bnn_dense.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { checkPositive, checkVector, expectDType, expectVector } from './shared/checks.ts';
import { int8Weights } from './shared/int8-path.ts';
import type { OpDef } from './types.ts';

export interface DenseLayer extends LayerBase {
  op: 'dense';
  outFeatures: number;
  weights: Float32Array; // [N, K]
  bias: Float32Array; // [N]
}

const schema = z.strictObject({ ...layerBase, op: z.literal('dense'), outFeatures: int.min(1), weights: TensorRef, bias: TensorRef });

export const dense: OpDef<DenseLayer, typeof schema> = {
  op: 'dense',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'dense', outFeatures: s.outFeatures, weights: blob.f32(s.weights, `${at}.weights`), bias: blob.f32(s.bias, `${at}.bias`) }),
  write: (l, blob) => ({ outFeatures: l.outFeatures, weights: blob.f32(l.weights, [l.outFeatures, l.weights.length / l.outFeatures]), bias: blob.f32(l.bias, [l.outFeatures]) }),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'f32'], at, l.inputs[0]);
    expectVector(x, at, l.inputs[0]);
    const N = l.outFeatures;
    checkPositive(N, `${at}.outFeatures`);
    checkVector(l.weights, N * x.shape[0], `${at}.weights`);
    checkVector(l.bias, N, `${at}.bias`);
    return { dtype: 'f32', shape: [N, 1, 1] };
  },
  run(l, [x]) {
    const K = x.shape[0];
    const N = l.outFeatures;
    const out = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc = f32(acc + f32(l.weights[n * K + k] * x.data[k]));
      out[n] = f32(acc + l.bias[n]);
    }
    return { dtype: 'f32', shape: [N, 1, 1], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const x = ctx.inputs[0];
    return {
      // b1 input: each term an add or a subtract of the weight (the same floats); 'ref' keeps the select-and-add loop.
      kernel: x.dtype === 'b1' ? (ctx.kernels === 'ref' ? 'bnn_dense_b1_f32' : 'bnn_dense_b1_f32_addsub') : 'bnn_dense_f32_f32',
      params: { type: 'bnn_dense_params_t', value: { fields: [
        { name: 'in_n', value: x.shape[0] },
        { name: 'out_n', value: l.outFeatures },
        { name: 'weights', value: ctx.table('weights', 'float', l.weights, 'real') },
        { name: 'bias', value: ctx.table('bias', 'float', l.bias, 'real') },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_dense.c'],
    };
  },
  cost: (l, [x]) => ({ binaryMacs: 0, realMacs: x.shape[0] * l.outFeatures }),
  bits: (l) => ({ real: 32 * (l.weights.length + l.bias.length) }),
  describe: () => 'float32',
  // int8 path: qdense with int8 weights (one scale per output) on the b1 vector or the stored int8 vector.
  quantize(l, q, at) {
    const { q: weights, delta } = int8Weights(l.weights, l.outFeatures);
    const base = { name: l.name, output: `${l.output}:acc`, op: 'qdense', outFeatures: l.outFeatures, weights, bias: new Int32Array(l.outFeatures) };
    const bias = Float64Array.from(l.bias);
    const out = q.type(l.output).shape;
    if (q.type(l.inputs[0]).dtype === 'b1') return q.accumulator({ ...base, inputs: l.inputs }, l.output, delta, bias, out);
    const x = q.int8Only(l.inputs[0], l.name);
    q.accumulator({ ...base, inputs: [x.name], zeroPoint: x.grid.zeroPoint } as LayerBase & { op: string }, l.output, delta.map((d) => d * x.grid.scale), bias, out);
  },
  random(r, x, names) {
    if ((x.dtype !== 'b1' && x.dtype !== 'f32') || x.shape[1] !== 1 || x.shape[2] !== 1) return null;
    const N = r.int(1, 12);
    return { ...names, op: 'dense', outFeatures: N, weights: r.floats(N * x.shape[0], 0.5), bias: r.floats(N, 0.5) };
  },
};
