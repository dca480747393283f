// Softmax and LogSoftmax over the class scores: the IR softmax layer (log for LogSoftmax). Any opset: on a [1, N]
// vector, axis 1 and -1 both name the classes (opsets before 13 flatten from the axis, which is the same here).
import type { SoftmaxLayer } from '../../../model/ir.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { attrInt, type OnnxNode } from '../proto.ts';

export function softmax(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  if (x.rank !== 2) lw.fail(`${n.op} over a rank-${x.rank} tensor is not supported (only the class scores, a [1, N] vector)`);
  const axis = attrInt(n, 'axis', -1);
  if (axis !== 1 && axis !== -1) lw.fail(`axis ${axis}: only the class axis (1 or -1) of a [1, N] vector is supported`);
  if (x.kind === 'bin') lw.fail(`${n.op} of a binary (Sign) activation: add a real layer (Gemm) before it`);
  const src = realInput(lw, n.inputs[0]);
  const layer = lw.emit<SoftmaxLayer>({ op: 'softmax', log: n.op === 'LogSoftmax' }, src.tensor, n.name);
  lw.set(n.outputs[0], { kind: 'real', tensor: layer.output, shape: src.shape, baseShape: src.shape, rank: 2, steps: [] });
}
