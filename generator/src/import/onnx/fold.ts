// Constant folding: a value is constant when it is an initializer or when every input of its producer is constant
// (Shape of an activation counts too: the importer knows every activation's static shape). This is how weight
// binarisation written in forward (sign(W) * mean|W|) becomes plain constant tensors.
import { attrInt as int, attrInts as ints, CONST_TYPE, nodeError, type AttrValue, type OnnxGraph, type OnnxNode } from './proto.ts';
import {
  broadcastDims,
  broadcastIndex,
  type Const,
  type ConstType,
  makeConst,
  mapConst,
  numel,
  rowMajorStrides,
} from './tensor.ts';

type Eval = (n: OnnxNode, x: (Const | undefined)[]) => Const[];

function fail(n: OnnxNode, why: string): never {
  throw nodeError(n, why);
}

function req(n: OnnxNode, x: (Const | undefined)[], i: number): Const {
  const c = x[i];
  if (!c) fail(n, `input ${i} is missing`);
  return c;
}

/** Axes from the input (newer opsets) or the attribute (older ones), normalised to 0..rank-1. */
function axesOf(n: OnnxNode, x: (Const | undefined)[], inputIndex: number, rank: number): number[] | undefined {
  const raw = x[inputIndex] ? Array.from(x[inputIndex]!.data) : ints(n, 'axes');
  return raw?.map((a) => (a < 0 ? a + rank : a));
}

function unary(f: (v: number) => number, exact = false): Eval {
  return (n, x) => {
    return [mapConst(req(n, x, 0), f, exact)];
  };
}

function binary(f: (a: number, b: number) => number): Eval {
  return (n, x) => {
    let acc = req(n, x, 0);
    for (let k = 1; k < n.inputs.length; k++) {
      const b = req(n, x, k);
      const dims = broadcastDims(acc.dims, b.dims);
      if (!dims) fail(n, `shapes [${acc.dims}] and [${b.dims}] do not broadcast`);
      const size = numel(dims);
      const out = new Float64Array(size);
      const A = acc.data;
      const B = b.data;
      // Fast paths for the shapes weight binarisation produces: equal shapes, and a scalar or per-row operand.
      const same = (d: number[]) => d.length === dims.length && d.every((v, i) => v === dims[i]);
      if (same(acc.dims) && same(b.dims)) for (let i = 0; i < size; i++) out[i] = f(A[i], B[i]);
      else if (same(acc.dims) && B.length === 1) for (let i = 0, v = B[0]; i < size; i++) out[i] = f(A[i], v);
      else if (same(acc.dims) && leading(b.dims, dims)) {
        const inner = size / B.length;
        for (let r = 0, i = 0; r < B.length; r++) for (let j = 0, v = B[r]; j < inner; j++, i++) out[i] = f(A[i], v);
      } else {
        const ia = same(acc.dims) ? undefined : broadcastIndex(acc.dims, dims);
        const ib = same(b.dims) ? undefined : broadcastIndex(b.dims, dims);
        for (let i = 0; i < size; i++) out[i] = f(A[ia ? ia[i] : i], B[ib ? ib[i] : i]);
      }
      acc = makeConst(acc.type, dims, out);
    }
    return [acc];
  };
}

/** Whether `d` broadcast to `dims` varies only along leading axes (e.g. [O,1,1,1] against [O,C,kh,kw]). */
function leading(d: number[], dims: number[]): boolean {
  const full = [...new Array<number>(dims.length - d.length).fill(1), ...d];
  let k = full.length;
  while (k > 0 && full[k - 1] === 1) k--;
  for (let i = 0; i < k; i++) if (full[i] !== dims[i]) return false;
  return true;
}

function reduce(init: number, step: (acc: number, v: number) => number, finish: (acc: number, count: number) => number): Eval {
  return (n, x) => {
    const a = req(n, x, 0);
    const rank = a.dims.length;
    // ReduceSum takes axes as an input from opset 13; the others from opset 18.
    const axes = axesOf(n, x, 1, rank) ?? (int(n, 'noop_with_empty_axes', 0) ? [] : a.dims.map((_, i) => i));
    const keep = int(n, 'keepdims', 1) === 1;
    const outFull = a.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const count = numel(a.dims) / numel(outFull);
    const acc = new Float64Array(numel(outFull)).fill(init);
    const idx = broadcastIndex(outFull, a.dims);
    for (let i = 0; i < a.data.length; i++) acc[idx[i]] = step(acc[idx[i]], a.data[i]);
    const dims = keep ? outFull : a.dims.filter((_, i) => !axes.includes(i));
    return [makeConst(a.type, dims, acc.map((v) => finish(v, count)))];
  };
}

function reshapeTo(a: Const, dims: number[]): Const {
  return { type: a.type, dims, data: a.data };
}


