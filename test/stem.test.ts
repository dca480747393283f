// --stem int8 (generator/src/compact/stem.ts): the float stem (conv2d -> [affine] -> binarize) becomes an int8
// qconv2d with the threshold folded in. Hand-checked thresholds; on seeded random models the integer stem's bits
// equal the rule it states (a (Δ acc + b) + d >= 0), evaluated here independently in double precision; refusals;
// and the CLI prints what it costs. Then its kernel bnn_qconv2d_{u8,s8}_b1_thr (bias, threshold and flip folded
// into one record per channel, ops/qconv2d.ts qthrRecords): the record against the reference's rule on accumulators
// at, around and far from every threshold, and seeded qconv2d layers (thresholds exactly on accumulators, flip, zero
// points, padding, strides, out_c not a multiple of 32) built 'ref' and 'auto' against the TS reference at every
// layer: WebAssembly, host under ASan/UBSan, and firmware under QEMU on the M4 (SMLAD assembly) and the micro:bit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { integerStem, stemCost } from '../generator/src/compact/stem.ts';
import { BnnError } from '../generator/src/core/errors.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { INPUT_TENSOR, type Model } from '../generator/src/model/ir.ts';
import { randomInput, randomModel } from '../generator/src/model/random.ts';
import type { AffineLayer } from '../generator/src/ops/affine.ts';
import type { BinarizeLayer } from '../generator/src/ops/binarize.ts';
import type { Conv2dLayer } from '../generator/src/ops/conv2d.ts';
import type { QConv2dLayer } from '../generator/src/ops/qconv2d.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { generate } from '../generator/src/generate.ts';
import { Rand } from '../generator/src/ir/random.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { qthrRecords, qthrSlots } from '../generator/src/ops/qconv2d.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-stem-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** 1x4x4 u8 input -> conv2d 1x1 (weight w, bias b) -> [affine a, d] -> binarize -> global average pool. */
function tiny(w: number, b: number, affine?: [number, number]): Model {
  const f = (v: number[]) => Float32Array.from(v);
  return {
    name: 'tiny', input: { shape: [1, 4, 4], dtype: 'u8', zeroPoint: 0, scale: f([1 / 255]), bias: f([0]) },
    layers: [
      { op: 'conv2d', name: 'stem', inputs: [INPUT_TENSOR], output: 's', outChannels: 1, kernel: [1, 1], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights: f([w]), bias: f([b]) },
      ...(affine ? [{ op: 'affine' as const, name: 'bn', inputs: ['s'], output: 'sa', scale: f([affine[0]]), bias: f([affine[1]]) }] : []),
      { op: 'binarize', name: 'sign', inputs: [affine ? 'sa' : 's'], output: 'x', shift: null },
      { op: 'globalavgpool', name: 'gap', inputs: ['x'], output: 'scores' },
    ],
    output: 'scores',
  };
}

const stemOf = (m: Model) => m.layers[0] as QConv2dLayer;

