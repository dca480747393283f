// The rows conv's Winograd path (runtime-c/bnn_qconv2d_wino.c): stride-2 convs of 5..8 taps each way with int8
// weights, split by input phase into 4x4-tap components and multiplied as F(3x3, 4x4). The transformed weights are
// checked by hand on one-hot kernels; the emitted C against the TS reference's direct sums, bit for bit, on seeded
// random convs in quantity (WebAssembly: the portable C; the M7's assembly runs in qemu-m4.test.ts).
import { describe, expect, it } from 'vitest';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { Rand } from '../generator/src/model/random.ts';
import type { QConv2dLayer } from '../generator/src/ops/qconv2d.ts';
import { randomPadFix } from '../generator/src/ops/shared/pad-fix.ts';
import { winogradApplies, winogradHalf, winogradWeights } from '../generator/src/ops/shared/winograd.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { Builder } from './fixtures/builder.ts';

const G = [[6, 0, 0, 0], [4, 4, 4, 4], [4, -4, 4, -4], [1, 2, 4, 8], [1, -2, 4, -8], [0, 0, 0, 12]];

function conv(C: number, O: number, kernel: [number, number], weights: Int8Array | Int16Array): QConv2dLayer {
  return { op: 'qconv2d', name: 'c', inputs: ['input'], output: 't', outChannels: O, kernel, stride: [2, 2], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights, bias: new Int32Array(O) };
}

/** The int16 value of component m = 4c + 2py + px, point xi of output channel o in winogradWeights' layout: pair
 * py * C + c, lane px; at the points of B = 5 of a halved layout (7x7), pair c, lane py (px = 1 is not stored: 0). */
function u(w: Uint32Array, O: number, C: number, o: number, m: number, xi: number, half = false): number {
  const P = 2 * C;
  const O4 = O & ~3;
  const [c, py, px] = [m >> 2, (m >> 1) & 1, m & 1];
  const packed = half && xi % 6 === 5;
  if (packed && px === 1) return 0;
  const j = packed ? c : py * C + c;
  const word = xi * O * P + (o < O4 ? ((o >> 2) * P + j) * 4 + (o & 3) : o * P + j);
  return ((w[word] >>> (16 * (packed ? py : px))) << 16) >> 16;
}

