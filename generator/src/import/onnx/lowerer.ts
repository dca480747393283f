// Lower an ONNX graph to the IR, one node at a time in the file's topological order.
//
// Each ONNX value becomes one of (values.ts):
//   input  the model input with the per-channel normalisation applied so far (folded into input.scale/bias);
//   real   an f32 IR tensor plus pending per-channel steps (batch norm, scale, shift, clip, PReLU, max pool);
//   acc    the integer accumulator of a binary conv/dense plus pending steps — a Sign folds it into a threshold;
//   bin    a b1 IR tensor.
// Pending steps are only turned into IR layers ("materialised", materialise.ts) when a consumer needs real values,
// or when several nodes read the value (residual connections), so that they share one copy. The node handlers live
// by op family in handlers/; this class holds the state they share and the loop that calls them.
import { BnnError } from '../../core/errors.ts';
import { INPUT_TENSOR, type InputSpec, type Layer, type Padding } from '../../model/ir.ts';
import type { Comparison } from '../../ops/where.ts';
import { canFold, Folder } from './fold/index.ts';
import { HANDLERS } from './handlers/index.ts';
import { startInput } from './input.ts';
import { materialise } from './materialise.ts';
import { STE_HINT } from './ste.ts';
import { nodeError, type OnnxGraph, type OnnxNode } from './proto.ts';
import { type Const, perChannel } from './tensor.ts';
import type { Body, Value } from './values.ts';

export interface LowerOptions {
  /** τ for every binary 3x3 conv (codebook of at most 2^τ kernels); default: the smallest τ that fits each layer. */
  bits?: number;
  /** For a float model input: the float value of one raw byte step (1 = the input holds bytes 0..255). */
  inputScale?: number;
}

export interface Lowered {
  input: InputSpec;
  layers: Layer[];
  output: string;
  report: string[];
  /** ONNX value name -> IR tensor holding exactly that value (binary activations, materialised real ones). */
  tensors: Map<string, string>;
}

/** Masks without a handler: on weights they fold; on activations they come from STE polynomials written in forward. */
const MASK_OPS = new Set(['Equal', 'Not', 'And', 'Or', 'Xor']);

export class Lowerer {
  // Shared with the handlers of this folder (they are the class's methods, kept in files by op family).
  readonly layers: Layer[] = [];
  readonly values = new Map<string, Value>();
  readonly names = new Set<string>([INPUT_TENSOR]);
  readonly folder: Folder;
  readonly consumed = new Set<string>(); // IR tensors some layer reads
  readonly readers = new Map<string, number>(); // ONNX value -> number of lowered nodes reading it
  readonly report: string[] = [];
  readonly notes = new Set<string>();
  readonly tensors = new Map<string, string>();
  /** ONNX value -> zero padding a Pad node put around it, taken up by the AveragePool that reads it. */
  readonly pads = new Map<string, Padding>();
  /** ONNX bool value -> the comparison of an activation with a constant that makes it, for Where. */
  readonly conditions = new Map<string, { x: string; cmp: Comparison; value: number }>();
  input: InputSpec | undefined;
  /** The nodes the graph output depends on (dead branches, rewritten masks and STE terms are not among them). */
  needed = new Set<OnnxNode>();
  node!: OnnxNode; // the node being lowered, for messages
  produced: Set<string> | undefined;

  constructor(
    readonly g: OnnxGraph,
    readonly opts: LowerOptions,
  ) {
    this.folder = new Folder(g, (name) => {
      const v = this.values.get(name);
      if (!v) return undefined;
      return v.rank === 4 ? [1, ...v.shape] : [1, v.shape[0]];
    });
  }

  fail(why: string, n: OnnxNode = this.node): never {
    throw nodeError(n, why);
  }

  constant(name: string, what: string): Const {
    const c = this.folder.get(name);
    if (c) return c;
    if (!this.exists(name)) this.fail(`${what} '${name}' is not an initializer, a graph input or a node output (missing initializer?)`);
    this.fail(`${what} '${name}' must be a constant (an initializer or computed from initializers only)`);
  }

  exists(name: string): boolean {
    this.produced ??= new Set(this.g.nodes.flatMap((n) => n.outputs));
    return this.g.initializers.has(name) || this.produced.has(name) || this.g.inputs.some((i) => i.name === name);
  }

  /** The live nodes that read `name`. */
  readersOf(name: string): OnnxNode[] {
    return [...this.needed].filter((m) => m.inputs.includes(name));
  }

  optionalConstant(name: string | undefined, what: string): Const | undefined {
    return name ? this.constant(name, what) : undefined;
  }

