// Constant folding: a value is constant when it is an initializer or when every input of its producer is constant
// (Shape and Size of an activation count too: the importer knows every activation's static shape). This is how
// weight formulas written in forward (sign(W) * mean|W|, IR-Net's standardisation, a nearest-codeword search) and
// expand_as of a learnable bias become plain constant tensors. The evaluators live beside this file by kind.
import { attrInt as int, type OnnxGraph, type OnnxNode } from '../proto.ts';
import { type Const, makeConst, numel } from '../tensor.ts';
import type { Eval } from './common.ts';
import { ELEMENTWISE } from './elementwise.ts';
import { LAYOUT } from './layout.ts';
import { REDUCE } from './reduce.ts';

const OPS: Record<string, Eval> = { ...ELEMENTWISE, ...REDUCE, ...LAYOUT };

/** The ONNX ops the folder evaluates, for tests and messages. */
export const FOLDABLE: readonly string[] = [...Object.keys(OPS), 'Shape'];

/** Ops the folder evaluates (Shape and Size of an activation are handled here: they need its static shape). */
export function canFold(op: string): boolean {
  return op in OPS || op === 'Shape';
}

export class Folder {
  private readonly memo = new Map<string, Const | null>();
  private readonly producer = new Map<string, OnnxNode>();

  /** `shapeOf` gives the static ONNX shape of an activation the importer has already lowered. */
  constructor(
    private readonly g: OnnxGraph,
    private readonly shapeOf: (name: string) => number[] | undefined,
  ) {
    for (const n of g.nodes) for (const o of n.outputs) this.producer.set(o, n);
  }

  /** The constant value of `name`, or undefined when it depends on the model input. */
  get(name: string): Const | undefined {
    if (!name) return undefined;
    if (this.memo.has(name)) return this.memo.get(name) ?? undefined;
    const init = this.g.initializers.get(name);
    if (init) return init;
    const n = this.producer.get(name);
    let value: Const | undefined;
    if (n && n.domain === '' && canFold(n.op)) {
      if (n.op === 'Shape' || (n.op === 'Size' && !this.get(n.inputs[0]))) {
        const s = this.shapeOf(n.inputs[0]) ?? this.get(n.inputs[0])?.dims;
        if (!s) return undefined; // not lowered yet: do not remember a miss
        const kept = s.slice(int(n, 'start', 0), int(n, 'end', s.length));
        value = n.op === 'Size' ? makeConst('int', [], [numel(s)]) : makeConst('int', [kept.length], kept);
      } else {
        const x = n.inputs.map((i) => this.get(i));
        // Optional inputs are ''; every named input must be constant for the node to fold.
        if (n.inputs.every((name, i) => !name || x[i])) {
          const outs = OPS[n.op](n, x);
          n.outputs.forEach((o, i) => this.memo.set(o, outs[i] ?? null));
          return this.memo.get(name) ?? undefined;
        }
      }
    }
    this.memo.set(name, value ?? null);
    return value;
  }
}

