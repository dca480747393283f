// The standard benchmark set (issue: fast Cortex-M kernels): binary 3x3 convolutions, stride 1, "same" padding,
// 16x16x64->64, 32x32x32->32 and 8x8x128->128 (9,437,184 binary MACs each), with dense weights and with codebooks
// of tau = 3, 4, 5; plus the example model end to end. Each shape is a small model: an integer 1x1 stem with a
// threshold makes the b1 input, the measured bconv2d (thresholded to b1, as in a real network) follows, and a
// global average pool gives the scores.
import { samePadding, type Model } from '../model/ir.ts';
import { rng } from '../model/random.ts';

export const STANDARD_SHAPES: [number, number, number][] = [
  [64, 16, 16],
  [32, 32, 32],
  [128, 8, 8],
];
export const STANDARD_TAUS: (number | null)[] = [null, 3, 4, 5];

/** A model whose layer 'conv' is the binary 3x3 convolution C x H x W -> C (tau null: dense 1-bit weights). */
export function standardLayerModel(C: number, H: number, W: number, tau: number | null, seed = 1): Model {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const O = C;
  let weights: Extract<Model['layers'][number], { op: 'bconv2d' }>['weights'];
  if (tau === null) {
    weights = { kind: 'dense', bits: Uint8Array.from({ length: O * C * 9 }, () => int(0, 1)) };
  } else {
    const n = 1 << tau;
    const ids = new Set<number>();
    while (ids.size < n) ids.add(int(0, 511));
    weights = { kind: 'codebook', bits: tau, codewords: Uint16Array.from(ids), indices: Uint16Array.from({ length: O * C }, () => int(0, n - 1)) };
  }
  const K = 9 * C;
  return {
    name: `bconv3x3-${H}x${W}x${C}-${tau === null ? 'dense' : `tau${tau}`}`,
    input: { shape: [1, H, W], dtype: 'u8', zeroPoint: 128, scale: new Float32Array([1 / 255]), bias: new Float32Array([0]) },
    layers: [
      {
        name: 'stem', op: 'qconv2d', inputs: ['input'], output: 'x', outChannels: C, kernel: [1, 1], stride: [1, 1],
        pad: { top: 0, left: 0, bottom: 0, right: 0 },
        weights: Int8Array.from({ length: C }, () => int(-127, 127)), bias: Int32Array.from({ length: C }, () => int(-100, 100)),
        threshold: { value: new Int32Array(C), flip: new Uint8Array(C) },
      },
      {
        name: 'conv', op: 'bconv2d', inputs: ['x'], output: 'y', outChannels: O, kernel: [3, 3], stride: [1, 1],
        pad: samePadding(H, W, [3, 3], [1, 1]), padValue: 0, weights,
        threshold: { value: Int32Array.from({ length: O }, () => int(-K >> 3, K >> 3)), flip: Uint8Array.from({ length: O }, () => (r() < 0.2 ? 1 : 0)) },
      },
      { name: 'gap', op: 'globalavgpool', inputs: ['y'], output: 'scores' },
    ],
    output: 'scores',
  };
}
