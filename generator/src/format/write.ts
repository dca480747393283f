// Write a model as manifest + weights blob; each layer entry is written by its op (OpDef.write). Deterministic:
// the same model gives the same bytes.
import { createHash } from 'node:crypto';
import { BlobWriter } from '../ir/blob.ts';
import type { Model, TensorInfo } from '../model/ir.ts';
import { opOf } from '../ops/registry.ts';
import { basename } from 'node:path';
import { inferModel, type TensorTable } from '../model/validate.ts';
import { isModelBlobOf, isModelManifest, writeOwnedFiles, type OwnedPath } from '../core/output-files.ts';
import { FORMAT_NAME, FORMAT_VERSION, type LayerSpec, type Manifest } from './schema.ts';

/** Serialise a model: manifest text (pretty JSON) and blob bytes. `blobName` is the weights file name. */
export function serializeModel(model: Model, blobName: string, infoOf: (tensor: string) => TensorInfo): { manifest: string; blob: Uint8Array } {
  const w = new BlobWriter();
  // Field order is part of the file (and of the model hash): name, inputs, output, op, then the op's own.
  const layers = model.layers.map((l) => ({ name: l.name, inputs: l.inputs, output: l.output, op: l.op, ...opOf(l).write(l, w, l.inputs.map(infoOf)) }) as LayerSpec);
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

/** Stable sha256 of a model's content (its serialised manifest and blob), recorded in generated files. */
export function modelHash(model: Model, table: TensorTable = inferModel(model)): string {
  const { manifest, blob } = serializeModel(model, 'model.bin', (t) => table.get(t)!);
  return createHash('sha256').update(manifest).update(blob).digest('hex');
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
  const bytes = serializeModel(model, basename(blob.path), (t) => table.get(t)!);
  writeOwnedFiles([{ ...blob, data: bytes.blob }, { ...manifest, data: bytes.manifest }], opts);
  return { manifest: path, blob: blob.path };
}