describe('integer stem', () => {
  it('folds the threshold by hand: 0.5 x - 0.25 >= 0 is q >= 128; after an affine of -2, +1 every q passes', () => {
    // W' = 0.5 / 255, Δ = W' / 127: weight 127; t = 0.25 / Δ = 16192.5 -> acc = 127 q >= 16193, i.e. q >= 128.
    const a = stemOf(integerStem(tiny(0.5, -0.25)));
    expect([...a.weights]).toEqual([127]);
    expect([a.threshold!.value[0], a.threshold!.flip[0]]).toEqual([16193, 0]);
    // -2 (0.5 x - 0.25) + 1 >= 0: x <= 0.75 / 0.5... as acc <= floor(0.75 / Δ) = 48577 (q <= 382): always +1.
    const b = stemOf(integerStem(tiny(0.5, -0.25, [-2, 1])));
    expect([b.threshold!.value[0], b.threshold!.flip[0]]).toEqual([48577, 1]);
    // A zero affine scale: the constant sign of d.
    const c = stemOf(integerStem(tiny(0.5, -0.25, [0, -1])));
    expect(c.threshold!.value[0]).toBe(2 ** 31 - 1);
    for (const q of [0, 127, 128, 255]) {
      const x = new Uint8Array(16).fill(q);
      expect(runReference(integerStem(tiny(0.5, -0.25)), x).scores[0]).toBe(q >= 128 ? 1 : -1);
    }
  });

  it('random models: the stem bits are a (Δ acc + b) + d >= 0 in double precision, and close to the float stem', () => {
    let checked = 0, changed = 0, total = 0;
    for (let seed = 1; seed <= 400 && checked < 40; seed++) {
      // The input normalisation as a zero point can express it (x = s (q - z)): the integer stem's precondition.
      const r = randomModel(seed);
      const m: Model = { ...r, input: { ...r.input, bias: r.input.scale.map((v) => -r.input.zeroPoint * v) } };
      const conv = m.layers.find((l) => l.op === 'conv2d' && l.inputs[0] === INPUT_TENSOR) as Conv2dLayer | undefined;
      if (!conv) continue;
      let q: Model;
      try {
        q = integerStem(m);
      } catch (e) {
        if (e instanceof BnnError) continue;
        throw e;
      }
      inferModel(q);
      const next = m.layers.filter((l) => l.inputs.includes(conv.output));
      const affine = next[0].op === 'affine' ? (next[0] as AffineLayer) : undefined;
      const binarize = (affine ? m.layers.find((l) => l.inputs.includes(affine.output)) : next[0]) as BinarizeLayer;
      const stem = q.layers.find((l) => l.output === binarize.output) as QConv2dLayer;
      const [C, H, W] = m.input.shape;
      const [kh, kw] = conv.kernel;
      const taps = kh * kw;
      for (let k = 0; k < 2; k++) {
        const x = randomInput(m, 90 + k);
        const qi = q.layers.indexOf(stem);
        const bits = runReference(q, x).layers[qi];
        const [O, OH, OW] = bits.shape;
        for (let o = 0; o < O; o++) {
          let max = 0;
          for (let i = 0; i < C * taps; i++) max = Math.max(max, Math.abs(conv.weights[o * C * taps + i] * m.input.scale[Math.floor(i / taps)]));
          const delta = max / 127;
          const a = affine ? affine.scale[o] : 1;
          const d = (affine ? affine.bias[o] : 0) + (binarize.shift ? binarize.shift[o] : 0);
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++) {
              let acc = 0;
              for (let c = 0; c < C; c++)
                for (let ky = 0; ky < kh; ky++)
                  for (let kx = 0; kx < kw; kx++) {
                    const iy = oy * conv.stride[0] - conv.pad.top + ky, ix = ox * conv.stride[1] - conv.pad.left + kx;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    acc += stem.weights[((o * C + c) * kh + ky) * kw + kx] * (x[(c * H + iy) * W + ix] - m.input.zeroPoint);
                  }
              const want = a * (delta * acc + conv.bias[o]) + d >= 0 ? 1 : -1;
              expect(bits.data[(o * OH + oy) * OW + ox], `seed ${seed} o ${o}`).toBe(want);
            }
        }
      }
      const cost = stemCost(m, q, [randomInput(m, 7)]);
      changed += cost.signChanges;
      total += cost.signs;
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    // Rounding the weights to 8 bits moves few signs (not none: that is the accuracy cost).
    expect(changed / total).toBeLessThan(0.05);
  });

  it('refuses a model without a float stem, and a normalisation its zero point cannot express', () => {
    const noStem = randomModel(3);
    const plain = { ...noStem, layers: noStem.layers.filter((l) => l.op !== 'conv2d') };
    expect(() => integerStem({ ...tiny(1, 0), layers: tiny(1, 0).layers.slice(1) })).toThrow(/no real-valued stem to quantise/);
    expect(plain).toBeTruthy();
    const shifted = tiny(1, 0);
    shifted.input = { ...shifted.input, bias: Float32Array.from([-0.3]) };
    expect(() => integerStem(shifted)).toThrow(/not -zeroPoint \* scale/);
  });

  it('the CLI builds it with --stem int8 and prints its cost on the labelled digits', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'bnn-gen.js'), '--stem', 'int8', '--board', 'microbit', '-q', '-o', join(work, 'out')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stem int8: [\d,]+ of 2,508,800 stem output signs change \(\d+\.\d\d %\) on 100 inputs; accuracy 99\/100 \(99\.00 %\) with the float stem, \d+\/100/);
    expect(r.stdout).toMatch(/bnn_qconv2d_u8_b1_thr/);
    // verify (like memory, bench, golden, run, report) takes --stem too: it checks the C of the int8-stem model.
    const v = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'bnn-gen.js'), 'verify', '--stem', 'int8', '--count', '2', '-q'], { encoding: 'utf8', timeout: 300_000 });
    expect(v.status, v.stderr + v.stdout).toBe(0);
    // The int8 stem replaces conv2d + binarize: 9 layers instead of the float model's 10.
    expect(v.stdout).toMatch(/PASS mnist-sparks: \d+ inputs x 9 layers bit-exact/);
  });
});

