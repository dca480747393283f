// The reference interpreter: the specification the emitted C must match bit for bit. Each op's rule is its run()
// (ops/<op>.ts); this only feeds every layer its input tensors in order.
import { BnnError } from '../core/errors.ts';
import type { Tensor } from '../ir/tensor.ts';
import { INPUT_TENSOR, numel, type Model } from '../model/ir.ts';
import { opOf } from '../ops/registry.ts';

export interface RunResult {
  /** Scores (the model's output tensor data). */
  scores: Float32Array | Int32Array;
  /** Output of every layer, in layer order. */
  layers: Tensor[];
}

/** Run the model on one input (C*H*W raw values, CHW order). The model must have passed inferModel. */
export function runReference(model: Model, input: Uint8Array | Int8Array): RunResult {
  const expected = numel(model.input);
  if (input.length !== expected) throw new BnnError(`input has ${input.length} values, the model takes ${expected} (${model.input.shape.join('x')})`);
  const data = model.input.dtype === 'u8' ? Uint8Array.from(input) : Int8Array.from(input);
  const tensors = new Map<string, Tensor>([[INPUT_TENSOR, { dtype: model.input.dtype, shape: model.input.shape, data }]]);
  const ctx = { input: model.input };
  const outs: Tensor[] = [];
  for (const l of model.layers) {
    const y = opOf(l).run(l, l.inputs.map((t) => tensors.get(t)!), ctx);
    tensors.set(l.output, y);
    outs.push(y);
  }
  const scores = tensors.get(model.output)!.data as Float32Array | Int32Array;
  return { scores, layers: outs };
}
