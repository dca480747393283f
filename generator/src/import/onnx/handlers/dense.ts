// Flatten / Reshape / Squeeze to a vector, and Gemm / MatMul: a binary dense layer on bits with ±α weights, else a
// real-valued dense layer.
import type { BDenseLayer, DenseLayer, Shape } from '../../../model/ir.ts';
import { binaryWeights } from '../binary.ts';
import type { Step } from '../chain.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { denseOf, reshapeTarget } from '../patterns.ts';
import type { OnnxNode } from '../proto.ts';
import { numel } from '../tensor.ts';

/** Flatten, Reshape and Squeeze to [1, C·H·W] (torch.flatten order) or no-op reshapes. */
export function flatten(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  const onnxShape = x.rank === 4 ? [1, ...x.shape] : [1, x.shape[0]];
  const target = reshapeTarget(n, onnxShape, lw.optionalConstant(n.inputs[1], n.op === 'Reshape' ? 'shape' : 'axes'));
  const total = numel(x.shape);
  const same = target.join() === onnxShape.join();
  const flat = target.length === 2 && target[0] === 1 && target[1] === total;
  if (!same && !flat) lw.fail(`reshape of [${onnxShape}] to [${target}] is not supported (only flattening to [1, ${total}])`);
  if (same || x.rank === 2) return lw.set(n.outputs[0], x);
  if (x.kind === 'input') lw.fail('flattening the model input is not supported');
  const shape: Shape = [total, 1, 1];
  if (x.shape[1] === 1 && x.shape[2] === 1) return lw.set(n.outputs[0], { ...x, rank: 2 }); // [C,1,1] is already a vector
  const src = x.kind === 'bin' ? x : realInput(lw, n.inputs[0]);
  const l = lw.emit({ op: 'flatten' }, src.tensor, n.name);
  lw.set(n.outputs[0], x.kind === 'bin' ? { kind: 'bin', tensor: l.output, shape, rank: 2 } : { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 2, steps: [] });
}

export function gemm(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  if (x.rank !== 2) lw.fail(`the input must be a [1, K] vector (flatten it first), got rank ${x.rank}`);
  const K = x.shape[0];
  const c = n.op === 'Gemm' ? lw.optionalConstant(n.inputs[2], 'bias') : undefined;
  const { N, weights, bias } = denseOf(n, K, lw.constant(n.inputs[1], 'weights'), c);
  const shape: Shape = [N, 1, 1];
  if (x.kind === 'bin') {
    const bw = binaryWeights(weights, N);
    if (typeof bw !== 'string') {
      const layer = lw.emit<BDenseLayer>({ op: 'bdense', outFeatures: N, bits: bw.bits }, x.tensor, n.name);
      lw.report.push(`${layer.name}: bdense ${K}→${N} (binary weights ±α)`);
      const first: Step = { kind: 'affine', mul: bw.alpha, add: bias, fused: false, node: n.name };
      return lw.set(n.outputs[0], { kind: 'acc', tensor: layer.output, shape, baseShape: shape, rank: 2, steps: [first], layer, K });
    }
  }
  const src = x.kind === 'bin' ? x : realInput(lw, n.inputs[0]);
  const layer = lw.emit<DenseLayer>({ op: 'dense', outFeatures: N, weights, bias }, src.tensor, n.name);
  lw.report.push(`${layer.name}: dense ${K}→${N} (real-valued${x.kind === 'bin' ? ', on binary inputs' : ''})`);
  const openBias = !c && lw.readers.get(n.outputs[0]) === 1 ? layer : undefined;
  lw.set(n.outputs[0], { kind: 'real', tensor: layer.output, shape, baseShape: shape, rank: 2, steps: [], openBias });
}
