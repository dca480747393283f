// Every op in the registry, on its own: for each op, seeded models put one random layer of it (its own `random`
// entry) between a stem that makes the input type it takes and a head that turns its output into scores, and the
// WebAssembly build of the emitted C must equal the TS reference at every layer (and a sanitized host build too). A new op is covered by adding it to
// the registry; this file does not list ops.
import { describe, expect, it } from 'vitest';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { Rand, randomInput } from '../generator/src/model/random.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { OP_NAMES, OPS, type OpName } from '../generator/src/ops/registry.ts';
import { randomThreshold } from '../generator/src/ops/shared/threshold.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { Builder } from './fixtures/builder.ts';

const SEEDS = 16;
const INPUTS = 3;
const KERNELS: KernelChoice[] = ['auto', 'ref', 'fast'];

type Stem = (r: Rand, g: Builder) => void;

/** Ways to reach each input type from a u8/i8 image: raw, real map, bit map, int map, int8 and int16 maps, and each as
 * a vector. */
const STEMS: Record<string, Stem> = {
  raw: () => {},
  f32: (r, g) => {
    const [C] = g.info.shape;
    const O = r.int(1, 9);
    g.add({ ...g.names(), op: 'conv2d', outChannels: O, kernel: [1, 1], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights: r.floats(O * C, 0.5), bias: r.floats(O, 0.5) });
  },
  b1: (r, g) => qconv(r, g, true),
  i32: (r, g) => qconv(r, g, false),
  // An int8 map of the integer path: an accumulator requantised (the int8 model's stored maps).
  i8: (r, g) => {
    qconv(r, g, false);
    const [C] = g.info.shape;
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(C).map(() => r.int(-(2 ** 18), 2 ** 18))], shift: 20, bias: new Int32Array(C).map(() => r.int(-9000, 9000)), zeroPoint: r.int(-20, 20) });
  },
  // An int16 map (--map-bits 16): the accumulator requantised onto a grid 256 times finer.
  i16: (r, g) => {
    qconv(r, g, false);
    const [C] = g.info.shape;
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(C).map(() => r.int(-(2 ** 26), 2 ** 26))], shift: 20, bias: new Int32Array(C).map(() => r.int(-9000, 9000)), zeroPoint: r.int(-5000, 5000), bits: 16 });
  },
};

function qconv(r: Rand, g: Builder, thresholded: boolean): void {
  const [C] = g.info.shape;
  const O = r.int(1, 40);
  const weights = new Int8Array(O * C).map(() => r.int(-128, 127));
  const bias = new Int32Array(O).map(() => r.int(-5000, 5000));
  g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [1, 1], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, weights, bias, threshold: thresholded ? randomThreshold(r, O, 20000) : undefined });
}

/** Scores from whatever the op made: flatten a map, then a computing layer unless the op's own f32/i32 vector ends it
 * (a reshape cannot make a model's scores). */
function head(r: Rand, g: Builder): void {
  if (g.info.shape[1] !== 1 || g.info.shape[2] !== 1) g.add({ ...g.names(), op: 'flatten' });
  const last = g.layers[g.layers.length - 1];
  if ((g.info.dtype === 'f32' || g.info.dtype === 'i32') && !OPS[last.op].reshapesOnly) return;
  if (g.info.dtype === 'i16') {
    // To int8 first: qdense takes int8 vectors (the int8 path narrows int16 maps the same way).
    const [C] = g.info.shape;
    g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(C).map(() => r.int(1, 2 ** 12))], shift: 12, bias: new Int32Array(C).map(() => r.int(-500, 500)), zeroPoint: r.int(-20, 20) });
  }
  const K = g.info.shape[0];
  if (g.info.dtype === 'i8') {
    const N = r.int(2, 10);
    g.add({ ...g.names(), op: 'qdense', outFeatures: N, weights: new Int8Array(N * K).map(() => r.int(-128, 127)), bias: new Int32Array(N).map(() => r.int(-1000, 1000)), zeroPoint: r.int(-128, 127) });
    return;
  }
  if (g.info.dtype === 'i32') {
    g.add({ ...g.names(), op: 'affine', scale: r.floats(K, 0.5), bias: r.floats(K, 0.5) });
    return;
  }
  const N = r.int(2, 10);
  g.add({ ...g.names(), op: 'dense', outFeatures: N, weights: r.floats(N * K, 0.5), bias: r.floats(N, 0.5) });
}

