// conv2d -> [affine] -> maxpool fused (bnn_conv2d_{u8,s8,f32}_f32_maxpool: a ResNet stem pooled one conv row at a
// time, so the full-resolution map is never stored): a hand-checked case (ties between -0 and +0, a window cut by
// padding), seeded random stems (integral weights and inputs, so equal values and signed zeros are common) against
// the TS reference at every stored layer in WebAssembly, a host build under AddressSanitizer/UBSan, and firmware
// under QEMU on the Cortex-M4 and the micro:bit; the arena holds one conv row, not the map.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTree } from '../generator/src/core/files.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { generate } from '../generator/src/generate.ts';
import { Rand } from '../generator/src/ir/random.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { INPUT_TENSOR, type Model } from '../generator/src/model/ir.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-stempool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const f = (v: number[]) => Float32Array.from(v);
const pad = (p: number) => ({ top: p, left: p, bottom: p, right: p });

interface Spec {
  C: number; H: number; W: number; O: number; k: number; s: number; p: number; pk: number; ps: number; pp: number;
  dtype: 'u8' | 'i8'; floatIn: boolean; affine: boolean; integral: boolean; N: number;
}

/** input -> [conv2d (f32 map) ->] conv2d -> [affine] -> maxpool -> binarize -> flatten -> dense. */
function stemModel(seed: number, sp: Spec): Model {
  const r = new Rand(seed);
  const { C, O, integral } = sp;
  const num = (n: number, s: number) => (integral ? f(Array.from({ length: n }, () => r.int(-3, 3) * (r.bool(0.1) ? -0 : 1))) : r.floats(n, s));
  const layers: Model['layers'] = [];
  let t = INPUT_TENSOR, c = C;
  if (sp.floatIn) {
    layers.push({ op: 'conv2d', name: 'pre', inputs: [t], output: 'pre', outChannels: 2, kernel: [1, 1], stride: [1, 1], pad: pad(0), weights: num(2 * C, 0.5), bias: num(2, 0.5) });
    t = 'pre'; c = 2;
  }
  layers.push({ op: 'conv2d', name: 'stem', inputs: [t], output: 'c', outChannels: O, kernel: [sp.k, sp.k], stride: [sp.s, sp.s], pad: pad(sp.p), weights: num(O * c * sp.k * sp.k, 0.5), bias: num(O, 0.5) });
  t = 'c';
  if (sp.affine) {
    layers.push({ op: 'affine', name: 'bn', inputs: [t], output: 'a', scale: integral ? f(Array.from({ length: O }, (_, o) => [2, -1, 0, -0, 1][o % 5])) : r.floats(O, 1), bias: num(O, 0.5) });
    t = 'a';
  }
  layers.push({ op: 'maxpool', name: 'pool', inputs: [t], output: 'p', kernel: [sp.pk, sp.pk], stride: [sp.ps, sp.ps], pad: pad(sp.pp) });
  layers.push({ op: 'binarize', name: 'sign', inputs: ['p'], output: 'b', shift: null });
  layers.push({ op: 'flatten', name: 'flat', inputs: ['b'], output: 'v' });
  const conv = (n: number) => Math.floor((n + 2 * sp.p - sp.k) / sp.s) + 1;
  const pooled = (n: number) => Math.floor((conv(n) + 2 * sp.pp - sp.pk) / sp.ps) + 1;
  layers.push({ op: 'dense', name: 'fc', inputs: ['v'], output: 'scores', outFeatures: sp.N, weights: r.floats(sp.N * O * pooled(sp.H) * pooled(sp.W), 0.5), bias: r.floats(sp.N, 0.5) });
  const scale = integral ? f(Array(C).fill(1)) : f(Array.from({ length: C }, () => 1 / (100 + r.int(0, 100))));
  const bias = integral ? f(Array.from({ length: C }, () => (sp.dtype === 'u8' ? -r.int(0, 2) : 0))) : r.floats(C, 1);
  return { name: `stempool${seed}`, input: { shape: [C, sp.H, sp.W], dtype: sp.dtype, zeroPoint: 0, scale, bias }, layers, output: 'scores' };
}

