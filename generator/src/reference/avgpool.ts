// Average pooling on f32: acc = +0; over valid taps in ky, kx order acc = fround(acc + v);
// y = fround(acc / fround(divisor)), divisor = kh*kw when countIncludePad (PyTorch's default), else the valid count.
import type { AvgPoolLayer } from '../model/ir.ts';
import { f32, type Tensor } from './tensor.ts';

export function avgpool(l: AvgPoolLayer, x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const OH = Math.floor((H + l.pad.top + l.pad.bottom - kh) / sh) + 1;
  const OW = Math.floor((W + l.pad.left + l.pad.right - kw) / sw) + 1;
  const out = new Float32Array(C * OH * OW);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = 0;
        let n = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - l.pad.top + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - l.pad.left + kx;
            if (ix < 0 || ix >= W) continue;
            acc = f32(acc + x.data[(c * H + iy) * W + ix]);
            n++;
          }
        }
        out[(c * OH + oy) * OW + ox] = f32(acc / f32(l.countIncludePad ? kh * kw : n));
      }
    }
  }
  return { dtype: 'f32', shape: [C, OH, OW], data: out };
}