// ---- the integer stem's kernel: bnn_qconv2d_{u8,s8}_b1_thr ----------------------------------------------------------

interface QSpec { C: number; H: number; W: number; O: number; k: [number, number]; s: [number, number]; pad: number; dtype: 'u8' | 'i8'; zp: number; bias: number; N: number }

/** Accumulators bias + sum w (q - zp) of a qconv2d (no threshold), [O][OH][OW], computed here independently. */
function qacc(l: QConv2dLayer, x: ArrayLike<number>, [C, H, W]: number[], zp: number): { acc: number[]; OH: number; OW: number } {
  const [kh, kw] = l.kernel, [sh, sw] = l.stride;
  const OH = Math.floor((H + l.pad.top + l.pad.bottom - kh) / sh) + 1, OW = Math.floor((W + l.pad.left + l.pad.right - kw) / sw) + 1;
  const acc: number[] = [];
  for (let o = 0; o < l.outChannels; o++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let s = l.bias[o];
        for (let c = 0; c < C; c++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - l.pad.top + ky, ix = ox * sw - l.pad.left + kx;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += l.weights[((o * C + c) * kh + ky) * kw + kx] * (x[(c * H + iy) * W + ix] - zp);
            }
        acc.push(s);
      }
  return { acc, OH, OW };
}

/** u8/i8 input -> qconv2d + threshold (b1) -> flatten -> dense. Thresholds sit exactly on accumulators of the inputs
 * randomInput(model, 40..42) (some one off, some at the int32 extremes), a quarter of the channels flipped. */
function qconvModel(seed: number, sp: QSpec): Model {
  const r = new Rand(seed);
  const { C, H, W, O, k, s, pad } = sp;
  const taps = C * k[0] * k[1];
  const weights = new Int8Array(O * taps).map(() => (r.bool(0.1) ? r.pick([-128, 127, 0]) : r.int(-128, 127)));
  const bias = new Int32Array(O).map(() => r.int(-sp.bias, sp.bias));
  const q: QConv2dLayer = { op: 'qconv2d', name: 'q', inputs: [INPUT_TENSOR], output: 'b', outChannels: O, kernel: k, stride: s, pad: { top: pad, left: pad, bottom: pad, right: pad }, weights, bias };
  const model: Model = {
    name: `q${seed}`, input: { shape: [C, H, W], dtype: sp.dtype, zeroPoint: sp.zp, scale: Float32Array.from(Array(C).fill(1 / 255)), bias: Float32Array.from(Array(C).fill(-sp.zp / 255)) },
    layers: [q], output: 'scores',
  };
  const x = randomInput(model, 40 + r.int(0, 2));
  const { acc, OH, OW } = qacc(q, x, [C, H, W], sp.zp);
  const value = new Int32Array(O), flip = new Uint8Array(O);
  for (let o = 0; o < O; o++) {
    const on = acc[o * OH * OW + r.int(0, OH * OW - 1)];
    value[o] = r.bool(0.06) ? r.pick([-(2 ** 31), 2 ** 31 - 1]) : on + r.pick([0, 0, 0, -1, 1]);
    flip[o] = r.bool(0.25) ? 1 : 0;
  }
  q.threshold = { value, flip };
  const K = O * OH * OW;
  model.layers = [q, { op: 'flatten', name: 'flat', inputs: ['b'], output: 'v' },
    { op: 'dense', name: 'fc', inputs: ['v'], output: 'scores', outFeatures: sp.N, weights: r.floats(sp.N * K, 0.5), bias: r.floats(sp.N, 0.5) }];
  return model;
}

