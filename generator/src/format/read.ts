// Read a model: manifest (JSON) + weights blob. Every failure is one BnnError line naming the file and JSON path.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BnnError, fsReason, printable } from '../errors.ts';
import { samePadding, type Layer, type Model, type Padding, type TensorInfo, type Threshold } from '../model/ir.ts';
import { inferLayerOutput, inferModel } from '../model/validate.ts';
import { checkJsonLimits, parseJson } from './json.ts';
import { packedBytes, unpackBits } from './packing.ts';
import { jsonPath, LAYER_OPS, Manifest, type LayerSpec, type PaddingSpec, type TensorRef } from './schema.ts';

const ELEMENT_BYTES = { float32: 4, int32: 4, int8: 1, uint8: 1, uint16: 2 } as const;

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte length of a stored tensor. */
export function refBytes(ref: TensorRef): number {
  if (ref.dtype === 'packed') return packedBytes(count(ref.shape), ref.bits ?? 1);
  return count(ref.shape) * ELEMENT_BYTES[ref.dtype];
}

class Blob {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, private readonly where: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private slice(ref: TensorRef, at: string, dtype: TensorRef['dtype']): number {
    if (ref.dtype !== dtype) throw new BnnError(`${this.where}: ${at}.dtype: expected ${dtype}, got ${ref.dtype}`);
    if (dtype === 'packed' && ref.bits === undefined) throw new BnnError(`${this.where}: ${at}.bits: required for dtype packed`);
    const end = ref.offset + refBytes(ref);
    if (end > this.bytes.length) {
      throw new BnnError(`${this.where}: ${at}: bytes ${ref.offset}..${end} lie outside the ${this.bytes.length}-byte weights file`);
    }
    return ref.offset;
  }

  f32(ref: TensorRef, at: string): Float32Array {
    const o = this.slice(ref, at, 'float32');
    const out = new Float32Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getFloat32(o + 4 * i, true);
    return out;
  }

  i32(ref: TensorRef, at: string): Int32Array {
    const o = this.slice(ref, at, 'int32');
    const out = new Int32Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getInt32(o + 4 * i, true);
    return out;
  }

  i8(ref: TensorRef, at: string): Int8Array {
    const o = this.slice(ref, at, 'int8');
    return Int8Array.from(new Int8Array(this.bytes.buffer, this.bytes.byteOffset + o, count(ref.shape)));
  }

  u16(ref: TensorRef, at: string): Uint16Array {
    const o = this.slice(ref, at, 'uint16');
    const out = new Uint16Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getUint16(o + 2 * i, true);
    return out;
  }

  /** A packed stream of `bits`-bit values (bits is required to match when given). */
  packed(ref: TensorRef, at: string, bits?: number): Uint16Array {
    const o = this.slice(ref, at, 'packed');
    if (bits !== undefined && ref.bits !== bits) throw new BnnError(`${this.where}: ${at}.bits: expected ${bits}, got ${ref.bits}`);
    const n = count(ref.shape);
    return unpackBits(this.bytes.subarray(o, o + packedBytes(n, ref.bits!)), n, ref.bits!);
  }

  bits(ref: TensorRef, at: string): Uint8Array {
    return Uint8Array.from(this.packed(ref, at, 1));
  }
}

function readPadding(spec: PaddingSpec, x: TensorInfo, kernel: [number, number], stride: [number, number]): Padding {
  if (spec === 'valid') return { top: 0, left: 0, bottom: 0, right: 0 };
  if (spec === 'same') return samePadding(x.shape[1], x.shape[2], kernel, stride);
  return spec;
}

function readThreshold(blob: Blob, t: { value: TensorRef; flip: TensorRef } | undefined, at: string): Threshold | undefined {
  if (!t) return undefined;
  return { value: blob.i32(t.value, `${at}.threshold.value`), flip: blob.bits(t.flip, `${at}.threshold.flip`) };
}

function readLayer(s: LayerSpec, at: string, blob: Blob, x: TensorInfo): Layer {
  const base = { name: s.name, inputs: s.inputs, output: s.output };
  switch (s.op) {
    case 'conv2d':
      return { ...base, op: s.op, outChannels: s.outChannels, kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), weights: blob.f32(s.weights, `${at}.weights`), bias: blob.f32(s.bias, `${at}.bias`) };
    case 'qconv2d':
      return { ...base, op: s.op, outChannels: s.outChannels, kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), weights: blob.i8(s.weights, `${at}.weights`), bias: blob.i32(s.bias, `${at}.bias`), threshold: readThreshold(blob, s.threshold, at) };
    case 'bconv2d': {
      const w = s.weights;
      const weights =
        w.kind === 'codebook'
          ? { kind: 'codebook' as const, bits: w.bits, codewords: blob.u16(w.codewords, `${at}.weights.codewords`), indices: blob.packed(w.indices, `${at}.weights.indices`, w.bits) }
          : { kind: 'dense' as const, bits: blob.bits(w.bits, `${at}.weights.bits`) };
      return { ...base, op: s.op, outChannels: s.outChannels, kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), padValue: s.padValue, weights, threshold: readThreshold(blob, s.threshold, at) };
    }
    case 'bdense':
      return { ...base, op: s.op, outFeatures: s.outFeatures, bits: blob.bits(s.bits, `${at}.bits`), threshold: readThreshold(blob, s.threshold, at) };
    case 'binarize':
      return { ...base, op: s.op, shift: s.shift ? blob.f32(s.shift, `${at}.shift`) : null };
    case 'affine':
      return { ...base, op: s.op, scale: blob.f32(s.scale, `${at}.scale`), bias: blob.f32(s.bias, `${at}.bias`) };
    case 'maxpool':
      return { ...base, op: s.op, kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride) };
    case 'globalavgpool':
    case 'flatten':
      return { ...base, op: s.op };
    case 'dense':
      return { ...base, op: s.op, outFeatures: s.outFeatures, weights: blob.f32(s.weights, `${at}.weights`), bias: blob.f32(s.bias, `${at}.bias`) };
    case 'qdense':
      return { ...base, op: s.op, outFeatures: s.outFeatures, weights: blob.i8(s.weights, `${at}.weights`), bias: blob.i32(s.bias, `${at}.bias`) };
    case 'add':
      return { ...base, op: s.op };
    case 'prelu':
      return {
        ...base,
        op: s.op,
        slope: blob.f32(s.slope, `${at}.slope`),
        shiftIn: s.shiftIn ? blob.f32(s.shiftIn, `${at}.shiftIn`) : null,
        shiftOut: s.shiftOut ? blob.f32(s.shiftOut, `${at}.shiftOut`) : null,
      };
    case 'clip':
      return { ...base, op: s.op, min: s.min, max: s.max };
    case 'avgpool':
      return { ...base, op: s.op, kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), countIncludePad: s.countIncludePad };
  }
}

