// qdense: integer fully connected layer on a b1 vector (x = ±1) or an int8 vector (x = q - zeroPoint): int8 weights,
// int32 bias, acc[n] = bias[n] + sum_k w[n,k] x[k], exact in int32 -> i32 (integer-only models, the int8 path's last
// layer). Kernels: runtime-c/bnn_qdense.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { checkInt32Range, checkLength, checkPositive, expectDType, expectVector } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface QDenseLayer extends LayerBase {
  op: 'qdense';
  outFeatures: number;
  weights: Int8Array; // [N, K]
  bias: Int32Array; // [N]
  /** int8 input only: its zero point. */
  zeroPoint?: number;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('qdense'), outFeatures: int.min(1), weights: TensorRef, bias: TensorRef, zeroPoint: int.min(-128).max(127).optional() });

export const qdense: OpDef<QDenseLayer, typeof schema> = {
  op: 'qdense',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'qdense', outFeatures: s.outFeatures, weights: blob.i8(s.weights, `${at}.weights`), bias: blob.i32(s.bias, `${at}.bias`), ...(s.zeroPoint !== undefined ? { zeroPoint: s.zeroPoint } : {}) }),
  write: (l, blob) => ({ outFeatures: l.outFeatures, weights: blob.i8(l.weights, [l.outFeatures, l.weights.length / l.outFeatures]), bias: blob.i32(l.bias, [l.outFeatures]), ...(l.zeroPoint !== undefined ? { zeroPoint: l.zeroPoint } : {}) }),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'i8'], at, l.inputs[0]);
    expectVector(x, at, l.inputs[0]);
    if (x.dtype === 'i8') check(l.zeroPoint !== undefined, `${at}.zeroPoint`, `required for the int8 input '${l.inputs[0]}'`);
    else check(l.zeroPoint === undefined, `${at}.zeroPoint`, `only for an int8 input; '${l.inputs[0]}' is ${x.dtype}`);
    const N = l.outFeatures;
    checkPositive(N, `${at}.outFeatures`);
    checkLength(l.weights, N * x.shape[0], `${at}.weights`);
    checkLength(l.bias, N, `${at}.bias`);
    checkInt32Range(l.bias, x.shape[0] * (x.dtype === 'i8' ? 128 * 255 : 128), at);
    return { dtype: 'i32', shape: [N, 1, 1] };
  },
  run(l, [x]) {
    const K = x.shape[0];
    const N = l.outFeatures;
    const out = new Int32Array(N);
    for (let n = 0; n < N; n++) {
      let acc = l.bias[n];
      const zp = l.zeroPoint ?? 0;
      for (let k = 0; k < K; k++) acc += l.weights[n * K + k] * (x.data[k] - zp);
      out[n] = acc | 0;
    }
    return { dtype: 'i32', shape: [N, 1, 1], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    return {
      kernel: ctx.inputs[0].dtype === 'i8' ? 'bnn_qdense_s8_s32' : 'bnn_qdense_b1_s32',
      params: { type: 'bnn_qdense_params_t', value: { fields: [
        { name: 'in_n', value: ctx.inputs[0].shape[0] },
        { name: 'out_n', value: l.outFeatures },
        { name: 'weights', value: ctx.table('weights', 'int8_t', l.weights, 'int') },
        { name: 'bias', value: ctx.table('bias', 'int32_t', l.bias, 'int') },
        { name: 'zero_point', value: l.zeroPoint ?? 0 },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_qdense.c'],
    };
  },
  cost: (l, [x]) => ({ binaryMacs: 0, realMacs: x.shape[0] * l.outFeatures }),
  bits: (l) => ({ int: 8 * l.weights.length + 32 * l.bias.length }),
  describe: (l) => (l.zeroPoint !== undefined ? 'int8 x int8' : 'int8'),
  random(r, x, names) {
    if ((x.dtype !== 'b1' && x.dtype !== 'i8') || x.shape[1] !== 1 || x.shape[2] !== 1) return null;
    const N = r.int(1, 12);
    const zeroPoint = x.dtype === 'i8' ? { zeroPoint: r.int(-128, 127) } : {};
    return { ...names, op: 'qdense', outFeatures: N, weights: new Int8Array(N * x.shape[0]).map(() => r.int(-128, 127)), bias: new Int32Array(N).map(() => r.int(-1000, 1000)), ...zeroPoint };
  },
};
