// Winograd F(3x3, 4x4) for the rows conv of a stride-2 stem (runtime-c/bnn_qconv2d_wino.c states the algebra and
// its integer bounds): the kernel split by input phase into 4 * C components of 4x4 taps, each transformed by G.
import type { QConv2dLayer } from '../qconv2d.ts';

/** G of the transform (Toom-Cook at 0, 1, -1, 2, -2 and infinity; B's denominators moved into it and A). */
const G = [[6, 0, 0, 0], [4, 4, 4, 4], [4, -4, 4, -4], [1, 2, 4, 8], [1, -2, 4, -8], [0, 0, 0, 12]];

/** Points of the transform: 6 x 6 (a tile of 3 x 3 outputs). */
const N = 6;
export const WINO_POINTS = N * N;

/**
 * Whether the rows conv runs by Winograd: stride 2, kernels of 5..8 taps each way (their phases have 3 or 4 taps:
 * smaller kernels would mostly multiply zeros), every transformed weight G g G^T within int16, and each channel's
 * sums |y - bias| <= 255 * sum |w| < 2^25, which the kernel recovers from 576 y modulo 2^32. int8 weights always fit
 * (G's rows sum to at most 16 in magnitude: U in [-32768, 32640]; the sums under C * kh * kw * 128 * 255); int16 ones
 * (a model file's) when they do.
 */
export function winogradApplies(l: QConv2dLayer, C: number): boolean {
  const [kh, kw] = l.kernel;
  if (!winogradShaped(l)) return false;
  if (l.weights instanceof Int8Array) return C * kh * kw * 128 * 255 < 2 ** 25;
  const per = C * kh * kw;
  for (let o = 0; o < l.outChannels; o++) {
    let sum = 0;
    for (let k = 0; k < per; k++) sum += Math.abs(l.weights[o * per + k]);
    if (255 * sum >= 2 ** 25) return false;
    if (transformedMax(channelTaps(l, o, C), C) > 32767) return false;
  }
  return true;
}

/** Stride 2 and 5..8 taps each way. */
function winogradShaped(l: { kernel: [number, number]; stride: [number, number] }): boolean {
  const inRange = (k: number) => k >= 5 && k <= 8;
  return l.stride[0] === 2 && l.stride[1] === 2 && inRange(l.kernel[0]) && inRange(l.kernel[1]);
}

/** Output channel o's weight at (c, ky, kx), 0 past the kernel (the phases' 4x4 taps reach beyond a 5..7 kernel). */
function channelTaps(l: QConv2dLayer, o: number, C: number): (c: number, ky: number, kx: number) => number {
  const [kh, kw] = l.kernel;
  return (c, ky, kx) => (ky < kh && kx < kw ? l.weights[((o * C + c) * kh + ky) * kw + kx] : 0);
}

/** U = G g G^T at point (A, B) of component m = 4c + 2py + px, g(c, ky, kx) a channel's weights (0 past the kernel). */
function transformed(g: (c: number, ky: number, kx: number) => number, m: number, A: number, B: number): number {
  const c = m >> 2;
  const py = (m >> 1) & 1;
  const px = m & 1;
  let u = 0;
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) u += G[A][a] * g(c, 2 * a + py, 2 * b + px) * G[B][b];
  return u;
}

/** The largest |U| of one output channel's weights g over every component and point. */
function transformedMax(g: (c: number, ky: number, kx: number) => number, C: number): number {
  let max = 0;
  for (let m = 0; m < 4 * C; m++) for (let A = 0; A < N; A++) for (let B = 0; B < N; B++) max = Math.max(max, Math.abs(transformed(g, m, A, B)));
  return max;
}

/**
 * Whether U is laid out halved (winogradWeights): a 7x7 kernel, whose phases of odd row or column have 3 taps, so that
 * G's last row (A = 5, the point at infinity, which picks tap 3) gives 0 for their components: at A = 5 only the C
 * words of phase row 0 are nonzero, and at B = 5 only the low lanes (phase column 0), packed two phase rows a word.
 */
export const winogradHalf = (l: QConv2dLayer) => l.kernel[0] === 7 && l.kernel[1] === 7;

/**
 * U = G g G^T of every output channel o and component m = 4c + 2py + px (channel c's taps (2a + py, 2b + px)) as int16
 * pairs, point-major: point xi's O * P words (P = 2C) hold the groups of four channels (word xi * O * P + (g * P + j)
 * * 4 + i is pair j of channel 4g + i), then the O % 4 last channels (word xi * O * P + o * P + j), as
 * bnn_qconv2d_wino.c reads them. Pair j = py * C + c holds components (c, py, 0) low and (c, py, 1) high, except at the
 * points with B = 5 of a halved layout (winogradHalf), where pair c holds (c, 0, 0) low and (c, 1, 0) high (the other
 * components are 0 there) and the pairs from C on are 0.
 */
export function winogradWeights(l: QConv2dLayer, C: number): Uint32Array {
  const O = l.outChannels;
  const P = 2 * C;
  const O4 = O & ~3;
  const half = winogradHalf(l);
  // One spare word at the end: the M7 assembly loads a word ahead (runtime-c/bnn_qconv2d_rows_t2.c, bnn_qw_gemm).
  const out = new Uint32Array(WINO_POINTS * O * P + 1);
  const word = (xi: number, o: number, j: number) => xi * O * P + (o < O4 ? ((o >> 2) * P + j) * 4 + (o & 3) : o * P + j);
  for (let o = 0; o < O; o++) {
    const g = channelTaps(l, o, C);
    for (let m = 0; m < 4 * C; m++) {
      const [c, py, px] = [m >> 2, (m >> 1) & 1, m & 1];
      for (let A = 0; A < N; A++) {
        for (let B = 0; B < N; B++) {
          const u = transformed(g, m, A, B);
          const packed = half && B === N - 1;
          if (packed && px === 1) continue; // 0 there: tap 3 of an odd phase column is past the kernel
          out[word(A * N + B, o, packed ? c : py * C + c)] |= (u & 0xffff) << (16 * (packed ? py : px));
        }
      }
    }
  }
  return out;
}

/** The Winograd path's scratch in words: V of two tiles and the sums M (bnn_qconv2d_wino.c), then three rows of
 *  accumulators (out_c x out_w each). */
export const winogradScratchWords = (C: number, O: number, OW: number) => 2 * WINO_POINTS * (2 * C + O) + 3 * O * OW;
