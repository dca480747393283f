// An integer stem (`--stem int8`): the real-valued first layer (conv2d on the raw input, an optional affine, a
// binarize) becomes one qconv2d with int8 weights, exact int32 accumulation and the threshold folded in, so cores
// without an FPU run it without soft-float calls. It approximates the float stem (the weights are rounded), so its
// cost is measured: how many of the stem's output signs change, and the accuracy before and after.
import { BnnError } from '../core/errors.ts';
import { INPUT_TENSOR, type Layer, type Model } from '../model/ir.ts';
import { argmax } from '../model/scores.ts';
import type { AffineLayer } from '../ops/affine.ts';
import type { BinarizeLayer } from '../ops/binarize.ts';
import type { Conv2dLayer } from '../ops/conv2d.ts';
import type { QConv2dLayer } from '../ops/qconv2d.ts';
import { runReference } from '../reference/interpreter.ts';

export type StemKind = 'float' | 'int8';

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** The stem chain: conv2d reading the model input, an optional affine, a binarize, each the only reader of the last. */
function findStem(model: Model): { conv: Conv2dLayer; affine?: AffineLayer; binarize: BinarizeLayer; members: Layer[] } {
  const readers = (t: string) => model.layers.filter((l) => l.inputs.includes(t));
  const conv = model.layers.find((l) => l.op === 'conv2d' && l.inputs[0] === INPUT_TENSOR) as Conv2dLayer | undefined;
  if (!conv) throw new BnnError(`--stem int8: model ${model.name} has no real-valued conv2d on its input to quantise`);
  const members: Layer[] = [conv];
  let next = readers(conv.output);
  let affine: AffineLayer | undefined;
  if (next.length === 1 && next[0].op === 'affine') {
    affine = next[0] as AffineLayer;
    members.push(affine);
    next = readers(affine.output);
  }
  if (next.length !== 1 || next[0].op !== 'binarize') throw new BnnError(`--stem int8: layer ${conv.name}: the stem must be conv2d -> [affine] -> binarize (its output read only by them) to become an integer layer`);
  members.push(next[0]);
  return { conv, affine, binarize: next[0] as BinarizeLayer, members };
}

/**
 * The model with its stem as an int8 qconv2d (docs/semantics.md §2, §7). The float stem computes, per output channel o,
 * y = a_o (sum w x + b_o) + d_o with x = s_c (q - z) (the input normalisation; its bias must be -z s_c for one integer
 * zero point z, so that padded taps are 0 in both); with W' = w s_c and Δ_o = max |W'_o| / 127 the integer layer
 * accumulates acc = sum round(W' / Δ_o) (q - z) exactly and outputs +1 iff a_o (Δ_o acc + b_o) + d_o >= 0, i.e.
 * acc >= ceil(t) when a_o > 0 and acc <= floor(t) when a_o < 0, t = (-d_o / a_o - b_o) / Δ_o.
 */
export function integerStem(model: Model): Model {
  const { conv, affine, binarize, members } = findStem(model);
  const { scale, bias: nbias, zeroPoint } = model.input;
  const C = model.input.shape[0];
  const taps = conv.kernel[0] * conv.kernel[1];
  for (let c = 0; c < C; c++) {
    // x = s (q - z) needs bias = -z s; the model's zero point z is what the integer layer subtracts.
    if (Math.abs(nbias[c] + zeroPoint * scale[c]) > 1e-6 * Math.max(1, Math.abs(nbias[c]))) {
      throw new BnnError(`--stem int8: input.normalize.bias[${c}] = ${nbias[c]} is not -zeroPoint * scale (${-zeroPoint * scale[c]}): the integer stem subtracts the zero point only`);
    }
  }
  const O = conv.outChannels;
  const weights = new Int8Array(O * C * taps);
  const value = new Int32Array(O);
  const flip = new Uint8Array(O);
  for (let o = 0; o < O; o++) {
    let max = 0;
    for (let c = 0; c < C; c++) for (let k = 0; k < taps; k++) max = Math.max(max, Math.abs(conv.weights[(o * C + c) * taps + k] * scale[c]));
    const delta = max / 127;
    if (delta > 0) for (let c = 0; c < C; c++) for (let k = 0; k < taps; k++) weights[(o * C + c) * taps + k] = Math.round((conv.weights[(o * C + c) * taps + k] * scale[c]) / delta);
    const a = affine ? affine.scale[o] : 1;
    const d = (affine ? affine.bias[o] : 0) + (binarize.shift ? binarize.shift[o] : 0);
    const ad = a * delta;
    if (ad === 0) {
      // A constant: +1 iff a b + d >= 0 (acc is then 0 or does not matter).
      const on = a * conv.bias[o] + d >= 0;
      value[o] = on ? INT32_MIN : INT32_MAX;
      continue;
    }
    const t = (-d / a - conv.bias[o]) / delta;
    const clamp = (v: number) => Math.min(INT32_MAX, Math.max(INT32_MIN, v));
    if (ad > 0) value[o] = clamp(Math.ceil(t));
    else {
      value[o] = clamp(Math.floor(t));
      flip[o] = 1;
    }
  }
  const stem: QConv2dLayer = {
    op: 'qconv2d', name: conv.name, inputs: [INPUT_TENSOR], output: binarize.output, outChannels: O, kernel: conv.kernel, stride: conv.stride, pad: conv.pad,
    weights, bias: new Int32Array(O), threshold: { value, flip },
  };
  const drop = new Set(members);
  const layers = model.layers.flatMap((l) => (l === conv ? [stem] : drop.has(l) ? [] : [l]));
  return { ...model, layers };
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
  const stemOut = findStem(float).binarize.output;
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
