// What every constant-folding evaluator shares: the evaluator type, failing with the node named, inputs, axes.
import { attrInts as ints, nodeError, type OnnxNode } from '../proto.ts';
import type { Const } from '../tensor.ts';

/** Evaluates one node on constant inputs (undefined: an omitted optional input); returns its outputs. */
export type Eval = (n: OnnxNode, x: (Const | undefined)[]) => Const[];

export function fail(n: OnnxNode, why: string): never {
  throw nodeError(n, why);
}

export function req(n: OnnxNode, x: (Const | undefined)[], i: number): Const {
  const c = x[i];
  if (!c) fail(n, `input ${i} is missing`);
  return c;
}

/** Axes from the input (newer opsets) or the attribute (older ones), normalised to 0..rank-1. */
export function axesOf(n: OnnxNode, x: (Const | undefined)[], inputIndex: number, rank: number): number[] | undefined {
  const raw = x[inputIndex] ? Array.from(x[inputIndex]!.data) : ints(n, 'axes');
  return raw?.map((a) => (a < 0 ? a + rank : a));
}

/** An axis attribute normalised to 0..rank-1, or a failure naming it. */
export function axisOf(n: OnnxNode, v: number, rank: number): number {
  const a = v < 0 ? v + rank : v;
  if (!(Number.isInteger(a) && a >= 0 && a < rank)) fail(n, `axis ${v} is out of range for rank ${rank}`);
  return a;
}
