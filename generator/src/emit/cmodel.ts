// Lower a validated model to C: constant tables, layer parameters, a static arena plan and one run function.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BnnError } from '../errors.ts';
import { serializeModel } from '../format/write.ts';
import { INPUT_TENSOR, type AffineLayer, type BinarizeLayer, type Conv2dLayer, type Model, type TensorInfo } from '../model/ir.ts';
import { inferModel } from '../model/validate.ts';
import { lowerConv2dBinarized } from '../ops/conv2d.ts';
import { opDef } from '../ops/index.ts';
import type { Arg, CTable, Cost, KernelChoice, Lowering, TableCategory } from '../ops/types.ts';
import { planArena } from '../plan/arena.ts';
import { bufferRequests } from '../plan/buffers.ts';
import { consumersOf, findFusions } from '../plan/fusion.ts';
import { cType, tensorBytes } from '../plan/layout.ts';
import { cArrayBody, cFloat, render } from './templates.ts';
import { RUNTIME_DIR } from '../paths.ts';
import { VERSION } from '../version.ts';

export interface EmitOptions {
  /** Symbol prefix of the public API (default "bnn_": bnn_run, BNN_ARENA_SIZE, bnn_model.h). */
  prefix?: string;
  /** Free text recorded in the generated files' header (the CLI's options). */
  options?: string;
  /** 'auto' (default): the cost model picks fast kernels where they pay; 'ref': portable _ref kernels only. */
  kernels?: KernelChoice;
  /** Upper bound for one fast kernel's scratch, in bytes (e.g. from a board's RAM); fast kernels shrink or step back. */
  scratchLimit?: number;
  /** The target core has the DSP extension (default true: the cost model is the Cortex-M4's). */
  dsp?: boolean;
}

export interface LayerInfo {
  index: number;
  name: string;
  op: string;
  kernel: string;
  input: TensorInfo;
  output: TensorInfo;
  /** Where the output lives: arena offset, 'scores', or null when it is never stored (inside a fused chain). */
  outOffset: number | 'scores' | null;
  outBytes: number;
  scratchBytes: number;
  weightBytes: Record<TableCategory, number>;
  cost: Cost;
  /** With -DBNN_BENCH: the marker function called right before this layer's kernel (none if no code runs). */
  marker: string | null;
  /** Why the kernel was chosen (cost-model estimates), if the op reports it. */
  why?: string;
  estInstructions?: number;
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
  /** With -DBNN_BENCH: the marker called after the last layer. */
  markEnd: string;
  kernels: KernelChoice;
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

/** The first 64 bits of a model hash as two C literals the preprocessor can compare (MODEL_HASH_HI / _LO). */
export function hashWords(hash: string): { hashHi: string; hashLo: string } {
  return { hashHi: `0x${hash.slice(0, 8)}u`, hashLo: `0x${hash.slice(8, 16)}u` };
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

  const consumers = consumersOf(model);
  const fusion = findFusions(model, consumers);

  const lowered: Lowering[] = model.layers.map((layer, index) => {
    const chain = fusion.chains.get(index);
    const last = chain ? model.layers[chain[chain.length - 1]] : layer;
    const inputs = layer.inputs.map((t) => tensors.get(t)!);
    const output = tensors.get(last.output)!;
    const ctx = {
      index,
      layer,
      kernels: opts.kernels ?? 'auto',
      scratchLimit: opts.scratchLimit,
      dsp: opts.dsp,
      modelInput: model.input,
      inputs,
      output,
      table(suffix: string, ctype: CTable['ctype'], values: ArrayLike<number>, category: TableCategory) {
        const name = `L${index}_${suffix}`;
        tables.push({ name, ctype, values, category, bytes: values.length * ELEMENT_BYTES[ctype] });
        return name;
      },
    };
    if (fusion.memberOf.has(index)) return { kernel: '', args: [], scratchBytes: 0, runtime: [], fusedInto: fusion.memberOf.get(index) };
    if (chain) {
      const members = chain.map((i) => model.layers[i]);
      const affine = members.find((m) => m.op === 'affine') as AffineLayer | undefined;
      return lowerConv2dBinarized(layer as Conv2dLayer, affine, last as BinarizeLayer, ctx);
    }
    return opDef(layer).lower(layer, ctx);
  });

  const { rootOf, requests } = bufferRequests(model, tensors, lowered, fusion, consumers);
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

  const chainOut = (i: number) => {
    const chain = fusion.chains.get(i);
    return chain ? model.layers[chain[chain.length - 1]].output : model.layers[i].output;
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
      if (a === 'out') return ptr(chainOut(i), false);
      if (a === 'scratch') return `(int32_t *)(a + ${plan.placements.get(`scratch:${i}`)!.offset})`;
      if ('input' in a) return ptr(l.inputs[a.input], true);
      return a.literal;
    };
    const weightBytes = zeroBytes();
    for (const t of tables) if (t.name.startsWith(`L${i}_`)) weightBytes[t.category] += t.bytes;
    const root = rootOf.get(l.output)!;
    const runs = !low.aliasInput && low.fusedInto === undefined;
    const marker = runs ? `${prefix}mark_L${i}` : null;
    layerInfos.push({
      marker,
      why: low.why,
      estInstructions: low.estInstructions,
      index: i,
      name: l.name,
      op: l.op,
      kernel: low.aliasInput ? '(alias)' : low.fusedInto !== undefined ? `(fused into ${low.fusedInto})` : low.kernel,
      input,
      output,
      outOffset: l.output === model.output ? 'scores' : plan.placements.get(root)?.offset ?? null,
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
      call: low.aliasInput || low.fusedInto !== undefined ? '' : `${low.kernel}(${low.args.map(argText).join(', ')})`,
      scratchCall: low.scratchBytes > 0 ? `${low.kernel}_scratch_words(&${paramsName})` : '',
      mark: marker ?? '',
      // Outputs inside a fused chain never exist in memory, so they are not traced.
      trace: !fusion.chains.has(i) && !(fusion.memberOf.has(i) && !fusion.tails.has(i)),
      outPtr: fusion.chains.has(i) || (fusion.memberOf.has(i) && !fusion.tails.has(i)) ? 'NULL' : ptr(l.output, true),
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
    markEnd: `${prefix}mark_end`,
    kernels: opts.kernels ?? 'auto',
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
    ...hashWords(hash),
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
    marks: [...layerInfos.flatMap((l) => (l.marker ? [l.marker] : [])), info.markEnd],
    markEnd: info.markEnd,
  });
  const runtime = new Set<string>(['bnn_runtime.h', 'bnn_arch.h']);
  for (const low of lowered) for (const f of low.runtime) runtime.add(f);
  for (const f of [...runtime].sort()) {
    files[f] = render('runtime/source.hbs', { file: f, version: VERSION, source: readFileSync(join(RUNTIME_DIR, f), 'utf8') });
  }
  const sources = Object.keys(files).filter((f) => f.endsWith('.c'));
  return { files, sources, info };
}
