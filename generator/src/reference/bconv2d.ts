// Binary convolution: acc = sum over taps of a * w with a, w in {+1, -1}. Padded taps are padValue:
// 0 contributes nothing (PyTorch zero padding), +1 / -1 act as a constant activation (Larq pad_values).
// A codebook layer's kernel (o, c) is codeword codewords[indices[o*C + c]]: tap t = 3*ky + kx is +1 iff bit t is 1.
import type { BConv2dLayer } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';
import { applyThreshold } from './threshold.ts';

/** The +1/-1 weight of tap (ky, kx) of kernel (o, c). */
export function binaryWeight(l: BConv2dLayer, C: number, o: number, c: number, ky: number, kx: number): number {
  const w = l.weights;
  if (w.kind === 'codebook') {
    const cw = w.codewords[w.indices[o * C + c]];
    return (cw >> (3 * ky + kx)) & 1 ? 1 : -1;
  }
  return w.bits[((o * C + c) * l.kernel[0] + ky) * l.kernel[1] + kx] ? 1 : -1;
}

export function bconv2d(l: BConv2dLayer, x: Tensor): Tensor {
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
        let s = 0;
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - l.pad.top + ky;
              const ix = ox * sw - l.pad.left + kx;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              const a = inside ? x.data[(c * H + iy) * W + ix] : l.padValue;
              s += a * binaryWeight(l, C, o, c, ky, kx);
            }
          }
        }
        acc[(o * OH + oy) * OW + ox] = s;
      }
    }
  }
  return applyThreshold(acc, [O, OH, OW], l.threshold);
}
