// Constant tensors seen by the importer: initializers and whatever folds from them. Values are held as float64;
// a 'float' tensor only ever holds float32 values (every producer rounds with Math.fround), so float32 semantics
// are kept exactly: one float32 op on float32 operands equals the float64 op rounded once.
export type ConstType = 'float' | 'double' | 'int' | 'bool';

export interface Const {
  type: ConstType;
  dims: number[];
  data: Float64Array;
}

export function numel(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Round to the element type: float32 for 'float', truncation for 'int', 0/1 for 'bool'. */
export function castValue(type: ConstType, v: number): number {
  switch (type) {
    case 'float':
      return Math.fround(v);
    case 'double':
      return v;
    case 'int':
      return Math.trunc(v) + 0; // + 0: an integer has no -0
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}

export function makeConst(type: ConstType, dims: number[], data: ArrayLike<number>): Const {
  const n = data.length;
  const out = new Float64Array(n);
  // One loop per type (no per-element switch): weight tensors reach tens of millions of values.
  switch (type) {
    case 'float':
      for (let i = 0; i < n; i++) out[i] = Math.fround(data[i]);
      break;
    case 'double':
      if (data instanceof Float64Array) out.set(data);
      else for (let i = 0; i < n; i++) out[i] = data[i];
      break;
    case 'int':
      for (let i = 0; i < n; i++) out[i] = Math.trunc(data[i]) + 0; // + 0: an integer has no -0
      break;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = data[i] !== 0 ? 1 : 0;
      break;
  }
  return { type, dims: [...dims], data: out };
}

/**
 * `f` applied to every element, rounded to the element type. `exact`: f maps values of the type to values of the
 * type (sign, abs, neg), so no rounding pass is needed.
 */
export function mapConst(a: Const, f: (v: number) => number, exact = false): Const {
  const n = a.data.length;
  const out = new Float64Array(n);
  const src = a.data;
  for (let i = 0; i < n; i++) out[i] = f(src[i]);
  return exact || a.type === 'double' ? { type: a.type, dims: [...a.dims], data: out } : makeConstInPlace(a.type, a.dims, out);
}

/** Round `data` to the element type where it stands (it must not be shared). */
function makeConstInPlace(type: ConstType, dims: number[], data: Float64Array): Const {
  const n = data.length;
  if (type === 'float') for (let i = 0; i < n; i++) data[i] = Math.fround(data[i]);
  else if (type === 'int') for (let i = 0; i < n; i++) data[i] = Math.trunc(data[i]) + 0;
  else if (type === 'bool') for (let i = 0; i < n; i++) data[i] = data[i] !== 0 ? 1 : 0;
  return { type, dims: [...dims], data };
}

/** A Const over `data` already holding values of the element type (e.g. float32 values read from a file); no copy. */
export function wrapConst(type: ConstType, dims: number[], data: Float64Array): Const {
  return { type, dims: [...dims], data };
}

export function scalar(c: Const): number | undefined {
  return c.data.length === 1 ? c.data[0] : undefined;
}

export function rowMajorStrides(dims: number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Numpy-style broadcast of two shapes, or undefined when they do not broadcast. */
export function broadcastDims(a: number[], b: number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * For each flat index of an output of dims `dims`, the source index base + sum_k coord_k * strides[k]. Walks the
 * output in row-major order with a counter per axis (amortised O(1) per element, no divisions). Broadcasts,
 * Transpose, Slice and Expand are all this.
 */
export function stridedIndex(dims: number[], base: number, strides: number[]): Int32Array {
  const n = numel(dims);
  const idx = new Int32Array(n);
  const rank = dims.length;
  if (n === 0) return idx;
  if (rank === 0) {
    idx[0] = base;
    return idx;
  }
  const ctr = new Array<number>(rank).fill(0);
  const inner = dims[rank - 1];
  const innerStep = strides[rank - 1];
  let src = base;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0, s = src; j < inner; j++, s += innerStep) idx[i + j] = s;
    // advance the outer axes
    for (let k = rank - 2; k >= 0; k--) {
      ctr[k]++;
      src += strides[k];
      if (ctr[k] < dims[k]) break;
      src -= strides[k] * dims[k];
      ctr[k] = 0;
    }
  }
  return idx;
}

/** For each flat index of `out`, the flat index into a tensor of dims `d` broadcast to `out`. */
export function broadcastIndex(d: number[], out: number[]): Int32Array {
  const ds = rowMajorStrides(d);
  const off = out.length - d.length;
  return stridedIndex(out, 0, out.map((_, k) => (k < off || d[k - off] === 1 ? 0 : ds[k - off])));
}

/**
 * The per-channel values of a constant broadcast against an activation of rank `rank` with `channels` channels on
 * axis 1 (NCHW or NC), or a message saying why it is not per-channel.
 */
export function perChannel(c: Const, rank: number, channels: number): Float64Array | string {
  if (c.dims.length > rank) return `constant of shape [${c.dims}] has more axes than the activation (rank ${rank})`;
  const d = [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims];
  const out = new Float64Array(channels);
  if (d.every((v, k) => v === 1 || (k === 1 && v === channels))) {
    for (let ch = 0; ch < channels; ch++) out[ch] = c.data.length === 1 ? c.data[0] : c.data[ch];
    return out;
  }
  // A per-channel value spelled out over the whole map (torch's bias.expand_as(x)): equal along every other axis.
  const varies = `constant of shape [${c.dims}] varies along an axis other than the channels; only per-channel (axis 1, ${channels} channels) or scalar constants fold into a layer`;
  if (d[0] !== 1 || (d[1] !== 1 && d[1] !== channels)) return varies;
  const inner = d.slice(2).reduce((a, b) => a * b, 1);
  for (let ch = 0; ch < channels; ch++) {
    const base = d[1] === 1 ? 0 : ch * inner;
    out[ch] = c.data[base];
    for (let i = 1; i < inner; i++) if (c.data[base + i] !== out[ch]) return varies;
  }
  return out;
}
