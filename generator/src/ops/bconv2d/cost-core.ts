// Which core's figures the binary convolutions' cost models (slice.ts, lanes.ts, ref.ts) use for a lowering.
import type { LowerContext } from '../types.ts';

/** The cores the cost models were fitted on: 'm4' (Thumb-2; also M3 and M33), 'm7' (gcc's code for it differs in the
 *  _ref and lanes kernels; sliceCost takes the M4's figures), 'm55' (sliceCost: the M4's figures but for the Helium
 *  loops of the record paths) and 'm0' (ARMv6-M). */
export type CostCore = 'm4' | 'm7' | 'm55' | 'm0';

/** The cost models' core for a lowering: ARMv6-M, Helium (the M55), the M7 or any other Thumb-2 core. */
export const costCore = (ctx: Pick<LowerContext, 'armv6m' | 'mve' | 'm7'>): CostCore => (ctx.armv6m ? 'm0' : ctx.mve ? 'm55' : ctx.m7 ? 'm7' : 'm4');
