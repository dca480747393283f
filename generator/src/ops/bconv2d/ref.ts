// The portable kernels bnn_bconv2d_b1_acc_plain_ref and bnn_bconv2d_b1_acc_codebook_ref (runtime-c/): any kernel size,
// stride, padding and pad value; the planner's fallback everywhere, and the only binary kernels on the smallest cores.
import { packBits } from '../../ir/packing.ts';
import { outputStruct } from '../shared/threshold.ts';
import { windowStruct } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer } from './index.ts';

/** Estimated Cortex-M4 instructions of the _ref kernels (same fitting). */
export function refCost(l: BConv2dLayer, C: number, O: number, OH: number, OW: number): number {
  const P = OH * OW;
  const taps = l.kernel[0] * l.kernel[1];
  if (l.weights.kind === 'codebook') {
    const n = l.weights.codewords.length;
    const share = n < O;
    return P * (C * (taps * 16 + 10 + (share ? n * 18 + O * 16 : O * 30)) + O * 20);
  }
  const words = Math.ceil(C / 32);
  return P * O * (taps * (words * 22 + 12) + 20);
}

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
      estInstructions: refCost(l, C, O, OH, OW),
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
    estInstructions: refCost(l, C, O, OH, OW),
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
