// Lower a validated model to C: constant tables, layer parameters, a static arena plan and one run function.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BnnError } from '../errors.ts';
import { serializeModel } from '../format/write.ts';
import { INPUT_TENSOR, type Model, type TensorInfo } from '../model/ir.ts';
import { inferModel } from '../model/validate.ts';
import { opDef } from '../ops/index.ts';
import type { Arg, CTable, Cost, Lowering, TableCategory } from '../ops/types.ts';
import { planArena, type BufferRequest } from '../plan/arena.ts';
import { cType, tensorBytes } from '../plan/layout.ts';
import { cArrayBody, cFloat, render, RUNTIME_DIR } from './templates.ts';
import { VERSION } from '../version.ts';

export interface EmitOptions {
  /** Symbol prefix of the public API (default "bnn_": bnn_run, BNN_ARENA_SIZE, bnn_model.h). */
  prefix?: string;
  /** Free text recorded in the generated files' header (the CLI's options). */
  options?: string;
}

export interface LayerInfo {
  index: number;
  name: string;
  op: string;
  kernel: string;
  input: TensorInfo;
  output: TensorInfo;
  /** Where the output lives: arena offset, or 'scores' / alias of the input. */
  outOffset: number | 'scores';
  outBytes: number;
  scratchBytes: number;
  weightBytes: Record<TableCategory, number>;
  cost: Cost;
}

export interface ModelInfo {
  name: string;
  hash: string;
  prefix: string;
  inputShape: [number, number, number];
  inputSize: number;
  inputSigned: boolean;
  numClasses: number;
  scoreType: 'f32' | 'i32';
  arenaSize: number;
  layers: LayerInfo[];
  weightBytes: Record<TableCategory, number>;
  totalWeightBytes: number;
  binaryMacs: number;
  realMacs: number;
}

export interface EmittedModel {
  files: Record<string, string>;
  /** The .c files among `files`. */
  sources: string[];
  info: ModelInfo;
}

const CATEGORIES: TableCategory[] = ['codebook', 'indices', 'binary', 'thresholds', 'real', 'int'];
const ELEMENT_BYTES: Record<CTable['ctype'], number> = { float: 4, int32_t: 4, uint32_t: 4, uint16_t: 2, int8_t: 1, uint8_t: 1 };

function zeroBytes(): Record<TableCategory, number> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<TableCategory, number>;
}

/** Stable hash of the model's content (its serialised form), recorded in generated headers. */
export function modelHash(model: Model): string {
  const table = inferModel(model);
  const { manifest, blob } = serializeModel(model, 'model.bin', (t) => table.get(t)!.shape[0]);
  return createHash('sha256').update(manifest).update(blob).digest('hex');
}

function tableBody(t: CTable): string {
  switch (t.ctype) {
    case 'float':
      return cArrayBody(t.values, 8, (v) => cFloat(Number(v)));
    case 'uint32_t':
      return cArrayBody(t.values, 8, (v) => '0x' + (Number(v) >>> 0).toString(16).padStart(8, '0') + 'u');
    case 'uint8_t':
      return cArrayBody(t.values, 16, (v) => '0x' + Number(v).toString(16).padStart(2, '0'));
    case 'int32_t':
      // INT32_MIN has no literal form in C; write it as an expression.
      return cArrayBody(t.values, 10, (v) => (Number(v) === -2147483648 ? '(-2147483647 - 1)' : String(v)));
    default:
      return cArrayBody(t.values, 16);
  }
}

