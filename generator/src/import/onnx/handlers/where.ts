// Comparisons of an activation with a constant, and Where on them (mask arithmetic after masks.ts): the IR where.
// A comparison is only a condition here: any other reader of it (a mask left over from a straight-through estimator
// that did not cancel) is refused, naming the likely cause.
import type { Comparison } from '../../../ops/where.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import type { OnnxNode } from '../proto.ts';
import { STE_HINT } from '../ste.ts';

const CMP: Record<string, [Comparison, Comparison]> = {
  // [x op c, c op x]
  Less: ['lt', 'gt'],
  LessOrEqual: ['le', 'ge'],
  Greater: ['gt', 'lt'],
  GreaterOrEqual: ['ge', 'le'],
};

export function compare(lw: Lowerer, n: OnnxNode): void {
  const other = lw.readersOf(n.outputs[0]).find((m) => m.inputs.some((i, k) => i === n.outputs[0] && (m.op !== 'Where' || k !== 0)));
  if (other) lw.fail(`${n.op} on activations read by ${other.op} '${other.name}' is not supported: ${STE_HINT}`);
  const [ca, cb] = n.inputs.map((i) => lw.folder.get(i));
  const c = ca ?? cb;
  if (!c || (ca && cb) || c.data.length !== 1) lw.fail(`${n.op} must compare an activation with one constant number`);
  const x = ca ? n.inputs[1] : n.inputs[0];
  const value = Math.fround(c.data[0]);
  if (value !== c.data[0]) lw.fail(`the constant ${c.data[0]} is not a float32 value`);
  lw.conditions.set(n.outputs[0], { x, cmp: CMP[n.op][ca ? 1 : 0], value });
}

export function where(lw: Lowerer, n: OnnxNode): void {
  const cond = lw.conditions.get(n.inputs[0]);
  if (!cond) lw.fail(`the condition '${n.inputs[0]}' must be a comparison of an activation with a constant`);
  for (const name of [cond.x, n.inputs[1], n.inputs[2]]) {
    if (lw.folder.get(name)) lw.fail(`'${name}' is a constant: Where chooses between two activations here`);
    const k = lw.value(name).kind;
    if (k === 'input' || k === 'bin') lw.fail(`Where on ${k === 'bin' ? 'a binary (Sign) activation' : 'the model input'} is not supported`);
  }
  const [x, a, b] = [cond.x, n.inputs[1], n.inputs[2]].map((name) => realInput(lw, name));
  if (a.shape.join() !== x.shape.join() || b.shape.join() !== x.shape.join()) lw.fail(`shapes differ: [${x.shape}], [${a.shape}], [${b.shape}]`);
  const l = lw.emit({ op: 'where', cmp: cond.cmp, value: cond.value }, [x.tensor, a.tensor, b.tensor], n.name);
  lw.set(n.outputs[0], { kind: 'real', tensor: l.output, shape: x.shape, baseShape: x.shape, rank: x.rank, steps: [] });
}
