import { packBits } from '../format/packing.ts';
import type { BConv2dLayer } from '../model/ir.ts';
import { words } from '../plan/layout.ts';
import { planLanes, planSlice, refCost, type SlicePlan, sliceIndexWords, sliceStartWords } from './bconv2d-fast.ts';
import { outSize, outputInit, struct, windowInit } from './common.ts';
import type { Lowering, LowerContext, OpDef } from './types.ts';

/** Codeword id (tap t = 3ky + kx at bit t) of every (o, c) kernel of a 3x3 layer, [O][C]. */
export function kernelIds(l: BConv2dLayer, C: number): Uint16Array {
  const O = l.outChannels;
  const w = l.weights;
  if (w.kind === 'codebook') return Uint16Array.from(w.indices, (k) => w.codewords[k]);
  const ids = new Uint16Array(O * C);
  for (let i = 0; i < O * C; i++) {
    let id = 0;
    for (let t = 0; t < 9; t++) if (w.bits[i * 9 + t]) id |= 1 << t;
    ids[i] = id;
  }
  return ids;
}

/** The bit-sliced codebook kernel (bnn_bconv2d_b1_b1_slice) when it is eligible and fits the scratch limit; otherwise null. */
function lowerSlice(l: BConv2dLayer, ctx: LowerContext, plan: SlicePlan | null, why: string): Lowering | null {
  const x = ctx.inputs[0];
  const y = ctx.output;
  const w = l.weights;
  if (!plan || w.kind !== 'codebook' || !l.threshold) return null;
  const [C] = x.shape;
  const [O] = y.shape;
  const fields = [
    { name: 'g', value: windowInit(x, y, l.kernel, l.stride, l.pad) },
    { name: 'pad_value', value: String(l.padValue) },
    { name: 'rows_per_unit', value: String(plan.rowsPerUnit) },
    { name: 'acc_bits', value: String(plan.accBits) },
    { name: 'mode', value: String(plan.mode) },
    { name: 'row_cache', value: plan.ring ? '2' : plan.rowCache ? '1' : '0' },
    { name: 'sat', value: plan.sat ? '1' : '0' },
    { name: 'n_codewords', value: String(w.codewords.length) },
    { name: 'batch', value: String(plan.batch) },
    { name: 'codewords', value: ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') },
    { name: 'indices', value: ctx.table('indices', 'uint32_t', sliceIndexWords(w.indices, O, C, plan.indexBits), 'indices') },
    { name: 'start', value: ctx.table('start', 'uint32_t', sliceStartWords(l.threshold.value, l.threshold.flip, C, plan.accBits), 'thresholds') },
  ];
  return {
    kernel: 'bnn_bconv2d_b1_b1_slice',
    params: { type: 'bnn_bconv2d_slice_params_t', init: struct(fields) },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_slice.c', 'bnn_bconv2d_slice_t2.c', 'bnn_bconv2d_slice.h'],
    why: `bit-sliced codebook, ${plan.mode ? 'byte lanes' : 'bit planes'}${plan.ring ? ', row ring' : plan.rowCache ? ', row cache' : ''}${plan.sat ? ', saturating' : ''}, batch ${plan.batch}, ${plan.indexBits}-bit indices: est ${plan.estInstructions}${why}`,
    estInstructions: plan.estInstructions,
  };
}

/** The fast kernel when it is eligible and the cost model says it is cheaper than _ref; otherwise null. */
function lowerFast(l: BConv2dLayer, ctx: LowerContext): Lowering | null {
  if (ctx.kernels === 'ref') return null;
  const x = ctx.inputs[0];
  const y = ctx.output;
  const [C] = x.shape;
  const [O, OH, OW] = y.shape;
  const ref = refCost(l, C, O, OH, OW);
  const plan = planLanes(l, x, y, ctx.scratchLimit, ctx.kernels === 'fast');
  // Bit-sliced codebook kernel: forced wherever eligible with 'fast', else when the cost model says it is cheapest.
  const sp = planSlice(l, x, y, ctx.scratchLimit, ctx.dsp ?? true);
  if (sp && (ctx.kernels === 'fast' || (sp.estInstructions < ref && (!plan || sp.estInstructions < plan.estInstructions)))) {
    const slice = lowerSlice(l, ctx, sp, ` vs ${plan ? `lanes ${plan.estInstructions}, ` : ''}ref ${ref}`);
    if (slice) return slice;
  }
  if (!plan) return null;
  if (ctx.kernels !== 'fast' && plan.estInstructions >= ref) return null;
  const w = l.weights;
  const share = plan.share && w.kind === 'codebook';
  const fields = [
    { name: 'g', value: windowInit(x, y, l.kernel, l.stride, l.pad) },
    { name: 'pad_value', value: String(l.padValue) },
    { name: 'rows_per_unit', value: String(plan.rowsPerUnit) },
    { name: 'share', value: share ? '1' : '0' },
    { name: 'batch', value: String(plan.batch) },
    // Weights stay as compact as for _ref: tau-bit indices into the codebook, or 9-bit kernel ids for plain weights.
    { name: 'n_codewords', value: w.kind === 'codebook' ? String(w.codewords.length) : '0' },
    { name: 'index_bits', value: w.kind === 'codebook' ? String(w.bits) : '9' },
    { name: 'codewords', value: w.kind === 'codebook' ? ctx.table('codewords', 'uint16_t', w.codewords, 'codebook') : 'NULL' },
    {
      name: 'indices',
      value:
        w.kind === 'codebook'
          ? ctx.table('indices', 'uint8_t', packBits(w.indices, w.bits, 1), 'indices')
          : ctx.table('kernels', 'uint8_t', packBits(kernelIds(l, C), 9, 1), 'binary'),
    },
    { name: 'out', value: outputInit(ctx, l.threshold) },
  ];
  return {
    kernel: 'bnn_bconv2d_b1_acc_lanes',
    params: { type: 'bnn_bconv2d_lanes_params_t', init: struct(fields) },
    args: ['params', 'in', 'out', 'scratch'],
    scratchBytes: plan.scratchBytes,
    runtime: ['bnn_bconv2d_lanes.c'],
    why: `lanes ${share ? 'shared codebook' : 'per kernel'}, batch ${plan.batch}: est ${plan.estInstructions} vs ref ${ref}`,
    estInstructions: plan.estInstructions,
  };
}

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
    const fast = lowerFast(l, ctx);
    if (fast) return fast;
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
      const [, OH, OW] = ctx.output.shape;
      return {
        estInstructions: refCost(l, C, O, OH, OW),
        kernel: 'bnn_bconv2d_b1_acc_codebook_ref',
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
      estInstructions: refCost(l, C, O, ctx.output.shape[1], ctx.output.shape[2]),
      kernel: 'bnn_bconv2d_b1_acc_plain_ref',
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