const base: Spec = { C: 3, H: 12, W: 12, O: 5, k: 3, s: 2, p: 1, pk: 3, ps: 2, pp: 1, dtype: 'u8', floatIn: false, affine: true, integral: true, N: 3 };
const SPECS: [string, Spec][] = [
  ['3x12x12 3x3/2 pad 1, affine, pool 3x3/2 pad 1 (ReActNet stem shape), integral', base],
  ['3x17x15 7x7/2 pad 3, pool 3x3/2 pad 1, float', { ...base, H: 17, W: 15, k: 7, p: 3, integral: false, O: 6 }],
  ['i8 2x9x11 3x3/1, no affine, pool 2x2/2, integral', { ...base, C: 2, H: 9, W: 11, s: 1, p: 0, pk: 2, ps: 2, pp: 0, dtype: 'i8', affine: false }],
  ['f32 input (a conv before), pool 3x3/1 pad 1, integral', { ...base, H: 8, W: 8, s: 1, ps: 1, floatIn: true }],
  ['pool 3x3/3 pad 0 over 8x8 (rows past the last window), 33 channels', { ...base, H: 16, W: 16, O: 33, pk: 3, ps: 3, pp: 0, integral: false }],
  ['pool 2x2/1 pad 1 (every row in two windows)', { ...base, H: 6, W: 7, s: 1, pk: 2, ps: 1, pp: 1 }],
];
const convW = (sp: Spec) => Math.floor((sp.W + 2 * sp.p - sp.k) / sp.s) + 1;
const HAND: Model = {
  name: 'hand', input: { shape: [1, 4, 6], dtype: 'u8', zeroPoint: 0, scale: f([1]), bias: f([0]) },
  layers: [
    { op: 'conv2d', name: 'stem', inputs: [INPUT_TENSOR], output: 'c', outChannels: 1, kernel: [1, 1], stride: [1, 1], pad: pad(0), weights: f([1]), bias: f([-2]) },
    { op: 'affine', name: 'bn', inputs: ['c'], output: 'a', scale: f([-1]), bias: f([-0]) },
    { op: 'maxpool', name: 'pool', inputs: ['a'], output: 'p', kernel: [3, 3], stride: [2, 2], pad: pad(1) },
    { op: 'binarize', name: 'sign', inputs: ['p'], output: 'b', shift: f([-1]) },
    { op: 'flatten', name: 'flat', inputs: ['b'], output: 'v' },
    { op: 'dense', name: 'fc', inputs: ['v'], output: 'scores', outFeatures: 2, weights: f([1, 2, 4, 8, 16, 32, -1, 1, -1, 1, -1, 1]), bias: f([0, 0]) },
  ],
  output: 'scores',
};
const HAND_X = { data: Uint8Array.from([5, 5, 3, 2, 2, 2, 4, 5, 3, 2, 2, 2, 5, 5, 5, 5, 2, 0, 5, 5, 5, 5, 2, 2]) };
const cases = [{ name: 'by hand', model: HAND, rowBytes: 4 * (1 * 6 + 1) }, ...SPECS.map(([name, sp], i) => ({ name, model: stemModel(300 + i, sp), rowBytes: 4 * (sp.O * convW(sp) + (sp.floatIn ? 2 : sp.C) * sp.k * sp.k) }))];
for (let s = 0; s < 14; s++) {
  const r = new Rand(500 + s);
  const k = r.pick([1, 3, 5]);
  const sp: Spec = { C: r.int(1, 3), H: r.int(5, 13), W: r.int(5, 13), O: r.int(1, 36), k, s: r.int(1, 2), p: r.int(0, (k - 1) / 2), pk: r.int(1, 3), ps: r.int(1, 3), pp: 0,
    dtype: r.pick(['u8', 'i8'] as const), floatIn: r.bool(0.25), affine: r.bool(0.7), integral: r.bool(), N: r.int(1, 6) };
  // The pool window fits the conv output (at least 1 x 1 here), padded by at most half the window.
  sp.pk = Math.min(sp.pk, convW(sp), Math.floor((sp.H + 2 * sp.p - sp.k) / sp.s) + 1);
  sp.pp = r.int(0, Math.floor(sp.pk / 2));
  cases.push({ name: `random ${500 + s}`, model: stemModel(500 + s, sp), rowBytes: 4 * (sp.O * convW(sp) + (sp.floatIn ? 2 : sp.C) * sp.k * sp.k) });
}

