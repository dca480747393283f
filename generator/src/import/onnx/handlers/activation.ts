// BatchNormalization, Clip, PRelu / LeakyRelu / Relu as pending steps, and Sign: an integer threshold on a
// binary layer's accumulator when the steps allow it (semantics §7), else a binarize on real values.
import type { Shape } from '../../../model/ir.ts';
import { batchNormStep, foldThreshold, monotone } from '../chain.ts';
import type { Lowerer } from '../lowerer.ts';
import { materialise } from '../materialise.ts';
import { signTail, splitPool, thresholdAfterPool, type PoolStep } from '../patterns.ts';
import { attrFloat, attrInt, type OnnxNode } from '../proto.ts';
import { f32s, type AccValue, type BinValue, type RealValue } from '../values.ts';

/** Values that take pending steps: real or integer chains. */
export function chain(lw: Lowerer, name: string, what: string): RealValue | AccValue {
  const v = lw.value(name);
  if (v.kind === 'input') lw.fail(`${what} on the model input is not supported (fold it into the input normalisation by hand)`);
  if (v.kind === 'bin') lw.fail(`${what} on a binary (Sign) activation has no IR counterpart`);
  return v;
}

export function batchNorm(lw: Lowerer, n: OnnxNode): void {
  const v = chain(lw, n.inputs[0], 'batch normalization');
  if (attrInt(n, 'training_mode', 0)) lw.fail('training_mode=1: export the model in eval mode');
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => lw.constant(n.inputs[i], ['', 'scale', 'bias', 'mean', 'var'][i]).data);
  const C = v.shape[0];
  if ([gamma, beta, mean, variance].some((p) => p.length !== C)) lw.fail(`parameters must have ${C} values`);
  if (variance.some((x) => !(x >= 0))) lw.fail('negative or non-finite running variance');
  const eps = attrFloat(n, 'epsilon') ?? 1e-5;
  lw.set(n.outputs[0], { ...v, steps: [...v.steps, batchNormStep(gamma, beta, mean, variance, eps, n.name)] });
}

export function clip(lw: Lowerer, n: OnnxNode): void {
  const v = lw.value(n.inputs[0]);
  const lo = lw.optionalConstant(n.inputs[1], 'min')?.data[0] ?? attrFloat(n, 'min') ?? -Infinity;
  const hi = lw.optionalConstant(n.inputs[2], 'max')?.data[0] ?? attrFloat(n, 'max') ?? Infinity;
  if (v.kind === 'bin') {
    if (lo <= -1 && hi >= 1) return lw.set(n.outputs[0], v); // ±1 stays ±1
    lw.fail(`Clip to [${lo}, ${hi}] of a binary activation changes its values`);
  }
  const c = chain(lw, n.inputs[0], 'Clip');
  lw.set(n.outputs[0], { ...c, steps: [...c.steps, { kind: 'clip', lo, hi, node: n.name, op: n.op }] });
}

/** PRelu, LeakyRelu and Relu (slope 0) are all a per-channel prelu step. */
export function prelu(lw: Lowerer, n: OnnxNode): void {
  const v = chain(lw, n.inputs[0], n.op);
  const C = v.shape[0];
  let slope: Float64Array;
  if (n.op === 'Relu') slope = new Float64Array(C);
  else if (n.op === 'LeakyRelu') slope = new Float64Array(C).fill(attrFloat(n, 'alpha') ?? 0.01);
  else slope = lw.channelVector(lw.constant(n.inputs[1], 'slope'), v, 'slope');
  lw.set(n.outputs[0], { ...v, steps: [...v.steps, { kind: 'prelu', slope: f32s(slope), node: n.name, op: n.op }] });
}

export function sign(lw: Lowerer, n: OnnxNode): void {
  const v = lw.value(n.inputs[0]);
  if (v.kind === 'bin') return lw.set(n.outputs[0], v);
  if (v.kind === 'input') lw.fail('Sign of the model input is not supported (the first layer must be a real conv)');
  const thresholdable = v.kind === 'acc' && !lw.consumed.has(v.tensor) && !v.layer.threshold && monotone(v.steps, v.shape[0]);
  if (thresholdable) lw.set(n.outputs[0], signOfAcc(lw, v, n));
  else lw.set(n.outputs[0], signOfReal(lw, v, n));
}

export function poolAfter(lw: Lowerer, tensor: string, pool: PoolStep, shape: Shape): BinValue {
  const out = lw.emit({ op: 'maxpool', kernel: pool.kernel, stride: pool.stride, pad: pool.pad }, tensor, pool.node).output;
  lw.report.push(`${lw.node.name}: ${pool.node} moved after the sign (max pool on binary maps is an OR)`);
  return { kind: 'bin', tensor: out, rank: 4, shape };
}

export function signOfReal(lw: Lowerer, v: RealValue | AccValue, n: OnnxNode): BinValue {
  const moved = splitPool(v.steps, v.shape[0]);
  const { steps, shift } = signTail(moved.steps);
  const real = materialise(lw, v, steps);
  const b = lw.emit({ op: 'binarize', shift }, real.tensor, n.name);
  if (moved.pool) return poolAfter(lw, b.output, moved.pool, v.shape);
  return { kind: 'bin', tensor: b.output, rank: v.rank, shape: real.shape };
}

/** Sign of an integer chain: an integer threshold on the accumulator (semantics §7), exact at ties. */
export function signOfAcc(lw: Lowerer, v: AccValue, n: OnnxNode): BinValue {
  const C = v.shape[0];
  const layer = v.layer;
  const moved = splitPool(v.steps, C);
  const fold = foldThreshold(v.steps.filter((s) => s.kind !== 'pool'), C, v.K);
  const detail = `${C} channels: ${fold.flipped} flipped (γα < 0), ${fold.constant} constant, ${fold.movedByRounding} moved by float32 rounding vs the float64 formula`;
  if (!moved.stuck) {
    layer.threshold = fold.threshold;
    const through = [...new Set(v.steps.slice(1).map((s) => s.node)), n.name];
    lw.report.push(`${layer.name}: threshold from ${through.join(' → ')} (${detail})`);
    if (moved.pool) return poolAfter(lw, layer.output, moved.pool, v.shape);
    return { kind: 'bin', tensor: layer.output, rank: v.rank, shape: v.baseShape };
  }
  // The pool comes before a decreasing map on some channel (a min pool for those): no OR on bits. Pool in f32
  // on integer values instead, exactly.
  const at = v.steps.findIndex((s) => s.kind === 'pool');
  const pool = v.steps[at] as PoolStep;
  const { sigma, scale, bias } = thresholdAfterPool(v.steps.slice(0, at), fold.threshold);
  const a = lw.emit({ op: 'affine', scale: sigma, bias: new Float32Array(C) }, layer.output, `${layer.name}:signed`);
  const p = lw.emit({ op: 'maxpool', kernel: pool.kernel, stride: pool.stride, pad: pool.pad }, a.output, pool.node);
  const z = lw.emit({ op: 'affine', scale, bias }, p.output, `${n.name}:threshold`);
  const b = lw.emit({ op: 'binarize', shift: null }, z.output, n.name);
  lw.report.push(`${layer.name}: ${pool.node} comes before a decreasing batch norm on some channels, so the threshold (${detail}) is applied after the pool in f32 (integer-valued, exact)`);
  return { kind: 'bin', tensor: b.output, rank: 4, shape: v.shape };
}
