// Real -> binary: +1 iff fround(x + shift[c]) >= 0. sign(0) = +1, and -0 counts as 0.
import type { BinarizeLayer } from '../model/ir.ts';
import { f32, type Tensor } from './tensor.ts';

export function binarize(l: BinarizeLayer, x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const out = new Int8Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) {
      const v = x.data[c * H * W + i];
      const t = l.shift ? f32(v + l.shift[c]) : v;
      out[c * H * W + i] = t >= 0 ? 1 : -1;
    }
  }
  return { dtype: 'b1', shape: x.shape, data: out };
}
