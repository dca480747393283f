// 3x3 binary kernels as codeword ids (0..511): tap t = 3*ky + kx is +1 iff bit t of the id is 1 (docs/semantics.md).
// The one place that turns kernel bits into ids; the reference, the C tables, inspect, compact and the ONNX importer
// all use it.
import type { BConv2dLayer } from './index.ts';

/** Codeword id of 3x3 kernel number k of a [.., 3, 3] bit array (1 = +1). */
export function codewordId(bits: ArrayLike<number>, k: number): number {
  let id = 0;
  for (let t = 0; t < 9; t++) if (bits[k * 9 + t]) id |= 1 << t;
  return id;
}

/** The codeword id of every (o, c) kernel of a 3x3 layer, [O][C]. */
export function kernelIds(l: BConv2dLayer): Uint16Array {
  const w = l.weights;
  if (w.kind === 'codebook') return Uint16Array.from(w.indices, (k) => w.codewords[k]);
  const ids = new Uint16Array(w.bits.length / 9);
  for (let k = 0; k < ids.length; k++) ids[k] = codewordId(w.bits, k);
  return ids;
}

/** True for the layers Sparks compacts: binary 3x3 convolutions. */
export function isBinary3x3(l: { op: string }): l is BConv2dLayer {
  const b = l as BConv2dLayer;
  return b.op === 'bconv2d' && b.kernel[0] === 3 && b.kernel[1] === 3;
}

/** Input channel count of a binary 3x3 layer, from its weights. */
export function inChannels(l: BConv2dLayer): number {
  const w = l.weights;
  return w.kind === 'codebook' ? w.indices.length / l.outChannels : w.bits.length / (l.outChannels * 9);
}
