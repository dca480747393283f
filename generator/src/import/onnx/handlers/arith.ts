// Identity, Dropout, Pad, Cast and the four arithmetic ops: per-channel constants fold into the input
// normalisation or become pending steps; Add of two activations is a residual add.
import type { Step } from '../chain.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { attrInt, attrInts, DT, type OnnxNode } from '../proto.ts';
import { f32s } from '../values.ts';

export function alias(lw: Lowerer, n: OnnxNode): void {
  if (n.op === 'Dropout' && n.outputs[1] && lw.g.nodes.some((m) => m.inputs.includes(n.outputs[1]))) lw.fail('the dropout mask output is used');
  lw.set(n.outputs[0], lw.value(n.inputs[0]));
}

/** torch exports F.avg_pool2d with a Pad of zeros in front; only such no-op pads are supported. */
export function pad(lw: Lowerer, n: OnnxNode): void {
  const pads = n.inputs[1] ? Array.from(lw.constant(n.inputs[1], 'pads').data) : attrInts(n, 'pads') ?? [];
  if (pads.some((p) => p !== 0)) lw.fail(`explicit padding [${pads}] is not supported (pad inside the Conv or pool instead)`);
  lw.set(n.outputs[0], lw.value(n.inputs[0]));
}

export function cast(lw: Lowerer, n: OnnxNode): void {
  const v = lw.value(n.inputs[0]);
  const to = attrInt(n, 'to', 0);
  if (to !== DT.FLOAT) lw.fail(`cast of an activation to element type ${to}: only casts to float are supported`);
  lw.set(n.outputs[0], v.kind === 'input' ? { ...v, ops: [...v.ops, n.op] } : v);
}

export function arith(lw: Lowerer, n: OnnxNode): void {
  const [a, b] = n.inputs;
  const ca = lw.folder.get(a);
  const cb = lw.folder.get(b);
  if (!ca && !cb) return addActivations(lw, n);
  const constFirst = !!ca;
  const xName = constFirst ? b : a;
  const v = lw.value(xName);
  const c = lw.channelVector((ca ?? cb)!, v, `constant operand '${constFirst ? a : b}'`);
  if (constFirst && n.op === 'Div') lw.fail('dividing a constant by an activation is not supported');
  if (v.kind === 'bin') lw.fail(`arithmetic on a binary (Sign) activation has no IR counterpart`);
  // y = m*x + k in float64 for the input normalisation; as float32 steps elsewhere.
  const C = v.shape[0];
  const ones = new Float64Array(C).fill(1);
  let m: Float64Array = ones;
  let k: Float64Array = new Float64Array(C);
  switch (n.op) {
    case 'Add':
      k = c;
      break;
    case 'Sub':
      if (constFirst) [m, k] = [ones.map(() => -1), c];
      else k = c.map((x) => -x);
      break;
    case 'Mul':
      m = c;
      break;
  }
  if (v.kind === 'input') {
    const scale = v.scale.slice();
    const bias = v.bias.slice();
    for (let i = 0; i < C; i++) {
      if (n.op === 'Div') [scale[i], bias[i]] = [scale[i] / c[i], bias[i] / c[i]];
      else [scale[i], bias[i]] = [scale[i] * m[i], bias[i] * m[i] + k[i]];
    }
    const byteDiv = v.byteDiv || (n.op === 'Div' && c.every((x) => x === 255)) || (n.op === 'Mul' && c.every((x) => Math.abs(x * 255 - 1) < 1e-6));
    lw.set(n.outputs[0], { ...v, scale, bias, byteDiv, ops: [...v.ops, n.op] });
    return;
  }
  const step: Step = n.op === 'Div' ? { kind: 'div', by: f32s(c), node: n.name } : { kind: 'affine', mul: f32s(m), add: f32s(k), fused: false, node: n.name };
  lw.set(n.outputs[0], { ...v, steps: [...v.steps, step] });
}

/** A residual connection: the IR add of two f32 tensors of one shape. */
export function addActivations(lw: Lowerer, n: OnnxNode): void {
  if (n.op !== 'Add') lw.fail(`${n.op} of two activations is not supported (only Add, a residual connection)`);
  for (const name of n.inputs) {
    const k = lw.value(name).kind;
    if (k === 'input' || k === 'bin') lw.fail(`adding ${k === 'input' ? 'the model input' : 'a binary (Sign) activation'} is not supported`);
  }
  const [x, y] = n.inputs.map((name) => realInput(lw, name));
  if (x.shape.join() !== y.shape.join()) lw.fail(`shapes differ: [${x.shape}] and [${y.shape}] (broadcasting adds are not supported)`);
  const l = lw.emit({ op: 'add' }, [x.tensor, y.tensor], n.name);
  lw.set(n.outputs[0], { kind: 'real', tensor: l.output, shape: x.shape, baseShape: x.shape, rank: x.rank, steps: [] });
}
