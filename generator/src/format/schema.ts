// The model file manifest (format v1), validated with zod. docs/model-format.md documents every field.
import { z } from 'zod';

export const FORMAT_NAME = 'bnn-gen-model';
export const FORMAT_VERSION = 1;

/** Type errors say "is required" or "must be a number"; range errors keep zod's wording (e.g. "Too big: expected number to be <=9"). */
const typeError = (what: string) => (iss: { code?: string; input?: unknown }) =>
  iss.code === 'invalid_type' ? (iss.input === undefined ? 'is required' : what) : undefined;
const int = z.number({ error: typeError('must be a number') }).int({ error: 'must be an integer' });
const nonneg = int.min(0);
const finite = z.number({ error: typeError('must be a finite number') });

/** A tensor stored in the weights file. */
export const TensorRef = z.strictObject({
  offset: nonneg,
  dtype: z.enum(['float32', 'int32', 'int8', 'uint8', 'uint16', 'packed']),
  /** For dtype "packed": bits per value (1..16), LSB-first stream. */
  bits: int.min(1).max(16).optional(),
  shape: z.array(nonneg).min(1).max(4),
});
export type TensorRef = z.infer<typeof TensorRef>;

const Pair = z.tuple([int.min(1), int.min(1)]);
const PaddingSpec = z.union(
  [z.enum(['same', 'valid']), z.strictObject({ top: nonneg, left: nonneg, bottom: nonneg, right: nonneg })],
  { error: 'must be "same", "valid" or {top, left, bottom, right} with non-negative integers' },
);
export type PaddingSpec = z.infer<typeof PaddingSpec>;

const Threshold = z.strictObject({ value: TensorRef, flip: TensorRef });

const base = {
  name: z.string().min(1),
  inputs: z.array(z.string().min(1)).min(1),
  output: z.string().min(1),
};
const window = { kernel: Pair, stride: Pair.default([1, 1]), padding: PaddingSpec.default('valid') };

const Conv2d = z.strictObject({ ...base, op: z.literal('conv2d'), outChannels: int.min(1), ...window, weights: TensorRef, bias: TensorRef });
const QConv2d = z.strictObject({ ...base, op: z.literal('qconv2d'), outChannels: int.min(1), ...window, weights: TensorRef, bias: TensorRef, threshold: Threshold.optional() });
const BConv2d = z.strictObject({
  ...base,
  op: z.literal('bconv2d'),
  outChannels: int.min(1),
  ...window,
  padValue: z.union([z.literal(0), z.literal(1), z.literal(-1)], { error: 'must be 0, 1 or -1' }).default(0),
  weights: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('codebook'), bits: int.min(1).max(9), codewords: TensorRef, indices: TensorRef }),
    z.strictObject({ kind: z.literal('dense'), bits: TensorRef }),
  ]),
  threshold: Threshold.optional(),
});
const BDense = z.strictObject({ ...base, op: z.literal('bdense'), outFeatures: int.min(1), bits: TensorRef, threshold: Threshold.optional() });
const Binarize = z.strictObject({ ...base, op: z.literal('binarize'), shift: TensorRef.optional() });
const Affine = z.strictObject({ ...base, op: z.literal('affine'), scale: TensorRef, bias: TensorRef });
const MaxPool = z.strictObject({ ...base, op: z.literal('maxpool'), ...window });
const GlobalAvgPool = z.strictObject({ ...base, op: z.literal('globalavgpool') });
const Flatten = z.strictObject({ ...base, op: z.literal('flatten') });
const Dense = z.strictObject({ ...base, op: z.literal('dense'), outFeatures: int.min(1), weights: TensorRef, bias: TensorRef });
const QDense = z.strictObject({ ...base, op: z.literal('qdense'), outFeatures: int.min(1), weights: TensorRef, bias: TensorRef });

const Add = z.strictObject({ ...base, op: z.literal('add') });
const PRelu = z.strictObject({ ...base, op: z.literal('prelu'), slope: TensorRef, shiftIn: TensorRef.optional(), shiftOut: TensorRef.optional() });
const Clip = z.strictObject({ ...base, op: z.literal('clip'), min: finite, max: finite });
const AvgPool = z.strictObject({ ...base, op: z.literal('avgpool'), ...window, countIncludePad: z.boolean().default(true) });

export const LAYER_OPS = ['conv2d', 'qconv2d', 'bconv2d', 'bdense', 'binarize', 'affine', 'maxpool', 'globalavgpool', 'flatten', 'dense', 'qdense', 'add', 'prelu', 'clip', 'avgpool'];

export const LayerSpec = z.discriminatedUnion('op', [Conv2d, QConv2d, BConv2d, BDense, Binarize, Affine, MaxPool, GlobalAvgPool, Flatten, Dense, QDense, Add, PRelu, Clip, AvgPool]);
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

/** Format a zod issue path as a JSON path: layers[2].weights.offset */
export function jsonPath(path: PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}
