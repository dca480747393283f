// Shape and layout ops on constants: they move values, never compute new ones (Range and Size make integers).
import { attrInt as int, attrInts as ints, type AttrValue, type OnnxNode } from '../proto.ts';
import { broadcastDims, type Const, type ConstType, makeConst, numel, rowMajorStrides, stridedIndex } from '../tensor.ts';
import { axesOf, axisOf, type Eval, fail, req } from './common.ts';

function reshapeTo(a: Const, dims: number[]): Const {
  return { type: a.type, dims, data: a.data };
}

/** out[i] = a.data[base + sum_k coords_k * strides[k]] (Transpose, Slice, Expand with stride 0 on broadcast axes). */
function affineGather(a: Const, dims: number[], base: number, strides: number[]): Const {
  const idx = stridedIndex(dims, base, strides);
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a.data[idx[i]];
  return { type: a.type, dims, data: out };
}

/** out[i] = a.data[source(i)] over the output's index space (coords: the output index per axis); for the
 * data-dependent and modular gathers (GatherElements, Tile). */
function gatherBy(a: Const, dims: number[], source: (coords: number[]) => number): Const {
  const os = rowMajorStrides(dims);
  const out = new Float64Array(numel(dims));
  const coords = new Array<number>(dims.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < dims.length; k++) coords[k] = Math.floor(i / os[k]) % dims[k];
    out[i] = a.data[source(coords)];
  }
  return { type: a.type, dims, data: out };
}

function attrConst(n: OnnxNode, v: AttrValue | undefined, type: ConstType): Const | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return makeConst(type, [], [v]);
  if (Array.isArray(v)) return makeConst(type, [v.length], v as number[]);
  if (typeof v === 'object') return v;
  fail(n, `unsupported constant attribute`);
}

const slice: Eval = (n, x) => {
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
    if (!st) fail(n, 'a step of 0');
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const s = st > 0 ? clamp(starts[k], 0, d) : clamp(starts[k], -1, d - 1);
    const e = st > 0 ? clamp(ends[k], 0, d) : clamp(ends[k], -1, d - 1);
    keep[ax] = [];
    for (let i = s; st > 0 ? i < e : i > e; i += st) keep[ax].push(i);
  });
  const src = rowMajorStrides(a.dims);
  // Every kept list is first + i * step: an affine gather.
  const dims = keep.map((k) => k.length);
  const base = keep.reduce((s, k, ax) => s + (k.length ? k[0] * src[ax] : 0), 0);
  const strides = keep.map((k, ax) => (k.length > 1 ? (k[1] - k[0]) * src[ax] : 0));
  return [affineGather(a, dims, base, strides)];
};

const concat: Eval = (n, x) => {
  const parts = n.inputs.map((_, i) => req(n, x, i));
  const rank = parts[0].dims.length;
  const axis = axisOf(n, int(n, 'axis', 0), rank);
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
};

const gather: Eval = (n, x) => {
  const a = req(n, x, 0);
  const ind = req(n, x, 1);
  const axis = axisOf(n, int(n, 'axis', 0), a.dims.length);
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
};

const gatherElements: Eval = (n, x) => {
  const a = req(n, x, 0);
  const ind = req(n, x, 1);
  const axis = axisOf(n, int(n, 'axis', 0), a.dims.length);
  if (ind.dims.length !== a.dims.length) fail(n, `indices of rank ${ind.dims.length} for data of rank ${a.dims.length}`);
  const src = rowMajorStrides(a.dims);
  const is = rowMajorStrides(ind.dims);
  return [gatherBy(a, ind.dims, (c) => {
    let raw = ind.data[c.reduce((s, v, k) => s + v * is[k], 0)];
    if (raw < 0) raw += a.dims[axis];
    if (!(raw >= 0 && raw < a.dims[axis])) fail(n, `index ${raw} is out of range for axis ${axis} of size ${a.dims[axis]}`);
    return c.reduce((s, v, k) => s + (k === axis ? raw : v) * src[k], 0);
  })];
};

const expand: Eval = (n, x) => {
  const a = req(n, x, 0);
  // Expand is numpy's two-way broadcast of the data's shape and the given one.
  const shape = Array.from(req(n, x, 1).data);
  const dims = broadcastDims(a.dims, shape) ?? fail(n, `cannot expand [${a.dims}] to [${shape}]`);
  const src = rowMajorStrides(a.dims);
  const off = dims.length - a.dims.length;
  return [affineGather(a, dims, 0, dims.map((_, k) => (k < off || a.dims[k - off] === 1 ? 0 : src[k - off])))];
};

const tile: Eval = (n, x) => {
  const a = req(n, x, 0);
  const reps = Array.from(req(n, x, 1).data);
  if (reps.length !== a.dims.length || reps.some((r) => !(Number.isInteger(r) && r >= 0))) fail(n, `repeats [${reps}] for a tensor of rank ${a.dims.length}`);
  const src = rowMajorStrides(a.dims);
  return [gatherBy(a, a.dims.map((d, k) => d * reps[k]), (c) => c.reduce((s, v, k) => s + (v % a.dims[k]) * src[k], 0))];
};

const range: Eval = (n, x) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => req(n, x, i));
  const s = start.data[0];
  const d = delta.data[0];
  if (!d) fail(n, 'a delta of 0');
  const count = Math.max(Math.ceil((limit.data[0] - s) / d), 0);
  if (count > 1 << 24) fail(n, `${count} elements is more than a constant may hold here`);
  return [makeConst(start.type, [count], Array.from({ length: count }, (_, i) => s + i * d))];
};

export const LAYOUT: Record<string, Eval> = {
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
    const src = rowMajorStrides(a.dims);
    return [affineGather(a, perm.map((p) => a.dims[p]), 0, perm.map((p) => src[p]))];
  },
  Concat: concat,
  Gather: gather,
  GatherElements: gatherElements,
  Slice: slice,
  Expand: expand,
  Tile: tile,
  Range: range,
  Size: (n, x) => [makeConst('int', [], [numel(req(n, x, 0).dims)])],
  ConstantOfShape: (n, x) => {
    const dims = Array.from(req(n, x, 0).data);
    const v = n.attrs.get('value') as Const | undefined;
    return [makeConst(v?.type ?? 'float', dims, new Float64Array(numel(dims)).fill(v?.data[0] ?? 0))];
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
