import { describe, expect, it } from 'vitest';
import { compactModel, polishSwaps, quantError, selectFrequency, selectSinkhorn } from '../generator/src/compact/index.ts';
import { histogram, kernelIds } from '../generator/src/inspect/index.ts';
import type { BConv2dLayer, Model } from '../generator/src/model/ir.ts';
import { Rand, randomInput, randomModel } from '../generator/src/model/random.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { verifyWasm } from '../generator/src/verify/verify-model.ts';
import { head, stem } from './fixtures/layers.ts';

const popcount = (x: number) => x.toString(2).split('').filter((c) => c === '1').length;

/** Independent error: plain loops over kernels and candidate codewords. */
function bruteError(ids: number[], w: number[], sel: number[]): number {
  let e = 0;
  ids.forEach((k, i) => (e += w[i] * Math.min(...sel.map((s) => popcount(k ^ s)))));
  return e;
}

function* subsets(xs: number[], k: number, from = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = from; i < xs.length; i++) {
    acc.push(xs[i]);
    yield* subsets(xs, k, i + 1, acc);
    acc.pop();
  }
}

/** A small layer: D distinct kernels with power-law-ish counts. */
function smallLayer(seed: number, D: number): { ids: number[]; w: number[] } {
  const r = new Rand(seed);
  const ids = r.distinct(D, 512);
  const w = ids.map((_, i) => 1 + Math.floor(40 / (i + 1)) + r.int(0, 3));
  return { ids, w };
}

/** A one-layer model: bconv2d on a b1 input with the given kernel ids, [O, C]. */
function layerModel(ids: number[], O: number, C: number): Model {
  const bits = new Uint8Array(O * C * 9);
  ids.forEach((id, k) => {
    for (let t = 0; t < 9; t++) bits[k * 9 + t] = (id >> t) & 1;
  });
  const conv: BConv2dLayer = {
    op: 'bconv2d',
    name: 'conv',
    inputs: ['x'],
    output: 'y',
    outChannels: O,
    kernel: [3, 3],
    stride: [1, 1],
    pad: { top: 1, left: 1, bottom: 1, right: 1 },
    padValue: 0,
    weights: { kind: 'dense', bits },
  };
  return {
    name: 'one',
    input: { shape: [C, 5, 5], dtype: 'u8', zeroPoint: 0, scale: new Float32Array(C).fill(1), bias: new Float32Array(C).fill(-100) },
    layers: [stem(C), conv, ...head('y', O)],
    output: 'scores',
  };
}

describe('selection against brute force', () => {
  it('n = 2 over all 512 codewords: sinkhorn (+ polish) reaches the exact optimum; never worse than frequency', () => {
    for (const seed of [1, 2, 3]) {
      const { ids, w } = smallLayer(seed, 12);
      let opt = Infinity;
      for (let a = 0; a < 512; a++) for (let b = a + 1; b < 512; b++) opt = Math.min(opt, bruteError(ids, w, [a, b]));
      const h = new Float64Array(512);
      ids.forEach((id, i) => (h[id] = w[i]));
      const freq = selectFrequency(h, 2);
      const s = selectSinkhorn(ids, w, 2, freq, { seed, steps: 150, iterations: 20 });
      const polished = polishSwaps(ids, w, s.selection);
      const fe = bruteError(ids, w, freq);
      expect(s.error).toBe(bruteError(ids, w, s.selection));
      expect(s.error).toBeLessThanOrEqual(fe);
      expect(bruteError(ids, w, polished)).toBe(opt);
      console.log(`n=2 seed ${seed}: optimum ${opt}, frequency ${fe}, sinkhorn alone ${s.error}, polished ${bruteError(ids, w, polished)}`);
    }
  });

  it('12 distinct kernels, n = 4: sinkhorn is at least as good as the best of all 495 subsets of present kernels', () => {
    for (const seed of [4, 5, 6]) {
      const { ids, w } = smallLayer(seed, 12);
      let opt = Infinity;
      let count = 0;
      for (const s of subsets(ids, 4)) {
        count++;
        opt = Math.min(opt, bruteError(ids, w, s));
      }
      expect(count).toBe(495);
      const h = new Float64Array(512);
      ids.forEach((id, i) => (h[id] = w[i]));
      const freq = selectFrequency(h, 4);
      const s = selectSinkhorn(ids, w, 4, freq, { seed, steps: 80, iterations: 15 });
      const polished = bruteError(ids, w, polishSwaps(ids, w, s.selection));
      expect(s.error).toBeLessThanOrEqual(bruteError(ids, w, freq));
      expect(polished).toBeLessThanOrEqual(opt);
      console.log(`n=4 seed ${seed}: best present-subset ${opt}, frequency ${bruteError(ids, w, freq)}, sinkhorn alone ${s.error}, polished ${polished}`);
    }
  });
});