export function emitModel(model: Model, opts: EmitOptions = {}): EmittedModel {
  const prefix = opts.prefix ?? 'bnn_';
  if (!/^[a-z][a-z0-9_]*_$/.test(prefix)) throw new BnnError(`--prefix: '${prefix}' must be lower-case letters, digits and _, ending in _ (e.g. kws_)`);
  const PREFIX = prefix.toUpperCase();
  const tensors = inferModel(model);
  const hash = modelHash(model);
  const tables: CTable[] = [];

  const lowered: Lowering[] = model.layers.map((layer, index) => {
    const inputs = layer.inputs.map((t) => tensors.get(t)!);
    const output = tensors.get(layer.output)!;
    return opDef(layer).lower(layer, {
      index,
      layer,
      modelInput: model.input,
      inputs,
      output,
      table(suffix, ctype, values, category) {
        const name = `L${index}_${suffix}`;
        tables.push({ name, ctype, values, category, bytes: values.length * ELEMENT_BYTES[ctype] });
        return name;
      },
    });
  });

  // Buffers: an aliasing layer (flatten) shares its input's buffer, so lifetimes are tracked per root buffer.
  // An in-place layer (element-wise, same size) reuses its input's buffer when nothing reads the input later.
  const consumers = new Map<string, number[]>();
  model.layers.forEach((l, i) => l.inputs.forEach((t) => consumers.set(t, [...(consumers.get(t) ?? []), i])));
  const rootOf = new Map<string, string>();
  model.layers.forEach((l, i) => {
    const src = l.inputs[0];
    const srcRoot = rootOf.get(src) ?? src;
    const reuse =
      lowered[i].aliasInput ||
      (lowered[i].inPlace &&
        srcRoot !== INPUT_TENSOR &&
        l.output !== model.output &&
        tensorBytes(tensors.get(src)!) === tensorBytes(tensors.get(l.output)!) &&
        // Every reader of the shared buffer (through any alias) must be done by this layer.
        [...rootOf.entries()].filter(([, r]) => r === srcRoot).every(([t]) => (consumers.get(t) ?? []).every((c) => c <= i)) &&
        (consumers.get(srcRoot) ?? []).every((c) => c <= i));
    rootOf.set(l.output, reuse ? srcRoot : l.output);
  });
  const lastUse = new Map<string, number>();
  model.layers.forEach((l, i) => l.inputs.forEach((t) => lastUse.set(rootOf.get(t) ?? t, Math.max(i, lastUse.get(rootOf.get(t) ?? t) ?? 0))));
  const requests: BufferRequest[] = [];
  model.layers.forEach((l, i) => {
    const root = rootOf.get(l.output)!;
    if (root === l.output && l.output !== model.output) {
      requests.push({ id: l.output, bytes: tensorBytes(tensors.get(l.output)!), first: i, last: lastUse.get(root) ?? i });
    }
    if (lowered[i].scratchBytes > 0) requests.push({ id: `scratch:${i}`, bytes: lowered[i].scratchBytes, first: i, last: i });
  });
  const plan = planArena(requests);

  const ptr = (tensor: string, constant: boolean): string => {
    const info = tensors.get(tensor)!;
    if (tensor === INPUT_TENSOR) return 'input';
    if (tensor === model.output) return 'scores';
    const root = rootOf.get(tensor) ?? tensor;
    if (root === INPUT_TENSOR) return 'input';
    const off = plan.placements.get(root)!.offset;
    return `(${constant ? 'const ' : ''}${cType(info)} *)(a + ${off})`;
  };

  const layerInfos: LayerInfo[] = [];
  const layerCtx = model.layers.map((l, i) => {
    const low = lowered[i];
    const input = tensors.get(l.inputs[0])!;
    const output = tensors.get(l.output)!;
    const paramsName = `L${i}_params`;
    const argText = (a: Arg): string => {
      if (a === 'params') return `&${paramsName}`;
      if (a === 'in') return ptr(l.inputs[0], true);
      if (a === 'out') return ptr(l.output, false);
      if (a === 'scratch') return `(int32_t *)(a + ${plan.placements.get(`scratch:${i}`)!.offset})`;
      return a.literal;
    };
    const weightBytes = zeroBytes();
    for (const t of tables) if (t.name.startsWith(`L${i}_`)) weightBytes[t.category] += t.bytes;
    const root = rootOf.get(l.output)!;
    layerInfos.push({
      index: i,
      name: l.name,
      op: l.op,
      kernel: low.aliasInput ? '(alias)' : low.kernel,
      input,
      output,
      outOffset: l.output === model.output ? 'scores' : plan.placements.get(root)?.offset ?? 0,
      outBytes: tensorBytes(output),
      scratchBytes: low.scratchBytes,
      weightBytes,
      cost: opDef(l).cost(l, [input], output),
    });
    const shape = (t: TensorInfo) => `${t.dtype}[${t.shape.join('x')}]`;
    return {
      index: i,
      op: l.op,
      name: l.name,
      inShape: shape(input),
      outShape: shape(output),
      params: low.params ?? null,
      paramsName,
      call: low.aliasInput ? '' : `${low.kernel}(${low.args.map(argText).join(', ')})`,
      outPtr: ptr(l.output, true),
      outBytes: tensorBytes(output),
    };
  });

  const out = tensors.get(model.output)!;
  const weightBytes = zeroBytes();
  for (const t of tables) weightBytes[t.category] += t.bytes;
  const info: ModelInfo = {
    name: model.name,
    hash,
    prefix,
    inputShape: model.input.shape,
    inputSize: model.input.shape[0] * model.input.shape[1] * model.input.shape[2],
    inputSigned: model.input.dtype === 'i8',
    numClasses: out.shape[0],
    scoreType: out.dtype === 'f32' ? 'f32' : 'i32',
    arenaSize: plan.size,
    layers: layerInfos,
    weightBytes,
    totalWeightBytes: tables.reduce((s, t) => s + t.bytes, 0),
    binaryMacs: layerInfos.reduce((s, l) => s + l.cost.binaryMacs, 0),
    realMacs: layerInfos.reduce((s, l) => s + l.cost.realMacs, 0),
  };

  const common = {
    version: VERSION,
    prefix,
    PREFIX,
    modelName: model.name,
    modelHash: hash,
    options: opts.options ?? `--prefix ${prefix}`,
  };
  const files: Record<string, string> = {};
  files[`${prefix}model.h`] = render('model/model.h.hbs', {
    ...common,
    inputC: model.input.shape[0],
    inputH: model.input.shape[1],
    inputW: model.input.shape[2],
    inputSize: info.inputSize,
    inputType: info.inputSigned ? 'int8_t' : 'uint8_t',
    numClasses: info.numClasses,
    arenaSize: info.arenaSize,
    scoreIsFloat: info.scoreType === 'f32' ? 1 : 0,
    scoreType: info.scoreType === 'f32' ? 'float' : 'int32_t',
    numLayers: model.layers.length,
  });
  const arena = [...plan.placements.values()]
    .filter((p) => p.bytes > 0)
    .sort((x, y) => x.offset - y.offset || x.first - y.first)
    .map((p) => ({ offset: p.offset, end: p.offset + p.bytes, first: p.first, last: p.last, what: p.id.startsWith('scratch:') ? `scratch of layer ${p.id.slice(8)}` : `tensor '${p.id}'` }));
  files[`${prefix}model.c`] = render('model/model.c.hbs', {
    ...common,
    arenaSize: info.arenaSize,
    arena,
    tableBytes: info.totalWeightBytes,
    tables: tables.map((t) => ({ ctype: t.ctype, name: t.name, length: t.values.length, body: tableBody(t) })),
    layers: layerCtx,
  });
  const runtime = new Set<string>(['bnn_runtime.h']);
  for (const low of lowered) for (const f of low.runtime) runtime.add(f);
  for (const f of [...runtime].sort()) {
    files[f] = render('runtime/source.hbs', { file: f, version: VERSION, source: readFileSync(join(RUNTIME_DIR, f), 'utf8') });
  }
  const sources = Object.keys(files).filter((f) => f.endsWith('.c'));
  return { files, sources, info };
}