// Seeded random convs: input u8 (the model input, its zero point 0..255) or an int8 map; 1..5 channels, odd and even
// sizes (tiles past the edge), every padding 0..k-1 on each side, pad values and padFix tables, out_c of every
// remainder mod 4, weights at the int8 extremes now and then, or int16 past int8 whose transforms fit, with and
// without the pool, int8 and int16 output.
function randomWinoModel(r: Rand, k: number): Model {
  const C = r.int(1, 5);
  const [H, W] = [r.int(8, 19), r.int(8, 19)];
  const u8 = k % 3 !== 2;
  const g = u8
    ? new Builder({ shape: [C, H, W], dtype: 'u8', zeroPoint: r.int(0, 255), scale: new Float32Array(C).fill(1 / 64), bias: new Float32Array(C) })
    : new Builder({ shape: [C, H, W], dtype: 'i8', zeroPoint: r.int(-20, 20), scale: new Float32Array(C).fill(1 / 64), bias: new Float32Array(C) });
  // Every fourth 7x7 (ResNet's stem: the halved layout, winogradHalf).
  const [kh, kw] = k % 4 === 0 ? [7, 7] : [r.int(5, 8), r.int(5, 8)];
  const pad = { top: r.int(0, kh - 1), left: r.int(0, kw - 1), bottom: r.int(0, kh - 1), right: r.int(0, kw - 1) };
  const O = r.int(1, 10);
  const extreme = k % 4 === 1;
  // int16 weights now and then, past int8 but with transforms that fit int16 (a model file's; winogradApplies).
  const weights = k % 5 === 3
    ? new Int16Array(O * C * kh * kw).map(() => r.int(-160, 160))
    : new Int8Array(O * C * kh * kw).map(() => (extreme ? r.pick([-128, 127, -127]) : r.int(-128, 127)));
  const padValues = r.bool(0.4) ? Int32Array.from({ length: C }, () => (u8 ? r.int(0, 255) : r.int(-128, 127))) : undefined;
  const layer = { ...g.names(), op: 'qconv2d', outChannels: O, kernel: [kh, kw], stride: [2, 2], pad, weights, bias: new Int32Array(O).map(() => r.int(-40000, 40000)), ...(u8 ? {} : { zeroPoint: g.input.zeroPoint }), ...(padValues ? { padValues } : {}) } as QConv2dLayer;
  g.add((r.bool(0.4) ? { ...layer, padFix: randomPadFix(r, layer, g.info) } : layer) as Layer);
  if (r.bool(0.6)) g.add({ ...g.names(), op: 'maxpool', kernel: [3, 3], stride: [2, 2], pad: { top: 1, left: 1, bottom: 1, right: 1 } } as Layer);
  const bits = r.bool(0.3) ? 16 : 8;
  g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).map(() => r.int(1 << 20, 1 << 22))], shift: bits === 16 ? 24 : 30, bias: new Int32Array(O).map(() => r.int(-20, 20)), zeroPoint: r.int(-5, 5), ...(bits === 16 ? { bits } : {}) } as Layer);
  g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).fill(2 ** 20)], shift: bits === 16 ? 28 : 20, bias: new Int32Array(O), zeroPoint: 0 } as Layer);
  g.add({ ...g.names(), op: 'flatten' } as Layer);
  const K = g.info.shape.reduce((a, b) => a * b, 1);
  g.add({ ...g.names(), op: 'qdense', outFeatures: 3, weights: new Int8Array(3 * K).map(() => r.int(-5, 5)), bias: new Int32Array(3), zeroPoint: 0 } as Layer);
  return { name: `wino${k}`, input: g.input, layers: g.layers, output: g.cur };
}

/** 36 seeded models, emitted (each takes the Winograd path), and their files. */
function randomWinoModels(): { models: Model[]; emitted: EmittedModel[]; files: Record<string, string> } {
  const r = new Rand(2026);
  const models = Array.from({ length: 36 }, (_, k) => randomWinoModel(r, k));
  const emitted = models.map((m, k) => emitModel(m, { prefix: `w${k}_`, kernels: 'auto' }));
  for (const e of emitted) expect(e.info.layers[0].why ?? '', e.info.prefix).toMatch(/^Winograd F\(3x3, 4x4\)/);
  const files: Record<string, string> = {};
  for (const e of emitted) Object.assign(files, e.files);
  return { models, emitted, files };
}

/** All 0 or all 255 bytes (by seed), random bytes, random extremes; shifted to int8 for an int8 input. */
function winoInputs(m: Model, k: number): (Uint8Array | Int8Array)[] {
  const r = new Rand(900 + k);
  const size = m.input.shape.reduce((a, b) => a * b, 1);
  const xs = [new Uint8Array(size).fill(k % 2 ? 255 : 0), Uint8Array.from({ length: size }, () => r.int(0, 255)), Uint8Array.from({ length: size }, () => r.pick([0, 255]))];
  return m.input.dtype === 'u8' ? xs : xs.map((x) => Int8Array.from(x, (v) => v - 128));
}

