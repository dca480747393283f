// threshold: an integer tensor (i8, i16 or i32) -> b1, same shape: +1 iff (flip[c] ? x <= value[c] : x >= value[c])
// (docs/semantics.md §7 applied to the tensor itself, §10). It is how a binarize sign(x + shift) of an int8 residual
// stream folds exactly into an integer comparison. Kernels: runtime-c/bnn_threshold.c.
import { z } from 'zod';
import type { Tensor } from '../ir/tensor.ts';
import { layerBase, ThresholdSpec } from '../ir/spec.ts';
import type { Rand } from '../ir/random.ts';
import type { LayerBase, Threshold } from '../ir/types.ts';
import { expectDType } from './shared/checks.ts';
import { applyThreshold, checkThreshold, flipWords, readThreshold, thresholdBits, writeThreshold } from './shared/threshold.ts';
import type { OpDef } from './types.ts';

export interface ThresholdLayer extends LayerBase {
  op: 'threshold';
  threshold: Threshold;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('threshold'), threshold: ThresholdSpec });
const KERNEL = { i8: 'bnn_threshold_s8_b1', i16: 'bnn_threshold_s16_b1', i32: 'bnn_threshold_s32_b1' } as const;

/** Thresholds that make both outcomes happen: int8 values around -130..130 (past either end: a constant channel),
 *  int16 ones anywhere around -33000..33000 or near 0, i32 values within +-12000 of 0 (the ops test's qconv2d stems),
 *  now and then the constant -2^31; flip half the time. */
function randomIntThreshold(r: Rand, C: number, dtype: string): Threshold {
  const value = new Int32Array(C);
  const flip = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    if (dtype === 'i8') value[c] = r.int(-130, 130);
    else if (dtype === 'i16') value[c] = r.bool(0.5) ? r.int(-33000, 33000) : r.int(-300, 300);
    else value[c] = r.bool(0.1) ? -(2 ** 31) : r.int(-12000, 12000);
    flip[c] = r.bool() ? 1 : 0;
  }
  return { value, flip };
}

export const threshold: OpDef<ThresholdLayer, typeof schema> = {
  op: 'threshold',
  arity: 1,
  schema,
  read: (s, blob, _x, at) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'threshold', threshold: readThreshold(blob, s.threshold, at)! }),
  write: (l, blob) => writeThreshold(blob, l.threshold),
  infer(l, [x], at) {
    expectDType(x, ['i8', 'i16', 'i32'], at, l.inputs[0]);
    return { dtype: checkThreshold(l.threshold, x.shape[0], at), shape: x.shape };
  },
  run: (l, [x]) => applyThreshold(Int32Array.from(x.data), x.shape, l.threshold) satisfies Tensor,
  lower(l, ctx) {
    const x = ctx.inputs[0];
    const [C, H, W] = x.shape;
    return {
      kernel: KERNEL[x.dtype as keyof typeof KERNEL],
      params: { type: 'bnn_threshold_params_t', value: { fields: [
        { name: 'c', value: C },
        { name: 'h', value: H },
        { name: 'w', value: W },
        { name: 'thresh', value: ctx.table('thresh', 'int32_t', l.threshold.value, 'thresholds') },
        { name: 'flip', value: ctx.table('flip', 'uint32_t', flipWords(l.threshold.flip), 'thresholds') },
      ] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_threshold.c', 'bnn_bits.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: (l) => ({ thresholds: thresholdBits(l.threshold) }),
  describe: () => 'x >= T (flip: x <= T)',
  random: (r, x, names) => (x.dtype in KERNEL ? { ...names, op: 'threshold', threshold: randomIntThreshold(r, x.shape[0], x.dtype) } : null),
};
