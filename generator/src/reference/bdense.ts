// Binary fully connected: acc[n] = sum_k x[k] * w[n, k], all values +1/-1.
import type { BDenseLayer } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';
import { applyThreshold } from './threshold.ts';

export function bdense(l: BDenseLayer, x: Tensor): Tensor {
  const K = x.shape[0];
  const N = l.outFeatures;
  const acc = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x.data[k] * (l.bits[n * K + k] ? 1 : -1);
    acc[n] = s;
  }
  return applyThreshold(acc, [N, 1, 1], l.threshold);
}
