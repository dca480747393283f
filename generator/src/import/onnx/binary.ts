// Binary weights: recognise ±α_o per output channel in folded constant weights, and pack 3x3 kernels into a
// Sparks codebook (codeword id: tap t = 3*ky + kx, bit 1 = +1).
import type { CodebookWeights, DenseBinaryWeights } from '../../model/ir.ts';
import { codewordId } from '../../ops/bconv2d/codewords.ts';

/**
 * Weights whose magnitudes differ from their channel's α by more than this (relative) are not binary. Exact
 * sign(W)*α folds give 0; the STE idiom `b.detach() - w.detach() + w` leaves an ulp or so; real weights are far off.
 */
export const BINARY_TOLERANCE = 1e-3;

export interface BinaryWeights {
  alpha: Float32Array; // [O], > 0
  bits: Uint8Array; // [O, rest...], 1 = +1
  /** Largest relative deviation of |w| from α seen (0 when exactly ±α). */
  deviation: number;
}

/** Split [O, ...] weights into α_o and signs, or say why they are not binary. */
export function binaryWeights(data: ArrayLike<number>, outChannels: number): BinaryWeights | string {
  const per = data.length / outChannels;
  const alpha = new Float32Array(outChannels);
  const bits = new Uint8Array(data.length);
  let deviation = 0;
  for (let o = 0; o < outChannels; o++) {
    let sum = 0;
    for (let i = 0; i < per; i++) sum += Math.abs(data[o * per + i]);
    const a = sum / per;
    if (!(a > 0) || !Number.isFinite(a)) return `output channel ${o} has all-zero or non-finite weights`;
    for (let i = 0; i < per; i++) {
      const w = data[o * per + i];
      const dev = Math.abs(Math.abs(w) - a) / a;
      if (w === 0 || dev > BINARY_TOLERANCE) {
        return `weights are not ±α per output channel: output channel ${o} holds ${w} where the channel's mean magnitude is ${Math.fround(a)}`;
      }
      deviation = Math.max(deviation, dev);
      bits[o * per + i] = w > 0 ? 1 : 0;
    }
    alpha[o] = a;
  }
  return { alpha, bits, deviation };
}


export interface Packing {
  weights: CodebookWeights | DenseBinaryWeights;
  distinct: number;
  /** Output channels whose signs were negated to share codewords (their α must be negated too); empty if none. */
  negated: number[];
}

/**
 * Choose a sign per output channel so that the kernels need as few distinct codewords as possible. A channel
 * stored as -α·(-k) equals α·k; exporters that fold a batch norm with γ < 0 into a binary conv (PyTorch does,
 * for weights that are parameters) negate whole channels, which would otherwise double the codebook. Greedy:
 * flip a channel while its kernels occur more often elsewhere in negated form; kept only if it helps.
 * Returns the flips (1 = negate) or null when nothing is gained.
 */
function channelSigns(ids: Uint16Array, outChannels: number): Uint8Array | null {
  const per = ids.length / outChannels;
  const count = new Int32Array(512);
  for (const id of ids) count[id]++;
  const distinct = () => count.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  const before = distinct();
  const flip = new Uint8Array(outChannels);
  for (let pass = 0; pass < 8; pass++) {
    let changed = false;
    for (let o = 0; o < outChannels; o++) {
      // Votes of the other channels for this channel's kernels as they are and negated.
      let keep = 0;
      let neg = 0;
      for (let i = o * per; i < (o + 1) * per; i++) {
        const id = flip[o] ? 511 - ids[i] : ids[i];
        keep += count[id] - 1;
        neg += count[511 - id];
      }
      if (neg > keep) {
        for (let i = o * per; i < (o + 1) * per; i++) {
          const id = flip[o] ? 511 - ids[i] : ids[i];
          count[id]--;
          count[511 - id]++;
        }
        flip[o] ^= 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  if (distinct() >= before) return null;
  // Negating every channel keeps the count (id -> 511 - id is one-to-one): leave most channels (and channel 0 on
  // a tie) as they are.
  const flipped = flip.reduce((n, f) => n + f, 0);
  if (2 * flipped > outChannels || (2 * flipped === outChannels && flip[0])) for (let o = 0; o < outChannels; o++) flip[o] ^= 1;
  return flip;
}

/**
 * Pack 3x3 binary kernels [O, C, 3, 3]: a codebook of the distinct codewords (sorted by id) with τ = `tau`, or
 * minimal τ when undefined; plain 1-bit weights when τ would be 9 (a 9-bit index saves nothing). Channels are
 * negated to share codewords (see `negated`) only when that lowers the minimal τ or makes the requested τ fit. Returns a message when `tau` is too small for the kernels present.
 */
export function packKernels3x3(bits: Uint8Array, tau: number | undefined, outChannels = 1): Packing | string {
  const n = bits.length / 9;
  let ids = new Uint16Array(n);
  for (let k = 0; k < n; k++) ids[k] = codewordId(bits, k);
  // Negate channels only where it pays: a smaller minimal τ, or fitting the requested τ at all. Otherwise the
  // codewords stay the kernels' own signs.
  const need = (d: number) => Math.max(1, Math.ceil(Math.log2(d)));
  const count = (a: Uint16Array) => new Set(a).size;
  let flips = channelSigns(ids, outChannels);
  if (flips) {
    const per = n / outChannels;
    const before = count(ids);
    const after = count(ids.map((id, k) => (flips![Math.floor(k / per)] ? 511 - id : id)));
    const pays = tau === undefined ? need(after) < need(before) && need(after) < 9 : before > 2 ** tau && after <= 2 ** tau;
    if (!pays) flips = null;
  }
  const negated: number[] = [];
  if (flips) {
    const per = n / outChannels;
    ids = ids.map((id, k) => (flips[Math.floor(k / per)] ? 511 - id : id));
    flips.forEach((f, o) => f && negated.push(o));
  }
  const codewords = Uint16Array.from(new Set(ids)).sort();
  const minimal = Math.max(1, Math.ceil(Math.log2(codewords.length)));
  const bitsPerIndex = tau ?? minimal;
  if (codewords.length > 2 ** bitsPerIndex) return `${codewords.length} distinct 3x3 kernels do not fit a codebook of 2^${bitsPerIndex} = ${2 ** bitsPerIndex}`;
  if (bitsPerIndex >= 9) return { weights: { kind: 'dense', bits }, distinct: codewords.length, negated: [] };
  const indexOf = new Map<number, number>();
  codewords.forEach((id, i) => indexOf.set(id, i));
  const indices = Uint16Array.from(ids, (id) => indexOf.get(id)!);
  return { weights: { kind: 'codebook', bits: bitsPerIndex, codewords, indices }, distinct: codewords.length, negated };
}
