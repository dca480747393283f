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
      return Math.trunc(v);
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}

export function makeConst(type: ConstType, dims: number[], data: ArrayLike<number>): Const {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = castValue(type, data[i]);
  return { type, dims: [...dims], data: out };
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

/** For each flat index of `out`, the flat index into a tensor of dims `d` broadcast to `out`. */
export function broadcastIndex(d: number[], out: number[]): Int32Array {
  const n = numel(out);
  const idx = new Int32Array(n);
  const ds = rowMajorStrides(d);
  const off = out.length - d.length;
  const os = rowMajorStrides(out);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = 0; k < d.length; k++) {
      if (d[k] === 1) continue;
      src += Math.floor(i / os[k + off]) % out[k + off] * ds[k];
    }
    idx[i] = src;
  }
  return idx;
}

/**
 * The per-channel values of a constant broadcast against an activation of rank `rank` with `channels` channels on
 * axis 1 (NCHW or NC), or a message saying why it is not per-channel.
 */
export function perChannel(c: Const, rank: number, channels: number): Float64Array | string {
  if (c.dims.length > rank) return `constant of shape [${c.dims}] has more axes than the activation (rank ${rank})`;
  const d = [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims];
  for (let k = 0; k < rank; k++) {
    if (d[k] === 1) continue;
    if (k !== 1 || d[k] !== channels) return `constant of shape [${c.dims}] varies along axis ${k}; only per-channel (axis 1, ${channels} channels) or scalar constants fold into a layer`;
  }
  const out = new Float64Array(channels);
  for (let ch = 0; ch < channels; ch++) out[ch] = c.data.length === 1 ? c.data[0] : c.data[ch];
  return out;
}
