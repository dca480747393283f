// bconv2d: binary convolution, +-1 inputs and +-1 weights, an integer accumulator, then a threshold to b1 or the i32
// accumulator. Weights are plain (one bit per weight, any kernel size) or a Sparks codebook (3x3 only: n <= 2^tau
// distinct codeword ids, one tau-bit index per (output, input) channel pair). Padded taps count as padValue: 0 (PyTorch
// zero padding) or +1 / -1 (Larq pad_values).
// This folder: the reference (reference.ts), codeword ids (codewords.ts), and the three kernels the planner chooses
// from (lower.ts): portable _ref (ref.ts), byte lanes (lanes.ts), bit-sliced codebook (slice.ts).
import { z } from 'zod';
import { BnnError, check } from '../../core/errors.ts';
import { int, layerBase, TensorRef, ThresholdSpec, windowSpec } from '../../ir/spec.ts';
import type { LayerBase, Padding, Threshold } from '../../ir/types.ts';
import { checkBits, checkLength, checkPositive, checkWindow, expectDType, windowOut } from '../shared/checks.ts';
import { checkThreshold, randomThreshold, readThreshold, thresholdBits, writeThreshold } from '../shared/threshold.ts';
import { randomWindow, readPadding, writeWindow } from '../shared/window.ts';
import type { OpDef } from '../types.ts';
import type { MaxPoolLayer } from '../maxpool.ts';
import { lowerBConv2d, lowerBConv2dPooled, lowerBConv2dRequant } from './lower.ts';
import type { RequantLayer } from '../requant.ts';
import type { ThresholdLayer } from '../threshold.ts';
import { bconv2dReference } from './reference.ts';

export interface CodebookWeights {
  kind: 'codebook';
  bits: number; // tau: bits per index, 1..9
  codewords: Uint16Array; // n <= 2^bits distinct 9-bit codeword ids (tap t = 3*ky + kx; bit 1 = +1)
  indices: Uint16Array; // [O, C] index into codewords
}

export interface DenseBinaryWeights {
  kind: 'dense';
  bits: Uint8Array; // [O, C, kh, kw], 1 = +1, 0 = -1
}

export interface BConv2dLayer extends LayerBase {
  op: 'bconv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  /** Value of padded taps: 0 (contribute nothing, as PyTorch zero padding), +1 or -1 (Larq pad_values). */
  padValue: 0 | 1 | -1;
  weights: CodebookWeights | DenseBinaryWeights;
  threshold?: Threshold;
}

const schema = z.strictObject({
  ...layerBase,
  op: z.literal('bconv2d'),
  outChannels: int.min(1),
  ...windowSpec,
  padValue: z.union([z.literal(0), z.literal(1), z.literal(-1)], { error: 'must be 0, 1 or -1' }).default(0),
  weights: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('codebook'), bits: int.min(1).max(9), codewords: TensorRef, indices: TensorRef }),
    z.strictObject({ kind: z.literal('dense'), bits: TensorRef }),
  ]),
  threshold: ThresholdSpec.optional(),
});

function checkCodebook(w: CodebookWeights, O: number, C: number, at: string): void {
  check(Number.isInteger(w.bits) && w.bits >= 1 && w.bits <= 9, `${at}.bits`, `must be an integer 1..9, got ${w.bits}`);
  const n = w.codewords.length;
  check(n >= 1 && n <= 512, `${at}.codewords`, `a codebook holds 1..512 codewords, got ${n}`);
  check(n <= 1 << w.bits, `${at}.codewords`, `${n} codewords do not fit ${w.bits}-bit indices (at most ${1 << w.bits})`);
  const seen = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const cw = w.codewords[k];
    check(cw < 512, `${at}.codewords[${k}]`, `codeword id must be 0..511, got ${cw}`);
    const prev = seen.get(cw);
    check(prev === undefined, `${at}.codewords[${k}]`, `duplicate codeword ${cw} (also at [${prev}])`);
    seen.set(cw, k);
  }
  checkLength(w.indices, O * C, `${at}.indices`);
  for (let k = 0; k < w.indices.length; k++) {
    if (w.indices[k] >= n) throw new BnnError(`${at}.indices[${k}] (output ${Math.floor(k / C)}, input ${k % C}): index ${w.indices[k]} out of range for a codebook of ${n}`);
  }
}

