// Element-wise ops on constants (numpy broadcasting), float32 semantics: every float result is the float64 result of
// float32 operands rounded once (Math.fround), which equals the float32 operation for + - * / and sqrt. Log, Exp
// and Pow are float64 functions rounded once: correctly rounded almost always, within 1 ulp of any float32 libm.
import { attrInt as int, CONST_TYPE, type OnnxNode } from '../proto.ts';
import { broadcastDims, broadcastIndex, type Const, type ConstType, makeConst, mapConst, numel } from '../tensor.ts';
import { type Eval, fail, req } from './common.ts';

function unary(f: (v: number) => number, exact = false): Eval {
  return (n, x) => [mapConst(req(n, x, 0), f, exact)];
}

/** Whether `d` broadcast to `dims` varies only along leading axes (e.g. [O,1,1,1] against [O,C,kh,kw]). */
function leading(d: number[], dims: number[]): boolean {
  const full = [...new Array<number>(dims.length - d.length).fill(1), ...d];
  let k = full.length;
  while (k > 0 && full[k - 1] === 1) k--;
  for (let i = 0; i < k; i++) if (full[i] !== dims[i]) return false;
  return true;
}

/** f(a, b) over the broadcast of a and b, as float64 (the caller rounds to the output type). */
function broadcast2(n: OnnxNode, a: Const, b: Const, f: (a: number, b: number) => number): { dims: number[]; out: Float64Array } {
  const dims = broadcastDims(a.dims, b.dims);
  if (!dims) fail(n, `shapes [${a.dims}] and [${b.dims}] do not broadcast`);
  const size = numel(dims);
  const out = new Float64Array(size);
  const A = a.data;
  const B = b.data;
  // Fast paths for the shapes weight binarisation produces: equal shapes, and a scalar or per-row operand.
  const same = (d: number[]) => d.length === dims.length && d.every((v, i) => v === dims[i]);
  if (same(a.dims) && same(b.dims)) for (let i = 0; i < size; i++) out[i] = f(A[i], B[i]);
  else if (same(a.dims) && B.length === 1) for (let i = 0, v = B[0]; i < size; i++) out[i] = f(A[i], v);
  else if (same(a.dims) && leading(b.dims, dims)) {
    const inner = size / B.length;
    for (let r = 0, i = 0; r < B.length; r++) for (let j = 0, v = B[r]; j < inner; j++, i++) out[i] = f(A[i], v);
  } else {
    const ia = same(a.dims) ? undefined : broadcastIndex(a.dims, dims);
    const ib = same(b.dims) ? undefined : broadcastIndex(b.dims, dims);
    for (let i = 0; i < size; i++) out[i] = f(A[ia ? ia[i] : i], B[ib ? ib[i] : i]);
  }
  return { dims, out };
}

/** A variadic op (Add .. Max, Sum): folded left to right, each step rounded to the first input's type. */
function binary(f: (a: number, b: number) => number): Eval {
  return (n, x) => {
    let acc = req(n, x, 0);
    for (let k = 1; k < n.inputs.length; k++) {
      const { dims, out } = broadcast2(n, acc, req(n, x, k), f);
      acc = makeConst(acc.type, dims, out);
    }
    return [acc];
  };
}

/** Comparisons and logical ops: bool out. */
function predicate(f: (a: number, b: number) => boolean): Eval {
  return (n, x) => {
    const { dims, out } = broadcast2(n, req(n, x, 0), req(n, x, 1), (a, b) => (f(a, b) ? 1 : 0));
    return [makeConst('bool', dims, out)];
  };
}

/** ONNX Round: to the nearest integer, halves to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : r;
}

/** Integer division truncates toward zero (C, ONNX); float division is IEEE. */
function divide(type: ConstType): (a: number, b: number) => number {
  return type === 'int' ? (a, b) => Math.trunc(a / b) : (a, b) => a / b;
}

const where: Eval = (n, x) => {
  const [c, a, b] = [0, 1, 2].map((i) => req(n, x, i));
  const ab = broadcastDims(a.dims, b.dims);
  const dims = ab && broadcastDims(c.dims, ab);
  if (!dims) fail(n, `shapes [${c.dims}], [${a.dims}] and [${b.dims}] do not broadcast`);
  const [ic, ia, ib] = [c, a, b].map((t) => broadcastIndex(t.dims, dims));
  const out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) out[i] = c.data[ic[i]] ? a.data[ia[i]] : b.data[ib[i]];
  return [makeConst(a.type, dims, out)];
};

const clip: Eval = (n, x) => {
  const a = req(n, x, 0);
  const lo = x[1]?.data[0] ?? (n.attrs.get('min') as number | undefined) ?? -Infinity;
  const hi = x[2]?.data[0] ?? (n.attrs.get('max') as number | undefined) ?? Infinity;
  return [makeConst(a.type, a.dims, a.data.map((v) => Math.min(Math.max(v, lo), hi)))];
};

const cast: Eval = (n, x) => {
  const a = req(n, x, 0);
  const type = CONST_TYPE[int(n, 'to', 0)];
  if (!type) fail(n, `cast to element type ${int(n, 'to', 0)} is not supported`);
  // float -> bool is "non-zero"; to int truncates (makeConst does both).
  return [makeConst(type, a.dims, a.data)];
};

export const ELEMENTWISE: Record<string, Eval> = {
  Identity: (n, x) => [req(n, x, 0)],
  Dropout: (n, x) => [req(n, x, 0)], // inference: identity (the mask output is never constant-folded)
  Sign: unary(Math.sign, true),
  Abs: unary(Math.abs, true),
  Neg: unary((v) => -v, true),
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((v) => 1 / v),
  Floor: unary(Math.floor, true),
  Ceil: unary(Math.ceil, true),
  Round: unary(roundHalfEven, true),
  Log: unary(Math.log),
  Exp: unary(Math.exp),
  Not: unary((v) => (v ? 0 : 1), true),
  Add: binary((a, b) => a + b),
  Sum: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: (n, x) => binary(divide(req(n, x, 0).type))(n, x),
  Pow: binary(Math.pow),
  Min: binary(Math.min),
  Max: binary(Math.max),
  Less: predicate((a, b) => a < b),
  LessOrEqual: predicate((a, b) => a <= b),
  Greater: predicate((a, b) => a > b),
  GreaterOrEqual: predicate((a, b) => a >= b),
  Equal: predicate((a, b) => a === b),
  And: predicate((a, b) => !!a && !!b),
  Or: predicate((a, b) => !!a || !!b),
  Xor: predicate((a, b) => !!a !== !!b),
  Where: where,
  Clip: clip,
  Cast: cast,
};
