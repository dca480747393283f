// An integer stem (`--stem int8`): the real-valued first layer chain (conv2d on the raw input, an optional affine, a
// binarize: the op's fused chain) becomes one integer layer (its op's `int8`, ops/conv2d-int8.ts), so cores without
// an FPU run it without soft-float calls. It approximates the float stem, so its cost is measured here: how many of
// the stem's output signs change, and the accuracy before and after.
import { BnnError } from '../core/errors.ts';
import { INPUT_TENSOR, type Layer, type Model } from '../model/ir.ts';
import { argmax } from '../model/scores.ts';
import { opOf } from '../ops/registry.ts';
import { consumersOf, findFusions } from '../plan/fusion.ts';
import { runReference } from '../reference/interpreter.ts';

export type StemKind = 'float' | 'int8';

/** The fused chain on the model input whose op can become an integer layer: head index and members. */
function findStem(model: Model): { head: number; members: number[] } {
  const { chains } = findFusions(model, consumersOf(model));
  for (const [head, members] of chains) {
    const l = model.layers[head];
    if (l.inputs[0] === INPUT_TENSOR && opOf(l).int8?.accepts(members.map((i) => model.layers[i]))) return { head, members };
  }
  const first = model.layers.find((l) => l.inputs[0] === INPUT_TENSOR);
  throw new BnnError(`--stem int8: model ${model.name} has no real-valued stem to quantise (a conv2d on the input, then an optional affine and a binarize, each the only reader of the last)${first ? `; its first layer ${first.name} is ${first.op}` : ''}`);
}

/** True when the model has a stem --stem int8 can quantise. */
export function hasFloatStem(model: Model): boolean {
  try {
    findStem(model);
    return true;
  } catch {
    return false;
  }
}

/** The model with its stem chain replaced by the integer layer its op makes (same name, same output tensor). */
export function integerStem(model: Model): Model {
  const { head, members } = findStem(model);
  const l = model.layers[head];
  const stem = opOf(l).int8!.make(l, members.map((i) => model.layers[i]), model.input) as Layer;
  const drop = new Set(members);
  return { ...model, layers: model.layers.flatMap((x, i) => (i === head ? [stem] : drop.has(i) ? [] : [x])) };
}

export interface StemCost {
  inputs: number;
  /** Stem output signs that differ between the float and the integer stem, of all its output signs. */
  signChanges: number;
  signs: number;
  /** Correct classes with the float stem and with the integer stem (when labels are given). */
  correctBefore?: number;
  correctAfter?: number;
}

/** What the integer stem costs on `inputs`: sign changes of the stem's output and, with labels, the accuracy. */
export function stemCost(float: Model, integer: Model, inputs: (Uint8Array | Int8Array)[], labels?: number[]): StemCost {
  const { members } = findStem(float);
  const stemOut = float.layers[members[members.length - 1]].output;
  const fi = float.layers.findIndex((l) => l.output === stemOut);
  const ii = integer.layers.findIndex((l) => l.output === stemOut);
  let signChanges = 0, signs = 0, before = 0, after = 0;
  inputs.forEach((x, k) => {
    const a = runReference(float, x), b = runReference(integer, x);
    const fa = a.layers[fi].data, fb = b.layers[ii].data;
    for (let i = 0; i < fa.length; i++) if (fa[i] !== fb[i]) signChanges++;
    signs += fa.length;
    if (labels) {
      if (argmax(a.scores) === labels[k]) before++;
      if (argmax(b.scores) === labels[k]) after++;
    }
  });
  return { inputs: inputs.length, signChanges, signs, ...(labels ? { correctBefore: before, correctAfter: after } : {}) };
}

export function formatStemCost(c: StemCost): string {
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(2)} %`;
  const acc = c.correctBefore !== undefined ? `; accuracy ${c.correctBefore}/${c.inputs} (${pct(c.correctBefore, c.inputs)}) with the float stem, ${c.correctAfter}/${c.inputs} (${pct(c.correctAfter!, c.inputs)}) with int8` : '';
  return `stem int8: ${c.signChanges.toLocaleString('en-US')} of ${c.signs.toLocaleString('en-US')} stem output signs change (${pct(c.signChanges, c.signs)}) on ${c.inputs} inputs${acc}`;
}
