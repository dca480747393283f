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
  const xd = x.data as Int8Array; // b1 tensors hold +1/-1 bytes
  // The sum is of small integers, so it is exact in any order: loop tap-major over whole output planes (fast in
  // JS), with each +-1 weight looked up once.
  for (let o = 0; o < O; o++) {
    const plane = acc.subarray(o * OH * OW, (o + 1) * OH * OW);
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const w = binaryWeight(l, C, o, c, ky, kx);
          // Output columns whose input column ix = ox*sw - left + kx lies inside [0, W): [oxLo, oxHi).
          const oxLo = Math.min(OW, Math.max(0, Math.ceil((l.pad.left - kx) / sw)));
          const oxHi = Math.max(oxLo, Math.min(OW, Math.floor((W - 1 + l.pad.left - kx) / sw) + 1));
          const pad = l.padValue * w;
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - l.pad.top + ky;
            const out = oy * OW;
            if (iy < 0 || iy >= H) {
              for (let ox = 0; ox < OW; ox++) plane[out + ox] += pad;
              continue;
            }
            const row = (c * H + iy) * W - l.pad.left + kx;
            for (let ox = 0; ox < oxLo; ox++) plane[out + ox] += pad;
            for (let ox = oxLo; ox < oxHi; ox++) plane[out + ox] += xd[row + ox * sw] * w;
            for (let ox = oxHi; ox < OW; ox++) plane[out + ox] += pad;
          }
        }
      }
    }
  }
  return applyThreshold(acc, [O, OH, OW], l.threshold);
}
