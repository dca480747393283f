// The model file manifest (format v1), validated with zod. Each layer entry's schema is its op's (ops/<op>.ts,
// OpDef.schema); docs/model-format.md documents every field.
import { z } from 'zod';
import { finite, int, nonneg } from '../ir/spec.ts';
import { OP_NAMES, OPS } from '../ops/registry.ts';

export { jsonPath, type PaddingSpec, type TensorRef } from '../ir/spec.ts';

export const FORMAT_NAME = 'bnn-gen-model';
export const FORMAT_VERSION = 1;

export const LAYER_OPS: readonly string[] = OP_NAMES;

type Schemas = (typeof OPS)[keyof typeof OPS]['schema'];
const schemas = OP_NAMES.map((k) => OPS[k].schema) as unknown as [Schemas, ...Schemas[]];

export const LayerSpec = z.discriminatedUnion('op', schemas);
export type LayerSpec = z.infer<typeof LayerSpec>;

export const Manifest = z.strictObject({
  format: z.literal(FORMAT_NAME),
  version: z.literal(FORMAT_VERSION),
  name: z.string().min(1),
  weights: z.strictObject({
    file: z.string().min(1),
    bytes: nonneg,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  }),
  input: z.strictObject({
    shape: z.tuple([int.min(1), int.min(1), int.min(1)]),
    dtype: z.enum(['uint8', 'int8']),
    zeroPoint: int.default(0),
    normalize: z.strictObject({ scale: z.array(finite).min(1), bias: z.array(finite).min(1) }),
  }),
  layers: z.array(LayerSpec).min(1),
  output: z.string().min(1),
  labels: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Manifest = z.infer<typeof Manifest>;
