// Per-channel affine map (folded batch norm): y = fround(fround(x * scale[c]) + bias[c]); i32 inputs convert to float first.
import type { AffineLayer } from '../model/ir.ts';
import { f32, type Tensor } from './tensor.ts';

export function affine(l: AffineLayer, x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) {
      const v = f32(x.data[c * H * W + i]);
      out[c * H * W + i] = f32(f32(v * l.scale[c]) + l.bias[c]);
    }
  }
  return { dtype: 'f32', shape: x.shape, data: out };
}
