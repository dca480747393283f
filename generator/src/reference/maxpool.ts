// Max pooling. Padded positions are ignored (never part of the max). Scan order ky, kx; a later value
// replaces the running max only if strictly greater, so -0/+0 ties keep the first one seen.
// On b1 maps this is a logical OR of +1.
import type { MaxPoolLayer } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';

export function maxpool(l: MaxPoolLayer, x: Tensor): Tensor {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const OH = Math.floor((H + l.pad.top + l.pad.bottom - kh) / sh) + 1;
  const OW = Math.floor((W + l.pad.left + l.pad.right - kw) / sw) + 1;
  const out = x.dtype === 'b1' ? new Int8Array(C * OH * OW) : new Float32Array(C * OH * OW);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let m = 0;
        let first = true;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - l.pad.top + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - l.pad.left + kx;
            if (ix < 0 || ix >= W) continue;
            const v = x.data[(c * H + iy) * W + ix];
            if (first || v > m) m = v;
            first = false;
          }
        }
        out[(c * OH + oy) * OW + ox] = m;
      }
    }
  }
  return { dtype: x.dtype, shape: [C, OH, OW], data: out };
}
