// Mask arithmetic written in forward: a * m + b * (1 - m) with m = cond.float() (Bi-Real-50's leaky clip, the
// polynomial sign approximations). Its value is Where(cond, a, b): exactly, since a * 1 + b * 0 adds a signed zero
// to a, and a * 0 + b * 1 likewise. Rewriting before lowering leaves the handlers one op to understand (Where).
import { Folder } from './fold/index.ts';
import type { OnnxGraph, OnnxNode } from './proto.ts';

/** Rewrite each a * m + b * (1 - m) (any operand order, m a Cast of a bool) to Where(bool, a, b). */
export function maskSelects(g: OnnxGraph): string[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  // Constants as the importer evaluates them (initializers, Constant nodes, anything folded from them).
  const folder = new Folder(g, () => undefined);
  const isOne = (name: string): boolean => {
    const c = folder.get(name);
    return c !== undefined && c.data.length === 1 && c.data[0] === 1;
  };
  /** The bool a Cast-to-float mask is made from. */
  const maskOf = (name: string): string | undefined => {
    const p = producer.get(name);
    return p?.op === 'Cast' && p.domain === '' ? p.inputs[0] : undefined;
  };
  /** Mul(v, m) or Mul(m, v) with m a mask: [v, the mask's bool]. */
  const timesMask = (name: string, mask: (m: string) => string | undefined): [string, string] | undefined => {
    const p = producer.get(name);
    if (p?.op !== 'Mul' || p.domain !== '' || p.inputs.length !== 2) return undefined;
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const c = mask(p.inputs[j]);
      if (c) return [p.inputs[i], c];
    }
    return undefined;
  };
  /** 1 - m: the bool of m. */
  const oneMinus = (name: string): string | undefined => {
    const p = producer.get(name);
    return p?.op === 'Sub' && p.domain === '' && isOne(p.inputs[0]) ? maskOf(p.inputs[1]) : undefined;
  };
  const report: string[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Add' || n.domain !== '' || n.inputs.length !== 2) continue;
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const a = timesMask(n.inputs[i], maskOf);
      const b = timesMask(n.inputs[j], oneMinus);
      if (!a || !b || a[1] !== b[1]) continue;
      report.push(`${n.name}: a * m + b * (1 - m) with m = '${a[1]}' is Where('${a[1]}', '${a[0]}', '${b[0]}')`);
      n.op = 'Where';
      n.inputs = [a[1], a[0], b[0]];
      break;
    }
  }
  return report;
}
