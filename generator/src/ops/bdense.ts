import type { BDenseLayer } from '../model/ir.ts';
import { words } from '../plan/layout.ts';
import { outputInit, struct } from './common.ts';
import type { OpDef } from './types.ts';

/** Rows of packed weight words: [N][words(K)], element k at bit k & 31 of word k >> 5. */
export function denseWeightWords(bits: Uint8Array, N: number, K: number): Uint32Array {
  const wpr = words(K);
  const out = new Uint32Array(N * wpr);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) if (bits[n * K + k]) out[n * wpr + (k >> 5)] |= 1 << (k & 31);
  return out;
}

export const bdense: OpDef<BDenseLayer> = {
  lower(l, ctx) {
    const K = ctx.inputs[0].shape[0];
    return {
      kernel: 'bnn_bdense_b1_acc_ref',
      params: { type: 'bnn_bdense_params_t', init: struct([
        { name: 'in_n', value: String(K) },
        { name: 'out_n', value: String(l.outFeatures) },
        { name: 'weights', value: ctx.table('weights', 'uint32_t', denseWeightWords(l.bits, l.outFeatures, K), 'binary') },
        { name: 'out', value: outputInit(ctx, l.threshold) },
      ]) },
      args: ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * l.outFeatures,
      runtime: ['bnn_bdense_ref.c', 'bnn_output.c'],
    };
  },
  cost(l, ins) {
    return { binaryMacs: ins[0].shape[0] * l.outFeatures, realMacs: 0 };
  },
};
