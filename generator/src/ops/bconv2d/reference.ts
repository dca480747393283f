// Binary convolution: acc = sum over taps of a * w with a, w in {+1, -1}. Padded taps are padValue:
// 0 contributes nothing (PyTorch zero padding), +1 / -1 act as a constant activation (Larq pad_values).
// A codebook layer's kernel (o, c) is codeword codewords[indices[o*C + c]]: tap t = 3*ky + kx is +1 iff bit t is 1.
import type { Tensor } from '../../ir/tensor.ts';
import { applyThreshold } from '../shared/threshold.ts';
import { kernelIds } from './codewords.ts';
import type { BConv2dLayer } from './index.ts';

/** The +1/-1 weight of tap (ky, kx) of kernel (o, c). */
export function binaryWeight(l: BConv2dLayer, C: number, o: number, c: number, ky: number, kx: number): number {
  const w = l.weights;
  if (w.kind === 'codebook') {
    const cw = w.codewords[w.indices[o * C + c]];
    return (cw >> (3 * ky + kx)) & 1 ? 1 : -1;
  }
  return w.bits[((o * C + c) * l.kernel[0] + ky) * l.kernel[1] + kx] ? 1 : -1;
}

function outShape(l: BConv2dLayer, H: number, W: number): [number, number] {
  return [Math.floor((H + l.pad.top + l.pad.bottom - l.kernel[0]) / l.stride[0]) + 1, Math.floor((W + l.pad.left + l.pad.right - l.kernel[1]) / l.stride[1]) + 1];
}

export function bconv2dReference(l: BConv2dLayer, x: Tensor): Tensor {
  const acc = l.kernel[0] === 3 && l.kernel[1] === 3 ? accumulate3x3(l, x) : accumulateDirect(l, x);
  const [OH, OW] = outShape(l, x.shape[1], x.shape[2]);
  return applyThreshold(acc, [l.outChannels, OH, OW], l.threshold);
}

/**
 * The definition, term by term: every (output, input channel, tap, position) adds a * w. Used for kernels other
 * than 3x3, and by the tests as the yardstick for accumulate3x3.
 */
export function accumulateDirect(l: BConv2dLayer, x: Tensor): Int32Array {
  const [C, H, W] = x.shape;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const O = l.outChannels;
  const [OH, OW] = outShape(l, H, W);
  const acc = new Int32Array(O * OH * OW);
  const xd = x.data as Int8Array; // b1 tensors hold +1/-1 bytes
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const w = binaryWeight(l, C, o, c, ky, kx);
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - l.pad.top + ky;
            for (let ox = 0; ox < OW; ox++) {
              const ix = ox * sw - l.pad.left + kx;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              acc[(o * OH + oy) * OW + ox] += (inside ? xd[(c * H + iy) * W + ix] : l.padValue) * w;
            }
          }
        }
      }
    }
  }
  return acc;
}

/** popcount of 0..511. */
const POP9 = Uint8Array.from({ length: 512 }, (_, v) => {
  let n = 0;
  for (let b = v; b; b >>= 1) n += b & 1;
  return n;
});

/**
 * 3x3 kernels, the same sum computed per (output, input channel, position) at once. At a position, the input's nine
 * taps form a 9-bit pattern q (bit t set: activation +1; a padded tap carries padValue) and the taps that count form a
 * mask m (all nine, except padded taps when padValue is 0). With the kernel's codeword id k, the taps that agree add
 * +1 and the others -1: sum = popcount(m) - 2 * popcount((q XOR k) AND m). Exact, like any order of integer adds.
 */
export function accumulate3x3(l: BConv2dLayer, x: Tensor): Int32Array {
  const [C, H, W] = x.shape;
  const [sh, sw] = l.stride;
  const O = l.outChannels;
  const [OH, OW] = outShape(l, H, W);
  const P = OH * OW;
  const xd = x.data as Int8Array;
  const padBit = l.padValue === 1 ? 1 : 0;
  const mask = new Uint16Array(P);
  const count = new Uint8Array(P);
  const pattern = new Uint16Array(C * P);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      const p = oy * OW + ox;
      let m = 0;
      for (let t = 0; t < 9; t++) {
        const iy = oy * sh - l.pad.top + Math.floor(t / 3);
        const ix = ox * sw - l.pad.left + (t % 3);
        const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        if (inside || l.padValue !== 0) m |= 1 << t;
        for (let c = 0; c < C; c++) {
          const bit = inside ? (xd[(c * H + iy) * W + ix] > 0 ? 1 : 0) : padBit;
          pattern[c * P + p] |= bit << t;
        }
      }
      mask[p] = m;
      count[p] = POP9[m];
    }
  }
  const ids = kernelIds(l);
  const acc = new Int32Array(O * P);
  for (let o = 0; o < O; o++) {
    const out = acc.subarray(o * P, (o + 1) * P);
    for (let c = 0; c < C; c++) {
      const k = ids[o * C + c];
      const q = pattern.subarray(c * P, (c + 1) * P);
      for (let p = 0; p < P; p++) out[p] += count[p] - 2 * POP9[(q[p] ^ k) & mask[p]];
    }
  }
  return acc;
}