/** The value at a JSON path of the raw manifest, for error messages. */
function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** One line for a schema violation: JSON path, problem, and the offending value when short. */
function describeIssue(issue: { path: PropertyKey[]; message: string; code?: string }, raw: unknown): string {
  const path = jsonPath(issue.path);
  const value = valueAt(raw, issue.path);
  if (issue.path[issue.path.length - 1] === 'op' && issue.code === 'invalid_union' && typeof value === 'string') {
    return `${path}: unknown op '${value}'; supported ops: ${LAYER_OPS.join(', ')}`;
  }
  const shown = value === undefined ? '' : JSON.stringify(value);
  return `${path}: ${issue.message}${shown && shown.length <= 40 ? ` (got ${shown})` : ''}`;
}

/** Parse and validate a manifest + blob already in memory. `where` names the manifest in errors. */
export function parseModel(jsonText: string, loadBlob: (file: string) => Uint8Array, where: string): Model {
  const raw = parseJson(jsonText, where);
  checkJsonLimits(raw, where);
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw new BnnError(`${where}: ${describeIssue(parsed.error.issues[0], raw)}`);
  const m = parsed.data;
  if (/[\\/]/.test(m.weights.file) || m.weights.file.startsWith('.')) {
    throw new BnnError(`${where}: weights.file: must be a plain file name next to the manifest, got '${m.weights.file}'`);
  }
  let bytes: Uint8Array;
  try {
    bytes = loadBlob(m.weights.file);
  } catch (e) {
    throw new BnnError(`${where}: weights.file: cannot read '${printable(m.weights.file)}': ${fsReason(e)}`);
  }
  if (bytes.length !== m.weights.bytes) {
    throw new BnnError(`${where}: weights.bytes: manifest says ${m.weights.bytes} bytes, '${m.weights.file}' has ${bytes.length}`);
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== m.weights.sha256) {
    throw new BnnError(`${where}: weights.sha256: '${m.weights.file}' does not match its checksum (corrupt or replaced)`);
  }
  const blob = new Blob(bytes, where);
  const C = m.input.shape[0];
  if (m.input.normalize.scale.length !== C || m.input.normalize.bias.length !== C) {
    throw new BnnError(`${where}: input.normalize: scale has ${m.input.normalize.scale.length} and bias ${m.input.normalize.bias.length} values; the input has ${C} channel(s), one per channel`);
  }
  const model: Model = {
    name: m.name,
    input: {
      shape: m.input.shape,
      dtype: m.input.dtype === 'uint8' ? 'u8' : 'i8',
      zeroPoint: m.input.zeroPoint,
      scale: Float32Array.from(m.input.normalize.scale),
      bias: Float32Array.from(m.input.normalize.bias),
    },
    layers: [],
    output: m.output,
    labels: m.labels,
    metadata: m.metadata,
  };
  // Layers are read in order so that "same" padding can be resolved from the shape flowing into each layer.
  const shapes = new Map<string, TensorInfo>([['input', { dtype: model.input.dtype, shape: model.input.shape }]]);
  try {
    m.layers.forEach((s, i) => {
      s.inputs.forEach((t, k) => {
        if (!shapes.has(t)) throw new BnnError(`layers[${i}] (${s.name}).inputs[${k}]: tensor '${t}' is not produced by an earlier layer`);
      });
      const x = shapes.get(s.inputs[0])!;
      const layer = readLayer(s, `layers[${i}]`, blob, x);
      model.layers.push(layer);
      shapes.set(s.output, inferLayerOutput(i, layer, s.inputs.map((t) => shapes.get(t)!)));
    });
    inferModel(model);
  } catch (e) {
    if (e instanceof BnnError && !e.message.startsWith(where)) throw new BnnError(`${where}: ${e.message}`);
    throw e;
  }
  return model;
}

/** Read a model from its manifest path. The weights file sits beside the manifest (beside the file a symlink points to). */
export function readModel(path: string): Model {
  const where = printable(path);
  let text: string;
  let dir: string;
  try {
    text = readFileSync(path, 'utf8');
    dir = dirname(realpathSync(path));
  } catch (e) {
    throw new BnnError(`cannot read model '${where}': ${fsReason(e)}`);
  }
  return parseModel(text, (file) => new Uint8Array(readFileSync(resolve(dir, file))), where);
}
