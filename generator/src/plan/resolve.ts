// Resolve a model for a target once: validated tensors, fusion, the kernel of every layer (and why), constant
// tables, scratch, the static arena, and the figures reports need. Emission (emit/model-c.ts) only prints this
// program; generate, golden, report, memory and bench all start from it. No C text is made here.
import { BnnError } from '../core/errors.ts';
import { modelHash } from '../format/write.ts';
import type { Board } from '../model/board.ts';
import { INPUT_TENSOR, numel, type Layer, type Model, type TensorInfo } from '../model/ir.ts';
import { getTarget, isM7 } from '../model/target.ts';
import { inferModel, type TensorTable } from '../model/validate.ts';
import { opOf } from '../ops/registry.ts';
import type { CTable, CType, Cost, KernelChoice, Lowering, TableCategory } from '../ops/types.ts';
import { liveBytes, planArena, type ArenaPlan, type BufferRequest } from './arena.ts';
import { bufferRequests, isScratch } from './buffers.ts';
import { arenaBudget as boardArenaBudget } from './fit.ts';
import { consumersOf, findFusions, type Fusion } from './fusion.ts';
import { tensorBytes } from '../ir/layout.ts';

export interface ResolveOptions {
  /** Symbol prefix of the public API (default "bnn_": bnn_run, BNN_ARENA_SIZE, bnn_model.h). */
  prefix?: string;
  /** 'auto' (default): the cost model picks fast kernels where they pay; 'ref': portable _ref kernels only. */
  kernels?: KernelChoice;
  /** The board the code will run on: its core decides the DSP paths, its RAM the scratch fast kernels may take. */
  board?: Board;
  /** Upper bound for one fast kernel's scratch, in bytes (default: what the board's RAM leaves; none without a board). */
  scratchLimit?: number;
  /** The target core has the DSP extension (default: the board's core, else true: the cost model is the M4's). */
  dsp?: boolean;
  /** Plan for an ARMv6-M core (default: from the board). */
  armv6m?: boolean;
  /** Plan for a core with Helium (default: from the board). */
  mve?: boolean;
  /** Plan for a Cortex-M7 (default: from the board). */
  m7?: boolean;
  /** Most bytes the arena may take (`--ram-budget`); default with a board: its data RAM less the stack, the harness and
   *  the C library. Fast kernels get the scratch this leaves beside the portable plan's buffers. */
  ramBudget?: number;
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
  /** Arena bytes in use while this layer runs: the maps alive at its step and its scratch (unaligned). */
  liveBytes: number;
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
  /** The arena budget the kernels were planned within (board RAM or --ram-budget), if any. */
  arenaBudget?: number;
  /** No plan of these layers' maps can take less: the most bytes of maps alive at one step (the portable kernels'
   *  few words of scratch aside). */
  arenaLowerBound: number;
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

/** One layer as it will run: its lowering, its tables and where its output goes. */
export interface ResolvedLayer {
  layer: Layer;
  lowering: Lowering;
  tables: CTable[];
  /** The tensor the kernel writes (a fused chain's head writes the chain's last output). */
  writes: string;
  /** Whether the layer's own output exists in memory (not inside a fused chain), so it can be traced. */
  stored: boolean;
}

export interface Program {
  model: Model;
  prefix: string;
  hash: string;
  tensors: TensorTable;
  fusion: Fusion;
  layers: ResolvedLayer[];
  tables: CTable[];
  arena: ArenaPlan;
  /** The buffer each tensor lives in (aliases and in-place outputs share their input's). */
  rootOf: Map<string, string>;
  info: ModelInfo;
}

const CATEGORIES: TableCategory[] = ['codebook', 'indices', 'binary', 'thresholds', 'real', 'int'];
const ELEMENT_BYTES: Record<CType, number> = { float: 4, int32_t: 4, uint32_t: 4, uint16_t: 2, int16_t: 2, int8_t: 1, uint8_t: 1 };

function zeroBytes(): Record<TableCategory, number> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<TableCategory, number>;
}

/** Check a C symbol prefix: it is pasted into identifiers and file names. */
export function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9_]*_$/.test(prefix)) throw new BnnError(`--prefix: '${prefix}' must be lower-case letters, digits and _, ending in _ (e.g. kws_)`);
}

/** Lower every layer; `scratchLimit` bounds each fast kernel's scratch (one figure, or one per layer index). */
function lowerAll(model: Model, tensors: TensorTable, fusion: Fusion, kernels: KernelChoice, scratchLimit: number | undefined | ((index: number) => number), dsp: boolean, armv6m: boolean, mve: boolean, m7: boolean): ResolvedLayer[] {
  return model.layers.map((layer, index) => {
    const chain = fusion.chains.get(index);
    const writes = chain ? model.layers[chain[chain.length - 1]].output : layer.output;
    const tables: CTable[] = [];
    const ctx = {
      index,
      modelInput: model.input,
      inputs: layer.inputs.map((t) => tensors.get(t)!),
      output: tensors.get(writes)!,
      typeOf: (t: string) => tensors.get(t)!,
      kernels,
      scratchLimit: typeof scratchLimit === 'function' ? scratchLimit(index) : scratchLimit,
      dsp,
      armv6m,
      mve,
      m7,
      table(suffix: string, ctype: CType, values: ArrayLike<number>, category: TableCategory) {
        const name = `L${index}_${suffix}`;
        tables.push({ name, ctype, values, category, bytes: values.length * ELEMENT_BYTES[ctype] });
        return { table: name };
      },
    };
    const stored = !chain && !(fusion.memberOf.has(index) && !fusion.tails.has(index));
    let lowering: Lowering;
    if (fusion.memberOf.has(index)) lowering = { kernel: '', args: [], scratchBytes: 0, runtime: [], fusedInto: fusion.memberOf.get(index) };
    else if (chain) lowering = opOf(layer).fuses!.lower(layer, chain.map((i) => model.layers[i]), ctx);
    else lowering = opOf(layer).lower(layer, ctx);
    return { layer, lowering, tables, writes, stored };
  });
}