function attrConst(n: OnnxNode, v: AttrValue | undefined, type: ConstType): Const | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return makeConst(type, [], [v]);
  if (Array.isArray(v)) return makeConst(type, [v.length], v as number[]);
  if (typeof v === 'object') return v;
  fail(n, `unsupported constant attribute`);
}

const OPS: Record<string, Eval> = {
  Identity: (n, x) => [req(n, x, 0)],
  Dropout: (n, x) => [req(n, x, 0)], // inference: identity (the mask output is never constant-folded)
  Sign: unary(Math.sign, true),
  Abs: unary(Math.abs, true),
  Neg: unary((v) => -v, true),
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((v) => 1 / v),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => a / b),
  Pow: binary(Math.pow),
  Min: binary(Math.min),
  Max: binary(Math.max),
  Clip: (n, x) => {
    const a = req(n, x, 0);
    const lo = x[1]?.data[0] ?? (n.attrs.get('min') as number | undefined) ?? -Infinity;
    const hi = x[2]?.data[0] ?? (n.attrs.get('max') as number | undefined) ?? Infinity;
    return [makeConst(a.type, a.dims, a.data.map((v) => Math.min(Math.max(v, lo), hi)))];
  },
  Cast: (n, x) => {
    const a = req(n, x, 0);
    const type = CONST_TYPE[int(n, 'to', 0)];
    if (!type) fail(n, `cast to element type ${int(n, 'to', 0)} is not supported`);
    return [makeConst(type, a.dims, a.data)];
  },
  ReduceMean: reduce(0, (s, v) => s + v, (s, c) => s / c),
  ReduceSum: reduce(0, (s, v) => s + v, (s) => s),
  ReduceMax: reduce(-Infinity, Math.max, (s) => s),
  ReduceMin: reduce(Infinity, Math.min, (s) => s),
  Reshape: (n, x) => {
    const a = req(n, x, 0);
    const want = Array.from(req(n, x, 1).data);
    const dims = want.map((d, i) => (d === 0 && !int(n, 'allowzero', 0) ? a.dims[i] : d));
    const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const filled = dims.map((d) => (d === -1 ? numel(a.dims) / known : d));
    if (numel(filled) !== numel(a.dims) || filled.some((d) => !Number.isInteger(d))) fail(n, `cannot reshape [${a.dims}] to [${want}]`);
    return [reshapeTo(a, filled)];
  },
  Flatten: (n, x) => {
    const a = req(n, x, 0);
    let axis = int(n, 'axis', 1);
    if (axis < 0) axis += a.dims.length;
    return [reshapeTo(a, [numel(a.dims.slice(0, axis)), numel(a.dims.slice(axis))])];
  },
  Unsqueeze: (n, x) => {
    const a = req(n, x, 0);
    const rank = a.dims.length + (axesOf(n, x, 1, 0)?.length ?? 0);
    const axes = axesOf(n, x, 1, rank) ?? fail(n, 'no axes');
    const dims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : a.dims[k++]);
    return [reshapeTo(a, dims)];
  },
  Squeeze: (n, x) => {
    const a = req(n, x, 0);
    const axes = axesOf(n, x, 1, a.dims.length) ?? a.dims.flatMap((d, i) => (d === 1 ? [i] : []));
    return [reshapeTo(a, a.dims.filter((_, i) => !axes.includes(i)))];
  },
  Transpose: (n, x) => {
    const a = req(n, x, 0);
    const perm = ints(n, 'perm') ?? a.dims.map((_, i) => a.dims.length - 1 - i);
    const dims = perm.map((p) => a.dims[p]);
    const src = rowMajorStrides(a.dims);
    const os = rowMajorStrides(dims);
    const out = new Float64Array(a.data.length);
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (let k = 0; k < dims.length; k++) s += (Math.floor(i / os[k]) % dims[k]) * src[perm[k]];
      out[i] = a.data[s];
    }
    return [{ type: a.type, dims, data: out }];
  },
  Concat: (n, x) => {
    const parts = n.inputs.map((_, i) => req(n, x, i));
    const rank = parts[0].dims.length;
    let axis = int(n, 'axis', 0);
    if (axis < 0) axis += rank;
    const outer = numel(parts[0].dims.slice(0, axis));
    const dims = [...parts[0].dims];
    dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
    const out = new Float64Array(numel(dims));
    let at = 0;
    for (let o = 0; o < outer; o++) {
      for (const p of parts) {
        const inner = numel(p.dims.slice(axis));
        out.set(p.data.subarray(o * inner, (o + 1) * inner), at);
        at += inner;
      }
    }
    return [makeConst(parts[0].type, dims, out)];
  },
  Gather: (n, x) => {
    const a = req(n, x, 0);
    const ind = req(n, x, 1);
    let axis = int(n, 'axis', 0);
    if (axis < 0) axis += a.dims.length;
    const outer = numel(a.dims.slice(0, axis));
    const inner = numel(a.dims.slice(axis + 1));
    const out = new Float64Array(outer * ind.data.length * inner);
    let at = 0;
    for (let o = 0; o < outer; o++) {
      for (const raw of ind.data) {
        const j = raw < 0 ? raw + a.dims[axis] : raw;
        if (!(j >= 0 && j < a.dims[axis])) fail(n, `index ${raw} is out of range for axis ${axis} of size ${a.dims[axis]}`);
        out.set(a.data.subarray((o * a.dims[axis] + j) * inner, (o * a.dims[axis] + j + 1) * inner), at);
        at += inner;
      }
    }
    return [makeConst(a.type, [...a.dims.slice(0, axis), ...ind.dims, ...a.dims.slice(axis + 1)], out)];
  },
  Slice: (n, x) => {
    const a = req(n, x, 0);
    const rank = a.dims.length;
    const starts = x[1] ? Array.from(x[1].data) : ints(n, 'starts') ?? [];
    const ends = x[2] ? Array.from(x[2].data) : ints(n, 'ends') ?? [];
    const axes = axesOf(n, x, 3, rank) ?? starts.map((_, i) => i);
    const steps = x[4] ? Array.from(x[4].data) : starts.map(() => 1);
    // Per axis, the list of source indices kept.
    const keep = a.dims.map((d) => Array.from({ length: d }, (_, i) => i));
    axes.forEach((ax, k) => {
      const d = a.dims[ax];
      const st = steps[k];
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
      const s = st > 0 ? clamp(starts[k], 0, d) : clamp(starts[k], -1, d - 1);
      const e = st > 0 ? clamp(ends[k], 0, d) : clamp(ends[k], -1, d - 1);
      keep[ax] = [];
      for (let i = s; st > 0 ? i < e : i > e; i += st) keep[ax].push(i);
    });
    const dims = keep.map((k) => k.length);
    const src = rowMajorStrides(a.dims);
    const os = rowMajorStrides(dims);
    const out = new Float64Array(numel(dims));
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += keep[k][Math.floor(i / os[k]) % dims[k]] * src[k];
      out[i] = a.data[s];
    }
    return [{ type: a.type, dims, data: out }];
  },
  ConstantOfShape: (n, x) => {
    const dims = Array.from(req(n, x, 0).data);
    const v = n.attrs.get('value') as Const | undefined;
    const type = v?.type ?? 'float';
    return [makeConst(type, dims, new Float64Array(numel(dims)).fill(v?.data[0] ?? 0))];
  },
  Constant: (n) => {
    const c =
      attrConst(n, n.attrs.get('value'), 'float') ??
      attrConst(n, n.attrs.get('value_float'), 'float') ??
      attrConst(n, n.attrs.get('value_floats'), 'float') ??
      attrConst(n, n.attrs.get('value_int'), 'int') ??
      attrConst(n, n.attrs.get('value_ints'), 'int');
    if (!c) fail(n, 'no supported value attribute');
    return [c];
  },
};

