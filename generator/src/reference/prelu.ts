// PReLU with optional shifts (ReActNet's RPReLU): t = fround(x + shiftIn[c]); u = t >= 0 ? t : fround(t * slope[c]);
// y = fround(u + shiftOut[c]). A missing shift is skipped (not added as 0, which would turn -0 into +0).
import type { PReluLayer } from '../model/ir.ts';
import { f32, type Tensor } from './tensor.ts';

export function prelu(l: PReluLayer, x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) {
      let t = x.data[c * H * W + i];
      if (l.shiftIn) t = f32(t + l.shiftIn[c]);
      let u = t >= 0 ? t : f32(t * l.slope[c]);
      if (l.shiftOut) u = f32(u + l.shiftOut[c]);
      out[c * H * W + i] = u;
    }
  }
  return { dtype: 'f32', shape: x.shape, data: out };
}