describe('conv2d -> [affine] -> maxpool: the fused kernel', () => {
  it('by hand: the pooled floats of a ReActNet-shaped pool (3x3/2 pad 1): windows cut by padding, all negative, only -0', () => {
    // y = (x - 2) * -1 + -0: x = 2 -> -0 (+0 * -1 = -0, -0 + -0 = -0), 3 -> -1, 4 -> -2, 5 -> -3, 0 -> 2:
    //   -3 -3 -1 -0 -0 -0
    //   -2 -3 -1 -0 -0 -0
    //   -3 -3 -3 -3 -0  2
    //   -3 -3 -3 -3 -0 -0
    // Windows rows {0-1, 1-3} x cols {0-1, 1-3, 3-5}, scanned ky, kx: the first value, then strictly greater ones:
    // (0,0) -2; (0,1) -0 (from column 3; -1 came first, -0 > -1); (0,2) -0; (1,0) -2; (1,1) -0; (1,2) 2.
    const out = runReference(HAND, HAND_X.data).layers[2].data;
    expect([...out].map((v) => (Object.is(v, -0) ? '-0' : String(v)))).toEqual(['-2', '-0', '-0', '-2', '-0', '2']);
    const e = emitModel(HAND, { kernels: 'auto' });
    expect(e.info.layers[0].kernel).toBe('bnn_conv2d_u8_f32_maxpool');
    expect(e.info.layers[0].scratchBytes).toBe(4 * (1 * 6 + 1)); // one conv row and a 1-tap patch
  });

  it('is picked for every case (auto and ref), with one conv row of scratch and no full-resolution map in the arena', () => {
    for (const c of cases) {
      for (const kernels of ['auto', 'ref'] as const) {
        const e = emitModel(c.model, { kernels });
        const stem = e.info.layers.find((l) => l.name === 'stem')!;
        expect(stem.kernel, c.name).toMatch(/^bnn_conv2d_(u8|s8|f32)_f32_maxpool$/);
        expect(stem.scratchBytes, c.name).toBe(c.rowBytes);
      }
    }
  });
});

const KINDS = ['ref', 'auto'] as const;
const emitted = cases.map((c, i) => Object.fromEntries(KINDS.map((k) => [k, emitModel(c.model, { prefix: `sp${i}${k}_`, kernels: k })])) as Record<(typeof KINDS)[number], ReturnType<typeof emitModel>>);
const inputsOf = (c: (typeof cases)[number], seed: number): (Uint8Array | Int8Array)[] => [...(c.model === HAND ? [HAND_X.data] : []), ...[0, 1, 2].map((k) => randomInput(c.model, seed + k))];

describe.skipIf(!haveTool('emcc'))('WebAssembly: ref and auto builds == TS reference, every stored layer', () => {
  it(`${cases.length} models x 2 builds`, async () => {
    const builds = emitted.flatMap((e) => KINDS.map((k) => e[k]));
    const engine = await WasmEngine.load(await buildWasm({ files: Object.assign({}, ...builds.map((e) => e.files)), models: builds.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    let runs = 0;
    cases.forEach((c, i) => {
      for (const x of inputsOf(c, 41)) {
        const ref = runReference(c.model, x);
        for (const kind of KINDS) {
          const m = compareRun(c.model, emitted[i][kind].info, ref, engine.run(engineModel(emitted[i][kind].info), x, { trace: true }));
          if (m) failures.push(`${c.name} ${kind}: ${m.message}`);
          runs++;
        }
      }
    });
    expect(failures).toEqual([]);
    expect(runs).toBe(2 * (3 * cases.length + 1));
  });
});

describe.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan', () => {
  it('every case matches the reference', async () => {
    const exe = await buildHost({ files: Object.assign({}, ...emitted.map((e) => e.auto.files)), models: emitted.map((e) => ({ prefix: e.auto.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const inputs = inputsOf(c, 700);
      const runs = await runHost(exe, engineModel(emitted[i].auto.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, emitted[i].auto.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.name} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('firmware under QEMU: golden outputs from the reference', () => {
  const boards: [string, string][] = [['mps2-an386', 'cortex-m4'], ['microbit', 'cortex-m0']];
  for (const [board, cpu] of boards) {
    for (const i of [1, 2, 4]) {
      it(`${board}: ${cases[i].name}`, async () => {
        const g = generate(cases[i].model, { target: getTarget(cpu), board: loadBoard(board), goldenCount: 4, seed: 3, kernels: 'auto' });
        expect(g.info.layers.find((l) => l.name === 'stem')!.kernel).toMatch(/_f32_maxpool$/);
        const dir = join(work, `${board}-${i}`);
        writeTree(dir, g.files);
        const { elf } = await buildFirmware(dir);
        const r = await runQemu(elf, loadBoard(board));
        expect(r.stdout).toMatch(/^PASS 4\/4$/m);
        expect(r.exitCode).toBe(0);
      });
    }
  }
});
