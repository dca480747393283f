// Clamp (Hardtanh): y = x < min ? min : x > max ? max : x.
import type { ClipLayer } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';

export function clip(l: ClipLayer, x: Tensor): Tensor {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i];
    out[i] = v < l.min ? l.min : v > l.max ? l.max : v;
  }
  return { dtype: 'f32', shape: x.shape, data: out };
}