/**
 * The fastest lowering whose arena fits `budget`: each layer's fast kernel may take the scratch that the buffers alive
 * at its step (in the portable plan) leave; where the arena planner then needs more (placement around other live
 * buffers), every limit shrinks by the excess and the layers are lowered again. A portable plan that does not fit is
 * refused here for an explicit --ram-budget (the board's own figure is checked, with its breakdown, by checkFits).
 */
function lowerWithin(budget: number, lower: (limit: number | ((i: number) => number) | undefined, k?: KernelChoice) => ResolvedLayer[], arenaOf: (ls: ResolvedLayer[]) => { requests: BufferRequest[]; plan: ArenaPlan }, explicit: boolean, name: string): ResolvedLayer[] {
  const ref = lower(undefined, 'ref');
  const refArena = arenaOf(ref);
  if (refArena.plan.size > budget) {
    if (explicit) throw new BnnError(`--ram-budget: model ${name} needs an arena of ${refArena.plan.size.toLocaleString('en-US')} B even with the portable kernels, more than the budget of ${budget.toLocaleString('en-US')} B`);
    return ref;
  }
  const buffers = refArena.requests.filter((r) => !isScratch(r));
  let slack = 0;
  for (let i = 0; i < 8; i++) {
    const layers = lower((j) => Math.max(0, budget - liveBytes(buffers, j, true) - slack));
    const size = arenaOf(layers).plan.size;
    if (size <= budget) return layers;
    slack += size - budget;
  }
  return ref;
}

/** Resolve `model`: one validation, one kernel choice per layer, one arena plan. */
export function resolve(model: Model, opts: ResolveOptions = {}): Program {
  const prefix = opts.prefix ?? 'bnn_';
  checkPrefix(prefix);
  const tensors = inferModel(model);
  const hash = modelHash(model, tensors);
  const consumers = consumersOf(model);
  const fusion = findFusions(model, consumers);
  const kernels = opts.kernels ?? 'auto';
  const dsp = opts.dsp ?? (opts.board ? getTarget(opts.board.cpu).hasDsp : true);
  const armv6m = opts.armv6m ?? (opts.board ? getTarget(opts.board.cpu).arch === 'armv6-m' : false);
  const mve = opts.mve ?? (opts.board ? getTarget(opts.board.cpu).hasMve : false);
  const m7 = opts.m7 ?? (opts.board ? isM7(getTarget(opts.board.cpu)) : false);
  const arenaOf = (layers: ResolvedLayer[]) => {
    const b = bufferRequests(model, tensors, layers.map((l) => l.lowering), fusion, consumers);
    return { ...b, plan: planArena(b.requests) };
  };
  const lower = (limit: number | ((i: number) => number) | undefined, k: KernelChoice = kernels) => lowerAll(model, tensors, fusion, k, limit, dsp, armv6m, mve, m7);
  const numClasses = tensors.get(model.output)!.shape[0];
  const arenaBudget = opts.ramBudget ?? (opts.board ? boardArenaBudget(opts.board, numClasses) : undefined);
  let layers: ResolvedLayer[];
  if (opts.scratchLimit !== undefined || kernels === 'ref' || arenaBudget === undefined) layers = lower(opts.scratchLimit);
  else layers = lowerWithin(arenaBudget, lower, arenaOf, opts.ramBudget !== undefined, model.name);
  const { rootOf, plan, requests } = arenaOf(layers);
  const maps = requests.filter((r) => !isScratch(r));
  const arenaLowerBound = Math.max(0, ...model.layers.map((_, i) => liveBytes(maps, i)));
  const tables = layers.flatMap((l) => l.tables);

  const layerInfos: LayerInfo[] = layers.map(({ layer: l, lowering: low, tables: own }, i) => {
    const input = tensors.get(l.inputs[0])!;
    const output = tensors.get(l.output)!;
    const weightBytes = zeroBytes();
    for (const t of own) weightBytes[t.category] += t.bytes;
    const runs = !low.aliasInput && low.fusedInto === undefined;
    return {
      marker: runs ? `${prefix}mark_L${i}` : null,
      why: low.why,
      estInstructions: low.estInstructions,
      index: i,
      name: l.name,
      op: l.op,
      kernel: low.aliasInput ? '(alias)' : low.fusedInto !== undefined ? `(fused into ${low.fusedInto})` : low.kernel,
      input,
      output,
      outOffset: l.output === model.output ? 'scores' : plan.placements.get(rootOf.get(l.output)!)?.offset ?? null,
      outBytes: tensorBytes(output),
      scratchBytes: low.scratchBytes,
      liveBytes: liveBytes(requests, i),
      weightBytes,
      cost: opOf(l).cost(l, l.inputs.map((t) => tensors.get(t)!), output),
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
    inputSize: numel(model.input),
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
    kernels,
    arenaBudget,
    arenaLowerBound,
  };
  return { model, prefix, hash, tensors, fusion, layers, tables, arena: plan, rootOf, info };
}

/** The arena offset of a tensor's buffer, 'input' for the model input (or an alias of it), 'scores' for the output. */
export function placeOf(p: Program, tensor: string): number | 'input' | 'scores' {
  if (tensor === INPUT_TENSOR) return 'input';
  if (tensor === p.model.output) return 'scores';
  const root = p.rootOf.get(tensor) ?? tensor;
  if (root === INPUT_TENSOR) return 'input';
  return p.arena.placements.get(root)!.offset;
}
