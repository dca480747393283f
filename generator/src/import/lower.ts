// Lower an ONNX graph to the IR, one node at a time in the file's topological order.
//
// Each ONNX value becomes one of:
//   input  the model input with the per-channel normalisation applied so far (folded into input.scale/bias);
//   real   an f32 IR tensor plus pending per-channel steps (batch norm, scale, shift, clip, PReLU, max pool);
//   acc    the integer accumulator of a binary conv/dense plus pending steps — a Sign folds it into a threshold;
//   bin    a b1 IR tensor.
// Pending steps are only turned into IR layers ("materialised") when a consumer needs real values, or when
// several nodes read the value (residual connections), so that they share one copy.
import { BnnError } from '../errors.ts';
import { INPUT_TENSOR, type BConv2dLayer, type BDenseLayer, type Conv2dLayer, type DenseLayer, type InputSpec, type Layer, type Shape } from '../model/ir.ts';
import { binaryWeights, packKernels3x3 } from './binary.ts';
import { batchNormStep, foldThreshold, monotone, type Step } from './chain.ts';
import { canFold, Folder } from './fold.ts';
import { denseOf, maxPoolOf, type PoolStep, reshapeTarget, signTail, splitPool, thresholdAfterPool, windowOf, windowShape } from './patterns.ts';
import { attrFloat, attrInt, attrInts, DT, nodeError, type OnnxGraph, type OnnxNode } from './proto.ts';
import { type Const, numel, perChannel } from './tensor.ts';

export interface LowerOptions {
  /** τ for every binary 3x3 conv (codebook of at most 2^τ kernels); default: the smallest τ that fits each layer. */
  bits?: number;
  /** For a float model input: the float value of one raw byte step (1 = the input holds bytes 0..255). */
  inputScale?: number;
}

interface Base {
  shape: Shape; // current IR shape [C, H, W]
  rank: 2 | 4; // ONNX rank: [1, C] or [1, C, H, W]
}
type InputValue = Base & { kind: 'input'; scale: Float64Array; bias: Float64Array; byteDiv: boolean; ops: string[] };
/**
 * `tensor` has shape `baseShape`; `shape` is after the pending steps (a pending pool changes it). `openBias`: the
 * conv/dense that made `tensor` has a zero bias and no other reader, so a first shift step can become its bias.
 */
type RealValue = Base & { kind: 'real'; tensor: string; baseShape: Shape; steps: Step[]; openBias?: Conv2dLayer | DenseLayer };
type AccValue = Base & { kind: 'acc'; tensor: string; baseShape: Shape; steps: Step[]; layer: BConv2dLayer | BDenseLayer; K: number };
type BinValue = Base & { kind: 'bin'; tensor: string };
type Value = InputValue | RealValue | AccValue | BinValue;

/** A layer without its wiring (name, inputs, output), distributed over the Layer union. */
type Body<L> = L extends Layer ? Omit<L, 'name' | 'inputs' | 'output'> : never;

const FLT_MAX = 3.4028234663852886e38;

/** An unfused affine step that only adds (Add / Sub of a per-channel constant). */
function isShift(s: Step | undefined): s is Extract<Step, { kind: 'affine' }> {
  return s?.kind === 'affine' && !s.fused && s.mul.every((m) => m === 1);
}

function isZeros(a: Float32Array): boolean {
  return a.every((v) => v === 0);
}

function isOnes(a: Float32Array): boolean {
  return a.every((v) => v === 1);
}

function f32s(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}

export interface Lowered {
  input: InputSpec;
  layers: Layer[];
  output: string;
  report: string[];
  /** ONNX value name -> IR tensor holding exactly that value (binary activations, materialised real ones). */
  tensors: Map<string, string>;
}

export class Lowerer {
  private readonly layers: Layer[] = [];
  private readonly values = new Map<string, Value>();
  private readonly names = new Set<string>([INPUT_TENSOR]);
  private readonly folder: Folder;
  private readonly consumed = new Set<string>(); // IR tensors some layer reads
  private readonly readers = new Map<string, number>(); // ONNX value -> number of lowered nodes reading it
  readonly report: string[] = [];
  private readonly notes = new Set<string>();
  readonly tensors = new Map<string, string>();
  private input: InputSpec | undefined;
  private node!: OnnxNode; // the node being lowered, for messages

