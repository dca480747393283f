// Counting 3x3 kernels: histograms over the 512 codeword ids and Hamming distances between them. The ids themselves
// come from the op's home (ops/bconv2d/codewords.ts).
export { inChannels, isBinary3x3, kernelIds } from '../ops/bconv2d/codewords.ts';

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