/** Ops the folder evaluates (Shape is handled separately: it needs the activation's static shape). */
export function canFold(op: string): boolean {
  return op in OPS || op === 'Shape';
}

export class Folder {
  private readonly memo = new Map<string, Const | null>();
  private readonly producer = new Map<string, OnnxNode>();

  /** `shapeOf` gives the static ONNX shape of an activation the importer has already lowered. */
  constructor(
    private readonly g: OnnxGraph,
    private readonly shapeOf: (name: string) => number[] | undefined,
  ) {
    for (const n of g.nodes) for (const o of n.outputs) this.producer.set(o, n);
  }

  /** The constant value of `name`, or undefined when it depends on the model input. */
  get(name: string): Const | undefined {
    if (!name) return undefined;
    if (this.memo.has(name)) return this.memo.get(name) ?? undefined;
    const init = this.g.initializers.get(name);
    if (init) return init;
    const n = this.producer.get(name);
    let value: Const | undefined;
    if (n && n.domain === '' && canFold(n.op)) {
      if (n.op === 'Shape') {
        const s = this.shapeOf(n.inputs[0]) ?? this.get(n.inputs[0])?.dims;
        if (!s) return undefined; // not lowered yet: do not remember a miss
        const kept = s.slice(int(n, 'start', 0), int(n, 'end', s.length));
        value = makeConst('int', [kept.length], kept);
      } else {
        const x = n.inputs.map((i) => this.get(i));
        // Optional inputs are ''; every named input must be constant for the node to fold.
        if (n.inputs.every((name, i) => !name || x[i])) {
          const outs = OPS[n.op](n, x);
          n.outputs.forEach((o, i) => this.memo.set(o, outs[i] ?? null));
          return this.memo.get(name) ?? undefined;
        }
      }
    }
    this.memo.set(name, value ?? null);
    return value;
  }
}

