// Pieces of the model file's schema (zod) that every op's manifest entry is made of: tensors stored in the weights
// blob, pairs, padding, thresholds, and the fields every layer has. docs/model-format.md documents them.
import { z } from 'zod';

/** Type errors say "is required" or "must be a number"; range errors keep zod's wording (e.g. "Too big: expected number to be <=9"). */
const typeError = (what: string) => (iss: { code?: string; input?: unknown }) =>
  iss.code === 'invalid_type' ? (iss.input === undefined ? 'is required' : what) : undefined;
export const int = z.number({ error: typeError('must be a number') }).int({ error: 'must be an integer' });
export const nonneg = int.min(0);
export const finite = z.number({ error: typeError('must be a finite number') });

/** A tensor stored in the weights file. */
export const TensorRef = z.strictObject({
  offset: nonneg,
  dtype: z.enum(['float32', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'packed']),
  /** For dtype "packed": bits per value (1..16), LSB-first stream. */
  bits: int.min(1).max(16).optional(),
  shape: z.array(nonneg).min(1).max(4),
});
export type TensorRef = z.infer<typeof TensorRef>;

export const Pair = z.tuple([int.min(1), int.min(1)]);

export const PaddingSpec = z.union(
  [z.enum(['same', 'valid']), z.strictObject({ top: nonneg, left: nonneg, bottom: nonneg, right: nonneg })],
  { error: 'must be "same", "valid" or {top, left, bottom, right} with non-negative integers' },
);
export type PaddingSpec = z.infer<typeof PaddingSpec>;

export const ThresholdSpec = z.strictObject({ value: TensorRef, flip: TensorRef });
export type ThresholdSpec = z.infer<typeof ThresholdSpec>;

/** The fields every layer entry has; an op adds `op: z.literal(<name>)` and its own. */
export const layerBase = {
  name: z.string().min(1),
  inputs: z.array(z.string().min(1)).min(1),
  output: z.string().min(1),
};

/** Window ops (convolutions, pools): kernel, stride (default 1) and padding (default "valid"). */
export const windowSpec = { kernel: Pair, stride: Pair.default([1, 1]), padding: PaddingSpec.default('valid') };

/** Format a zod issue path as a JSON path: layers[2].weights.offset */
export function jsonPath(path: PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}
