// Residual sum: y = fround(a + b), element by element.
import { f32, type Tensor } from './tensor.ts';

export function add(a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f32(a.data[i] + b.data[i]);
  return { dtype: 'f32', shape: a.shape, data: out };
}
