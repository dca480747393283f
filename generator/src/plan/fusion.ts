// Layer fusion decided before lowering: chains that run as one kernel.
import type { Model } from '../model/ir.ts';

export type Fusion = ReturnType<typeof findFusions>;

/** Readers of every tensor, by layer index. */
export function consumersOf(model: Model): Map<string, number[]> {
  const consumers = new Map<string, number[]>();
  model.layers.forEach((l, i) => l.inputs.forEach((t) => consumers.set(t, [...(consumers.get(t) ?? []), i])));
  return consumers;
}

/**
 * conv2d -> [affine] -> binarize chains whose intermediate tensors have no other reader: they run as one
 * kernel that writes bits, so the float feature maps never take arena space.
 */
export function findFusions(model: Model, consumers: Map<string, number[]>) {
  const chains = new Map<number, number[]>(); // head -> the following members, last one is the tail
  const memberOf = new Map<number, number>(); // member -> head
  const tails = new Set<number>();
  const soleReader = (tensor: string): number | undefined => {
    const c = consumers.get(tensor) ?? [];
    return c.length === 1 && tensor !== model.output ? c[0] : undefined;
  };
  model.layers.forEach((l, i) => {
    if (l.op !== 'conv2d') return;
    let next = soleReader(l.output);
    const members: number[] = [];
    if (next !== undefined && model.layers[next].op === 'affine') {
      members.push(next);
      next = soleReader(model.layers[next].output);
    }
    if (next === undefined || model.layers[next].op !== 'binarize') return;
    members.push(next);
    chains.set(i, members);
    for (const m of members) memberOf.set(m, i);
    tails.add(next);
  });
  return { chains, memberOf, tails };
}