  /** The lowered value of an activation. One read by several nodes is materialised once, so they share its layers. */
  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) {
      this.fail(this.exists(name) ? `input '${name}' is not available` : `input '${name}' is not an initializer, a graph input or a node output (missing initializer?)`);
    }
    if ((v.kind === 'real' || v.kind === 'acc') && v.steps.length > 0 && (this.readers.get(name) ?? 0) > 1) return materialise(this, v, v.steps, name);
    return v;
  }

  layerName(base: string): string {
    let s = base.replace(/[^A-Za-z0-9_.\-/:]/g, '_').replace(/^[^A-Za-z_]+/, '') || 'layer';
    if (this.names.has(s)) {
      let k = 2;
      while (this.names.has(`${s}_${k}`)) k++;
      s = `${s}_${k}`;
    }
    this.names.add(s);
    return s;
  }

  /** Append a layer reading `from`; its output tensor is its name. */
  emit<L extends Layer = Layer>(layer: Body<L>, from: string | string[], base: string): L {
    const name = this.layerName(base);
    const inputs = typeof from === 'string' ? [from] : from;
    const l = { name, inputs, output: name, ...layer } as unknown as L;
    for (const t of inputs) this.consumed.add(t);
    this.layers.push(l);
    return l;
  }

  set(name: string, v: Value): void {
    this.values.set(name, v);
    if (v.kind === 'bin' || (v.kind === 'real' && v.steps.length === 0)) this.tensors.set(name, v.tensor);
  }

  channelVector(c: Const, v: Value, what: string): Float64Array {
    const r = perChannel(c, v.rank, v.shape[0]);
    if (typeof r === 'string') this.fail(`${what}: ${r}`);
    return r;
  }

  /** Report a caveat once, however many layers it applies to. */
  note(s: string): void {
    if (!this.notes.has(s)) this.report.push(s);
    this.notes.add(s);
  }

  lower(): Lowered {
    startInput(this);
    if (this.g.outputs.length !== 1) throw new BnnError(`the model must have exactly one output, it has ${this.g.outputs.length}`);
    this.needed = this.neededNodes();
    for (const n of this.needed) for (const i of new Set(n.inputs)) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
    for (const n of this.g.nodes) {
      if (!this.needed.has(n)) continue;
      this.node = n;
      // Handlers name the role of a missing input (weights, bias...); for the rest (e.g. Abs / Sign of latent
      // weights whose initializer is gone) say so before "not supported" misleads.
      const missing = HANDLERS[n.op] ? undefined : n.inputs.find((i) => i && !this.exists(i));
      if (missing !== undefined) this.fail(`input '${missing}' is not an initializer, a graph input or a node output (missing initializer?)`);
      if (n.outputs.every((o) => !o || this.folder.get(o))) continue; // part of a constant (weight) subgraph
      const live = n.inputs.filter((i) => i && !this.folder.get(i));
      if (live.length === 0) this.fail(canFold(n.op) ? 'cannot evaluate this node on its constant inputs' : `an op on constants that the importer cannot evaluate`);
      if (n.domain !== '' && n.domain !== 'ai.onnx') this.fail(`custom op domain '${n.domain}' is not supported`);
      const handler = HANDLERS[n.op];
      if (!handler && MASK_OPS.has(n.op)) this.fail(`${n.op} on activations is not supported: ${STE_HINT}`);
      if (!handler) this.fail(`op ${n.op} is not supported by the ONNX importer`);
      handler(this, n);
    }
    return this.finish();
  }

  /** Nodes the graph output depends on (others — training outputs, dead branches — are ignored). */
  neededNodes(): Set<OnnxNode> {
    const producer = new Map<string, OnnxNode>();
    for (const n of this.g.nodes) for (const o of n.outputs) producer.set(o, n);
    const needed = new Set<OnnxNode>();
    const stack = [...this.g.outputs];
    while (stack.length) {
      const n = producer.get(stack.pop()!);
      if (!n || needed.has(n)) continue;
      needed.add(n);
      stack.push(...n.inputs.filter(Boolean));
    }
    return needed;
  }

  finish(): Lowered {
    const outName = this.g.outputs[0];
    const v = this.values.get(outName);
    if (!v) throw new BnnError(`the model output '${outName}' is a constant or is not produced by any node`);
    if (v.kind === 'input') throw new BnnError(`the model output '${outName}' is the (normalised) input`);
    if (v.kind === 'bin') throw new BnnError(`the model output '${outName}' is binary (a Sign); the scores must be real-valued`);
    const real = materialise(this, v, v.steps, outName);
    if (real.shape[1] !== 1 || real.shape[2] !== 1) throw new BnnError(`the model output '${outName}' is a [${real.shape}] map; the scores must be a vector`);
    const last = this.layers[this.layers.length - 1];
    if (!last || last.output !== real.tensor) throw new BnnError(`the model output '${outName}' is not computed by the last layer`);
    if (!this.input) throw new BnnError('no layer reads the model input');
    return { input: this.input, layers: this.layers, output: real.tensor, report: this.report, tensors: this.tensors };
  }
}
