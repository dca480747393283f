// qconv2d on an int16 map (the int8 path's 1x1 shortcut convs at --map-bits 16, after a 2x2 average pool that writes
// over its input): a hand-computed case, the int32 bound's extremes through the C kernels (WebAssembly), and the
// quantizer's weights that keep 65535 * sum |w| within int32.
import { describe, expect, it } from 'vitest';
import { emitModel } from '../generator/src/emit/model-c.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { Rand } from '../generator/src/model/random.ts';
import { sumBoundedWeights } from '../generator/src/ops/shared/int8-path.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { Builder } from './fixtures/builder.ts';

const P0 = { top: 0, left: 0, bottom: 0, right: 0 };
/** requant with U = 256 acc (mult 2^20, shift 12): the int16 output is the accumulator itself, clamped. */
const identity16 = (C: number) => ({ op: 'requant', mult: [new Int32Array(C).fill(2 ** 20)], shift: 12, bias: new Int32Array(C), zeroPoint: 0, bits: 16 });

/**
 * u8 input -> a 1x1 qconv2d and requant that make an int16 map (values set by the input and `gain`) -> [avgpool 2x2/2
 * when `pooled`] -> qconv2d 1x1 on the int16 map -> requant to int16 (the accumulator itself, clamped; the chain runs
 * as one rows kernel) -> requant to int8, flatten, qdense (a model's scores are an int32 or float vector).
 */
function shortcutModel(C: number, H: number, weights: Int16Array, bias: Int32Array, zeroPoint: number, gain: number, pooled = true): Model {
  const g = new Builder({ shape: [C, H, H], dtype: 'u8', zeroPoint: 128, scale: new Float32Array(C).fill(1 / 128), bias: new Float32Array(C).fill(-1) });
  // Channel c of the int16 map: (q - 128) * gain, clamped to int16 by the requant.
  const eye = new Int8Array(C * C).map((_, k) => (Math.floor(k / C) === k % C ? 1 : 0));
  g.add({ ...g.names(), op: 'qconv2d', outChannels: C, kernel: [1, 1], stride: [1, 1], pad: P0, weights: eye, bias: new Int32Array(C) } as Layer);
  g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(C).fill(gain * 2 ** 20)], shift: 12, bias: new Int32Array(C), zeroPoint: 0, bits: 16 } as Layer);
  if (pooled) g.add({ ...g.names(), op: 'avgpool', kernel: [2, 2], stride: [2, 2], pad: P0, countIncludePad: false } as Layer);
  const O = bias.length;
  g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [1, 1], stride: [1, 1], pad: P0, weights, bias, zeroPoint } as Layer);
  g.add({ ...g.names(), ...identity16(O) } as Layer);
  g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).fill(2 ** 20)], shift: 20, bias: new Int32Array(O), zeroPoint: 0 } as Layer);
  g.add({ ...g.names(), op: 'flatten' } as Layer);
  const n = g.info.shape[0];
  g.add({ ...g.names(), op: 'qdense', outFeatures: 3, weights: new Int8Array(3 * n).map((_, k) => (k % 7) - 3), bias: new Int32Array(3), zeroPoint: 0 } as Layer);
  return { name: `sc${C}_${H}${pooled ? 'p' : ''}`, input: g.input, layers: g.layers, output: g.cur };
}

/** The shortcut conv's accumulator in a reference run (the layer after the pool, or after the int16 map). */
const accOf = (m: Model, layers: { data: ArrayLike<number> }[]) => layers[m.layers.findIndex((l, k) => k > 0 && l.op === 'qconv2d')].data as Int32Array;

