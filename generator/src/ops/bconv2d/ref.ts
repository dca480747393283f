// The portable kernels bnn_bconv2d_b1_acc_plain_ref and bnn_bconv2d_b1_acc_codebook_ref (runtime-c/): any kernel size,
// stride, padding and pad value; the planner's fallback everywhere, and the only binary kernels on the smallest cores.
import { packBits } from '../../ir/packing.ts';
import { outputStruct } from '../shared/threshold.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer } from './index.ts';

/**
 * Estimated instructions of the _ref kernels, fitted to exact QEMU counts of the standard shapes (16x16x64,
 * 32x32x32, 8x8x128; codebook at tau 3..5) on the M4 (also used for the other Thumb-2 cores) and the M0 (ARMv6-M).
 * Per output position: per input channel the taps, per codeword (when shared) and per output channel; per output
 * channel its threshold and store. Plain weights: per output and tap, per channel word.
 */
export function refCost(l: BConv2dLayer, C: number, O: number, OH: number, OW: number, armv6m = false): number {
  const P = OH * OW;
  const taps = l.kernel[0] * l.kernel[1];
  const k = armv6m ? REF.m0 : REF.m4;
  if (l.weights.kind === 'codebook') {
    const n = l.weights.codewords.length;
    const share = n < O;
    return Math.round(P * (C * (taps * k.tap + k.chan + (share ? n * k.cw + O * k.out : O * k.outOwn)) + O * 20));
  }
  const words = Math.ceil(C / 32);
  return Math.round(P * O * (taps * (words * k.word + k.plainTap) + 20));
}

const REF = {
  m4: { tap: 40, chan: 16, cw: 19, out: 14.8, outOwn: 30, word: 14.2, plainTap: 40.6 },
  m0: { tap: 85, chan: 43, cw: 31, out: 18.6, outOwn: 40, word: 19.4, plainTap: 65.9 },
};

/** Plain weights as the kernel reads them: [O][kh][kw][words(C)], channel c at bit c & 31 of word c >> 5. */
export function plainWeightWords(bits: Uint8Array, O: number, C: number, kh: number, kw: number): Uint32Array {
  const wpc = Math.ceil(C / 32);
  const out = new Uint32Array(O * kh * kw * wpc);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          if (bits[((o * C + c) * kh + ky) * kw + kx]) out[((o * kh + ky) * kw + kx) * wpc + (c >> 5)] |= 1 << (c & 31);
  return out;
}

/** The _ref kernel; `pool`: a max pool fused into its output (ctx.output is then the pre-pool map). */
export function lowerRef(l: BConv2dLayer, ctx: LowerContext, pool?: CStruct): Lowering {
  const x = ctx.inputs[0];
  const C = x.shape[0];
  const O = l.outChannels;
  const [, OH, OW] = ctx.output.shape;
  const w = l.weights;
  const head = [
    { name: 'g', value: windowStruct(x, ctx.output, l) },
    { name: 'pad_value', value: l.padValue },
  ];
  if (w.kind === 'codebook') {
    const n = w.codewords.length;
    // Sharing pays when there are fewer codewords than output channels to gather them.
    const share = n < O;
    return {
      estInstructions: refCost(l, C, O, OH, OW, ctx.armv6m),
      kernel: 'bnn_bconv2d_b1_acc_codebook_ref',
      params: { type: 'bnn_bconv2d_params_t', value: { fields: [
        ...head,
        { name: 'weights', value: null },
        { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
        // One spare byte lets the kernel read every index with a two-byte load.
        { name: 'indices', value: ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices') },
        { name: 'n_codewords', value: n },
        { name: 'index_bits', value: w.bits },
        { name: 'share', value: share ? 1 : 0 },
        { name: 'out', value: outputStruct(ctx, l.threshold, pool) },
      ] } },
      args: ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * (O + (share ? n : 0)),
      runtime: ['bnn_bconv2d_codebook_ref.c', 'bnn_output.c'],
    };
  }
  return {
    estInstructions: refCost(l, C, O, OH, OW, ctx.armv6m),
    kernel: 'bnn_bconv2d_b1_acc_plain_ref',
    params: { type: 'bnn_bconv2d_params_t', value: { fields: [
      ...head,
      { name: 'weights', value: ctx.table('weights', 'uint32_t', plainWeightWords(w.bits, O, C, l.kernel[0], l.kernel[1]), 'binary') },
      { name: 'codewords', value: null },
      { name: 'indices', value: null },
      { name: 'n_codewords', value: 0 },
      { name: 'index_bits', value: 0 },
      { name: 'share', value: 0 },
      { name: 'out', value: outputStruct(ctx, l.threshold, pool) },
    ] } },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: 4 * O,
    runtime: ['bnn_bconv2d_plain_ref.c', 'bnn_output.c'],
  };
}
