// bdense: binary fully connected layer on a b1 vector: acc[n] = sum_k x[k] w[n,k] with +-1 values, then a threshold
// to b1 or the i32 accumulator. Kernel: runtime-c/bnn_bdense_ref.c (popcount of XOR, channel-packed words).
import { z } from 'zod';
import type { Tensor } from '../ir/tensor.ts';
import { int, layerBase, TensorRef, ThresholdSpec } from '../ir/spec.ts';
import type { LayerBase, Threshold } from '../ir/types.ts';
import { checkBits, checkLength, checkPositive, expectDType, expectVector } from './shared/checks.ts';
import { applyThreshold, checkThreshold, outputStruct, randomThreshold, readThreshold, thresholdBits, writeThreshold } from './shared/threshold.ts';
import type { OpDef } from './types.ts';

export interface BDenseLayer extends LayerBase {
  op: 'bdense';
  outFeatures: number;
  bits: Uint8Array; // [N, K], 1 = +1
  threshold?: Threshold;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('bdense'), outFeatures: int.min(1), bits: TensorRef, threshold: ThresholdSpec.optional() });

/** Weight rows as the kernel reads them: [N][words(K)], k at bit k & 31 of word k >> 5. */
function weightWords(bits: Uint8Array, N: number, K: number): Uint32Array {
  const words = Math.ceil(K / 32);
  const out = new Uint32Array(N * words);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) if (bits[n * K + k]) out[n * words + (k >> 5)] |= 1 << (k & 31);
  return out;
}

export const bdense: OpDef<BDenseLayer, typeof schema> = {
  op: 'bdense',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'bdense', outFeatures: s.outFeatures, bits: blob.bits(s.bits, `${at}.bits`), threshold: readThreshold(blob, s.threshold, at) }),
  write: (l, blob) => ({ outFeatures: l.outFeatures, bits: blob.packed(l.bits, 1, [l.outFeatures, l.bits.length / l.outFeatures]), ...writeThreshold(blob, l.threshold) }),
  infer(l, [x], at) {
    expectDType(x, ['b1'], at, l.inputs[0]);
    expectVector(x, at, l.inputs[0]);
    const N = l.outFeatures;
    checkPositive(N, `${at}.outFeatures`);
    checkLength(l.bits, N * x.shape[0], `${at}.bits`);
    checkBits(l.bits, `${at}.bits`);
    return { dtype: checkThreshold(l.threshold, N, at), shape: [N, 1, 1] };
  },
  run(l, [x]) {
    const K = x.shape[0];
    const N = l.outFeatures;
    const acc = new Int32Array(N);
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x.data[k] * (l.bits[n * K + k] ? 1 : -1);
      acc[n] = s;
    }
    return applyThreshold(acc, [N, 1, 1], l.threshold) satisfies Tensor;
  },
  lower(l, ctx) {
    const K = ctx.inputs[0].shape[0];
    return {
      kernel: 'bnn_bdense_b1_acc_ref',
      params: { type: 'bnn_bdense_params_t', value: { fields: [
        { name: 'in_n', value: K },
        { name: 'out_n', value: l.outFeatures },
        { name: 'weights', value: ctx.table('weights', 'uint32_t', weightWords(l.bits, l.outFeatures, K), 'binary') },
        { name: 'out', value: outputStruct(ctx, l.threshold) },
      ] } },
      args: ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * l.outFeatures,
      runtime: ['bnn_bdense_ref.c', 'bnn_output.c', 'bnn_requant.c'],
    };
  },
  cost: (l, [x]) => ({ binaryMacs: x.shape[0] * l.outFeatures, realMacs: 0 }),
  bits: (l) => ({ binary: l.bits.length, thresholds: thresholdBits(l.threshold) }),
  describe: (l) => `1-bit${l.threshold ? ' + threshold' : ''}`,
  bops: (l, [x]) => ({ dense: x.shape[0] * l.outFeatures, binaryWeights: l.bits.length }),
  random(r, x, names) {
    if (x.dtype !== 'b1' || x.shape[1] !== 1 || x.shape[2] !== 1) return null;
    const N = r.int(1, 40);
    return { ...names, op: 'bdense', outFeatures: N, bits: r.bits(N * x.shape[0]), threshold: r.bool(0.7) ? randomThreshold(r, N, x.shape[0]) : undefined };
  },
};
