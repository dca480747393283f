// Mean over each channel's H x W map: acc = +0; for y, x: acc = fround(acc + fround(v)); out = fround(acc / fround(H * W)).
import type { Tensor } from './tensor.ts';
import { f32 } from './tensor.ts';

export function globalavgpool(x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const out = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let i = 0; i < H * W; i++) acc = f32(acc + f32(x.data[c * H * W + i]));
    out[c] = f32(acc / f32(H * W));
  }
  return { dtype: 'f32', shape: [C, 1, 1], data: out };
}