describe('qconv2d on an int16 map, after a 2x2 average pool', () => {
  it('hand-computed: the pooled means rounded half up, each tap w * (mean - zeroPoint), the bias', () => {
    // int16 map [2 channels, 2x2]: channel 0 = 100, 101, -7, 30 (sum 224, mean floor(452 / 8) = 56), channel 1 = -3,
    // -4, -4, -4 (sum -15, mean floor(-26 / 8) = -4). acc = 10 + 3 * (56 + 5) - 2 * (-4 + 5) = 191.
    const values = [100, 101, -7, 30, -3, -4, -4, -4];
    const m = shortcutModel(2, 2, Int16Array.from([3, -2]), Int32Array.from([10]), -5, 1);
    const out = runReference(m, Uint8Array.from(values, (v) => v + 128));
    expect(Array.from(out.layers[2].data as Int16Array)).toEqual([56, -4]);
    expect(Array.from(accOf(m, out.layers))).toEqual([191]);
  });

  it('refuses weights whose sum could pass int32 on an int16 input (65535 * sum |w|)', () => {
    const w = new Int16Array(64).fill(513); // 64 * 513 = 32832 > 32768
    expect(() => shortcutModel(64, 2, w, new Int32Array(1), 0, 1)).toThrow(/int32 accumulator could overflow/);
    expect(() => inferModel(shortcutModel(64, 2, new Int16Array(64).fill(512), new Int32Array(1), 0, 1))).not.toThrow();
  });

  it('the quantizer\'s int16 weights: as fine as max |q| <= 32767 and sum |q| <= 32768 allow, per channel', () => {
    const r = new Rand(5);
    for (const taps of [8, 64, 256]) {
      const w = Float32Array.from({ length: 4 * taps }, () => r.int(-1000, 1000) / 997);
      const { q, delta } = sumBoundedWeights(w, 4, 32768);
      for (let o = 0; o < 4; o++) {
        const row = Array.from(q.subarray(o * taps, (o + 1) * taps));
        const sum = row.reduce((a, v) => a + Math.abs(v), 0);
        expect(sum).toBeLessThanOrEqual(32768);
        expect(Math.max(...row.map(Math.abs))).toBeLessThanOrEqual(32767);
        // Not needlessly coarse: the bound (or 32767) is nearly reached.
        expect(Math.max(sum / 32768, Math.max(...row.map(Math.abs)) / 32767)).toBeGreaterThan(0.99);
        row.forEach((v, k) => expect(Math.abs(v * delta[o] - w[o * taps + k])).toBeLessThanOrEqual(delta[o] / 2 + 1e-12));
      }
    }
  });

  it.skipIf(!haveTool('emcc'))('the C kernels == the reference at the int32 bound: saturated int16 maps, extreme zero points, sum |w| = 32768 (WebAssembly)', async () => {
    const r = new Rand(21);
    const cases: { model: Model; prefix: string }[] = [];
    for (const [C, H] of [[64, 6], [9, 5], [2, 4]] as const) {
      for (const pooled of [true, false]) {
        const O = 5;
        const per = Math.floor(32768 / C);
        // Every channel's sum |w| at the bound (as near as integers allow), signs random.
        const weights = new Int16Array(O * C).map(() => (r.bool() ? per : -per));
        const zeroPoint = r.bool() ? -32768 : 32767;
        const m = shortcutModel(C, H, weights, new Int32Array(O).map(() => r.int(-30, 30)), zeroPoint, 300, pooled);
        cases.push({ model: m, prefix: `${m.name}_` });
      }
    }
    const emitted = cases.map((c) => emitModel(c.model, { prefix: c.prefix, kernels: 'auto' }));
    // The conv and its requant run as one rows kernel on the int16 map; the pool writes over its input's start.
    for (const e of emitted) {
      const kernels = e.info.layers.map((l) => l.kernel);
      expect(kernels.filter((k) => k === 'bnn_qconv2d_s16_s16_rows')).toHaveLength(1);
      const pool = e.info.layers.find((l) => l.kernel === 'bnn_avgpool_s16_s16');
      if (pool) expect(pool.outOffset).toBe(e.info.layers[pool.index - 1].outOffset);
    }
    const files: Record<string, string> = {};
    for (const e of emitted) Object.assign(files, e.files);
    const engine = await WasmEngine.load(await buildWasm({ files, models: cases.map((c) => ({ prefix: c.prefix })) }));
    const failures: string[] = [];
    let extreme = 0;
    for (const [k, c] of cases.entries()) {
      const [C, H] = c.model.input.shape;
      // Saturated inputs (the int16 map at -32768 or 32767 with gain 300), one sign per input, then random bytes.
      const xs = [new Uint8Array(C * H * H).fill(255), new Uint8Array(C * H * H).fill(0), new Uint8Array(C * H * H).map(() => (r.bool() ? 0 : 255)), new Uint8Array(C * H * H).map(() => r.int(0, 255))];
      for (const x of xs) {
        const ref = runReference(c.model, x);
        const acc = accOf(c.model, ref.layers);
        extreme = Math.max(extreme, ...Array.from(acc, Math.abs));
        const mm = compareRun(c.model, emitted[k].info, ref, engine.run(engineModel(emitted[k].info), x, { trace: true }));
        if (mm) failures.push(`${c.model.name}: ${mm.message}`);
      }
    }
    expect(failures).toEqual([]);
    // The accumulators do reach near the int32 bound (65535 * 32768 = 2^31 - 32768).
    expect(extreme).toBeGreaterThan(0.99 * 2 ** 31);
  });
});
