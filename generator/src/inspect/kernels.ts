// Shared helpers: the 3x3 binary kernels of a bconv2d layer as 9-bit codeword ids (tap t = 3*ky + kx, bit set = +1).
import type { BConv2dLayer, Layer } from '../model/ir.ts';

/** True for the layers Sparks compacts: binary 3x3 convolutions. */
export function isBinary3x3(l: Layer): l is BConv2dLayer {
  return l.op === 'bconv2d' && l.kernel[0] === 3 && l.kernel[1] === 3;
}

/** Input channel count of a binary 3x3 layer, from its weights. */
export function inChannels(l: BConv2dLayer): number {
  const w = l.weights;
  return w.kind === 'codebook' ? w.indices.length / l.outChannels : w.bits.length / (l.outChannels * 9);
}

/** Codeword id of every (o, c) kernel, [O, C] row-major. */
export function kernelIds(l: BConv2dLayer): Uint16Array {
  const w = l.weights;
  if (w.kind === 'codebook') return Uint16Array.from(w.indices, (i) => w.codewords[i]);
  const n = w.bits.length / 9;
  const ids = new Uint16Array(n);
  for (let k = 0; k < n; k++) {
    let id = 0;
    for (let t = 0; t < 9; t++) if (w.bits[k * 9 + t]) id |= 1 << t;
    ids[k] = id;
  }
  return ids;
}

/** Counts of each of the 512 codeword ids. */
export function histogram(ids: ArrayLike<number>): Float64Array {
  const h = new Float64Array(512);
  for (let i = 0; i < ids.length; i++) h[ids[i]]++;
  return h;
}

/** Codeword ids by descending count, ties by lower id; only ids with count > 0. */
export function rankCodewords(h: ArrayLike<number>): number[] {
  const ids: number[] = [];
  for (let i = 0; i < 512; i++) if (h[i] > 0) ids.push(i);
  return ids.sort((a, b) => h[b] - h[a] || a - b);
}

export function popcount9(x: number): number {
  let c = 0;
  for (let t = 0; t < 9; t++) c += (x >> t) & 1;
  return c;
}

/** Hamming distance between codewords a and b. */
export const HAMMING: Uint8Array = (() => {
  const d = new Uint8Array(512 * 512);
  for (let a = 0; a < 512; a++) for (let b = 0; b < 512; b++) d[a * 512 + b] = popcount9(a ^ b);
  return d;
})();
