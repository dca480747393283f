// The node handlers by ONNX op: one function per op family, each given the lowerer (its shared state) and the node.
import type { Lowerer } from '../lowerer.ts';
import type { OnnxNode } from '../proto.ts';
import { batchNorm, clip, prelu, sign } from './activation.ts';
import { alias, arith, cast, pad } from './arith.ts';
import { concat } from './concat.ts';
import { conv } from './conv.ts';
import { flatten, gemm } from './dense.ts';
import { avgPool, globalAvgPool, maxPool } from './pool.ts';
import { slice } from './slice.ts';
import { softmax } from './softmax.ts';
import { compare, where } from './where.ts';

export const HANDLERS: Record<string, (lw: Lowerer, n: OnnxNode) => void> = {
  Identity: alias,
  Dropout: alias,
  Pad: pad,
  Cast: cast,
  Add: arith,
  Sub: arith,
  Mul: arith,
  Div: arith,
  BatchNormalization: batchNorm,
  Clip: clip,
  PRelu: prelu,
  LeakyRelu: prelu,
  Relu: prelu,
  Sign: sign,
  Conv: conv,
  MaxPool: maxPool,
  GlobalAveragePool: globalAvgPool,
  AveragePool: avgPool,
  ReduceMean: globalAvgPool,
  Flatten: flatten,
  Reshape: flatten,
  Squeeze: flatten,
  Gemm: gemm,
  MatMul: gemm,
  Concat: concat,
  Slice: slice,
  Less: compare,
  LessOrEqual: compare,
  Greater: compare,
  GreaterOrEqual: compare,
  Where: where,
  Softmax: softmax,
  LogSoftmax: softmax,
};
