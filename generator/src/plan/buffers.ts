// Which buffer each tensor lives in, and the (lifetime x size) requests the arena planner places.
import { INPUT_TENSOR, type Model } from '../model/ir.ts';
import type { TensorTable } from '../model/validate.ts';
import type { Lowering } from '../ops/types.ts';
import type { BufferRequest } from './arena.ts';
import type { Fusion } from './fusion.ts';
import { tensorBytes } from '../ir/layout.ts';

/**
 * An aliasing layer (flatten) shares its input's buffer, so lifetimes are tracked per root buffer. An in-place
 * layer (element-wise, same size) reuses its input's buffer when nothing reads the input later; a shrinking one (a
 * pool, shrinksInPlace) gets a buffer of its own placed at its dying input's offset. Outputs inside a fused chain are
 * never stored; the chain's output is written when its head runs.
 */
/** A kernel's scratch, as opposed to a tensor's buffer. */
export const isScratch = (r: BufferRequest): boolean => r.id.startsWith('scratch:');

export function bufferRequests(model: Model, tensors: TensorTable, lowered: Lowering[], fusion: Fusion, consumers: Map<string, number[]>): { rootOf: Map<string, string>; requests: BufferRequest[] } {
  const rootOf = new Map<string, string>();
  const overInput = new Map<string, string>(); // output -> the input buffer it is written over the start of
  model.layers.forEach((l, i) => {
    // A fused chain's output is written when its head runs, over the tensor the head names (inPlaceOf), if any.
    const head = fusion.tails.has(i) ? fusion.memberOf.get(i)! : i;
    const over = head !== i ? lowered[head].inPlaceOf : lowered[i].inPlace ? l.inputs[0] : undefined;
    const src = over ?? l.inputs[0];
    const srcRoot = rootOf.get(src) ?? src;
    // Every reader of the shared buffer (through any alias) must be done when the output is written: before the
    // head runs, or this tail itself.
    const done = (c: number) => c <= head || c === i;
    const readersDone = () => [...rootOf.entries()].filter(([, r]) => r === srcRoot).every(([t]) => (consumers.get(t) ?? []).every(done)) && (consumers.get(srcRoot) ?? []).every(done);
    const overwritable = srcRoot !== INPUT_TENSOR && l.output !== model.output;
    const reuse = lowered[i].aliasInput || (over !== undefined && overwritable && tensorBytes(tensors.get(src)!) === tensorBytes(tensors.get(l.output)!) && readersDone());
    rootOf.set(l.output, reuse ? srcRoot : l.output);
    // A shrinking pool writes over the start of its dying input: a buffer of its own, placed at the input's offset.
    if (!reuse && head === i && lowered[i].shrinksInPlace && overwritable && readersDone()) overInput.set(l.output, srcRoot);
  });
  const lastUse = new Map<string, number>();
  model.layers.forEach((l, i) => l.inputs.forEach((t) => lastUse.set(rootOf.get(t) ?? t, Math.max(i, lastUse.get(rootOf.get(t) ?? t) ?? 0))));
  const requests: BufferRequest[] = [];
  model.layers.forEach((l, i) => {
    const root = rootOf.get(l.output)!;
    // A chain's head runs the chain's kernel: its scratch is needed even though its own output is never stored.
    if (lowered[i].scratchBytes > 0) requests.push({ id: `scratch:${i}`, bytes: lowered[i].scratchBytes, first: i, last: i });
    if (fusion.chains.has(i) || (fusion.memberOf.has(i) && !fusion.tails.has(i))) return; // never materialised
    // A fused chain's output is written when its head runs.
    const first = fusion.tails.has(i) ? fusion.memberOf.get(i)! : i;
    if (root === l.output && l.output !== model.output) {
      const at = overInput.get(l.output);
      requests.push({ id: l.output, bytes: tensorBytes(tensors.get(l.output)!), first, last: lastUse.get(root) ?? i, ...(at ? { at } : {}) });
    }
  });
  return { rootOf, requests };
}