const qbase: QSpec = { C: 1, H: 9, W: 9, O: 32, k: [3, 3], s: [1, 1], pad: 1, dtype: 'u8', zp: 0, bias: 0, N: 3 };
const QSPECS: [string, QSpec][] = [
  ['u8 1x9x9 3x3 pad 1 -> 32 (the stem shape)', qbase],
  ['u8 1x7x11 3x3 pad 1 -> 37 (two words), zp 128, bias', { ...qbase, H: 7, W: 11, O: 37, zp: 128, bias: 40000 }],
  ['i8 1x8x6 3x3 valid -> 5, zp -7', { ...qbase, H: 8, W: 6, O: 5, pad: 0, dtype: 'i8', zp: -7, bias: 100 }],
  ['u8 1x6x6 3x3 pad 2 -> 64 (rows and columns wholly padded), zp 255', { ...qbase, H: 6, W: 6, O: 64, pad: 2, zp: 255, bias: 5 }],
  ['u8 1x3x3 3x3 pad 1 -> 1, bias near the int32 edge', { ...qbase, H: 3, W: 3, O: 1, bias: 2 ** 31 - 1 - 9 * 32640 }],
  ['u8 1x9x9 3x3 stride 2 -> 33 (9 taps, not sliding)', { ...qbase, O: 33, s: [2, 2], zp: 3 }],
  ['i8 3x7x7 3x3 pad 1 -> 12 (27 taps, odd)', { ...qbase, C: 3, H: 7, W: 7, O: 12, dtype: 'i8', zp: 5, bias: 1000 }],
  ['u8 2x6x9 1x1 -> 40 (2 taps)', { ...qbase, C: 2, H: 6, W: 9, O: 40, k: [1, 1], pad: 0, zp: 17 }],
  ['u8 1x9x9 5x5 pad 2 -> 7 (25 taps)', { ...qbase, O: 7, k: [5, 5], pad: 2, zp: 90 }],
  ['u8 9x4x4 1x1 -> 3 (9 taps, (c, ky, kx) order)', { ...qbase, C: 9, H: 4, W: 4, O: 3, k: [1, 1], pad: 0, zp: 1 }],
  ['u8 1x8x8 3x3 stride (1, 2) -> 9', { ...qbase, H: 8, W: 8, O: 9, s: [1, 2] }],
  ['i8 1x5x12 3x2 stride (2, 1) pad 1 -> 31', { ...qbase, H: 5, W: 12, O: 31, k: [3, 2], s: [2, 1], dtype: 'i8', zp: 127 }],
];
const qcases = QSPECS.map(([name, sp], i) => ({ name, model: qconvModel(1200 + i, sp) }));
for (let i = 0; i < 14; i++) {
  const r = new Rand(1300 + i);
  const dtype = r.pick(['u8', 'i8'] as const);
  const kk = r.pick([[3, 3], [3, 3], [1, 1], [5, 5], [2, 3]] as [number, number][]);
  const C = kk[0] === 3 && kk[1] === 3 ? r.pick([1, 1, 1, 2]) : r.int(1, 2);
  const sp: QSpec = { C, H: r.int(kk[0], 12), W: r.int(kk[1], 12), O: r.int(1, 70), k: kk, s: [r.int(1, 2), r.pick([1, 1, 2])], pad: r.int(0, Math.min(2, kk[0] - 1)), dtype,
    zp: dtype === 'u8' ? r.int(0, 255) : r.int(-128, 127), bias: r.pick([0, 50, 100000]), N: r.int(1, 5) };
  qcases.push({ name: `random ${1300 + i}`, model: qconvModel(1300 + i, sp) });
}

