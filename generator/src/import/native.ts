// Read a model: manifest (JSON) + weights blob. Every failure is one BnnError line naming the file and JSON path;
// each layer entry is read by its op (OpDef.read).
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BnnError, fsReason, printable } from '../core/errors.ts';
import { BlobReader } from '../ir/blob.ts';
import type { Layer, Model, TensorInfo } from '../model/ir.ts';
import { opOf } from '../ops/registry.ts';
import { inferLayerOutput, inferModel } from '../model/validate.ts';
import { checkJsonLimits, parseJson } from '../format/json.ts';
import { jsonPath, LAYER_OPS, Manifest } from '../format/schema.ts';

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
  const blob = new BlobReader(bytes, where);
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
    m.layers.forEach((s: { name: string; inputs: string[]; output: string; op: string }, i: number) => {
      s.inputs.forEach((t, k) => {
        if (!shapes.has(t)) throw new BnnError(`layers[${i}] (${s.name}).inputs[${k}]: tensor '${t}' is not produced by an earlier layer`);
      });
      const x = shapes.get(s.inputs[0])!;
      const layer = opOf(s).read(s as never, blob, x, `layers[${i}]`) as Layer;
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
