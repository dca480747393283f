// Winograd F(3x3, 4x4) for the rows conv of a stride-2 stem (runtime-c/bnn_qconv2d_wino.c states the algebra and
// its integer bounds): the kernel split by input phase into 4 * C components of 4x4 taps, each transformed by G.
import type { QConv2dLayer } from '../qconv2d.ts';

/** G of the transform (Toom-Cook at 0, 1, -1, 2, -2 and infinity; B's denominators moved into it and A). */
const G = [[6, 0, 0, 0], [4, 4, 4, 4], [4, -4, 4, -4], [1, 2, 4, 8], [1, -2, 4, -8], [0, 0, 0, 12]];

/** Points of the transform: 6 x 6 (a tile of 3 x 3 outputs). */
const N = 6;
export const WINO_POINTS = N * N;

/**
 * Whether the rows conv runs by Winograd: int8 weights (so G g G^T lies in [-32768, 32640]: int16), stride 2, kernels
 * of 5..8 taps each way (their phases have 3 or 4 taps: smaller kernels would mostly multiply zeros), and sums
 * |y - bias| <= C * kh * kw * 128 * 255 < 2^25, which the kernel recovers from 576 y modulo 2^32.
 */
export function winogradApplies(l: QConv2dLayer, C: number): boolean {
  const [kh, kw] = l.kernel;
  const inRange = (k: number) => k >= 5 && k <= 8;
  return l.weights instanceof Int8Array && l.stride[0] === 2 && l.stride[1] === 2 && inRange(kh) && inRange(kw) && C * kh * kw * 128 * 255 < 2 ** 25;
}

/**
 * U = G g G^T of every output channel o and component m = 4c + 2py + px (channel c's taps (2a + py, 2b + px)) as int16
 * pairs (components 2j low, 2j + 1 high in word j, j < P = 2C), point-major: point xi's O * P words hold the groups of
 * four channels (word xi * O * P + (g * P + j) * 4 + i is pair j of channel 4g + i), then the O % 4 last channels
 * (word xi * O * P + o * P + j), as bnn_qconv2d_wino.c reads them.
 */
export function winogradWeights(l: QConv2dLayer, C: number): Uint32Array {
  const [kh, kw] = l.kernel;
  const O = l.outChannels;
  const P = 2 * C;
  const O4 = O & ~3;
  // One spare word at the end: the M7 assembly loads a word ahead (runtime-c/bnn_qconv2d_rows_t2.c, bnn_qw_gemm).
  const out = new Uint32Array(WINO_POINTS * O * P + 1);
  const word = (xi: number, o: number, j: number) => xi * O * P + (o < O4 ? ((o >> 2) * P + j) * 4 + (o & 3) : o * P + j);
  for (let o = 0; o < O; o++) {
    for (let m = 0; m < 4 * C; m++) {
      const c = m >> 2;
      const py = (m >> 1) & 1;
      const px = m & 1;
      const g = (a: number, b: number) => {
        const ky = 2 * a + py;
        const kx = 2 * b + px;
        return ky < kh && kx < kw ? l.weights[((o * C + c) * kh + ky) * kw + kx] : 0;
      };
      for (let A = 0; A < N; A++) {
        for (let B = 0; B < N; B++) {
          let u = 0;
          for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) u += G[A][a] * g(a, b) * G[B][b];
          out[word(A * N + B, o, m >> 1)] |= (u & 0xffff) << (16 * (m & 1));
        }
      }
    }
  }
  return out;
}

/** The Winograd path's scratch in words: V of two tiles and the sums M (bnn_qconv2d_wino.c), then three rows of
 *  accumulators (out_c x out_w each). */
export const winogradScratchWords = (C: number, O: number, OW: number) => 2 * WINO_POINTS * (2 * C + O) + 3 * O * OW;
