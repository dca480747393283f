// Write a model as manifest + weights blob. Deterministic: the same model gives the same bytes.
import { createHash } from 'node:crypto';
import type { Layer, Model, Padding, Threshold } from '../model/ir.ts';
import { basename } from 'node:path';
import { inferModel } from '../model/validate.ts';
import { isModelBlobOf, isModelManifest, writeOwnedFiles, type OwnedPath } from '../util/output-files.ts';
import { packBits } from './packing.ts';
import { FORMAT_NAME, FORMAT_VERSION, type LayerSpec, type Manifest, type TensorRef } from './schema.ts';

const ALIGN = 16;

class BlobWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private put(bytes: Uint8Array, ref: Omit<TensorRef, 'offset'>): TensorRef {
    const pad = (ALIGN - (this.length % ALIGN)) % ALIGN;
    if (pad) this.chunks.push(new Uint8Array(pad));
    this.length += pad;
    const offset = this.length;
    this.chunks.push(bytes);
    this.length += bytes.length;
    return { offset, ...ref };
  }

  f32(a: Float32Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 4);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setFloat32(4 * i, x, true));
    return this.put(b, { dtype: 'float32', shape });
  }

  i32(a: Int32Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 4);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setInt32(4 * i, x, true));
    return this.put(b, { dtype: 'int32', shape });
  }

  i8(a: Int8Array, shape: number[]): TensorRef {
    return this.put(new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.length)), { dtype: 'int8', shape });
  }

  u16(a: Uint16Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 2);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setUint16(2 * i, x, true));
    return this.put(b, { dtype: 'uint16', shape });
  }

  packed(a: ArrayLike<number>, bits: number, shape: number[]): TensorRef {
    return this.put(packBits(a, bits), { dtype: 'packed', bits, shape });
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function padding(p: Padding): Padding {
  return { top: p.top, left: p.left, bottom: p.bottom, right: p.right };
}

function threshold(w: BlobWriter, t: Threshold | undefined) {
  return t ? { threshold: { value: w.i32(t.value, [t.value.length]), flip: w.packed(t.flip, 1, [t.flip.length]) } } : {};
}

function layerSpec(w: BlobWriter, l: Layer, inChannels: number): LayerSpec {
  const base = { name: l.name, inputs: l.inputs, output: l.output };
  switch (l.op) {
    case 'conv2d':
      return { ...base, op: l.op, outChannels: l.outChannels, kernel: l.kernel, stride: l.stride, padding: padding(l.pad), weights: w.f32(l.weights, [l.outChannels, inChannels, ...l.kernel]), bias: w.f32(l.bias, [l.outChannels]) };
    case 'qconv2d':
      return { ...base, op: l.op, outChannels: l.outChannels, kernel: l.kernel, stride: l.stride, padding: padding(l.pad), weights: w.i8(l.weights, [l.outChannels, inChannels, ...l.kernel]), bias: w.i32(l.bias, [l.outChannels]), ...threshold(w, l.threshold) };
    case 'bconv2d': {
      const k = l.weights;
      const weights =
        k.kind === 'codebook'
          ? { kind: 'codebook' as const, bits: k.bits, codewords: w.u16(k.codewords, [k.codewords.length]), indices: w.packed(k.indices, k.bits, [l.outChannels, inChannels]) }
          : { kind: 'dense' as const, bits: w.packed(k.bits, 1, [l.outChannels, inChannels, ...l.kernel]) };
      return { ...base, op: l.op, outChannels: l.outChannels, kernel: l.kernel, stride: l.stride, padding: padding(l.pad), padValue: l.padValue, weights, ...threshold(w, l.threshold) };
    }
    case 'bdense':
      return { ...base, op: l.op, outFeatures: l.outFeatures, bits: w.packed(l.bits, 1, [l.outFeatures, l.bits.length / l.outFeatures]), ...threshold(w, l.threshold) };
    case 'binarize':
      return { ...base, op: l.op, ...(l.shift ? { shift: w.f32(l.shift, [l.shift.length]) } : {}) };
    case 'affine':
      return { ...base, op: l.op, scale: w.f32(l.scale, [l.scale.length]), bias: w.f32(l.bias, [l.bias.length]) };
    case 'maxpool':
      return { ...base, op: l.op, kernel: l.kernel, stride: l.stride, padding: padding(l.pad) };
    case 'globalavgpool':
    case 'flatten':
      return { ...base, op: l.op };
    case 'dense':
      return { ...base, op: l.op, outFeatures: l.outFeatures, weights: w.f32(l.weights, [l.outFeatures, l.weights.length / l.outFeatures]), bias: w.f32(l.bias, [l.outFeatures]) };
    case 'qdense':
      return { ...base, op: l.op, outFeatures: l.outFeatures, weights: w.i8(l.weights, [l.outFeatures, l.weights.length / l.outFeatures]), bias: w.i32(l.bias, [l.outFeatures]) };
    case 'add':
      return { ...base, op: l.op };
    case 'prelu':
      return {
        ...base,
        op: l.op,
        slope: w.f32(l.slope, [l.slope.length]),
        ...(l.shiftIn ? { shiftIn: w.f32(l.shiftIn, [l.shiftIn.length]) } : {}),
        ...(l.shiftOut ? { shiftOut: w.f32(l.shiftOut, [l.shiftOut.length]) } : {}),
      };
    case 'clip':
      return { ...base, op: l.op, min: l.min, max: l.max };
    case 'avgpool':
      return { ...base, op: l.op, kernel: l.kernel, stride: l.stride, padding: padding(l.pad), countIncludePad: l.countIncludePad };
  }
}

/** Serialise a model: manifest text (pretty JSON) and blob bytes. `blobName` is the weights file name. */
export function serializeModel(model: Model, blobName: string, channelsOf: (tensor: string) => number): { manifest: string; blob: Uint8Array } {
  const w = new BlobWriter();
  const layers = model.layers.map((l) => layerSpec(w, l, channelsOf(l.inputs[0])));
  const blob = w.bytes();
  const manifest: Manifest = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    name: model.name,
    weights: { file: blobName, bytes: blob.length, sha256: createHash('sha256').update(blob).digest('hex') },
    input: {
      shape: model.input.shape,
      dtype: model.input.dtype === 'u8' ? 'uint8' : 'int8',
      zeroPoint: model.input.zeroPoint,
      normalize: { scale: Array.from(model.input.scale), bias: Array.from(model.input.bias) },
    },
    layers,
    output: model.output,
    ...(model.labels ? { labels: model.labels } : {}),
    ...(model.metadata ? { metadata: model.metadata } : {}),
  };
  return { manifest: JSON.stringify(manifest, null, 2) + '\n', blob };
}

/** The weights file beside a manifest: the same base name with .bin. */
export function blobPathOf(manifestPath: string): string {
  return manifestPath.replace(/(\.json)?$/i, '.bin');
}

/** The files writeModel writes for `path`, each with how it recognises an earlier copy bnn-gen wrote. */
export function modelOutputs(path: string): OwnedPath[] {
  return [
    { path: blobPathOf(path), ours: isModelBlobOf(path) },
    { path, ours: isModelManifest },
  ];
}

/**
 * Write `<path>` (manifest) and the weights blob beside it (same base name, .bin), together. An existing pair is
 * replaced only when bnn-gen wrote it (a bnn-gen manifest, and the blob it names with its checksum), or with force.
 */
export function writeModel(model: Model, path: string, opts: { force?: boolean } = {}): { manifest: string; blob: string } {
  const table = inferModel(model);
  const [blob, manifest] = modelOutputs(path);
  const bytes = serializeModel(model, basename(blob.path), (t) => table.get(t)!.shape[0]);
  writeOwnedFiles([{ ...blob, data: bytes.blob }, { ...manifest, data: bytes.manifest }], opts);
  return { manifest: path, blob: blob.path };
}
