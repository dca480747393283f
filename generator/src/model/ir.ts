// The in-memory model (IR): a DAG of layers over named tensors, in topological order. The vocabulary below the ops is
// in ir/types.ts, each layer type in its op's home (ops/<op>.ts); this module gathers them for the layers above.
// Every rule about what the numbers mean is in docs/semantics.md; the reference implements it.
import type { InputSpec } from '../ir/types.ts';
import type { Layer } from '../ops/registry.ts';

export * from '../ir/types.ts';
// Every layer type (AddLayer, ..., SoftmaxLayer), Layer and OpName: registering an op exports its layer type here.
export type * from '../ops/registry.ts';
export type {
  AddLayer, AffineLayer, AvgPoolLayer, BConv2dLayer, BDenseLayer, BinarizeLayer, ClipLayer, CodebookWeights, Conv2dLayer, DenseBinaryWeights,
  DenseLayer, FlattenLayer, GlobalAvgPoolLayer, MaxPoolLayer, PReluLayer, QConv2dLayer, QDenseLayer,
} from '../ops/registry.ts';

export interface Model {
  name: string;
  input: InputSpec;
  layers: Layer[];
  /** Name of the tensor holding the scores (f32 or i32, shape [N, 1, 1]). */
  output: string;
  labels?: string[];
  metadata?: Record<string, unknown>;
}
