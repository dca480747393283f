// `bnn-gen compact`: give every binary 3x3 layer a Sparks sub-codebook of n = 2^τ distinct codewords and reassign
// each kernel to its nearest chosen codeword (Hamming distance; ties -> lowest codeword id). The IR carries no
// latent real weights, so "nearest" is measured to the layer's binary kernels. Thresholds are left as they are.
import { Rand } from '../model/random.ts';
import type { BConv2dLayer, CodebookWeights, Model } from '../model/ir.ts';
import { HAMMING, histogram, inChannels, isBinary3x3, kernelIds, rankCodewords } from '../inspect/kernels.ts';

export type CompactMethod = 'frequency' | 'sinkhorn';

export interface CompactOptions {
  bits: number;
  method?: CompactMethod;
  seed?: number;
  /** Sinkhorn: optimisation steps (default 150), Sinkhorn iterations per step (default 20). */
  steps?: number;
  iterations?: number;
  /** Sinkhorn: finish with a deterministic one-in-one-out swap descent (default true). */
  polish?: boolean;
}

export interface LayerCompact {
  index: number;
  name: string;
  kernels: number;
  distinctBefore: number;
  /** true when the layer already had <= 2^τ distinct kernels and was left untouched. */
  unchanged: boolean;
  /** Σ over kernels of Hamming distance to the layer's own weights: 0 before (kernels are exact). */
  errorBefore: number;
  /** The same for the n most frequent codewords (the baseline). */
  errorFrequency: number;
  /** Sinkhorn only: the best selection Sinkhorn itself found, before polishing. */
  errorSinkhorn?: number;
  errorAfter: number;
  /** errorAfter / (9 · kernels): fraction of weight bits flipped. */
  flippedFraction: number;
  bitsBefore: number;
  bitsAfter: number;
  codewords: number[];
}

export interface CompactReport {
  tau: number;
  n: number;
  method: CompactMethod;
  seed: number;
  layers: LayerCompact[];
  notes: string[];
}

/** Σ_k count[k] · min_{s ∈ sel} d(k, s) over the distinct kernels `ids` with counts `w`. */
export function quantError(ids: ArrayLike<number>, w: ArrayLike<number>, sel: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < ids.length; i++) {
    const row = ids[i] * 512;
    let best = 10;
    for (let j = 0; j < sel.length; j++) {
      const d = HAMMING[row + sel[j]];
      if (d < best) best = d;
    }
    e += w[i] * best;
  }
  return e;
}

/** Nearest codeword index in `sorted` (ascending ids, so the first minimum is the lowest id). */
function nearest(k: number, sorted: ArrayLike<number>): number {
  let best = 10;
  let bi = 0;
  for (let j = 0; j < sorted.length; j++) {
    const d = HAMMING[k * 512 + sorted[j]];
    if (d < best) {
      best = d;
      bi = j;
    }
  }
  return bi;
}

/** The n most frequent codewords (ties: lower id); fewer kernels than n: padded with the lowest unused ids. */
export function selectFrequency(h: ArrayLike<number>, n: number): number[] {
  const ranked = rankCodewords(h).slice(0, n);
  const used = new Set(ranked);
  for (let id = 0; ranked.length < n && id < 512; id++) if (!used.has(id)) ranked.push(id);
  return ranked;
}

// ---- Gumbel-Sinkhorn selection ---------------------------------------------------------------------------
//
// A 512 x 512 permutation whose first n rows ("slots") pick the codebook. The other 512 - n rows are identical
// (score 0), so they collapse into one row of capacity 512 - n: Sinkhorn runs on an (n + 1) x 512 matrix with row
// marginals [1 ... 1, 512 - n] and column marginals 1, in log space. Forward: the hard selection is an assignment
// on the soft matrix (greedy, one distinct column per slot). Backward (permutation straight-through estimator):
// the gradient of the quantisation error w.r.t. each column's selection mass (the loss change when that column
// joins / leaves the hard selection) flows through the soft matrix's Sinkhorn iterations to the slot scores.

function logsumexp(a: Float64Array, off: number, len: number, stride: number): number {
  let m = -Infinity;
  for (let i = 0; i < len; i++) m = Math.max(m, a[off + i * stride]);
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < len; i++) s += Math.exp(a[off + i * stride] - m);
  return m + Math.log(s);
}

const M = 512;

