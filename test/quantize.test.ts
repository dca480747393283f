// The int8 path (--quantize int8): hand-checked folds, the integer model against the float model it approximates (an
// oracle other than itself), seeded residual models in quantity, and the emitted C of integer models bit-exact with
// the TS reference under WebAssembly.
import { describe, expect, it } from 'vitest';
import { emitModel } from '../generator/src/emit/model-c.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { calibrate, quantizeInt8, agreement } from '../generator/src/quantize/index.ts';
import { tailRank } from '../generator/src/quantize/percentile.ts';
import { Tails } from '../generator/src/quantize/tails.ts';
import { Rand } from '../generator/src/model/random.ts';
import { int8Weights } from '../generator/src/ops/shared/int8-path.ts';
import { fixedShift, int8Grid, MULT_MAX, toMult } from '../generator/src/quantize/fixed-point.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { residualFloatModel } from './fixtures/residual-float.ts';
import { Builder } from './fixtures/builder.ts';

const P0 = { top: 0, left: 0, bottom: 0, right: 0 };
const inputs = (m: Model, n: number, seed: number) => Array.from({ length: n }, (_, k) => randomInput(m, seed + k));

describe('fixed-point helpers (hand-checked)', () => {
  it('int8 grid of a range: 255 steps over [min(lo,0), max(hi,0)], 0 on the grid', () => {
    // [-1, 3]: scale 4/255; zero point round(-128 + 1 / (4/255)) = round(-64.25) = -64.
    expect(int8Grid({ min: -1, max: 3 })).toEqual({ scale: 4 / 255, zeroPoint: -64, bits: 8 });
    // [0.5, 2]: the range is widened to 0: scale 2/255, zero point -128.
    expect(int8Grid({ min: 0.5, max: 2 })).toEqual({ scale: 2 / 255, zeroPoint: -128, bits: 8 });
    // 16 bits: 65535 steps; [-1, 3]: zero point round(-32768 + 1 / (4/65535)) = round(-16384.25) = -16384.
    expect(int8Grid({ min: -1, max: 3 }, 16)).toEqual({ scale: 4 / 65535, zeroPoint: -16384, bits: 16 });
    expect(int8Grid({ min: -2, max: -1 }, 16)).toEqual({ scale: 2 / 65535, zeroPoint: 32767, bits: 16 });
  });

  it('one shift for all multipliers: the largest uses ~30 bits and none exceeds 2^30 - 1', () => {
    // max 0.75: floor(log2((2^30 - 1) / 0.75)) = 30; round(0.75 * 2^30) = 805306368 <= 2^30 - 1.
    const s = fixedShift([Float64Array.from([0.75, -0.1])], 't');
    expect(s).toBe(30);
    expect(Array.from(toMult(Float64Array.from([0.75, -0.1]), s))).toEqual([805306368, -107374182]);
    // max 3: 2^28 * 3 = 805306368.
    expect(fixedShift([Float64Array.from([3])], 't')).toBe(28);
    expect(() => fixedShift([Float64Array.from([2 ** 40])], 'layer x')).toThrow(/layer x/);
    expect(Math.abs(toMult(Float64Array.from([1 - 1e-12]), fixedShift([Float64Array.from([1 - 1e-12])], 't'))[0])).toBeLessThanOrEqual(MULT_MAX);
  });

  it('int8 weights per output channel: max |w| maps to ±127', () => {
    const { q, delta } = int8Weights(Float32Array.from([0.5, -0.25, 0, 2, -1, 0.5]), 2);
    expect(Array.from(delta)).toEqual([0.5 / 127, 2 / 127]);
    // 0.5 -> 127, -0.25 -> -63.5 -> round half up (Math.round) -63, 2 -> 127, -1 -> -63.5 -> -63, 0.5 -> 31.75 -> 32.
    expect(Array.from(q)).toEqual([127, -63, 0, 127, -63, 32]);
  });
});

