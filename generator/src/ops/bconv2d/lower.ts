// Which kernel runs a binary convolution: the planner's choice between the sliced codebook kernel, the byte-lane
// kernel and the portable _ref kernels, by the cost model (estimated Cortex-M4 instructions) within the scratch the
// board leaves. The reason is kept for reports (`why`).
import type { Lowering, LowerContext } from '../types.ts';
import type { BConv2dLayer } from './index.ts';
import { lowerLanes, planLanes } from './lanes.ts';
import { lowerRef, refCost } from './ref.ts';
import { lowerSlice, planSlice } from './slice.ts';

/** The fast kernel when it is eligible and the cost model says it is cheaper than _ref; otherwise null. */
function lowerFast(l: BConv2dLayer, ctx: LowerContext): Lowering | null {
  if (ctx.kernels === 'ref') return null;
  const x = ctx.inputs[0];
  const y = ctx.output;
  const [C] = x.shape;
  const [O, OH, OW] = y.shape;
  const ref = refCost(l, C, O, OH, OW);
  const lanes = planLanes(l, x, y, ctx.scratchLimit, ctx.kernels === 'fast');
  // Bit-sliced codebook kernel: forced wherever eligible with 'fast', else when the cost model says it is cheapest.
  const sp = planSlice(l, x, y, ctx.scratchLimit, ctx.dsp);
  if (sp && (ctx.kernels === 'fast' || (sp.estInstructions < ref && (!lanes || sp.estInstructions < lanes.estInstructions)))) {
    const slice = lowerSlice(l, ctx, sp, ` vs ${lanes ? `lanes ${lanes.estInstructions}, ` : ''}ref ${ref}`);
    if (slice) return slice;
  }
  if (!lanes) return null;
  if (ctx.kernels !== 'fast' && lanes.estInstructions >= ref) return null;
  return lowerLanes(l, ctx, lanes, ref);
}

export function lowerBConv2d(l: BConv2dLayer, ctx: LowerContext): Lowering {
  return lowerFast(l, ctx) ?? lowerRef(l, ctx);
}
