// Real-valued convolution, float32. Accumulation order is part of the semantics (docs/semantics.md):
// acc starts at +0, then for c, ky, kx (skipping padded taps): acc = fround(acc + fround(w * x)); out = fround(acc + bias).
import type { Conv2dLayer } from '../model/ir.ts';
import { f32, type RealReader, type Tensor } from './tensor.ts';

export function conv2d(l: Conv2dLayer, x: Tensor, read: RealReader): Tensor {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const O = l.outChannels;
  const OH = Math.floor((H + l.pad.top + l.pad.bottom - kh) / sh) + 1;
  const OW = Math.floor((W + l.pad.left + l.pad.right - kw) / sw) + 1;
  const out = new Float32Array(O * OH * OW);
  for (let o = 0; o < O; o++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = 0;
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - l.pad.top + ky;
            if (iy < 0 || iy >= H) continue; // zero padding: the product is 0 and adding it changes nothing
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - l.pad.left + kx;
              if (ix < 0 || ix >= W) continue;
              const w = l.weights[((o * C + c) * kh + ky) * kw + kx];
              acc = f32(acc + f32(w * read(c, iy, ix)));
            }
          }
        }
        out[(o * OH + oy) * OW + ox] = f32(acc + l.bias[o]);
      }
    }
  }
  return { dtype: 'f32', shape: [O, OH, OW], data: out };
}
