import { packBits } from '../format/packing.ts';
import type { BConv2dLayer } from '../model/ir.ts';
import { words } from '../plan/layout.ts';
import { outSize, outputInit, struct, windowInit } from './common.ts';
import type { OpDef } from './types.ts';

/** Plain weights as the kernel reads them: [O][kh][kw][words(C)], channel c at bit c & 31 of word c >> 5. */
export function plainWeightWords(bits: Uint8Array, O: number, C: number, kh: number, kw: number): Uint32Array {
  const wpc = words(C);
  const out = new Uint32Array(O * kh * kw * wpc);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          if (bits[((o * C + c) * kh + ky) * kw + kx]) out[((o * kh + ky) * kw + kx) * wpc + (c >> 5)] |= 1 << (c & 31);
  return out;
}

export const bconv2d: OpDef<BConv2dLayer> = {
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const C = x.shape[0];
    const O = l.outChannels;
    const w = l.weights;
    const fields = [
      { name: 'g', value: windowInit(x, ctx.output, l.kernel, l.stride, l.pad) },
      { name: 'pad_value', value: String(l.padValue) },
    ];
    if (w.kind === 'codebook') {
      const n = w.codewords.length;
      // Sharing pays when there are fewer codewords than output channels to gather them.
      const share = n < O;
      fields.push(
        { name: 'weights', value: 'NULL' },
        { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
        // One spare byte lets the kernel read every index with a two-byte load.
        { name: 'indices', value: ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices') },
        { name: 'n_codewords', value: String(n) },
        { name: 'index_bits', value: String(w.bits) },
        { name: 'share', value: share ? '1' : '0' },
        { name: 'out', value: outputInit(ctx, l.threshold) },
      );
      return {
        kernel: 'bnn_bconv2d_codebook_ref',
        params: { type: 'bnn_bconv2d_params_t', init: struct(fields) },
        args: ['params', 'in', 'out', 'scratch'],
        scratchBytes: 4 * (O + (share ? n : 0)),
        runtime: ['bnn_bconv2d_codebook_ref.c', 'bnn_output.c'],
      };
    }
    fields.push(
      { name: 'weights', value: ctx.table('weights', 'uint32_t', plainWeightWords(w.bits, O, C, l.kernel[0], l.kernel[1]), 'binary') },
      { name: 'codewords', value: 'NULL' },
      { name: 'indices', value: 'NULL' },
      { name: 'n_codewords', value: '0' },
      { name: 'index_bits', value: '0' },
      { name: 'share', value: '0' },
      { name: 'out', value: outputInit(ctx, l.threshold) },
    );
    return {
      kernel: 'bnn_bconv2d_plain_ref',
      params: { type: 'bnn_bconv2d_params_t', init: struct(fields) },
      args: ['params', 'in', 'out', 'scratch'],
      scratchBytes: 4 * O,
      runtime: ['bnn_bconv2d_plain_ref.c', 'bnn_output.c'],
    };
  },
  cost(l, ins, out) {
    return { binaryMacs: outSize(out) * ins[0].shape[0] * l.kernel[0] * l.kernel[1], realMacs: 0 };
  },
};
