// Layer fusion decided before lowering: chains that run as one kernel. Which chains an op can run is its own
// knowledge (OpDef.fuses, e.g. conv2d -> [affine] -> binarize); this finds them in a model.
import type { Model } from '../model/ir.ts';
import { opOf } from '../ops/registry.ts';
import type { FuseStep } from '../ops/types.ts';

export type Fusion = ReturnType<typeof findFusions>;

/** Readers of every tensor, by layer index. */
export function consumersOf(model: Model): Map<string, number[]> {
  const consumers = new Map<string, number[]>();
  model.layers.forEach((l, i) => l.inputs.forEach((t) => consumers.set(t, [...(consumers.get(t) ?? []), i])));
  return consumers;
}

/**
 * Chains where each member is the only reader of the tensor before it (and no member's output is the model's
 * output): the intermediate tensors are never stored.
 */
export function findFusions(model: Model, consumers: Map<string, number[]>) {
  const chains = new Map<number, number[]>(); // head -> the following members, last one is the tail
  const memberOf = new Map<number, number>(); // member -> head
  const tails = new Set<number>();
  const soleReader = (tensor: string): number | undefined => {
    const c = consumers.get(tensor) ?? [];
    return c.length === 1 && tensor !== model.output ? c[0] : undefined;
  };
  /** The chain runs when its head does: a member's other inputs must exist by then. */
  const producer = new Map(model.layers.map((l, k) => [l.output, k]));
  const inputsReady = (head: number, member: number, chain: string) => model.layers[member].inputs.every((t) => t === chain || (producer.get(t) ?? -1) < head);
  /** The members of `pattern` after layer i, or null when the layers there do not follow it. */
  const match = (i: number, pattern: FuseStep[]): number[] | null => {
    const members: number[] = [];
    let tensor = model.layers[i].output;
    for (const step of pattern) {
      const next = soleReader(tensor);
      if (next !== undefined && model.layers[next].op === step.op && (step.when?.(model.layers[i], model.layers[next]) ?? true) && inputsReady(i, next, tensor)) {
        members.push(next);
        tensor = model.layers[next].output;
      } else if (!step.optional) return null;
    }
    return members.length ? members : null;
  };
  model.layers.forEach((l, i) => {
    // A member of an earlier chain runs in that chain's kernel: it cannot head one of its own.
    if (memberOf.has(i)) return;
    let members: number[] | null = null;
    for (const pattern of opOf(l).fuses?.chains ?? []) if (!members) members = match(i, pattern);
    if (!members) return;
    chains.set(i, members);
    for (const m of members) memberOf.set(m, i);
    tails.add(members[members.length - 1]);
  });
  return { chains, memberOf, tails };
}
