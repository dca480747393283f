// Straight-through estimators written in forward. PyTorch code gives sign its training gradient by adding a
// term whose value cancels: `a.detach() - b.detach() + b` (ReActNet, Bi-Real: b a piecewise polynomial of x) or
// `x + (a - x).detach()`. ONNX has no detach, so the export computes (a - b) + b; its forward value is a. Rewriting
// the Add to a before lowering collapses every such form, and the polynomial's subgraph (Less, Cast, Mul...) is no
// longer needed. Float consequence (docs/onnx.md#ste): PyTorch evaluates (a - b) + b in float32, which can differ
// from a in the last ulp; for a = sign(x) = ±1 and |b| <= 1 the sign is never changed, only the value by 2^-24.
import type { OnnxGraph, OnnxNode } from './proto.ts';

/** Why a mask on activations is usually there, for the refusal of one left over. */
export const STE_HINT = "a mask of this kind is usually a straight-through estimator's polynomial that does not cancel as (a - b) + b; see docs/onnx.md#ste";

/** Rewrite each (a - b) + b and b + (a - b) to Identity(a); returns one report line per rewrite. */
export function eliminateSte(g: OnnxGraph): string[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const report: string[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Add' || n.domain !== '' || n.inputs.length !== 2) continue;
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const sub = producer.get(n.inputs[i]);
      if (!sub || sub.op !== 'Sub' || sub.domain !== '' || sub.inputs[1] !== n.inputs[j]) continue;
      report.push(`${n.name}: (a - b) + b with b = '${n.inputs[j]}' is a straight-through estimator: its forward value a = '${sub.inputs[0]}'`);
      n.op = 'Identity';
      n.inputs = [sub.inputs[0]];
      break;
    }
  }
  return report;
}