describe('calibration at a percentile (hand-checked, and against sorting)', () => {
  it('the bound is the k-th most extreme value: at most floor(n (100 - p) / 100) values lie beyond it', () => {
    expect(tailRank(9999, 99.99)).toBe(1); // 0.9999 values may lie beyond: none
    expect(tailRank(10000, 99.99)).toBe(2);
    expect(tailRank(1000, 99)).toBe(11);
    expect(tailRank(123456, 100)).toBe(1);
    const t = new Tails(2);
    t.add(Float32Array.from([5, -1, 3]));
    t.add(Float32Array.from([9, NaN, -7, 0]));
    expect([t.lower, t.upper]).toEqual([-1, 5]); // second smallest of -7 -1 0 3 5 9, second largest
  });

  it('Tails gives the order statistics of sorting, over seeded streams in chunks', () => {
    const r = new Rand(7);
    for (let trial = 0; trial < 200; trial++) {
      const chunks = Array.from({ length: r.int(1, 6) }, () => Float32Array.from({ length: r.int(1, 300) }, () => (r.bool(0.2) ? r.int(-3, 3) : (r.next() - 0.5) * 100)));
      const all = chunks.flatMap((c) => Array.from(c)).sort((a, b) => a - b);
      const k = r.int(1, all.length);
      const t = new Tails(k);
      for (const c of chunks) t.add(c);
      expect([t.lower, t.upper]).toEqual([all[k - 1], all[all.length - k]]);
    }
  });

  it("calibrate: each f32 tensor's grid range is its percentile bounds over all inputs; extremes kept apart", () => {
    const m = residualFloatModel(3, { size: 16, width: 8 });
    const xs = inputs(m, 6, 100);
    const outs = xs.map((x) => runReference(m, x).layers);
    for (const p of [100, 99.99, 99.5, 97]) {
      const cal = calibrate(m, xs, p);
      expect(cal.percentile).toBe(p);
      m.layers.forEach((l, i) => {
        if (outs[0][i].dtype !== 'f32') return;
        const all = outs.flatMap((o) => Array.from(o[i].data)).sort((a, b) => a - b);
        const k = tailRank(all.length, p);
        expect(cal.ranges.get(l.output), `${l.output} at ${p}`).toEqual({ min: all[k - 1], max: all[all.length - k] });
        expect(cal.extremes.get(l.output)).toEqual({ min: all[0], max: all[all.length - 1] });
      });
    }
    expect(() => calibrate(m, xs, 50)).toThrow(/--calibrate-percentile: must be above 50 and at most 100, got 50/);
  });
});