  constructor(
    private readonly g: OnnxGraph,
    private readonly opts: LowerOptions,
  ) {
    this.folder = new Folder(g, (name) => {
      const v = this.values.get(name);
      if (!v) return undefined;
      return v.rank === 4 ? [1, ...v.shape] : [1, v.shape[0]];
    });
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private fail(why: string, n: OnnxNode = this.node): never {
    throw nodeError(n, why);
  }

  private constant(name: string, what: string): Const {
    const c = this.folder.get(name);
    if (c) return c;
    if (!this.exists(name)) this.fail(`${what} '${name}' is not an initializer, a graph input or a node output (missing initializer?)`);
    this.fail(`${what} '${name}' must be a constant (an initializer or computed from initializers only)`);
  }

  private produced: Set<string> | undefined;

  private exists(name: string): boolean {
    this.produced ??= new Set(this.g.nodes.flatMap((n) => n.outputs));
    return this.g.initializers.has(name) || this.produced.has(name) || this.g.inputs.some((i) => i.name === name);
  }

  private optionalConstant(name: string | undefined, what: string): Const | undefined {
    return name ? this.constant(name, what) : undefined;
  }

  /** The lowered value of an activation. One read by several nodes is materialised once, so they share its layers. */
  private value(name: string): Value {
    const v = this.values.get(name);
    if (!v) {
      this.fail(this.exists(name) ? `input '${name}' is not available` : `input '${name}' is not an initializer, a graph input or a node output (missing initializer?)`);
    }
    if ((v.kind === 'real' || v.kind === 'acc') && v.steps.length > 0 && (this.readers.get(name) ?? 0) > 1) return this.materialise(v, v.steps, name);
    return v;
  }

  private layerName(base: string): string {
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
  private emit<L extends Layer = Layer>(layer: Body<L>, from: string | string[], base: string): L {
    const name = this.layerName(base);
    const inputs = typeof from === 'string' ? [from] : from;
    const l = { name, inputs, output: name, ...layer } as unknown as L;
    for (const t of inputs) this.consumed.add(t);
    this.layers.push(l);
    return l;
  }

  private set(name: string, v: Value): void {
    this.values.set(name, v);
    if (v.kind === 'bin' || (v.kind === 'real' && v.steps.length === 0)) this.tensors.set(name, v.tensor);
  }

  private channelVector(c: Const, v: Value, what: string): Float64Array {
    const r = perChannel(c, v.rank, v.shape[0]);
    if (typeof r === 'string') this.fail(`${what}: ${r}`);
    return r;
  }

  // ---- model input ---------------------------------------------------------------------------------------

  private startInput(): void {
    const ins = this.g.inputs;
    if (ins.length !== 1) throw new BnnError(`the model must have exactly one input, it has ${ins.length}${ins.length ? ` (${ins.map((i) => i.name).join(', ')})` : ''}`);
    const [x] = ins;
    const d = x.dims;
    const dimsOk = d.length === 4 && (d[0] === 1 || typeof d[0] === 'string') && d.slice(1).every((v) => typeof v === 'number' && v >= 1);
    if (!dimsOk) throw new BnnError(`model input '${x.name}': shape [${d}] is not [1 (or batch), C, H, W] with fixed C, H, W`);
    if (![DT.UINT8, DT.INT8, DT.FLOAT].includes(x.elemType as 1 | 2 | 3)) {
      throw new BnnError(`model input '${x.name}': element type ${x.elemType} is not supported (uint8, int8 or float)`);
    }
    const C = d[1] as number;
    const shape: Shape = [C, d[2] as number, d[3] as number];
    this.set(x.name, { kind: 'input', shape, rank: 4, scale: new Float64Array(C).fill(1), bias: new Float64Array(C), byteDiv: false, ops: [] });
  }

  /** Fix input.scale/bias the first time a layer reads the normalised input. */
  private finishInput(v: InputValue): void {
    const x = this.g.inputs[0];
    const dtype = x.elemType === DT.INT8 ? 'i8' : 'u8';
    let perByte = 1;
    let note = '';
    if (x.elemType === DT.FLOAT) {
      // A float input is read as bytes: raw 0..255 when the model divides by 255 itself, else ToTensor's byte/255.
      perByte = this.opts.inputScale ?? (v.byteDiv ? 1 : 1 / 255);
      note = this.opts.inputScale !== undefined
        ? `float input taken as ${perByte} per byte step (--input-scale)`
        : v.byteDiv
          ? 'float input holds raw bytes 0..255 (the model divides by 255)'
          : 'float input assumed to be byte/255 (ToTensor convention; give --input-scale otherwise)';
    }
    const spec: InputSpec = {
      shape: v.shape,
      dtype,
      zeroPoint: 0,
      scale: f32s(Array.from(v.scale, (s) => s * perByte)),
      bias: f32s(v.bias),
    };
    if (this.input) {
      const same = this.input.scale.every((s, i) => s === spec.scale[i]) && this.input.bias.every((b, i) => b === spec.bias[i]);
      if (!same) this.fail('the model input is read with two different normalisations');
      return;
    }
    this.input = spec;
    const folded = v.ops.length ? ` (${v.ops.join(', ')} folded)` : '';
    this.report.push(`input '${x.name}': ${dtype === 'u8' ? 'uint8' : 'int8'} [${v.shape}]; real layers see q·scale + bias, scale [${Array.from(spec.scale, (s) => s.toPrecision(6))}], bias [${Array.from(spec.bias, (s) => s.toPrecision(6))}]${folded}${note ? '; ' + note : ''}`);
  }

  // ---- materialising pending steps ---------------------------------------------------------------------------

  /** Emit IR layers for `steps` on `v`'s tensor; returns the f32 result. `onnxName` memoises the result. */
  private materialise(v: RealValue | AccValue, steps: Step[] = v.steps, onnxName?: string): RealValue {
    if (steps.length === 0 && v.kind === 'real') return v;
    if (v.kind === 'acc' && v.layer.threshold) this.fail(`the accumulator of '${v.layer.name}' is needed both thresholded (by a Sign) and as real values`);
    let tensor = v.tensor;
    let shape = v.baseShape;
    steps = [...steps];
    // A shift right after a conv/dense with zero bias is that layer's bias: fl(acc + b) either way.
    if (v.kind === 'real' && v.openBias && isShift(steps[0])) {
      v.openBias.bias = steps[0].add;
      steps.shift();
      for (const [k, t] of this.tensors) if (t === tensor) this.tensors.delete(k); // no longer the bias-free value
    }
    let shiftIn: Float32Array | null = null; // RPReLU: shift, PReLU, shift is one IR prelu (same roundings, same order)
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      switch (s.kind) {
        case 'affine': {
          if (isShift(s) && steps[i + 1]?.kind === 'prelu' && !(v.kind === 'acc' && i === 0)) {
            shiftIn = s.add;
            break;
          }
          let { mul, add } = s;
          const next = steps[i + 1];
          // scale then shift (e.g. Mul then Add) is one affine, exactly: fl(fl(x*m) + a).
          if (isZeros(add) && !s.fused && next?.kind === 'affine' && !next.fused && isOnes(next.mul)) {
            add = next.add;
            i++;
          }
          if (s.fused) this.note(`${s.node}: batch norm as an affine layer rounds twice where PyTorch's fused kernel rounds once (≤ 1 ulp)`);
          tensor = this.emit({ op: 'affine', scale: mul, bias: add }, tensor, s.node).output;
          break;
        }
        case 'div':
          this.note(`${s.node}: division by a constant becomes a multiplication by its float32 reciprocal (≤ 1 ulp)`);
          tensor = this.emit({ op: 'affine', scale: s.by.map((b) => 1 / b), bias: new Float32Array(s.by.length) }, tensor, s.node).output;
          break;
        case 'pool': {
          tensor = this.emit({ op: 'maxpool', kernel: s.kernel, stride: s.stride, pad: s.pad }, tensor, s.node).output;
          shape = windowShape(shape, shape[0], s.kernel, s.stride, s.pad);
          break;
        }
        case 'clip': // IR clip bounds are finite: ±FLT_MAX clamps every finite value the same as ±Inf
          tensor = this.emit({ op: 'clip', min: Math.max(s.lo, -FLT_MAX), max: Math.min(s.hi, FLT_MAX) }, tensor, s.node).output;
          break;
        case 'prelu': {
          const next = steps[i + 1];
          const shiftOut = isShift(next) ? next.add : null;
          if (shiftOut) i++;
          tensor = this.emit({ op: 'prelu', slope: s.slope, shiftIn, shiftOut }, tensor, s.node).output;
          shiftIn = null;
          break;
        }
      }
    }
    if (v.kind === 'acc' && tensor === v.tensor) {
      // An accumulator with no steps left stays i32; give it an exact f32 view.
      tensor = this.emit({ op: 'affine', scale: new Float32Array(shape[0]).fill(1), bias: new Float32Array(shape[0]) }, tensor, `${v.tensor}:f32`).output;
    }
    const out: RealValue = { kind: 'real', tensor, shape, baseShape: shape, rank: v.rank, steps: [] };
    if (onnxName) this.set(onnxName, out);
    return out;
  }

  /** Report a caveat once, however many layers it applies to. */
  private note(s: string): void {
    if (!this.notes.has(s)) this.report.push(s);
    this.notes.add(s);
  }

  /** The value as something a real-valued layer can read: an f32 tensor, or the model input. */
  private realInput(name: string): { tensor: string; shape: Shape; rank: 2 | 4 } {
    const v = this.value(name);
    if (v.kind === 'input') {
      this.finishInput(v);
      return { tensor: INPUT_TENSOR, shape: v.shape, rank: 4 };
    }
    if (v.kind === 'bin') return v;
    return this.materialise(v, v.steps, name);
  }

  // ---- node handlers -------------------------------------------------------------------------------------

  lower(): Lowered {
    this.startInput();
    if (this.g.outputs.length !== 1) throw new BnnError(`the model must have exactly one output, it has ${this.g.outputs.length}`);
    const needed = this.neededNodes();
    for (const n of needed) for (const i of new Set(n.inputs)) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
    for (const n of this.g.nodes) {
      if (!needed.has(n)) continue;
      this.node = n;
      // Handlers name the role of a missing input (weights, bias...); for the rest (e.g. Abs / Sign of latent
      // weights whose initializer is gone) say so before "not supported" misleads.
      const missing = this.handlers[n.op] ? undefined : n.inputs.find((i) => i && !this.exists(i));
      if (missing !== undefined) this.fail(`input '${missing}' is not an initializer, a graph input or a node output (missing initializer?)`);
      if (n.outputs.every((o) => !o || this.folder.get(o))) continue; // part of a constant (weight) subgraph
      const live = n.inputs.filter((i) => i && !this.folder.get(i));
      if (live.length === 0) this.fail(canFold(n.op) ? 'cannot evaluate this node on its constant inputs' : `an op on constants that the importer cannot evaluate`);
      if (n.domain !== '' && n.domain !== 'ai.onnx') this.fail(`custom op domain '${n.domain}' is not supported`);
      const handler = this.handlers[n.op];
      if (!handler) this.fail(`op ${n.op} is not supported by the ONNX importer`);
      handler.call(this, n);
    }
    return this.finish();
  }

  /** Nodes the graph output depends on (others — training outputs, dead branches — are ignored). */
  private neededNodes(): Set<OnnxNode> {
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

  private finish(): Lowered {
    const outName = this.g.outputs[0];
    const v = this.values.get(outName);
    if (!v) throw new BnnError(`the model output '${outName}' is a constant or is not produced by any node`);
    if (v.kind === 'input') throw new BnnError(`the model output '${outName}' is the (normalised) input`);
    if (v.kind === 'bin') throw new BnnError(`the model output '${outName}' is binary (a Sign); the scores must be real-valued`);
    const real = this.materialise(v, v.steps, outName);
    if (real.shape[1] !== 1 || real.shape[2] !== 1) throw new BnnError(`the model output '${outName}' is a [${real.shape}] map; the scores must be a vector`);
    const last = this.layers[this.layers.length - 1];
    if (!last || last.output !== real.tensor) throw new BnnError(`the model output '${outName}' is not computed by the last layer`);
    if (!this.input) throw new BnnError('no layer reads the model input');
    return { input: this.input, layers: this.layers, output: real.tensor, report: this.report, tensors: this.tensors };
  }

  private readonly handlers: Record<string, (n: OnnxNode) => void> = {
    Identity: this.alias,
    Dropout: this.alias,
    Pad: this.pad,
    Cast: this.cast,
    Add: this.arith,
    Sub: this.arith,
    Mul: this.arith,
    Div: this.arith,
    BatchNormalization: this.batchNorm,
    Clip: this.clip,
    PRelu: this.prelu,
    LeakyRelu: this.prelu,
    Relu: this.prelu,
    Sign: this.sign,
    Conv: this.conv,
    MaxPool: this.maxPool,
    GlobalAveragePool: this.globalAvgPool,
    AveragePool: this.avgPool,
    ReduceMean: this.globalAvgPool,
    Flatten: this.flatten,
    Reshape: this.flatten,
    Squeeze: this.flatten,
    Gemm: this.gemm,
    MatMul: this.gemm,
  };

  private alias(n: OnnxNode): void {
    if (n.op === 'Dropout' && n.outputs[1] && this.g.nodes.some((m) => m.inputs.includes(n.outputs[1]))) this.fail('the dropout mask output is used');
    this.set(n.outputs[0], this.value(n.inputs[0]));
  }

  /** torch exports F.avg_pool2d with a Pad of zeros in front; only such no-op pads are supported. */
  private pad(n: OnnxNode): void {
    const pads = n.inputs[1] ? Array.from(this.constant(n.inputs[1], 'pads').data) : attrInts(n, 'pads') ?? [];
    if (pads.some((p) => p !== 0)) this.fail(`explicit padding [${pads}] is not supported (pad inside the Conv or pool instead)`);
    this.set(n.outputs[0], this.value(n.inputs[0]));
  }

  private cast(n: OnnxNode): void {
    const v = this.value(n.inputs[0]);
    const to = attrInt(n, 'to', 0);
    if (to !== DT.FLOAT) this.fail(`cast of an activation to element type ${to}: only casts to float are supported`);
    this.set(n.outputs[0], v.kind === 'input' ? { ...v, ops: [...v.ops, n.op] } : v);
  }

  private arith(n: OnnxNode): void {
    const [a, b] = n.inputs;
    const ca = this.folder.get(a);
    const cb = this.folder.get(b);
    if (!ca && !cb) return this.addActivations(n);
    const constFirst = !!ca;
    const xName = constFirst ? b : a;
    const v = this.value(xName);
    const c = this.channelVector((ca ?? cb)!, v, `constant operand '${constFirst ? a : b}'`);
    if (constFirst && n.op === 'Div') this.fail('dividing a constant by an activation is not supported');
    if (v.kind === 'bin') this.fail(`arithmetic on a binary (Sign) activation has no IR counterpart`);
    // y = m*x + k in float64 for the input normalisation; as float32 steps elsewhere.
    const C = v.shape[0];
    const ones = new Float64Array(C).fill(1);
    let m: Float64Array = ones;
    let k: Float64Array = new Float64Array(C);
    switch (n.op) {
      case 'Add':
        k = c;
        break;
      case 'Sub':
        if (constFirst) [m, k] = [ones.map(() => -1), c];
        else k = c.map((x) => -x);
        break;
      case 'Mul':
        m = c;
        break;
    }
    if (v.kind === 'input') {
      const scale = v.scale.slice();
      const bias = v.bias.slice();
      for (let i = 0; i < C; i++) {
        if (n.op === 'Div') [scale[i], bias[i]] = [scale[i] / c[i], bias[i] / c[i]];
        else [scale[i], bias[i]] = [scale[i] * m[i], bias[i] * m[i] + k[i]];
      }
      const byteDiv = v.byteDiv || (n.op === 'Div' && c.every((x) => x === 255)) || (n.op === 'Mul' && c.every((x) => Math.abs(x * 255 - 1) < 1e-6));
      this.set(n.outputs[0], { ...v, scale, bias, byteDiv, ops: [...v.ops, n.op] });
      return;
    }
    const step: Step = n.op === 'Div' ? { kind: 'div', by: f32s(c), node: n.name } : { kind: 'affine', mul: f32s(m), add: f32s(k), fused: false, node: n.name };
    this.set(n.outputs[0], { ...v, steps: [...v.steps, step] });
  }

  /** A residual connection: the IR add of two f32 tensors of one shape. */
  private addActivations(n: OnnxNode): void {
    if (n.op !== 'Add') this.fail(`${n.op} of two activations is not supported (only Add, a residual connection)`);
    for (const name of n.inputs) {
      const k = this.value(name).kind;
      if (k === 'input' || k === 'bin') this.fail(`adding ${k === 'input' ? 'the model input' : 'a binary (Sign) activation'} is not supported`);
    }
    const [x, y] = n.inputs.map((name) => this.realInput(name));
    if (x.shape.join() !== y.shape.join()) this.fail(`shapes differ: [${x.shape}] and [${y.shape}] (broadcasting adds are not supported)`);
    const l = this.emit({ op: 'add' }, [x.tensor, y.tensor], n.name);
    this.set(n.outputs[0], { kind: 'real', tensor: l.output, shape: x.shape, baseShape: x.shape, rank: x.rank, steps: [] });
  }

  /** Values that take pending steps: real or integer chains. */
  private chain(name: string, what: string): RealValue | AccValue {
    const v = this.value(name);
    if (v.kind === 'input') this.fail(`${what} on the model input is not supported (fold it into the input normalisation by hand)`);
    if (v.kind === 'bin') this.fail(`${what} on a binary (Sign) activation has no IR counterpart`);
    return v;
  }

  private batchNorm(n: OnnxNode): void {
    const v = this.chain(n.inputs[0], 'batch normalization');
    if (attrInt(n, 'training_mode', 0)) this.fail('training_mode=1: export the model in eval mode');
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => this.constant(n.inputs[i], ['', 'scale', 'bias', 'mean', 'var'][i]).data);
    const C = v.shape[0];
    if ([gamma, beta, mean, variance].some((p) => p.length !== C)) this.fail(`parameters must have ${C} values`);
    if (variance.some((x) => !(x >= 0))) this.fail('negative or non-finite running variance');
    const eps = attrFloat(n, 'epsilon') ?? 1e-5;
    this.set(n.outputs[0], { ...v, steps: [...v.steps, batchNormStep(gamma, beta, mean, variance, eps, n.name)] });
  }

  private clip(n: OnnxNode): void {
    const v = this.value(n.inputs[0]);
    const lo = this.optionalConstant(n.inputs[1], 'min')?.data[0] ?? attrFloat(n, 'min') ?? -Infinity;
    const hi = this.optionalConstant(n.inputs[2], 'max')?.data[0] ?? attrFloat(n, 'max') ?? Infinity;
    if (v.kind === 'bin') {
      if (lo <= -1 && hi >= 1) return this.set(n.outputs[0], v); // ±1 stays ±1
      this.fail(`Clip to [${lo}, ${hi}] of a binary activation changes its values`);
    }
    const c = this.chain(n.inputs[0], 'Clip');
    this.set(n.outputs[0], { ...c, steps: [...c.steps, { kind: 'clip', lo, hi, node: n.name, op: n.op }] });
  }

  /** PRelu, LeakyRelu and Relu (slope 0) are all a per-channel prelu step. */
  private prelu(n: OnnxNode): void {
    const v = this.chain(n.inputs[0], n.op);
    const C = v.shape[0];
    let slope: Float64Array;
    if (n.op === 'Relu') slope = new Float64Array(C);
    else if (n.op === 'LeakyRelu') slope = new Float64Array(C).fill(attrFloat(n, 'alpha') ?? 0.01);
    else slope = this.channelVector(this.constant(n.inputs[1], 'slope'), v, 'slope');
    this.set(n.outputs[0], { ...v, steps: [...v.steps, { kind: 'prelu', slope: f32s(slope), node: n.name, op: n.op }] });
  }

  private sign(n: OnnxNode): void {
    const v = this.value(n.inputs[0]);
    if (v.kind === 'bin') return this.set(n.outputs[0], v);
    if (v.kind === 'input') this.fail('Sign of the model input is not supported (the first layer must be a real conv)');
    const thresholdable = v.kind === 'acc' && !this.consumed.has(v.tensor) && !v.layer.threshold && monotone(v.steps, v.shape[0]);
    if (thresholdable) this.set(n.outputs[0], this.signOfAcc(v, n));
    else this.set(n.outputs[0], this.signOfReal(v, n));
  }

  private poolAfter(tensor: string, pool: PoolStep, shape: Shape): BinValue {
    const out = this.emit({ op: 'maxpool', kernel: pool.kernel, stride: pool.stride, pad: pool.pad }, tensor, pool.node).output;
    this.report.push(`${this.node.name}: ${pool.node} moved after the sign (max pool on binary maps is an OR)`);
    return { kind: 'bin', tensor: out, rank: 4, shape };
  }

  private signOfReal(v: RealValue | AccValue, n: OnnxNode): BinValue {
    const moved = splitPool(v.steps, v.shape[0]);
    const { steps, shift } = signTail(moved.steps);
    const real = this.materialise(v, steps);
    const b = this.emit({ op: 'binarize', shift }, real.tensor, n.name);
    if (moved.pool) return this.poolAfter(b.output, moved.pool, v.shape);
    return { kind: 'bin', tensor: b.output, rank: v.rank, shape: real.shape };
  }

  /** Sign of an integer chain: an integer threshold on the accumulator (semantics §7), exact at ties. */
  private signOfAcc(v: AccValue, n: OnnxNode): BinValue {
    const C = v.shape[0];
    const layer = v.layer;
    const moved = splitPool(v.steps, C);
    const fold = foldThreshold(v.steps.filter((s) => s.kind !== 'pool'), C, v.K);
    const detail = `${C} channels: ${fold.flipped} flipped (γα < 0), ${fold.constant} constant, ${fold.movedByRounding} moved by float32 rounding vs the float64 formula`;
    if (!moved.stuck) {
      layer.threshold = fold.threshold;
      const through = [...new Set(v.steps.slice(1).map((s) => s.node)), n.name];
      this.report.push(`${layer.name}: threshold from ${through.join(' → ')} (${detail})`);
      if (moved.pool) return this.poolAfter(layer.output, moved.pool, v.shape);
      return { kind: 'bin', tensor: layer.output, rank: v.rank, shape: v.baseShape };
    }
    // The pool comes before a decreasing map on some channel (a min pool for those): no OR on bits. Pool in f32
    // on integer values instead, exactly.
    const at = v.steps.findIndex((s) => s.kind === 'pool');
    const pool = v.steps[at] as PoolStep;
    const { sigma, scale, bias } = thresholdAfterPool(v.steps.slice(0, at), fold.threshold);
    const a = this.emit({ op: 'affine', scale: sigma, bias: new Float32Array(C) }, layer.output, `${layer.name}:signed`);
    const p = this.emit({ op: 'maxpool', kernel: pool.kernel, stride: pool.stride, pad: pool.pad }, a.output, pool.node);
    const z = this.emit({ op: 'affine', scale, bias }, p.output, `${n.name}:threshold`);
    const b = this.emit({ op: 'binarize', shift: null }, z.output, n.name);
    this.report.push(`${layer.name}: ${pool.node} comes before a decreasing batch norm on some channels, so the threshold (${detail}) is applied after the pool in f32 (integer-valued, exact)`);
    return { kind: 'bin', tensor: b.output, rank: 4, shape: v.shape };
  }

  private conv(n: OnnxNode): void {
    const w = this.constant(n.inputs[1], 'weights');
    const bias = this.optionalConstant(n.inputs[2], 'bias');
    if (w.dims.length !== 4) this.fail(`only 2-D convolutions are supported (weights of shape [${w.dims}])`);
    if (attrInt(n, 'group', 1) !== 1) this.fail(`grouped/depthwise convolution (group=${attrInt(n, 'group', 1)}) is not supported`);
    const [O, Cw, kh, kw] = w.dims;
    const x = this.value(n.inputs[0]);
    if (x.shape[0] !== Cw) this.fail(`weights expect ${Cw} input channels, the input has ${x.shape[0]}`);
    const kernel: [number, number] = [kh, kw];
    const { stride, pad } = windowOf(n, x.shape, kernel);
    const shape = windowShape(x.shape, O, kernel, stride, pad);
    if (shape[1] < 1 || shape[2] < 1) this.fail('the window does not fit the input');
    const biasData = bias ? f32s(bias.data) : new Float32Array(O);

    if (x.kind === 'bin') {
      const bw = binaryWeights(w.data, O);
      if (typeof bw === 'string') this.fail(`a Conv on a binary (Sign) activation must have binary weights: ${bw}`);
      let weights: BConv2dLayer['weights'] = { kind: 'dense', bits: bw.bits };
      let how = `plain 1-bit ${kh}x${kw}`;
      let alpha = bw.alpha;
      if (kh === 3 && kw === 3) {
        const packed = packKernels3x3(bw.bits, this.opts.bits, O);
        if (typeof packed === 'string') this.fail(`${packed}${this.opts.bits !== undefined ? ` (--bits ${this.opts.bits}); import with a larger --bits (or none), then choose ${2 ** this.opts.bits} codewords with: bnn-gen compact MODEL.json --bits ${this.opts.bits}` : ''}`);
        weights = packed.weights;
        how = packed.weights.kind === 'codebook' ? `codebook τ=${packed.weights.bits} (${packed.distinct} distinct kernels)` : `plain 1-bit 3x3 (${packed.distinct} distinct kernels: a codebook saves nothing)`;
        if (packed.negated.length) {
          // -α·(-k) = α·k exactly (float32 negation is exact), so the channel keeps its values.
          alpha = alpha.slice();
          for (const o of packed.negated) alpha[o] = -alpha[o];
          how += `; ${packed.negated.length} output channels stored negated (α < 0) to share codewords, as after folding a batch norm with γ < 0`;
        }
      }
      const layer = this.emit<BConv2dLayer>({ op: 'bconv2d', outChannels: O, kernel, stride, pad, padValue: 0, weights }, x.tensor, n.name);
      const dev = bw.deviation > 0 ? `; |w| = α up to relative ${bw.deviation.toExponential(1)}` : '';
      this.report.push(`${layer.name}: bconv2d ${Cw}→${O} ${kh}x${kw}, ${how}${dev}`);
      const first: Step = { kind: 'affine', mul: alpha, add: biasData, fused: false, node: `${n.name}:alpha` };
      this.set(n.outputs[0], { kind: 'acc', tensor: layer.output, shape, baseShape: shape, rank: 4, steps: [first], layer, K: Cw * kh * kw });
      return;
    }
    const src = this.realInput(n.inputs[0]);
    const layer = this.emit<Conv2dLayer>({ op: 'conv2d', outChannels: O, kernel, stride, pad, weights: f32s(w.data), bias: biasData }, src.tensor, n.name);
    this.report.push(`${layer.name}: conv2d ${Cw}→${O} ${kh}x${kw} (real-valued)`);
    const openBias = !bias && this.readers.get(n.outputs[0]) === 1 ? layer : undefined;
    this.set(n.outputs[0], { kind: 'real', tensor: layer.output, shape, baseShape: shape, rank: 4, steps: [], openBias });
  }

  private maxPool(n: OnnxNode): void {
    const x = this.value(n.inputs[0]);
    if (n.outputs[1] && this.g.nodes.some((m) => m.inputs.includes(n.outputs[1]))) this.fail('the indices output is used');
    if (x.kind === 'input') this.fail('max pooling of the model input is not supported');
    const { step, shape } = maxPoolOf(n, x.shape);
    const { kernel, stride, pad } = step;
    if (x.kind === 'bin') {
      const l = this.emit({ op: 'maxpool', kernel, stride, pad }, x.tensor, n.name);
      return this.set(n.outputs[0], { kind: 'bin', tensor: l.output, rank: 4, shape });
    }
    // A second pool in one chain: materialise the first part, then pool pending on the result.
    const base = x.steps.some((s) => s.kind === 'pool') ? this.materialise(x) : x;
    this.set(n.outputs[0], { ...base, shape, steps: [...base.steps, step] });
  }

  private globalAvgPool(n: OnnxNode): void {
    const x = this.value(n.inputs[0]);
    let keep = true;
    if (n.op === 'ReduceMean') {
      const raw = n.inputs[1] ? Array.from(this.constant(n.inputs[1], 'axes').data) : attrInts(n, 'axes') ?? [];
      const axes = raw.map((a) => (a < 0 ? a + x.rank : a)).sort();
      if (x.rank !== 4 || axes.join() !== '2,3') this.fail(`ReduceMean over axes [${raw}]: only the spatial mean (axes 2, 3) is supported`);
      keep = attrInt(n, 'keepdims', 1) === 1;
    }
    if (x.kind === 'input') this.fail('pooling the model input is not supported');
    const src = x.kind === 'bin' ? x : this.realInput(n.inputs[0]);
    const l = this.emit({ op: 'globalavgpool' }, src.tensor, n.name);
    const shape: Shape = [x.shape[0], 1, 1];
    this.set(n.outputs[0], { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: keep ? 4 : 2, steps: [] });
  }

  /** AveragePool on real values (Bi-Real/ReActNet shortcuts); one over the whole map is a global average pool. */
  private avgPool(n: OnnxNode): void {
    const x = this.value(n.inputs[0]);
    const k = attrInts(n, 'kernel_shape') ?? [];
    if (k.length !== 2) this.fail(`kernel_shape [${k}]: only 2-D pooling is supported`);
    const kernel: [number, number] = [k[0], k[1]];
    const { stride, pad } = windowOf(n, x.shape, kernel);
    const global = kernel[0] === x.shape[1] && kernel[1] === x.shape[2] && pad.top + pad.left + pad.bottom + pad.right === 0;
    if (global) return this.globalAvgPool(n);
    if (attrInt(n, 'ceil_mode', 0)) this.fail('ceil_mode=1 is not supported');
    if (x.kind === 'input' || x.kind === 'bin') this.fail(`average pooling of ${x.kind === 'bin' ? 'a binary (Sign) activation' : 'the model input'} is not supported`);
    const src = this.realInput(n.inputs[0]);
    const l = this.emit({ op: 'avgpool', kernel, stride, pad, countIncludePad: attrInt(n, 'count_include_pad', 0) === 1 }, src.tensor, n.name);
    const shape = windowShape(x.shape, x.shape[0], kernel, stride, pad);
    this.set(n.outputs[0], { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 4, steps: [] });
  }

  /** Flatten, Reshape and Squeeze to [1, C·H·W] (torch.flatten order) or no-op reshapes. */
  private flatten(n: OnnxNode): void {
    const x = this.value(n.inputs[0]);
    const onnxShape = x.rank === 4 ? [1, ...x.shape] : [1, x.shape[0]];
    const target = reshapeTarget(n, onnxShape, this.optionalConstant(n.inputs[1], n.op === 'Reshape' ? 'shape' : 'axes'));
    const total = numel(x.shape);
    const same = target.join() === onnxShape.join();
    const flat = target.length === 2 && target[0] === 1 && target[1] === total;
    if (!same && !flat) this.fail(`reshape of [${onnxShape}] to [${target}] is not supported (only flattening to [1, ${total}])`);
    if (same || x.rank === 2) return this.set(n.outputs[0], x);
    if (x.kind === 'input') this.fail('flattening the model input is not supported');
    const shape: Shape = [total, 1, 1];
    if (x.shape[1] === 1 && x.shape[2] === 1) return this.set(n.outputs[0], { ...x, rank: 2 }); // [C,1,1] is already a vector
    const src = x.kind === 'bin' ? x : this.realInput(n.inputs[0]);
    const l = this.emit({ op: 'flatten' }, src.tensor, n.name);
    this.set(n.outputs[0], x.kind === 'bin' ? { kind: 'bin', tensor: l.output, shape, rank: 2 } : { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 2, steps: [] });
  }

  private gemm(n: OnnxNode): void {
    const x = this.value(n.inputs[0]);
    if (x.rank !== 2) this.fail(`the input must be a [1, K] vector (flatten it first), got rank ${x.rank}`);
    const K = x.shape[0];
    const c = n.op === 'Gemm' ? this.optionalConstant(n.inputs[2], 'bias') : undefined;
    const { N, weights, bias } = denseOf(n, K, this.constant(n.inputs[1], 'weights'), c);
    const shape: Shape = [N, 1, 1];
    if (x.kind === 'bin') {
      const bw = binaryWeights(weights, N);
      if (typeof bw !== 'string') {
        const layer = this.emit<BDenseLayer>({ op: 'bdense', outFeatures: N, bits: bw.bits }, x.tensor, n.name);
        this.report.push(`${layer.name}: bdense ${K}→${N} (binary weights ±α)`);
        const first: Step = { kind: 'affine', mul: bw.alpha, add: bias, fused: false, node: n.name };
        return this.set(n.outputs[0], { kind: 'acc', tensor: layer.output, shape, baseShape: shape, rank: 2, steps: [first], layer, K });
      }
    }
    const src = x.kind === 'bin' ? x : this.realInput(n.inputs[0]);
    const layer = this.emit<DenseLayer>({ op: 'dense', outFeatures: N, weights, bias }, src.tensor, n.name);
    this.report.push(`${layer.name}: dense ${K}→${N} (real-valued${x.kind === 'bin' ? ', on binary inputs' : ''})`);
    const openBias = !c && this.readers.get(n.outputs[0]) === 1 ? layer : undefined;
    this.set(n.outputs[0], { kind: 'real', tensor: layer.output, shape, baseShape: shape, rank: 2, steps: [], openBias });
  }
}