describe('Winograd stem', () => {
  it('a one-hot kernel transforms to an outer product of two columns of G, in its phase component only', () => {
    // 7x6, and 7x7 (the halved layout: at B = 5 only phase column 0, two phase rows a word).
    for (const [C, O, kh, kw] of [[2, 6, 7, 6], [3, 5, 7, 7]]) {
      for (const [o, c, ky, kx, v] of [[0, 0, 0, 0, 1], [4, 1, 6, 5, -128], [3, 1, 3, 4, 127], [4, 0, 5, 2, -7], [1, C - 1, 6, 6, 99]]) {
        const weights = new Int8Array(O * C * kh * kw);
        if (kx >= kw) continue;
        weights[((o * C + c) * kh + ky) * kw + kx] = v;
        const l = conv(C, O, [kh, kw], weights);
        const w = winogradWeights(l, C);
        expect(winogradHalf(l)).toBe(kw === 7);
        const m = 4 * c + 2 * (ky & 1) + (kx & 1);
        for (let oo = 0; oo < O; oo++)
          for (let mm = 0; mm < 4 * C; mm++)
            for (let xi = 0; xi < 36; xi++) {
              const want = oo === o && mm === m ? (v * G[Math.floor(xi / 6)][ky >> 1] * G[xi % 6][kx >> 1]) | 0 : 0;
              expect(u(w, O, C, oo, mm, xi, kw === 7), `${kh}x${kw} o ${oo} m ${mm} xi ${xi}`).toBe(want);
            }
      }
    }
    // The extremes: every weight -128 gives -16 * 16 * 128 = -32768 at point (1, 1); at point (1, 2) (G's rows 1 and
    // 2) 127 where the product of their entries is positive, -128 where negative, gives 16 * (8 * 127 + 8 * 128) =
    // 32640: both still int16.
    const all = winogradWeights(conv(1, 1, [7, 7], new Int8Array(49).fill(-128)), 1);
    expect(u(all, 1, 1, 0, 0, 7)).toBe(-32768);
    const signs = new Int8Array(49).map((_, t) => ((t % 7) % 4 === 2 ? -128 : 127));
    const mixed = winogradWeights(conv(1, 1, [7, 7], signs), 1);
    expect(u(mixed, 1, 1, 0, 0, 8)).toBe(32640);
  });

  it('applies to stride-2 convs of 5..8 taps whose transforms fit int16 and sums fit 26 bits', () => {
    const w8 = (n: number) => new Int8Array(n);
    expect(winogradApplies(conv(3, 64, [7, 7], w8(64 * 147)), 3)).toBe(true);
    expect(winogradApplies(conv(3, 4, [5, 8], w8(4 * 120)), 3)).toBe(true);
    expect(winogradApplies(conv(3, 4, [4, 7], w8(4 * 84)), 3)).toBe(false);
    expect(winogradApplies(conv(3, 4, [7, 9], w8(4 * 189)), 3)).toBe(false);
    // int16 weights when their transforms fit int16 and each channel's 255 * sum |w| < 2^25: 200 everywhere gives
    // 16 * 16 * 200 = 51200 at point (1, 1); 900 at the four taps (0 or 1, 0 or 1) of 40 channels gives |U| <= 36 * 900
    // but a sum of 160 * 900 * 255 > 2^25 (2 channels: fits).
    expect(winogradApplies(conv(3, 4, [7, 7], new Int16Array(4 * 147)), 3)).toBe(true);
    expect(winogradApplies(conv(3, 4, [7, 7], new Int16Array(4 * 147).fill(127)), 3)).toBe(true);
    expect(winogradApplies(conv(3, 4, [7, 7], new Int16Array(4 * 147).fill(200)), 3)).toBe(false);
    const corner = (C: number) => new Int16Array(C * 49).map((_, t) => (Math.floor((t % 49) / 7) < 2 && t % 7 < 2 ? 900 : 0));
    expect(winogradApplies(conv(2, 1, [7, 7], corner(2)), 2)).toBe(true);
    expect(winogradApplies(conv(40, 1, [7, 7], corner(40)), 40)).toBe(false);
    expect(winogradApplies({ ...conv(3, 4, [7, 7], w8(4 * 147)), stride: [2, 1] }, 3)).toBe(false);
    // C * 49 * 128 * 255 < 2^25 up to C = 20.
    expect(winogradApplies(conv(20, 4, [7, 7], w8(4 * 20 * 49)), 20)).toBe(true);
    expect(winogradApplies(conv(21, 4, [7, 7], w8(4 * 21 * 49)), 21)).toBe(false);
  });

  // Its scratch (V and M of two tiles, three rows of accumulators) is larger than the direct form's: under a smaller
  // scratch limit (a board's RAM) the direct form runs; 'ref' keeps the direct form too.
  it('falls back to the direct form under a scratch limit it does not fit, and with --kernels ref', () => {
    const g = new Builder({ shape: [3, 40, 40], dtype: 'u8', zeroPoint: 0, scale: new Float32Array(3).fill(1 / 255), bias: new Float32Array(3) });
    const O = 16;
    g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [7, 7], stride: [2, 2], pad: { top: 3, left: 3, bottom: 3, right: 3 }, weights: new Int8Array(O * 147).fill(3), bias: new Int32Array(O) } as Layer);
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).fill(1 << 20)], shift: 28, bias: new Int32Array(O), zeroPoint: 0 } as Layer);
    g.add({ ...g.names(), op: 'globalavgpool' } as Layer);
    g.add({ ...g.names(), op: 'qdense', outFeatures: 2, weights: new Int8Array(2 * O).fill(1), bias: new Int32Array(2), zeroPoint: 0 } as Layer);
    const model: Model = { name: 'fallback', input: g.input, layers: g.layers, output: g.cur };
    const layer = (opts: Parameters<typeof emitModel>[1]) => emitModel(model, opts).info.layers[0];
    const wide = layer({ kernels: 'auto' });
    const direct = layer({ kernels: 'ref' });
    expect(wide.why).toMatch(/^Winograd/);
    expect(direct.why).not.toMatch(/Winograd/);
    // V and M: 72 * (2 * 3 + 16) words; three rows of 16 x 20 accumulators (no pool: no requantised row).
    expect(wide.scratchBytes).toBe(4 * (72 * 22 + 3 * 320));
    expect(direct.scratchBytes).toBeLessThan(wide.scratchBytes);
    expect(layer({ kernels: 'auto', scratchLimit: wide.scratchBytes }).why).toMatch(/^Winograd/);
    expect(layer({ kernels: 'auto', scratchLimit: wide.scratchBytes - 1 }).why).not.toMatch(/Winograd/);
  });

  // The seeded convs below (randomWinoModels), each on all-0 or all-255 bytes, random bytes and random extremes.
  it.skipIf(!haveTool('emcc'))('seeded random stride-2 convs by Winograd == the TS reference, bit for bit (WebAssembly)', async () => {
    const { models, emitted, files } = randomWinoModels();
    const engine = await WasmEngine.load(await buildWasm({ files, models: emitted.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    models.forEach((m, k) => {
      for (const x of winoInputs(m, k)) {
        const mm = compareRun(m, emitted[k].info, runReference(m, x), engine.run(engineModel(emitted[k].info), x, { trace: true }));
        if (mm) failures.push(`${m.name}: ${mm.message}`);
      }
    });
    expect(failures).toEqual([]);
  });

  // The same C on the host under AddressSanitizer and UBSan: the sums that wrap are unsigned, the gathers stay inside
  // the input, the scratch inside the arena.
  it.skipIf(!haveTool('gcc'))('the same convs on the host under AddressSanitizer + UBSan: clean and bit-exact', async () => {
    const { models, emitted, files } = randomWinoModels();
    const exe = await buildHost({ files, models: emitted.map((e) => ({ prefix: e.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const [k, m] of models.entries()) {
      const xs = winoInputs(m, k);
      const runs = await runHost(exe, engineModel(emitted[k].info), xs);
      runs.forEach((run, i) => {
        const mm = compareRun(m, emitted[k].info, runReference(m, xs[i]), run);
        if (mm) failures.push(`${m.name} input ${i}: ${mm.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});