describe('bnn_qconv2d_b1_thr records', () => {
  it('the folded record gives the reference bit at, around and far from every threshold', () => {
    const r = new Rand(77);
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const [C, kh, kw] = r.pick([[1, 3, 3], [1, 1, 1], [3, 3, 3], [2, 1, 3]] as [number, number, number][]);
      const taps = C * kh * kw;
      const weights = new Int8Array(taps).map(() => r.int(-128, 127));
      const bias = Int32Array.of(r.pick([0, r.int(-1e5, 1e5), 2 ** 31 - 1 - taps * 32640, -(2 ** 31) + 1 + taps * 32640]));
      const T = r.pick([r.int(-3e5, 3e5), 2 ** 31 - 1, -(2 ** 31), bias[0], bias[0] + r.int(-3, 3)]);
      const flip = r.bool() ? 1 : 0;
      const l: QConv2dLayer = { op: 'qconv2d', name: 'q', inputs: [INPUT_TENSOR], output: 'b', outChannels: 1, kernel: [kh, kw], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights, bias, threshold: { value: Int32Array.of(T), flip: Uint8Array.of(flip) } };
      const rec = qthrRecords(l, C);
      const pairs = (taps + 1) >> 1;
      expect(rec.length).toBe(pairs + 1);
      const slots = qthrSlots(C, kh, kw);
      // The C kernel's arithmetic on window values v (slot order): init + sum of the halves times v, sign bit.
      const bitOf = (v: number[]) => {
        const x = new Array<number>(2 * pairs).fill(0);
        v.forEach((val, t) => (x[slots[t]] = val));
        let acc = rec[pairs];
        for (let k = 0; k < pairs; k++) acc += ((rec[k] << 16) >> 16) * x[2 * k] + (rec[k] >> 16) * x[2 * k + 1];
        expect(Math.abs(acc)).toBeLessThan(2 ** 31);
        return acc < 0;
      };
      const want = (v: number[]) => {
        const a = bias[0] + v.reduce((s, val, t) => s + weights[t] * val, 0);
        return flip ? a <= T : a >= T;
      };
      // Windows whose sum lands exactly on T - bias and beside it: solve with one free tap where possible.
      for (let j = 0; j < 12; j++) {
        const v = Array.from({ length: taps }, () => r.pick([r.int(-255, 255), 0, 255, -255]));
        const free = weights.findIndex((w) => w === 1 || w === -1);
        if (free >= 0 && j < 6) {
          const rest = v.reduce((s, val, t) => (t === free ? s : s + weights[t] * val), 0);
          const need = (T - bias[0] - rest + (j % 3) - 1) * weights[free];
          if (Math.abs(need) <= 255) v[free] = need;
        }
        expect(bitOf(v), `case ${i} window ${j}`).toBe(want(v));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(4000);
  });

  it("auto and fast pick bnn_qconv2d_*_b1_thr, ref the generic loop; an i32 output keeps the generic loop", () => {
    for (const c of qcases) {
      const dt = c.model.input.dtype === 'u8' ? 'u8' : 's8';
      const taps = c.model.input.shape[0] * (c.model.layers[0] as QConv2dLayer).kernel[0] * (c.model.layers[0] as QConv2dLayer).kernel[1];
      for (const k of ['auto', 'fast'] as const) expect(emitModel(c.model, { kernels: k }).info.layers[0].kernel, c.name).toBe(taps <= 64 ? `bnn_qconv2d_${dt}_b1_thr` : `bnn_qconv2d_${dt}_acc`);
      expect(emitModel(c.model, { kernels: 'ref' }).info.layers[0].kernel).toBe(`bnn_qconv2d_${dt}_acc`);
    }
  });
});

const QKINDS: KernelChoice[] = ['ref', 'auto'];
const qemitted = qcases.map((c, i) => Object.fromEntries(QKINDS.map((k) => [k, emitModel(c.model, { prefix: `q${i}${k}_`, kernels: k })])) as Record<KernelChoice, ReturnType<typeof emitModel>>);
const qinputs = (m: Model) => [40, 41, 42, 7].map((k) => randomInput(m, k));

describe.skipIf(!haveTool('emcc'))('bnn_qconv2d_b1_thr, WebAssembly: ref and auto builds == TS reference, every layer', () => {
  it(`${qcases.length} models x 2 builds x 4 inputs`, async () => {
    const builds = qemitted.flatMap((e) => QKINDS.map((k) => e[k]));
    const engine = await WasmEngine.load(await buildWasm({ files: Object.assign({}, ...builds.map((e) => e.files)), models: builds.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    qcases.forEach((c, i) => {
      for (const x of qinputs(c.model)) {
        const ref = runReference(c.model, x);
        for (const kind of QKINDS) {
          const m = compareRun(c.model, qemitted[i][kind].info, ref, engine.run(engineModel(qemitted[i][kind].info), x, { trace: true }));
          if (m) failures.push(`${c.name} ${kind}: ${m.message}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('gcc'))('bnn_qconv2d_b1_thr, host build under AddressSanitizer + UBSan', () => {
  it('every case matches the reference', async () => {
    const exe = await buildHost({ files: Object.assign({}, ...qemitted.map((e) => e.auto.files)), models: qemitted.map((e) => ({ prefix: e.auto.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const [i, c] of qcases.entries()) {
      const inputs = qinputs(c.model);
      const runs = await runHost(exe, engineModel(qemitted[i].auto.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, qemitted[i].auto.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.name} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('bnn_qconv2d_b1_thr, firmware under QEMU: golden outputs from the reference', () => {
  const boards: [string, string][] = [['mps2-an386', 'cortex-m4'], ['microbit', 'cortex-m0']];
  for (const [board, cpu] of boards) {
    for (const i of [0, 1, 2, 3, 5, 6, 9]) {
      it(`${board}: ${qcases[i].name}`, async () => {
        // Golden inputs randomInput(model, 40..43): the ones the thresholds were placed on.
        const g = generate(qcases[i].model, { target: getTarget(cpu), board: loadBoard(board), goldenCount: 4, seed: 40, kernels: 'auto' });
        expect(g.info.layers[0].kernel).toMatch(/^bnn_qconv2d_(u8|s8)_b1_thr$/);
        const dir = join(work, `q-${board}-${i}`);
        writeTree(dir, g.files);
        const { elf } = await buildFirmware(dir);
        const r = await runQemu(elf, loadBoard(board));
        expect(r.stdout).toMatch(/^PASS 4\/4$/m);
        expect(r.exitCode).toBe(0);
      });
    }
  }
});
