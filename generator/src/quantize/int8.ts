// The int8 path (`--quantize int8`): a float model's real-valued parts become integer layers, calibrated on inputs
// the user gives (quantize/calibrate.ts). The result is an ordinary model whose layers the TS reference defines
// exactly (docs/semantics.md §10); it approximates the float model, and quantize/agreement.ts measures by how much.
//
// How (docs/int8.md): every f32 tensor of the float model gets a *form*, real ≈ sum_k a_k[c] * x_k + b[c] over one or
// two integer tensors x_k of the new model (an int32 accumulator, or an int8 map with its zero point folded into b).
// Linear ops only change the form (affine scales it, add concatenates terms), so the chain conv -> BN -> + skip costs
// no rounding until a value must be stored: then a `requant` layer writes it as int8 on the grid of its calibrated
// range (RPReLU folded in). Each op says how its layer converts (OpDef.quantize); this holds the forms and the grids.
import { BnnError } from '../core/errors.ts';
import type { Shape } from '../ir/types.ts';
import { type Layer, type Model, type TensorInfo } from '../model/ir.ts';
import { inferModel } from '../model/validate.ts';
import { opOf } from '../ops/registry.ts';
import type { Int8Context, Int8Form, Int8Grid } from '../ops/types.ts';
import type { Calibration, TensorRange } from './calibrate.ts';
import { clamp32 } from '../ops/shared/int8-path.ts';
import { fixedShift, int8Grid, toInt32, toMult } from './fixed-point.ts';

export interface StoredTensor extends Int8Grid {
  /** What the grid spans: the calibrated percentile range, widened to 0 by int8Grid. */
  range: TensorRange;
  /** The smallest and largest value calibration saw. */
  seen: TensorRange;
}

export interface Int8Result {
  model: Model;
  /** The int8 maps the new model stores, by tensor name: grid and calibrated range. */
  stored: Map<string, StoredTensor>;
}

type PreluFold = Parameters<Int8Context['int8']>[2];

const fill = (n: number, v: number) => new Float64Array(n).fill(v);

class Quantizer implements Int8Context {
  readonly layers: Layer[] = [];
  readonly forms = new Map<string, Int8Form>();
  readonly stored = new Map<string, StoredTensor>();
  readonly types: Map<string, TensorInfo>;
  readonly readers = new Map<string, number>();
  readonly modelInput: Model['input'];

  constructor(readonly model: Model, readonly cal: Calibration, readonly mapBits: 8 | 16, readonly stemWeightBits: 8 | 16) {
    this.types = inferModel(model);
    this.modelInput = model.input;
    for (const l of model.layers) for (const t of l.inputs) this.readers.set(t, (this.readers.get(t) ?? 0) + 1);
  }

  type(tensor: string): TensorInfo {
    return this.types.get(tensor)!;
  }

  form(tensor: string): Int8Form {
    const f = this.forms.get(tensor);
    if (f) return f;
    const t = this.type(tensor);
    if (t.dtype !== 'i32') throw new BnnError(`--quantize int8: tensor '${tensor}' (${t.dtype}) is not a real-valued or integer map`);
    return { terms: [{ src: tensor, a: fill(t.shape[0], 1) }], b: fill(t.shape[0], 0), shape: t.shape };
  }

  setForm(tensor: string, f: Int8Form): void {
    this.forms.set(tensor, f);
  }

  isStored(tensor: string): boolean {
    return this.stored.has(tensor);
  }

  push(l: { op: string; name: string; inputs: string[]; output: string }): void {
    this.layers.push(l as Layer);
  }

  accumulator(l: { op: string; name: string; inputs: string[]; output: string }, real: string, delta: Float64Array, bias: Float64Array, shape: Shape): void {
    this.push(l);
    this.forms.set(real, { terms: [{ src: l.output, a: delta }], b: bias, shape });
  }

  setStored(tensor: string, grid: Int8Grid, shape: Shape, range?: TensorRange): void {
    const r = range ?? this.range(tensor, tensor);
    this.stored.set(tensor, { ...grid, range: r, seen: this.cal.extremes.get(tensor) ?? r });
    this.forms.set(tensor, { terms: [{ src: tensor, a: fill(shape[0], grid.scale) }], b: fill(shape[0], -grid.scale * grid.zeroPoint), shape });
  }

  range(tensor: string, at: string): TensorRange {
    const r = this.cal.ranges.get(tensor);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new BnnError(`--quantize int8: ${at}: no finite calibrated range for tensor '${tensor}'`);
    return r;
  }

  /** A layer name not taken yet: `base`, else base2, base3... */
  unique(base: string): string {
    const taken = (n: string) => this.layers.some((l) => l.name === n) || this.model.layers.some((l) => l.name === n);
    let n = base;
    for (let k = 2; taken(n); k++) n = `${base}${k}`;
    return n;
  }

  int8(tensor: string, reader: string, prelu?: PreluFold): { name: string; grid: Int8Grid } {
    if (!this.stored.has(tensor)) this.store(tensor, prelu ? reader : this.unique(`${reader}:requant`), prelu);
    return { name: tensor, grid: this.stored.get(tensor)! };
  }

  int8Only(tensor: string, reader: string): { name: string; grid: Int8Grid } {
    const x = this.int8(tensor, reader);
    if (x.grid.bits === 8) return x;
    const name = `${tensor}:int8`;
    if (!this.stored.has(name)) this.store(tensor, this.unique(`${reader}:int8`), undefined, name, 8);
    return { name, grid: this.stored.get(name)! };
  }

