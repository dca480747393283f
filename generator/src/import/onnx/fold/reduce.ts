// Reductions, ArgMax/ArgMin and MatMul on constants. Sums are taken in float64 and rounded once to float32, so they
// can differ from a float32 runtime's (which rounds every partial sum, in its own order) by a few ulp; the weight
// formulas these serve (means, norms, standard deviations) are then compared with tolerances, never bit for bit.
import { attrInt as int } from '../proto.ts';
import { broadcastDims, broadcastIndex, makeConst, numel } from '../tensor.ts';
import { axesOf, axisOf, type Eval, fail, req } from './common.ts';

function reduce(init: number, step: (acc: number, v: number) => number, finish: (acc: number, count: number) => number = (s) => s): Eval {
  return (n, x) => {
    const a = req(n, x, 0);
    const rank = a.dims.length;
    // ReduceSum takes axes as an input from opset 13; the others from opset 18.
    const axes = axesOf(n, x, 1, rank) ?? [];
    const all = axes.length === 0 && !int(n, 'noop_with_empty_axes', 0);
    const on = (i: number) => all || axes.includes(i);
    const keep = int(n, 'keepdims', 1) === 1;
    const outFull = a.dims.map((d, i) => (on(i) ? 1 : d));
    const count = numel(a.dims) / numel(outFull);
    const acc = new Float64Array(numel(outFull)).fill(init);
    const idx = broadcastIndex(outFull, a.dims);
    for (let i = 0; i < a.data.length; i++) acc[idx[i]] = step(acc[idx[i]], a.data[i]);
    const dims = keep ? outFull : a.dims.filter((_, i) => !on(i));
    return [makeConst(a.type, dims, acc.map((v) => finish(v, count)))];
  };
}

/** ArgMax / ArgMin along one axis: the first index of the extreme (the last with select_last_index). */
function arg(better: (v: number, best: number) => boolean): Eval {
  return (n, x) => {
    const a = req(n, x, 0);
    const axis = axisOf(n, int(n, 'axis', 0), a.dims.length);
    const last = int(n, 'select_last_index', 0) === 1;
    const outer = numel(a.dims.slice(0, axis));
    const len = a.dims[axis];
    const inner = numel(a.dims.slice(axis + 1));
    const out = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0;
        for (let k = 1; k < len; k++) {
          const v = a.data[(o * len + k) * inner + i];
          const b = a.data[(o * len + best) * inner + i];
          if (better(v, b) || (last && v === b)) best = k;
        }
        out[o * inner + i] = best;
      }
    }
    const dims = int(n, 'keepdims', 1) ? a.dims.map((d, i) => (i === axis ? 1 : d)) : a.dims.filter((_, i) => i !== axis);
    return [makeConst('int', dims, out)];
  };
}

/** numpy matmul: 1-D operands are promoted, leading (batch) axes broadcast; each dot product summed in float64. */
const matMul: Eval = (n, x) => {
  const A = req(n, x, 0);
  const B = req(n, x, 1);
  const ad = A.dims.length === 1 ? [1, A.dims[0]] : A.dims;
  const bd = B.dims.length === 1 ? [B.dims[0], 1] : B.dims;
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (K !== K2) fail(n, `inner dimensions differ: [${A.dims}] x [${B.dims}]`);
  const batch = broadcastDims(ad.slice(0, -2), bd.slice(0, -2));
  if (!batch) fail(n, `batch shapes [${A.dims}] and [${B.dims}] do not broadcast`);
  const ia = broadcastIndex(ad.slice(0, -2), batch);
  const ib = broadcastIndex(bd.slice(0, -2), batch);
  const nb = numel(batch);
  const out = new Float64Array(nb * M * N);
  for (let b = 0; b < nb; b++) {
    const ao = (ia[b] ?? 0) * M * K;
    const bo = (ib[b] ?? 0) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A.data[ao + i * K + k] * B.data[bo + k * N + j];
        out[(b * M + i) * N + j] = s;
      }
    }
  }
  let dims = [...batch, M, N];
  if (A.dims.length === 1) dims = dims.filter((_, i) => i !== dims.length - 2);
  if (B.dims.length === 1) dims = dims.slice(0, -1);
  return [makeConst(A.type, dims, out)];
};

export const REDUCE: Record<string, Eval> = {
  ReduceMean: reduce(0, (s, v) => s + v, (s, c) => s / c),
  ReduceSum: reduce(0, (s, v) => s + v),
  ReduceProd: reduce(1, (s, v) => s * v),
  ReduceMax: reduce(-Infinity, Math.max),
  ReduceMin: reduce(Infinity, Math.min),
  ReduceSumSquare: reduce(0, (s, v) => s + v * v),
  ReduceL1: reduce(0, (s, v) => s + Math.abs(v)),
  ReduceL2: reduce(0, (s, v) => s + v * v, Math.sqrt),
  ReduceLogSum: reduce(0, (s, v) => s + v, Math.log),
  ReduceLogSumExp: reduce(0, (s, v) => s + Math.exp(v), Math.log),
  ArgMax: arg((v, b) => v > b),
  ArgMin: arg((v, b) => v < b),
  MatMul: matMul,
};

