// The op registry: every op bnn-gen knows, by name. The mapped type makes a missing op a compile error; validation,
// the reference, the model file, the planner, reports and tests loop over OPS instead of switching on op names.
// Adding an op: docs/adding-an-op.md.
import { add, type AddLayer } from './add.ts';
import { affine, type AffineLayer } from './affine.ts';
import { avgpool, type AvgPoolLayer } from './avgpool.ts';
import { bconv2d, type BConv2dLayer } from './bconv2d/index.ts';
import { bdense, type BDenseLayer } from './bdense.ts';
import { binarize, type BinarizeLayer } from './binarize.ts';
import { clip, type ClipLayer } from './clip.ts';
import { concat, type ConcatLayer } from './concat.ts';
import { conv2d, type Conv2dLayer } from './conv2d.ts';
import { dense, type DenseLayer } from './dense.ts';
import { flatten, type FlattenLayer } from './flatten.ts';
import { globalavgpool, type GlobalAvgPoolLayer } from './globalavgpool.ts';
import { maxpool, type MaxPoolLayer } from './maxpool.ts';
import { padchannels, type PadChannelsLayer } from './padchannels.ts';
import { prelu, type PReluLayer } from './prelu.ts';
import { qconv2d, type QConv2dLayer } from './qconv2d.ts';
import { qdense, type QDenseLayer } from './qdense.ts';
import { requant, type RequantLayer } from './requant.ts';
import { softmax, type SoftmaxLayer } from './softmax.ts';
import { threshold, type ThresholdLayer } from './threshold.ts';
import { where, type WhereLayer } from './where.ts';
import type { OpDef } from './types.ts';

export type Layer =
  | Conv2dLayer
  | QConv2dLayer
  | BConv2dLayer
  | BDenseLayer
  | BinarizeLayer
  | ThresholdLayer
  | AffineLayer
  | MaxPoolLayer
  | GlobalAvgPoolLayer
  | FlattenLayer
  | DenseLayer
  | QDenseLayer
  | RequantLayer
  | AddLayer
  | PReluLayer
  | ClipLayer
  | AvgPoolLayer
  | SoftmaxLayer
  | ConcatLayer
  | PadChannelsLayer
  | WhereLayer;

export type OpName = Layer['op'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry's own spec type; the map keeps them apart
type AnyOp<K extends OpName> = OpDef<Extract<Layer, { op: K }>, any>;

/** In the order model files and reports list them (stable: it is part of the schema's error messages). */
export const OPS: { [K in OpName]: AnyOp<K> } = {
  conv2d,
  qconv2d,
  bconv2d,
  bdense,
  binarize,
  threshold,
  affine,
  maxpool,
  globalavgpool,
  flatten,
  dense,
  qdense,
  requant,
  add,
  prelu,
  clip,
  avgpool,
  softmax,
  concat,
  padchannels,
  where,
};

export const OP_NAMES = Object.keys(OPS) as OpName[];

export function isOpName(s: string): s is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, s);
}

/** The definition of a layer's op, typed for any layer. */
export function opOf(l: { op: string }): OpDef<Layer> {
  return OPS[l.op as OpName] as unknown as OpDef<Layer>;
}

export type { AddLayer, AffineLayer, AvgPoolLayer, BConv2dLayer, BDenseLayer, BinarizeLayer, ClipLayer, Conv2dLayer, DenseLayer, FlattenLayer, GlobalAvgPoolLayer, MaxPoolLayer, PReluLayer, QConv2dLayer, QDenseLayer, RequantLayer, SoftmaxLayer, ConcatLayer, PadChannelsLayer, WhereLayer, ThresholdLayer };
export type { CodebookWeights, DenseBinaryWeights } from './bconv2d/index.ts';
