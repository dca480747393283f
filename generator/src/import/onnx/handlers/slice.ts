// Slice of an activation: the strided spatial subsample x[:, :, ::s, ::t] of ResNet's option-A shortcut, as a max
// pool with a 1x1 window (it copies every kept value exactly, -0 included). Other slices of activations are refused.
import type { Shape } from '../../../model/ir.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { outDim } from '../../../ir/types.ts';
import type { OnnxNode } from '../proto.ts';

export function slice(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  if (x.rank !== 4 || x.kind === 'input') lw.fail('only a spatial subsample (x[:, :, ::s, ::t]) of a [1, C, H, W] activation is supported');
  const starts = Array.from(lw.constant(n.inputs[1], 'starts').data);
  const ends = Array.from(lw.constant(n.inputs[2], 'ends').data);
  const axes = n.inputs[3] ? Array.from(lw.constant(n.inputs[3], 'axes').data).map((a) => (a < 0 ? a + 4 : a)) : starts.map((_, i) => i);
  const steps = n.inputs[4] ? Array.from(lw.constant(n.inputs[4], 'steps').data) : starts.map(() => 1);
  const stride: [number, number] = [1, 1];
  axes.forEach((ax, k) => {
    const dim = ax === 0 ? 1 : x.shape[ax - 1];
    const whole = starts[k] === 0 && ends[k] >= dim && steps[k] >= 1;
    if (!whole || ((ax === 0 || ax === 1) && steps[k] !== 1)) lw.fail(`slice [${starts[k]}:${ends[k]}:${steps[k]}] of axis ${ax}: only x[:, :, ::s, ::t] (from 0 to the end, every s-th row / t-th column) is supported`);
    if (ax >= 2) stride[ax - 2] = steps[k];
  });
  if (stride[0] > 15 || stride[1] > 15) lw.fail(`steps [${stride}] above 15 are not supported`);
  if (stride[0] === 1 && stride[1] === 1) return lw.set(n.outputs[0], x);
  const src = x.kind === 'bin' ? x : realInput(lw, n.inputs[0]);
  const pad = { top: 0, left: 0, bottom: 0, right: 0 };
  const l = lw.emit({ op: 'maxpool', kernel: [1, 1], stride, pad }, src.tensor, n.name);
  const shape: Shape = [x.shape[0], outDim(x.shape[1], 1, stride[0], 0, 0), outDim(x.shape[2], 1, stride[1], 0, 0)];
  lw.set(n.outputs[0], x.kind === 'bin' ? { kind: 'bin', tensor: l.output, rank: 4, shape } : { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 4, steps: [] });
}
