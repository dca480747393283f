// Concat of activations along the channels (ReActNet-A's downsampling: two 1x1 binary convs on one input, joined):
// the IR concat, chained for more than two inputs. All real (pending steps materialised first) or all binary.
import type { Shape } from '../../../model/ir.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { attrInt, type OnnxNode } from '../proto.ts';

export function concat(lw: Lowerer, n: OnnxNode): void {
  const values = n.inputs.map((name) => {
    if (lw.folder.get(name)) lw.fail(`concatenating a constant ('${name}') with activations is not supported`);
    return lw.value(name);
  });
  const rank = values[0].rank;
  const axis = attrInt(n, 'axis', 1);
  if (rank !== 4 || (axis !== 1 && axis !== -3)) lw.fail(`axis ${axis} of a rank-${rank} tensor: only the channels of [1, C, H, W] maps (axis 1) are supported`);
  if (values.some((v) => v.kind === 'input')) lw.fail('concatenating the model input is not supported');
  const binary = values.filter((v) => v.kind === 'bin').length;
  if (binary > 0 && binary < values.length) lw.fail('concatenating binary (Sign) and real activations is not supported: both must be one kind');
  const parts = values.map((v, i) => (v.kind === 'bin' ? v : realInput(lw, n.inputs[i])));
  let acc = parts[0];
  for (const p of parts.slice(1)) {
    if (p.shape[1] !== acc.shape[1] || p.shape[2] !== acc.shape[2]) lw.fail(`maps differ in size: [${acc.shape}] and [${p.shape}]`);
    const shape: Shape = [acc.shape[0] + p.shape[0], acc.shape[1], acc.shape[2]];
    acc = { tensor: lw.emit({ op: 'concat' }, [acc.tensor, p.tensor], n.name).output, shape, rank: 4 };
  }
  const shape = acc.shape;
  lw.set(n.outputs[0], binary ? { kind: 'bin', tensor: acc.tensor, rank: 4, shape } : { kind: 'real', tensor: acc.tensor, shape, baseShape: shape, rank: 4, steps: [] });
}