export const bconv2d: OpDef<BConv2dLayer, typeof schema> = {
  op: 'bconv2d',
  arity: 1,
  schema,
  read(s, blob, x, at) {
    const w = s.weights;
    const weights: BConv2dLayer['weights'] =
      w.kind === 'codebook'
        ? { kind: 'codebook', bits: w.bits, codewords: blob.u16(w.codewords, `${at}.weights.codewords`), indices: blob.packed(w.indices, `${at}.weights.indices`, w.bits) }
        : { kind: 'dense', bits: blob.bits(w.bits, `${at}.weights.bits`) };
    return {
      name: s.name, inputs: s.inputs, output: s.output, op: 'bconv2d', outChannels: s.outChannels, kernel: s.kernel, stride: s.stride,
      pad: readPadding(s.padding, x, s.kernel, s.stride), padValue: s.padValue, weights, threshold: readThreshold(blob, s.threshold, at),
    };
  },
  write(l, blob, [x]) {
    const k = l.weights;
    const C = x.shape[0];
    const weights =
      k.kind === 'codebook'
        ? { kind: 'codebook' as const, bits: k.bits, codewords: blob.u16(k.codewords, [k.codewords.length]), indices: blob.packed(k.indices, k.bits, [l.outChannels, C]) }
        : { kind: 'dense' as const, bits: blob.packed(k.bits, 1, [l.outChannels, C, ...l.kernel]) };
    return { outChannels: l.outChannels, ...writeWindow(l), padValue: l.padValue, weights, ...writeThreshold(blob, l.threshold) };
  },
  infer(l, [x], at) {
    expectDType(x, ['b1'], at, l.inputs[0]);
    checkWindow(l.kernel, l.stride, l.pad, at);
    check([0, 1, -1].includes(l.padValue), `${at}.padValue`, `must be 0, 1 or -1, got ${l.padValue}`);
    const O = l.outChannels;
    checkPositive(O, `${at}.outChannels`);
    const C = x.shape[0];
    const w = l.weights;
    if (w.kind === 'codebook') {
      check(l.kernel[0] === 3 && l.kernel[1] === 3, `${at}.kernel`, `a codebook layer must be 3x3, got ${l.kernel[0]}x${l.kernel[1]}`);
      checkCodebook(w, O, C, `${at}.weights`);
    } else {
      checkLength(w.bits, O * C * l.kernel[0] * l.kernel[1], `${at}.weights.bits`);
      checkBits(w.bits, `${at}.weights.bits`);
    }
    const dtype = checkThreshold(l.threshold, O, at);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    return { dtype, shape: [O, oh, ow] };
  },
  run: (l, [x]) => bconv2dReference(l, x),
  lower: lowerBConv2d,
  // bconv2d -> maxpool: the kernel writes the pooled map (b1 outputs only: an i32 accumulator's max pool runs alone).
  // bconv2d -> requant (the int8 path's residual block: accumulator + skip -> RPReLU -> int8): one kernel, the int32
  // map never stored.
  fuses: {
    chains: [
      [{ op: 'maxpool', when: (head) => (head as BConv2dLayer).threshold !== undefined }],
      [{ op: 'requant', when: (head) => (head as BConv2dLayer).threshold === undefined }],
      // The int8 path's threshold of an accumulator is the layer's own threshold (same rule, docs/semantics.md §7).
      [{ op: 'threshold', when: (head) => (head as BConv2dLayer).threshold === undefined }],
    ],
    lower: (l, [next], ctx) => {
      if (next.op === 'maxpool') return lowerBConv2dPooled(l, next as MaxPoolLayer, ctx);
      if (next.op === 'threshold') return lowerBConv2d({ ...l, threshold: (next as ThresholdLayer).threshold }, ctx);
      return lowerBConv2dRequant(l, next as RequantLayer, ctx);
    },
  },
  cost: (l, [x], out) => ({ binaryMacs: out.shape[0] * out.shape[1] * out.shape[2] * x.shape[0] * l.kernel[0] * l.kernel[1], realMacs: 0 }),
  bits(l) {
    const t = thresholdBits(l.threshold);
    const w = l.weights;
    return w.kind === 'codebook' ? { codebook: 9 * w.codewords.length, indices: w.bits * w.indices.length, thresholds: t } : { binary: w.bits.length, thresholds: t };
  },
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]} ${l.weights.kind === 'codebook' ? `codebook τ=${l.weights.bits} n=${l.weights.codewords.length}` : 'plain 1-bit'}${l.threshold ? ' + threshold' : ''}`,
  // BOPs (docs/onnx.md#report): dense H_out·W_out·C_in·C_out·kh·kw; with a codebook of n, the responses of every input
  // channel to its n codewords (H_out·W_out·C_in·9·n) plus one accumulation per (output, input) pair, at half a BOP.
  bops(l, [x], out) {
    const positions = out.shape[1] * out.shape[2];
    const cin = x.shape[0];
    const dense = positions * cin * l.outChannels * l.kernel[0] * l.kernel[1];
    const w = l.weights;
    if (w.kind !== 'codebook') return { dense, binaryWeights: w.bits.length };
    const n = w.codewords.length;
    const responses = positions * cin * 9 * n;
    const accumulations = positions * cin * l.outChannels;
    return { dense, binaryWeights: w.indices.length * 9, codebook: { n, tau: w.bits, responses, accumulations, bops: responses + accumulations / 2 } };
  },
  random(r, x, names) {
    if (x.dtype !== 'b1') return null;
    const codebook = r.bool(0.6);
    const w = codebook ? { kernel: [3, 3] as [number, number], stride: [r.int(1, 2), r.int(1, 2)] as [number, number], pad: { top: r.int(0, 2), left: r.int(0, 2), bottom: r.int(0, 2), right: r.int(0, 2) } } : randomWindow(r, x.shape, 5);
    if (!w || x.shape[1] + w.pad.top + w.pad.bottom < w.kernel[0] || x.shape[2] + w.pad.left + w.pad.right < w.kernel[1]) return null;
    const C = x.shape[0];
    const O = r.int(1, 40);
    let weights: BConv2dLayer['weights'];
    if (codebook) {
      const bits = r.int(1, 9);
      const n = r.int(1, 1 << bits);
      weights = { kind: 'codebook', bits, codewords: Uint16Array.from(r.distinct(n, 512)), indices: new Uint16Array(O * C).map(() => r.int(0, n - 1)) };
    } else weights = { kind: 'dense', bits: r.bits(O * C * w.kernel[0] * w.kernel[1]) };
    const threshold = r.bool(0.7) ? randomThreshold(r, O, C * w.kernel[0] * w.kernel[1]) : undefined;
    return { ...names, op: 'bconv2d', outChannels: O, ...w, padValue: r.pick([0, 1, -1] as const), weights, threshold };
  },
};