describe('frequency', () => {
  it('takes the n most frequent, ties by lower id', () => {
    const h = new Float64Array(512);
    h[7] = 5;
    h[3] = 5;
    h[100] = 9;
    h[1] = 2;
    h[2] = 2;
    expect(selectFrequency(h, 3)).toEqual([100, 3, 7]);
    expect(selectFrequency(h, 4)).toEqual([100, 3, 7, 1]);
    expect(selectFrequency(h, 7)).toEqual([100, 3, 7, 1, 2, 0, 4]);
  });
});

describe('compactModel', () => {
  it('never duplicates codewords, is deterministic for a seed, indices in range (many seeds)', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = new Rand(seed);
      const ids = Array.from({ length: 6 * 5 }, () => r.int(0, 511));
      const m = layerModel(ids, 6, 5);
      for (const method of ['frequency', 'sinkhorn'] as const) {
        const a = compactModel(m, { bits: 2, method, seed, steps: 20, iterations: 8 });
        const b = compactModel(m, { bits: 2, method, seed, steps: 20, iterations: 8 });
        const w = (a.model.layers[1] as BConv2dLayer).weights;
        expect(w.kind).toBe('codebook');
        if (w.kind !== 'codebook') return;
        expect(new Set(w.codewords).size).toBe(4);
        expect(w.codewords.length).toBe(4);
        expect(Math.max(...w.indices)).toBeLessThan(4);
        expect(a.report).toEqual(b.report);
        const L = a.report.layers[0];
        expect(L.errorAfter).toBeLessThanOrEqual(L.errorFrequency);
        // reassignment is to the nearest chosen codeword, ties -> lowest id
        const got = kernelIds(a.model.layers[1] as BConv2dLayer);
        ids.forEach((k, i) => {
          const ds = Array.from(w.codewords, (c) => popcount(k ^ c));
          const d = Math.min(...ds);
          const lowest = Math.min(...Array.from(w.codewords).filter((c) => popcount(k ^ c) === d));
          expect(got[i]).toBe(lowest);
        });
        expect(L.errorAfter).toBe(ids.reduce((s, k, i) => s + popcount(k ^ got[i]), 0));
        expect(L.flippedFraction).toBeCloseTo(L.errorAfter / (9 * 30));
        expect(L.bitsBefore).toBe(9 * 30);
        expect(L.bitsAfter).toBe(2 * 30 + 9 * 4);
      }
    }
  });

  it('an already-compact layer is the identity', () => {
    const ids = [5, 5, 9, 9, 5, 300, 300, 9, 1, 1, 5, 9];
    const m = layerModel(ids, 4, 3);
    for (const method of ['frequency', 'sinkhorn'] as const) {
      const { model, report } = compactModel(m, { bits: 2, method, seed: 3 });
      expect(model.layers[1]).toBe(m.layers[1]);
      inferModel(model);
      expect(report.layers[0].unchanged).toBe(true);
      expect(report.layers[0].errorAfter).toBe(0);
    }
  });

  it('a compacted random model validates and its emitted C verifies bit-exact', async () => {
    let done = 0;
    for (let seed = 1; seed <= 40 && done < 3; seed++) {
      const m = randomModel(seed);
      const before = m.layers.filter((l) => l.op === 'bconv2d' && l.kernel[0] === 3 && l.kernel[1] === 3);
      if (!before.length) continue;
      const { model, report } = compactModel(m, { bits: 3, method: done === 0 ? 'sinkhorn' : 'frequency', seed, steps: 20, iterations: 8 });
      if (report.layers.every((l) => l.unchanged)) continue;
      inferModel(model);
      for (const l of model.layers)
        if (l.op === 'bconv2d' && l.weights.kind === 'codebook' && l.kernel[0] === 3) {
          expect(new Set(l.weights.codewords).size).toBe(l.weights.codewords.length);
          expect(new Set(kernelIds(l)).size).toBeLessThanOrEqual(8);
        }
      const inputs = [0, 1].map((k) => randomInput(model, seed * 10 + k));
      const v = await verifyWasm(model, inputs);
      expect(v.mismatch).toBeNull();
      done++;
    }
    expect(done).toBeGreaterThan(0);
  }, 300_000);

  it('histogram of a compacted layer only uses the chosen codewords', () => {
    const r = new Rand(9);
    const ids = Array.from({ length: 40 }, () => r.int(0, 511));
    const m = layerModel(ids, 8, 5);
    const { model, report } = compactModel(m, { bits: 3, method: 'frequency' });
    const h = histogram(kernelIds(model.layers[1] as BConv2dLayer));
    for (let i = 0; i < 512; i++) if (h[i]) expect(report.layers[0].codewords).toContain(i);
    expect(quantError([...new Set(ids)], [...new Set(ids)].map((k) => ids.filter((x) => x === k).length), report.layers[0].codewords)).toBe(report.layers[0].errorAfter);
  });
});
