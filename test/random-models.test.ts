// Hundreds of seeded random models: the WebAssembly build of the emitted C must equal the TS reference
// bit for bit at every layer, and a host build under AddressSanitizer/UBSan must run clean and agree too.
import { describe, expect, it } from 'vitest';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomInput, randomModel } from '../generator/src/model/random.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

const MODELS = 320;
const BUNDLE = 64;
const INPUTS = 3;

interface Case {
  seed: number;
  model: Model;
  emitted: EmittedModel;
}

function makeCase(seed: number): Case {
  const model = randomModel(seed);
  return { seed, model, emitted: emitModel(model, { prefix: `m${seed}_` }) };
}

function bundleFiles(cases: Case[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of cases) Object.assign(files, c.emitted.files);
  return files;
}

describe('random models cover the shapes that matter', () => {
  it('every channel count, tau 1..9, stride 2, 1-pixel maps, each padding mode and pad value occur', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= MODELS; seed++) {
      const m = randomModel(seed);
      for (const l of m.layers) {
        if (l.op !== 'bconv2d') continue;
        seen.add(`C${l.outChannels}`);
        seen.add(`pad${l.padValue}`);
        if (l.weights.kind === 'codebook') seen.add(`tau${l.weights.bits}`);
        else seen.add(`k${l.kernel.join('x')}`);
        if (l.stride[0] === 2) seen.add('stride2');
        if (l.pad.top + l.pad.bottom + l.pad.left + l.pad.right === 0) seen.add('valid');
        else seen.add('padded');
      }
      if (m.input.shape[1] === 1 && m.input.shape[2] === 1) seen.add('1x1 input');
      if (m.layers.some((l) => l.op === 'qconv2d')) seen.add('qconv2d');
      if (m.layers.some((l) => l.op === 'qdense')) seen.add('qdense');
      if (m.layers.some((l) => l.op === 'globalavgpool')) seen.add('gap');
      for (const op of ['add', 'prelu', 'clip', 'avgpool'] as const) if (m.layers.some((l) => l.op === op)) seen.add(op);
      m.layers.forEach((l, i) => {
        const next = m.layers[i + 1];
        if (l.op === 'maxpool' && next && (next.op === 'affine' || next.op === 'binarize')) seen.add('maxpool f32');
        if (l.op === 'conv2d' && next && (next.op === 'affine' || next.op === 'binarize')) seen.add('fused stem');
        if (l.op === 'affine' && m.layers[i - 1]?.op === 'bconv2d') seen.add('affine i32');
      });
    }
    const want = [
      ...[1, 3, 17, 31, 32, 33, 65, 100].map((c) => `C${c}`),
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => `tau${t}`),
      'pad0', 'pad1', 'pad-1', 'stride2', 'valid', 'padded', 'k1x1', 'k5x5', 'k3x3', '1x1 input', 'qconv2d', 'qdense', 'gap',
      'maxpool f32', 'fused stem', 'affine i32', 'add', 'prelu', 'clip', 'avgpool',
    ];
    expect(want.filter((w) => !seen.has(w))).toEqual([]);
  });
});

describe.skipIf(!haveTool('emcc'))('WebAssembly build == TS reference, every layer', () => {
  for (let start = 1; start <= MODELS; start += BUNDLE) {
    const seeds = Array.from({ length: Math.min(BUNDLE, MODELS - start + 1) }, (_, i) => start + i);
    it(`models ${seeds[0]}..${seeds[seeds.length - 1]} x ${INPUTS} inputs`, async () => {
      const cases = seeds.map(makeCase);
      const wasm = await buildWasm({ files: bundleFiles(cases), models: cases.map((c) => ({ prefix: c.emitted.info.prefix })) });
      const engine = await WasmEngine.load(wasm);
      const failures: string[] = [];
      let compared = 0;
      for (const c of cases) {
        for (let k = 0; k < INPUTS; k++) {
          const x = randomInput(c.model, c.seed * 1000 + k);
          const m = compareRun(c.model, c.emitted.info, runReference(c.model, x), engine.run(engineModel(c.emitted.info), x, { trace: true }));
          if (m) failures.push(`seed ${c.seed} input ${k}: ${m.message}`);
          compared++;
        }
      }
      expect(failures).toEqual([]);
      expect(compared).toBe(cases.length * INPUTS);
    });
  }
});

describe.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan', () => {
  it('64 random models run clean (arena allocated at exactly ARENA_SIZE) and match the reference', async () => {
    const cases = Array.from({ length: 64 }, (_, i) => makeCase(5000 + i));
    const exe = await buildHost({ files: bundleFiles(cases), models: cases.map((c) => ({ prefix: c.emitted.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const c of cases) {
      const inputs = [0, 1].map((k) => randomInput(c.model, c.seed * 7 + k));
      const runs = await runHost(exe, engineModel(c.emitted.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, c.emitted.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`seed ${c.seed} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});
