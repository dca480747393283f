// The reference interpreter: the specification the emitted C must match bit for bit.
import { BnnError } from '../errors.ts';
import { INPUT_TENSOR, type Layer, type Model } from '../model/ir.ts';
import { add } from './add.ts';
import { affine } from './affine.ts';
import { avgpool } from './avgpool.ts';
import { clip } from './clip.ts';
import { prelu } from './prelu.ts';
import { bconv2d } from './bconv2d.ts';
import { bdense } from './bdense.ts';
import { binarize } from './binarize.ts';
import { conv2d } from './conv2d.ts';
import { dense, qdense } from './dense.ts';
import { flatten } from './flatten.ts';
import { globalavgpool } from './globalavgpool.ts';
import { maxpool } from './maxpool.ts';
import { qconv2d } from './qconv2d.ts';
import { f32, size, type RealReader, type Tensor } from './tensor.ts';

export interface RunResult {
  /** Scores (the model's output tensor data). */
  scores: Float32Array | Int32Array;
  /** Output of every layer, in layer order. */
  layers: Tensor[];
}

/** How real-valued ops read a tensor: the raw input is normalised per channel, f32 is read as is. */
function realReader(x: Tensor, model: Model): RealReader {
  const [, H, W] = x.shape;
  if (x.dtype === 'u8' || x.dtype === 'i8') {
    const { scale, bias } = model.input;
    return (c, y, xx) => f32(f32(x.data[(c * H + y) * W + xx] * scale[c]) + bias[c]);
  }
  return (c, y, xx) => x.data[(c * H + y) * W + xx];
}

function runLayer(model: Model, l: Layer, ins: Tensor[]): Tensor {
  const x = ins[0];
  switch (l.op) {
    case 'conv2d':
      return conv2d(l, x, realReader(x, model));
    case 'qconv2d':
      return qconv2d(l, x, model.input.zeroPoint);
    case 'bconv2d':
      return bconv2d(l, x);
    case 'bdense':
      return bdense(l, x);
    case 'binarize':
      return binarize(l, x);
    case 'affine':
      return affine(l, x);
    case 'maxpool':
      return maxpool(l, x);
    case 'globalavgpool':
      return globalavgpool(x);
    case 'flatten':
      return flatten(x);
    case 'dense':
      return dense(l, x);
    case 'qdense':
      return qdense(l, x);
    case 'add':
      return add(x, ins[1]);
    case 'prelu':
      return prelu(l, x);
    case 'clip':
      return clip(l, x);
    case 'avgpool':
      return avgpool(l, x);
  }
}

/** Run the model on one input (C*H*W raw values, CHW order). The model must have passed inferModel. */
export function runReference(model: Model, input: Uint8Array | Int8Array): RunResult {
  const expected = size(model.input.shape);
  if (input.length !== expected) throw new BnnError(`input has ${input.length} values, the model takes ${expected} (${model.input.shape.join('x')})`);
  const data = model.input.dtype === 'u8' ? Uint8Array.from(input) : Int8Array.from(input);
  const tensors = new Map<string, Tensor>([[INPUT_TENSOR, { dtype: model.input.dtype, shape: model.input.shape, data }]]);
  const outs: Tensor[] = [];
  for (const l of model.layers) {
    const y = runLayer(model, l, l.inputs.map((t) => tensors.get(t)!));
    tensors.set(l.output, y);
    outs.push(y);
  }
  const scores = tensors.get(model.output)!.data as Float32Array | Int32Array;
  return { scores, layers: outs };
}