/** conv2d 1x1 on the raw input -> affine -> binarize: becomes qconv2d -> threshold; hand-checked fold. */
function tinyStemModel(): Model {
  return {
    name: 'tiny',
    input: { shape: [1, 1, 4], dtype: 'u8', zeroPoint: 0, scale: Float32Array.from([1]), bias: Float32Array.from([0]) },
    layers: [
      { op: 'conv2d', name: 'c', inputs: ['input'], output: 'c', outChannels: 2, kernel: [1, 1], stride: [1, 1], pad: P0, weights: Float32Array.from([0.5, -2]), bias: Float32Array.from([0, 0]) },
      { op: 'affine', name: 'a', inputs: ['c'], output: 'a', scale: Float32Array.from([2, 1]), bias: Float32Array.from([-50, 100]) },
      { op: 'binarize', name: 's', inputs: ['a'], output: 's', shift: Float32Array.from([1, 0]) },
      { op: 'flatten', name: 'f', inputs: ['s'], output: 'f' },
      { op: 'dense', name: 'd', inputs: ['f'], output: 'd', outFeatures: 2, weights: Float32Array.from([1, -1, 1, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), bias: Float32Array.from([0, 0]) },
    ] as Layer[],
    output: 'd',
  };
}

describe('the int8 pass on a hand-checked chain', () => {
  it('binarize(affine(conv)) folds to an exact integer threshold on the accumulator', () => {
    const m = tinyStemModel();
    const q = quantizeInt8(m, calibrate(m, [Uint8Array.from([0, 50, 100, 255])]));
    expect(q.model.layers.map((l) => l.op)).toEqual(['qconv2d', 'threshold', 'flatten', 'qdense', 'affine']);
    const conv = q.model.layers[0] as Extract<Layer, { op: 'qconv2d' }>;
    // Channel 0: w = 0.5 -> q 127, delta 0.5/127; channel 1: w = -2 -> q -127, delta 2/127. One zero point: 0.
    expect(Array.from(conv.weights)).toEqual([127, -127]);
    expect(conv.zeroPoint).toBe(0);
    const thr = (q.model.layers[1] as unknown as { threshold: { value: Int32Array; flip: Uint8Array } }).threshold;
    // Channel 0: real 2 * (0.5/127) acc - 50 + 1 >= 0 <=> acc >= 49 * 127 = 6223 (x >= 49 <=> 0.5 x * 2 >= 49).
    // Channel 1: (2/127) acc + 100 >= 0 <=> acc >= -6350 (x <= 50 <=> -2x + 100 >= 0).
    expect(Array.from(thr.value)).toEqual([6223, -6350]);
    expect(Array.from(thr.flip)).toEqual([0, 0]);
    for (let v = 0; v < 256; v++) {
      const x = Uint8Array.from([v, 255 - v, (v * 7) % 256, 49]);
      const f = runReference(m, x).layers[2].data;
      const g = runReference(q.model, x).layers[1].data;
      expect(Array.from(g)).toEqual(Array.from(f));
    }
  });
});

describe('seeded residual models (ReActNet-shaped): the int8 model against the float one', () => {
  const SEEDS = 24;
  const models = Array.from({ length: SEEDS }, (_, k) => residualFloatModel(100 + k));

  it('every model converts: integer ops only, the stem, RSigns and blocks as the design says', () => {
    for (const m of models) {
      const q = quantizeInt8(m, calibrate(m, inputs(m, 8, 1)));
      const ops = new Set(q.model.layers.map((l) => l.op));
      for (const op of ['conv2d', 'binarize', 'prelu', 'add', 'dense']) expect(ops.has(op as never), `${m.name}: ${op} left`).toBe(false);
      for (const op of ['qconv2d', 'threshold', 'requant', 'bconv2d', 'qdense']) expect(ops.has(op as never), `${m.name}: no ${op}`).toBe(true);
      // The only float op left is the last affine back to scores.
      expect(q.model.layers.filter((l) => l.op === 'affine').map((l) => l.name)).toEqual([`${m.output}:dequant`]);
    }
  });

  it('blocks without RPReLU convert: a residual sum read by a pool or the head is stored by a requant named after that reader', () => {
    for (const seed of [1, 2, 3, 4]) {
      const m = residualFloatModel(200 + seed, { prelu: false });
      const q = quantizeInt8(m, calibrate(m, inputs(m, 4, 1)));
      const requants = q.model.layers.filter((l) => l.op === 'requant');
      expect(requants.every((l) => !l.prelu)).toBe(true);
      // The last block's sum feeds the global average pool: its requant takes the pool's name.
      const gap = m.layers.find((l) => l.op === 'globalavgpool')!;
      expect(requants.map((l) => l.name)).toContain(`${gap.name}:requant`);
      expect(() => runReference(q.model, inputs(m, 1, 7)[0])).not.toThrow();
    }
  });

  it('the first stored map (stem, one block) is within int8 rounding of the float map on unseen inputs', () => {
    for (const m of models) {
      const q = quantizeInt8(m, calibrate(m, inputs(m, 16, 1)));
      const a = agreement(m, q.model, q.stored, inputs(m, 8, 500));
      // The stem's max-pooled output: stored once, from the integer accumulator; its error is the weights' and the
      // grid's rounding (and flips of the sign after it do not reach it).
      const first = a.layers[0];
      expect(first.snrDb, `${m.name} ${first.tensor}`).toBeGreaterThan(25);
    }
  });

  it('argmax agreement is measured and reported, on inputs disjoint from calibration', () => {
    let agree = 0, total = 0;
    for (const m of models) {
      const q = quantizeInt8(m, calibrate(m, inputs(m, 16, 1)));
      const a = agreement(m, q.model, q.stored, inputs(m, 8, 900));
      agree += a.argmaxAgree;
      total += a.inputs;
    }
    // Random weights make chaotic networks (docs/int8.md: 0.1 % noise on the stem weights alone moves the argmax of
    // a random ReActNet on 22 % of inputs); this only guards against a broken pass (which agrees ~1/classes).
    expect(agree / total).toBeGreaterThan(0.5);
  });

  // int16 weights make accumulators 256x larger than int8 ones could: the rows kernel's fast requant must know (its
  // input bound decides whether the fast form applies). Weights near +-32767 on a bright input, and a shift (24)
  // whose fast-form range holds the int8 bound (27 * 128 * 255) but not these accumulators (up to 27 * 32767 * 255).
  it.skipIf(!haveTool('emcc'))('int16 weights through the rows kernel and its fused requant: accumulators past the int8 bound (WebAssembly)', async () => {
    const r = new Rand(77);
    const g = new Builder({ shape: [3, 9, 9], dtype: 'u8', zeroPoint: 0, scale: new Float32Array(3).fill(1 / 255), bias: new Float32Array(3) });
    const O = 6;
    const weights = new Int16Array(O * 27).map(() => (r.bool() ? 1 : -1) * r.int(28000, 32767));
    g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [3, 3], stride: [1, 1], pad: { top: 1, left: 1, bottom: 1, right: 1 }, weights, bias: new Int32Array(O) } as Layer);
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).map(() => r.int(900, 1100))], shift: 24, bias: new Int32Array(O), zeroPoint: 0, bits: 16 } as Layer);
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).fill(2 ** 20)], shift: 20, bias: new Int32Array(O), zeroPoint: 0 } as Layer);
    g.add({ ...g.names(), op: 'flatten' } as Layer);
    g.add({ ...g.names(), op: 'qdense', outFeatures: 3, weights: new Int8Array(3 * O * 81).map(() => r.int(-5, 5)), bias: new Int32Array(3), zeroPoint: 0 } as Layer);
    const model: Model = { name: 'w16', input: g.input, layers: g.layers, output: g.cur };
    const emitted = emitModel(model, { prefix: 'w16_', kernels: 'auto' });
    expect(emitted.info.layers[0].kernel).toBe('bnn_qconv2d_u8_s16_rows');
    const engine = await WasmEngine.load(await buildWasm({ files: emitted.files, models: [{ prefix: 'w16_' }] }));
    const xs = [new Uint8Array(243).fill(255), new Uint8Array(243).map(() => r.int(200, 255)), new Uint8Array(243).map(() => r.int(0, 255))];
    for (const x of xs) {
      const ref = runReference(model, x);
      // The accumulators do pass the int8 bound, and the int16 map is not all saturated.
      expect(Math.max(...Array.from(ref.layers[0].data as Int32Array, Math.abs))).toBeGreaterThan(27 * 128 * 255);
      const mm = compareRun(model, emitted.info, ref, engine.run(engineModel(emitted.info), x, { trace: true }));
      expect(mm?.message).toBeUndefined();
    }
  });

  it.skipIf(!haveTool('emcc'))('the emitted C of the integer models == the TS reference at every layer (WebAssembly)', async () => {
    // The first 12 with int8 maps, 6 more with int16 maps (--map-bits 16), the last two of each with ReActNet's stem
    // pool (3x3, stride 2: the rows kernel's shared-column loop).
    const some = models.slice(0, 18).map((m0, k) => {
      const bits = k < 12 ? 8 : 16;
      const m = k % 6 >= 4 ? residualFloatModel(100 + k, { pool3: true }) : m0;
      // Two of the int16 models with int8 stem weights (--stem-weight-bits 8).
      const q = quantizeInt8(m, calibrate(m, inputs(m, 8, 1)), bits, k >= 16 ? 8 : bits).model;
      expect(q.layers[0].op === 'qconv2d' && (q.layers[0] as unknown as { weights: ArrayLike<number> }).weights instanceof (bits === 16 && k < 16 ? Int16Array : Int8Array)).toBe(true);
      return { bits, model: q, emitted: emitModel(q, { prefix: `q${k}_`, kernels: (['auto', 'ref', 'fast'] as const)[k % 3] }) };
    });
    // The int8 path's chains run fused: the stem conv + pool + requant by rows, the shortcut conv + requant, and every
    // binary conv with its block's requant (the skip added in place): no int32 map is stored (only the scores' vector).
    for (const c of some) {
      const kernels = c.emitted.info.layers.map((l) => l.kernel);
      const out = c.bits === 16 ? 's16' : 's8';
      expect(kernels.filter((k) => k === `bnn_qconv2d_u8_${out}_rows`), c.model.name).toHaveLength(1);
      // The shortcut conv reads its map's type: int8, or the int16 map itself with --map-bits 16.
      expect(kernels.filter((k) => k === `bnn_qconv2d_${out}_${out}_rows`), c.model.name).toHaveLength(1);
      const bconvs = c.model.layers.filter((l) => l.op === 'bconv2d').length;
      expect(kernels.filter((k) => new RegExp(`^bnn_bconv2d_b1_${out}_(lanes|codebook_ref)$`).test(k)), c.model.name).toHaveLength(bconvs);
      // The shortcut's 2x2 pool writes over the start of its input, which dies there (after the block's RSign).
      const producer = (t: string) => c.emitted.info.layers[c.model.layers.findIndex((x) => x.output === t)];
      const pools = c.emitted.info.layers.filter((x) => x.kernel.startsWith('bnn_avgpool'));
      expect(pools.length, c.model.name).toBeGreaterThan(0);
      for (const l of pools) expect(l.outOffset, c.model.name).toBe(producer(c.model.layers[l.index].inputs[0]).outOffset);
      const stored = c.emitted.info.layers.filter((l) => l.outOffset !== null && l.output.dtype === 'i32' && l.output.shape[1] * l.output.shape[2] > 1);
      expect(stored.map((l) => l.name), c.model.name).toEqual([]);
    }
    // An accumulator's threshold (the tiny stem: qconv2d -> threshold) runs as the conv's own thresholded kernel.
    const tiny = tinyStemModel();
    const tq = quantizeInt8(tiny, calibrate(tiny, [Uint8Array.from([0, 50, 100, 255])])).model;
    const te = emitModel(tq, { prefix: 'qtiny_', kernels: 'auto' });
    expect(te.info.layers.map((l) => l.kernel).slice(0, 2)).toEqual(['bnn_qconv2d_u8_b1_thr', '(fused into 0)']);
    some.push({ bits: 8, model: tq, emitted: te });
    const files: Record<string, string> = {};
    for (const c of some) Object.assign(files, c.emitted.files);
    const engine = await WasmEngine.load(await buildWasm({ files, models: some.map((c) => ({ prefix: c.emitted.info.prefix })) }));
    const failures: string[] = [];
    for (const c of some) {
      for (const x of inputs(c.model, 3, 77)) {
        const mm = compareRun(c.model, c.emitted.info, runReference(c.model, x), engine.run(engineModel(c.emitted.info), x, { trace: true }));
        if (mm) failures.push(`${c.model.name}: ${mm.message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
