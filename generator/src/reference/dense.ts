// Real fully connected: acc = +0; for k: acc = fround(acc + fround(w[n,k] * x[k])); out = fround(acc + bias[n]).
// A b1 input contributes +-w exactly.
import type { DenseLayer, QDenseLayer } from '../model/ir.ts';
import { f32, type Tensor } from './tensor.ts';

export function dense(l: DenseLayer, x: Tensor): Tensor {
  const K = x.shape[0];
  const N = l.outFeatures;
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc = f32(acc + f32(l.weights[n * K + k] * x.data[k]));
    out[n] = f32(acc + l.bias[n]);
  }
  return { dtype: 'f32', shape: [N, 1, 1], data: out };
}

/** Integer fully connected on a b1 vector: acc[n] = bias[n] + sum_k w[n,k] * x[k]; exact in int32. */
export function qdense(l: QDenseLayer, x: Tensor): Tensor {
  const K = x.shape[0];
  const N = l.outFeatures;
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let acc = l.bias[n];
    for (let k = 0; k < K; k++) acc += l.weights[n * K + k] * x.data[k];
    out[n] = acc | 0;
  }
  return { dtype: 'i32', shape: [N, 1, 1], data: out };
}