/** log α = (θ + g) / τ with Gumbel noise g scaled by `noise`; the collapsed row (index n) is 0. */
function gumbelLogits(x0: Float64Array, theta: Float64Array, n: number, rnd: Rand, noise: number, tau: number): void {
  for (let i = 0; i <= n; i++)
    for (let j = 0; j < M; j++) {
      if (i === n) {
        x0[i * M + j] = 0;
        continue;
      }
      const u = Math.min(Math.max(rnd.next(), 1e-12), 1 - 1e-12);
      x0[i * M + j] = (theta[i * M + j] + noise * -Math.log(-Math.log(u))) / tau;
    }
}

/** Sinkhorn in log space: states[2t+1] normalises the rows of states[2t] (marginal r_i), states[2t+2] its columns. */
function sinkhorn(states: Float64Array[], R: number, logR: Float64Array, T: number): void {
  for (let t = 0; t < T; t++) {
    const a = states[2 * t];
    const b = states[2 * t + 1];
    for (let i = 0; i < R; i++) {
      const l = logsumexp(a, i * M, M, 1) - logR[i];
      for (let j = 0; j < M; j++) b[i * M + j] = a[i * M + j] - l;
    }
    const c = states[2 * t + 2];
    for (let j = 0; j < M; j++) {
      const l = logsumexp(b, j, R, M);
      for (let i = 0; i < R; i++) c[i * M + j] = b[i * M + j] - l;
    }
  }
}

/** Hard selection: greedy assignment on the soft matrix P, slots x distinct columns. */
function hardSelection(P: Float64Array, n: number): number[] {
  const cand: [number, number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < M; j++) cand.push([P[i * M + j], i, j]);
  cand.sort((p, q) => q[0] - p[0] || p[1] - q[1] || p[2] - q[2]);
  const rowDone = new Uint8Array(n);
  const colDone = new Uint8Array(M);
  const sel: number[] = new Array(n);
  let left = n;
  for (const [, i, j] of cand) {
    if (rowDone[i] || colDone[j]) continue;
    rowDone[i] = colDone[j] = 1;
    sel[i] = j;
    if (--left === 0) break;
  }
  return sel;
}

/** d loss / d log α, back through the Sinkhorn iterations (y = x - lse(x) => dx = dy - softmax(x) · Σ dy). */
function sinkhornBackward(states: Float64Array[], R: number, logR: Float64Array, T: number, dOut: Float64Array): Float64Array {
  let dy = dOut;
  for (let t = T - 1; t >= 0; t--) {
    const b = states[2 * t + 1];
    const c = states[2 * t + 2];
    const db = new Float64Array(R * M);
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let i = 0; i < R; i++) s += dy[i * M + j];
      for (let i = 0; i < R; i++) db[i * M + j] = dy[i * M + j] - Math.exp(c[i * M + j]) * s;
    }
    const da = new Float64Array(R * M);
    for (let i = 0; i < R; i++) {
      let s = 0;
      for (let j = 0; j < M; j++) s += db[i * M + j];
      for (let j = 0; j < M; j++) da[i * M + j] = db[i * M + j] - Math.exp(b[i * M + j] - logR[i]) * s;
    }
    dy = da;
  }
  return dy;
}

/** One Adam step (learning rate 0.5) on the slot scores θ, from dθ = d log α / τ. */
function adamStep(theta: Float64Array, mAdam: Float64Array, vAdam: Float64Array, d: Float64Array, tau: number, step: number): void {
  const lr = 0.5;
  for (let k = 0; k < theta.length; k++) {
    const gk = d[k] / tau;
    mAdam[k] = 0.9 * mAdam[k] + 0.1 * gk;
    vAdam[k] = 0.999 * vAdam[k] + 0.001 * gk * gk;
    const mh = mAdam[k] / (1 - 0.9 ** (step + 1));
    const vh = vAdam[k] / (1 - 0.999 ** (step + 1));
    theta[k] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
  }
}