/** A model whose middle layer is a random layer of `op`, or null when this seed's stems gave it no input it takes. */
function opModel(op: OpName, seed: number): Model | null {
  const r = new Rand(seed * 7919 + OP_NAMES.indexOf(op));
  const dtype = r.bool(0.8) ? 'u8' : 'i8';
  const C = r.int(1, 4);
  const shape: [number, number, number] = [C, r.int(1, 7), r.int(1, 7)];
  const input: Model['input'] = { shape, dtype, zeroPoint: dtype === 'u8' ? r.int(0, 255) : r.int(-128, 127), scale: r.floats(C, 0.02).map((v) => Math.abs(v) + 1e-3), bias: r.floats(C, 1) };
  // Try every (stem, vector?) pair in a seeded order; the first the op accepts wins.
  const tries = Object.keys(STEMS).flatMap((s) => [[s, false], [s, true]] as [string, boolean][]);
  for (let i = tries.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [tries[i], tries[j]] = [tries[j], tries[i]];
  }
  for (const [stem, vector] of tries) {
    const g = new Builder(input);
    STEMS[stem](r, g);
    if (vector && g.cur !== 'input') g.add({ ...g.names(), op: 'flatten' });
    const layer = OPS[op].random(r, g.info, g.names());
    if (!layer) continue;
    g.add(layer as Layer);
    head(r, g);
    const model: Model = { name: `${op}-${seed}`, input, layers: g.layers, output: g.cur };
    inferModel(model);
    return model;
  }
  return null;
}

interface Case {
  op: OpName;
  seed: number;
  model: Model;
  emitted: EmittedModel;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const op of OP_NAMES) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const model = opModel(op, seed);
      if (!model) continue;
      const kernels = KERNELS[seed % KERNELS.length];
      out.push({ op, seed, model, emitted: emitModel(model, { prefix: `${op}${seed}_`, kernels }) });
    }
  }
  return out;
}

describe('every registered op, alone between a stem and a head', () => {
  const all = cases();

  it('each op gets at least half its seeds (its random() accepts some stem)', () => {
    const per = new Map<string, number>();
    for (const c of all) per.set(c.op, (per.get(c.op) ?? 0) + 1);
    expect(OP_NAMES.filter((op) => (per.get(op) ?? 0) < SEEDS / 2)).toEqual([]);
  });

  it('the int16 maps (--map-bits 16) reach each kernel that reads or writes them', () => {
    const c = Object.values(Object.fromEntries(all.flatMap((x) => Object.entries(x.emitted.files)))).join('\n');
    const missing = ['bnn_threshold_s16_b1(', 'bnn_avgpool_s16_s16(', 'bnn_maxpool_s16_s16(', 'bnn_globalavgpool_s16_s16(', 'bnn_requant_s16_s8(', 'bnn_requant_s16_s16(', 'bnn_qconv2d_u8_s16_rows(', 'bnn_avgpool_s16_rq_s8(', 'bnn_qconv2d_s16_acc(']
      .filter((k) => !c.includes(k));
    expect(missing).toEqual([]);
  });

  it.skipIf(!haveTool('emcc'))('WebAssembly build == TS reference at every layer', async () => {
    const files: Record<string, string> = {};
    for (const c of all) Object.assign(files, c.emitted.files);
    const wasm = await buildWasm({ files, models: all.map((c) => ({ prefix: c.emitted.info.prefix })) });
    const engine = await WasmEngine.load(wasm);
    const failures: string[] = [];
    for (const c of all) {
      for (let k = 0; k < INPUTS; k++) {
        const x = randomInput(c.model, c.seed * 31 + k);
        const m = compareRun(c.model, c.emitted.info, runReference(c.model, x), engine.run(engineModel(c.emitted.info), x, { trace: true }));
        if (m) failures.push(`${c.op} seed ${c.seed} input ${k}: ${m.message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan, two seeds per op: clean and equal to the reference', async () => {
    const some = all.filter((c) => c.seed <= 2);
    const files: Record<string, string> = {};
    for (const c of some) Object.assign(files, c.emitted.files);
    const exe = await buildHost({ files, models: some.map((c) => ({ prefix: c.emitted.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const c of some) {
      const inputs = [0, 1].map((k) => randomInput(c.model, c.seed * 131 + k));
      const runs = await runHost(exe, engineModel(c.emitted.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, c.emitted.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.op} seed ${c.seed} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});
