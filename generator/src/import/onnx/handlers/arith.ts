// Identity, Dropout, Pad, Cast and the four arithmetic ops: per-channel constants fold into the input
// normalisation or become pending steps; Add of two activations is a residual add.
import type { Step } from '../chain.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { attrFloat, attrInt, attrInts, DT, type OnnxNode } from '../proto.ts';
import { f32s, type Value } from '../values.ts';

export function alias(lw: Lowerer, n: OnnxNode): void {
  if (n.op === 'Dropout' && n.outputs[1] && lw.g.nodes.some((m) => m.inputs.includes(n.outputs[1]))) lw.fail('the dropout mask output is used');
  lw.set(n.outputs[0], lw.value(n.inputs[0]));
}

/**
 * Pad: zeros around H and W, as torch exports AvgPool2d(padding=p) (a Pad, then an AveragePool without pads). The
 * padding waits in lw.pads for the AveragePool, which counts the zeros (count_include_pad); no other reader may
 * take a padded tensor. All-zero pads are nothing.
 */
export function pad(lw: Lowerer, n: OnnxNode): void {
  const pads = n.inputs[1] ? Array.from(lw.constant(n.inputs[1], 'pads').data) : attrInts(n, 'pads') ?? [];
  const x = lw.value(n.inputs[0]);
  if (pads.every((p) => p === 0)) return lw.set(n.outputs[0], x);
  const mode = (n.attrs.get('mode') as string | undefined) ?? 'constant';
  const value = n.inputs[2] ? lw.constant(n.inputs[2], 'constant_value').data[0] : attrFloat(n, 'value') ?? 0;
  if (mode !== 'constant' || value !== 0) lw.fail(`${mode} padding with value ${value} is not supported (only zeros, before an AveragePool)`);
  if (x.rank !== 4 || pads.length !== 8 || pads.some((p) => p < 0) || pads[0] || pads[4])
    lw.fail(`padding [${pads}] is not supported: only non-negative zero padding of C, or of H and W, of a [1, C, H, W] tensor`);
  if (pads[1] || pads[5]) return padChannels(lw, n, x, pads);
  const other = lw.readersOf(n.outputs[0]).find((m) => m.op !== 'AveragePool');
  if (other) lw.fail(`zero padding read by ${other.op} '${other.name}' is not supported (only by an AveragePool, which then counts the zeros; pad inside a Conv with its pads attribute)`);
  lw.pads.set(n.outputs[0], { top: pads[2], left: pads[3], bottom: pads[6], right: pads[7] });
  lw.set(n.outputs[0], x);
}

/** Zero channels around a real map (ResNet's option-A shortcut after x[:, :, ::2, ::2]): the IR padchannels. */
function padChannels(lw: Lowerer, n: OnnxNode, x: Value, pads: number[]): void {
  if (pads[2] || pads[3] || pads[6] || pads[7]) lw.fail(`padding [${pads}] of both the channels and the map is not supported`);
  if (x.kind !== 'real' && x.kind !== 'acc') lw.fail(`zero channels around ${x.kind === 'bin' ? 'a binary (Sign) activation (zero is not ±1)' : 'the model input'} are not supported`);
  const src = realInput(lw, n.inputs[0]);
  const l = lw.emit({ op: 'padchannels', before: pads[1], after: pads[5] }, src.tensor, n.name);
  const shape: [number, number, number] = [pads[1] + src.shape[0] + pads[5], src.shape[1], src.shape[2]];
  lw.set(n.outputs[0], { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 4, steps: [] });
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