export function selectSinkhorn(ids: number[], w: number[], n: number, start: number[], opts: { seed: number; steps: number; iterations: number }): { selection: number[]; error: number } {
  const R = n + 1;
  const rnd = new Rand(opts.seed);
  const logR = new Float64Array(R);
  logR[n] = Math.log(M - n);
  // slot scores θ[n x M], initialised to prefer the starting selection.
  const theta = new Float64Array(n * M);
  for (let i = 0; i < n; i++) theta[i * M + start[i]] = 4;
  const mAdam = new Float64Array(n * M);
  const vAdam = new Float64Array(n * M);
  let best = start.slice();
  let bestErr = quantError(ids, w, best);
  const T = opts.iterations;
  const states: Float64Array[] = Array.from({ length: 2 * T + 1 }, () => new Float64Array(R * M));
  for (let step = 0; step < opts.steps; step++) {
    const tau = 3.0 * Math.pow(0.03, step / Math.max(1, opts.steps - 1)); // temperature 3 -> 0.09
    gumbelLogits(states[0], theta, n, rnd, 1.0 * (1 - step / opts.steps), tau);
    sinkhorn(states, R, logR, T);
    const P = states[2 * T];
    const sel = hardSelection(P, n);
    const err = quantError(ids, w, sel);
    if (err < bestErr) {
      bestErr = err;
      best = sel.slice();
    }
    // Straight-through gradient: g_j = L(S ∪ {j}) - L(S) for j ∉ S, L(S) - L(S \ {j}) negated for j ∈ S;
    // dL/dlogP on slot rows: g_j · P_ij.
    const g = columnGradient(ids, w, sel);
    const dy = new Float64Array(R * M);
    for (let i = 0; i < n; i++) for (let j = 0; j < M; j++) dy[i * M + j] = g[j] * Math.exp(P[i * M + j]);
    adamStep(theta, mAdam, vAdam, sinkhornBackward(states, R, logR, T, dy), tau, step);
  }
  return { selection: best, error: bestErr };
}

/** Per kernel: Hamming distance to the nearest and second-nearest selected codeword, and the nearest one's slot in
 * `sel` (first slot on ties). */
function nearestTwo(ids: number[], sel: number[]): { best: Uint8Array; second: Uint8Array; slot: Int32Array } {
  const D = ids.length;
  const best = new Uint8Array(D);
  const second = new Uint8Array(D);
  const slot = new Int32Array(D);
  for (let k = 0; k < D; k++) {
    let b1 = 10;
    let b2 = 10;
    let a = -1;
    for (let s = 0; s < sel.length; s++) {
      const d = HAMMING[ids[k] * 512 + sel[s]];
      if (d < b1) {
        b2 = b1;
        b1 = d;
        a = s;
      } else if (d < b2) b2 = d;
    }
    best[k] = b1;
    second[k] = b2;
    slot[k] = a;
  }
  return { best, second, slot };
}

/** Per column j: the change of the quantisation error when j enters (j ∉ S) or the negated change when it leaves (j ∈ S). */
function columnGradient(ids: number[], w: number[], sel: number[]): Float64Array {
  const M = 512;
  const D = ids.length;
  const { best, second, slot } = nearestTwo(ids, sel);
  const inSel = new Uint8Array(M);
  for (const s of sel) inSel[s] = 1;
  const g = new Float64Array(M);
  for (let j = 0; j < M; j++) {
    let delta = 0;
    if (inSel[j]) {
      // removing j raises the error by Σ (second - best) over kernels whose nearest is j: keep it => gradient -delta.
      for (let k = 0; k < D; k++) if (sel[slot[k]] === j) delta += w[k] * (second[k] - best[k]);
      g[j] = -delta;
    } else {
      for (let k = 0; k < D; k++) {
        const d = HAMMING[ids[k] * M + j];
        if (d < best[k]) delta += w[k] * (d - best[k]);
      }
      g[j] = delta;
    }
  }
  return g;
}

/** Deterministic swap descent: repeatedly apply the best improving (out, in) swap; ties by lowest ids. */
export function polishSwaps(ids: number[], w: number[], sel: number[]): number[] {
  const cur = sel.slice();
  const D = ids.length;
  for (let round = 0; round < 10000; round++) {
    const { best: b1, second: b2, slot: arg } = nearestTwo(ids, cur);
    let err = 0;
    for (let k = 0; k < D; k++) err += w[k] * b1[k];
    let bestErr = err;
    let bestSwap: [number, number] | null = null;
    const inSel = new Uint8Array(512);
    for (const c of cur) inSel[c] = 1;
    for (let a = 0; a < cur.length; a++) {
      for (let j = 0; j < 512; j++) {
        if (inSel[j]) continue;
        let e = 0;
        for (let k = 0; k < D; k++) {
          const keep = arg[k] === a ? b2[k] : b1[k];
          const d = HAMMING[ids[k] * 512 + j];
          e += w[k] * (d < keep ? d : keep);
        }
        if (e < bestErr) {
          bestErr = e;
          bestSwap = [a, j];
        }
      }
    }
    if (!bestSwap) break;
    cur[bestSwap[0]] = bestSwap[1];
  }
  return cur;
}

