// Which kernel runs a binary convolution: the planner's choice between the sliced codebook kernel, the byte-lane
// kernel and the portable _ref kernels, by the cost model (estimated instructions on the target's core) within the
// scratch the board leaves. The reason is kept for reports (`why`). A max pool that follows (conv -> max pool) runs
// inside whichever kernel is chosen (ops/shared/pool.ts).
import type { MaxPoolLayer } from '../maxpool.ts';
import { requantStruct, type RequantLayer } from '../requant.ts';
import type { FusedRequant } from '../shared/threshold.ts';
import { poolStruct } from '../shared/pool.ts';
import { windowDims } from '../shared/window.ts';
import type { CStruct, Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer } from './index.ts';
import { lowerLanes, planLanes } from './lanes.ts';
import { lowerRef, refCost } from './ref.ts';
import { costCore } from './cost-core.ts';
import { lowerSlice, planSlice } from './slice.ts';

/** The fast kernel when it is eligible and the cost model says it is cheaper than _ref; otherwise null. */
function lowerFast(l: BConv2dLayer, ctx: LowerContext, pool?: CStruct): Lowering | null {
  if (ctx.kernels === 'ref') return null;
  const x = ctx.inputs[0];
  const y = ctx.output;
  const core = costCore(ctx);
  const ref = refCost(l, x.shape, y.shape, core);
  const lanes = planLanes(l, x, y, ctx.scratchLimit, ctx.kernels === 'fast', core, ctx.dsp);
  // Bit-sliced codebook kernel: forced wherever eligible with 'fast', else when the cost model says it is cheapest.
  const sp = planSlice(l, x, y, ctx.scratchLimit, ctx.dsp, core, !!pool);
  if (sp && (ctx.kernels === 'fast' || (sp.estInstructions < ref && (!lanes || sp.estInstructions < lanes.estInstructions)))) {
    const slice = lowerSlice(l, ctx, sp, ` vs ${lanes ? `lanes ${lanes.estInstructions}, ` : ''}ref ${ref}`, pool);
    if (slice) return slice;
  }
  if (!lanes) return null;
  if (ctx.kernels !== 'fast' && lanes.estInstructions >= ref) return null;
  return lowerLanes(l, ctx, lanes, ref, pool);
}

export function lowerBConv2d(l: BConv2dLayer, ctx: LowerContext): Lowering {
  return lowerFast(l, ctx) ?? lowerRef(l, ctx);
}

/** bconv2d -> maxpool as one kernel: ctx.output is the pooled map; the kernels see their own output's shape. */
export function lowerBConv2dPooled(l: BConv2dLayer, pool: MaxPoolLayer, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const [OH, OW] = windowDims(x.shape, l);
  const own = { ...ctx, output: { dtype: ctx.output.dtype, shape: [l.outChannels, OH, OW] as [number, number, number] } };
  const p = poolStruct(pool, OH, OW, ctx.output, ctx);
  const low = lowerFast(l, own, p) ?? lowerRef(l, own, p);
  return { ...low, why: low.why ? `${low.why}; max pool fused` : 'max pool fused' };
}

/**
 * bconv2d -> requant as one kernel: the accumulators go through the requant as they are made (int8 or int16 out),
 * its other input read element by element; the output may overwrite that input (inPlaceOf) when both have the same
 * type and the input dies here. The
 * byte-lane kernel where it is eligible, else _ref (the sliced kernels write b1 only).
 */
export function lowerBConv2dRequant(l: BConv2dLayer, rq: RequantLayer, ctx: LowerContext): Lowering {
  const first = rq.inputs.indexOf(l.output);
  const skip = rq.inputs.length > 1 ? rq.inputs[1 - first] : undefined;
  const skipType = skip === undefined ? undefined : ctx.typeOf(skip);
  const skipKind = skipType?.dtype === 'i32' ? 1 : skipType?.dtype === 'i16' ? 2 : 0;
  const fused: FusedRequant = { params: requantStruct(rq, ctx.output.shape, ctx, first, 'rq_'), skipArg: skip === undefined ? { value: null } : { tensor: skip }, skipKind, wide: rq.bits === 16 };
  const core = costCore(ctx);
  const ref = refCost(l, ctx.inputs[0].shape, ctx.output.shape, core);
  const lanes = ctx.kernels === 'ref' ? null : planLanes(l, ctx.inputs[0], ctx.output, ctx.scratchLimit, ctx.kernels === 'fast', core, ctx.dsp, true);
  const low = lanes && (ctx.kernels === 'fast' || lanes.estInstructions < ref) ? lowerLanes(l, ctx, lanes, ref, undefined, fused) : lowerRef(l, ctx, undefined, fused);
  const inPlace = skipType?.dtype === ctx.output.dtype ? { inPlaceOf: skip } : {};
  return { ...low, ...inPlace, why: `${low.why ? `${low.why}; ` : ''}requant fused${skip ? ` (+ ${skip})` : ''}` };
}