  /**
   * A requant layer writing the form of `tensor` (of `prelu.input`, RPReLU folded in, when given) on the grid of
   * tensor's calibrated range, as `output` (default: the tensor itself) with `bits` (default: --map-bits).
   */
  store(tensor: string, layer: string, prelu?: PreluFold, output = tensor, bits = this.mapBits): void {
    const form = this.form(prelu ? prelu.input : tensor);
    const range = this.range(tensor, layer);
    const grid = int8Grid(range, bits);
    const C = form.shape[0];
    // requant's U counts 1/256 output steps (docs/semantics.md §10): multipliers and offsets in those units.
    const unit = 256 / grid.scale;
    const mults = form.terms.map((t) => t.a.map((a) => a * unit));
    const shift = fixedShift(mults, `--quantize int8: ${layer}`);
    const bias = form.b.map((b, c) => (b + (prelu?.shiftIn ? prelu.shiftIn[c] : 0)) * unit);
    this.sinkProducers(form.terms.map((t) => t.src).filter((t) => !this.stored.has(t)));
    const fold = prelu && {
      slope: Int32Array.from(prelu.slope, (s) => clamp32(Math.round(s * 32768))),
      post: toInt32(Float64Array.from({ length: C }, (_, c) => (prelu.shiftOut ? prelu.shiftOut[c] : 0) * unit)),
    };
    this.push({ op: 'requant', name: layer, inputs: form.terms.map((t) => t.src), output, mult: mults.map((m) => toMult(m, shift)), shift, bias: toInt32(bias), zeroPoint: grid.zeroPoint, ...(bits === 16 ? { bits } : {}), ...(fold ? { prelu: fold } : {}) } as Layer);
    this.setStored(output, grid, form.shape, range);
  }

  /**
   * Move the layers making these accumulators to the end (just before the requant that reads them), where nothing in
   * between reads them: a binary conv then runs after the block's other branch (the downsample shortcut), so it can
   * fuse with the requant (plan/fusion.ts: a chain's other inputs must exist when its head runs) and its int32 map
   * is never stored.
   */
  sinkProducers(tensors: string[]): void {
    for (const t of tensors) {
      const at = this.layers.findIndex((l) => l.output === t);
      if (at < 0 || this.layers.slice(at + 1).some((l) => l.inputs.includes(t))) continue;
      this.layers.push(...this.layers.splice(at, 1));
    }
  }

  producerOf(tensor: string): string | undefined {
    return this.layers.find((l) => l.output === tensor)?.op;
  }

  convert(l: Layer, i: number): void {
    const at = `layers[${i}] (${l.name})`;
    // Layers on integer and binary maps only stay as they are; the rest (real inputs or a real output) convert.
    const real = l.inputs.some((t) => this.forms.has(t)) || this.type(l.output).dtype === 'f32';
    if (!real) return this.push(l);
    const quantize = opOf(l).quantize;
    if (!quantize) throw new BnnError(`--quantize int8: ${at}: ${l.op} on real values is not on the int8 path (docs/int8.md lists the ops that are)`);
    quantize(l, this, at);
    // A form over an int32 map read by several layers (the residual stream after the stem's pooling) is stored as
    // int8 at once: the int32 map then dies here instead of living, 4x larger, until its last reader.
    if (this.forms.has(l.output) && !this.stored.has(l.output) && (this.readers.get(l.output) ?? 0) > 1 && l.output !== this.model.output) {
      this.store(l.output, this.unique(`${l.name}:requant`));
    }
  }

  /** The scores: the output's one-term form over an int32 tensor, back to float32 by an affine. */
  finish(): void {
    const name = this.model.output;
    const f = this.forms.get(name);
    if (!f) return;
    if (f.terms.length !== 1 || this.stored.has(f.terms[0].src)) {
      throw new BnnError(`--quantize int8: the output '${name}' is not an integer accumulator scaled per channel (its last layer must be a conv2d, dense or affine)`);
    }
    this.push({ op: 'affine', name: this.unique(`${name}:dequant`), inputs: [f.terms[0].src], output: name, scale: Float32Array.from(f.terms[0].a), bias: Float32Array.from(f.b) } as Layer);
  }
}

/**
 * The int8 model of `model`, calibrated by `cal` (the float model's ranges on the user's inputs); mapBits 16 stores
 * its maps as int16 (docs/int8.md); stemWeightBits (default mapBits) are the bits of the stem conv's weights.
 */
export function quantizeInt8(model: Model, cal: Calibration, mapBits: 8 | 16 = 8, stemWeightBits: 8 | 16 = mapBits): Int8Result {
  const q = new Quantizer(model, cal, mapBits, stemWeightBits);
  model.layers.forEach((l, i) => q.convert(l, i));
  q.finish();
  const stored = Object.fromEntries([...q.stored].map(([k, v]) => [k, { scale: v.scale, zeroPoint: v.zeroPoint, bits: v.bits, min: v.range.min, max: v.range.max, seenMin: v.seen.min, seenMax: v.seen.max }]));
  const int8: Model = { ...model, layers: q.layers, metadata: { ...(model.metadata ?? {}), quantization: { scheme: 'int8', mapBits, stemWeightBits, calibrationInputs: cal.inputs, percentile: cal.percentile, stored } } };
  inferModel(int8);
  return { model: int8, stored: q.stored };
}