// ---- the model -------------------------------------------------------------------------------------------

export function compactModel(model: Model, opts: CompactOptions): { model: Model; report: CompactReport } {
  const tau = opts.bits;
  if (!Number.isInteger(tau) || tau < 1 || tau > 9) throw new Error(`compact: --bits must be an integer 1..9, got ${tau}`);
  const method = opts.method ?? 'frequency';
  const seed = opts.seed ?? 1;
  const n = 2 ** tau;
  const layers: LayerCompact[] = [];
  const out = model.layers.map((l, index) => {
    if (!isBinary3x3(l)) return l;
    const kid = kernelIds(l);
    const h = histogram(kid);
    const ids = rankCodewords(h);
    const w = ids.map((i) => h[i]);
    const C = inChannels(l);
    const bitsBefore = l.weights.kind === 'codebook' ? l.weights.bits * kid.length + 9 * l.weights.codewords.length : 9 * kid.length;
    const base = { index, name: l.name, kernels: kid.length, distinctBefore: ids.length, errorBefore: 0, bitsBefore };
    if (ids.length <= n) {
      layers.push({ ...base, unchanged: true, errorFrequency: 0, errorAfter: 0, flippedFraction: 0, bitsAfter: bitsBefore, codewords: ids.slice().sort((a, b) => a - b) });
      return l;
    }
    const freq = selectFrequency(h, n);
    const errorFrequency = quantError(ids, w, freq);
    let sel = freq;
    let errorSinkhorn: number | undefined;
    if (method === 'sinkhorn') {
      const s = selectSinkhorn(ids, w, n, freq, { seed: (seed * 1000003 + index) >>> 0, steps: opts.steps ?? 150, iterations: opts.iterations ?? 20 });
      errorSinkhorn = s.error;
      sel = opts.polish === false ? s.selection : polishSwaps(ids, w, s.selection);
    }
    const codewords = Uint16Array.from(sel).sort();
    const indices = new Uint16Array(kid.length);
    for (let k = 0; k < kid.length; k++) indices[k] = nearest(kid[k], codewords);
    const errorAfter = quantError(ids, w, codewords);
    const weights: CodebookWeights = { kind: 'codebook', bits: tau, codewords, indices };
    layers.push({
      ...base,
      unchanged: false,
      errorFrequency,
      ...(errorSinkhorn !== undefined ? { errorSinkhorn } : {}),
      errorAfter,
      flippedFraction: errorAfter / (9 * kid.length),
      bitsAfter: tau * l.outChannels * C + 9 * n,
      codewords: Array.from(codewords),
    });
    const nl: BConv2dLayer = { ...l, weights };
    return nl;
  });
  return {
    model: { ...model, layers: out },
    report: {
      tau,
      n,
      method,
      seed,
      layers,
      notes: [
        'thresholds (and every other layer) are unchanged: no batch-norm re-estimation or fine-tuning was done',
        'kernels are reassigned to the nearest chosen codeword by Hamming distance on the binary kernels (the IR has no latent weights); ties -> lowest codeword id',
        'layers with <= 2^τ distinct kernels are left unchanged',
      ],
    },
  };
}

export function formatCompact(r: CompactReport): string {
  const rows = [['#', 'layer', 'kernels', 'distinct', 'err freq', ...(r.method === 'sinkhorn' ? ['err sinkhorn'] : []), 'err after', 'bits flipped', 'bits before', 'bits after']];
  for (const l of r.layers)
    rows.push([
      String(l.index),
      l.name,
      String(l.kernels),
      String(l.distinctBefore),
      String(l.errorFrequency),
      ...(r.method === 'sinkhorn' ? [l.errorSinkhorn === undefined ? '-' : String(l.errorSinkhorn)] : []),
      l.unchanged ? 'unchanged' : String(l.errorAfter),
      `${(100 * l.flippedFraction).toFixed(2)}%`,
      String(l.bitsBefore),
      String(l.bitsAfter),
    ]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((x) => x[c].length)));
  const t = rows.map((x) => x.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
  return [`compact: τ=${r.tau} (n=${r.n}), method ${r.method}, seed ${r.seed}`, '', t, '', ...r.notes.map((x) => `note: ${x}`)].join('\n');
}
