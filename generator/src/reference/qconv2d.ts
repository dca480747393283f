// Integer convolution on the raw input: acc = bias + sum over valid taps of w * (q - zeroPoint); exact in int32.
import type { QConv2dLayer } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';
import { applyThreshold } from './threshold.ts';

export function qconv2d(l: QConv2dLayer, x: Tensor, zeroPoint: number): Tensor {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const O = l.outChannels;
  const OH = Math.floor((H + l.pad.top + l.pad.bottom - kh) / sh) + 1;
  const OW = Math.floor((W + l.pad.left + l.pad.right - kw) / sw) + 1;
  const acc = new Int32Array(O * OH * OW);
  for (let o = 0; o < O; o++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let s = l.bias[o];
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - l.pad.top + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - l.pad.left + kx;
              if (ix < 0 || ix >= W) continue;
              s += l.weights[((o * C + c) * kh + ky) * kw + kx] * (x.data[(c * H + iy) * W + ix] - zeroPoint);
            }
          }
        }
        acc[(o * OH + oy) * OW + ox] = s | 0;
      }
    }
  }
  return applyThreshold(acc, [O, OH, OW], l.threshold);
}
