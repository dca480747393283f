// Fast kernels (runtime-c/bnn_bconv2d_lanes.c, runtime-c/bnn_bconv2d_slice.c) against the reference and against the
// _ref build of the same model:
// forced wherever eligible ('fast'), as the cost model picks them ('auto') and never ('ref'), every layer bit for
// bit, in WebAssembly and in a host build under AddressSanitizer/UBSan.
import { describe, expect, it } from 'vitest';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { accOut, limitFor, strided, withPadValue, withPool } from './fixtures/layers.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomInput, randomModel } from '../generator/src/model/random.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

const SEEDS = Array.from({ length: 96 }, (_, i) => 9001 + i);
const KINDS: KernelChoice[] = ['ref', 'auto', 'fast'];

interface Case {
  name: string;
  model: Model;
  emitted: Record<KernelChoice, EmittedModel>;
}

function makeCase(name: string, model: Model, tag: string, scratchLimit?: number): Case {
  const emitted = Object.fromEntries(KINDS.map((k) => [k, emitModel(model, { prefix: `${tag}${k}_`, kernels: k, scratchLimit })])) as Case['emitted'];
  return { name, model, emitted };
}


/** A case whose scratch limit pins the slice kernel's working set (`want` matches the planner's reason). */
const pinned = (name: string, model: Model, tag: string, want: RegExp) => makeCase(name, model, tag, limitFor(model, want));

const small: Case[] = [
  ...[null, 2, 4, 9].map((tau, i) => makeCase(`8x8x40 tau ${tau ?? 'dense'}`, standardLayerModel(40, 8, 8, tau, 3 + i), `s${i}`)),
  makeCase('13x7x33 tau 5', standardLayerModel(33, 13, 7, 5, 9), 's9'),
  makeCase('5x32x8 dense', standardLayerModel(8, 5, 32, null, 10), 's10'),
  // Bit-sliced kernel: channel batches (scratch limit), byte indices (n > 16), partial units, odd C, +-1 padding.
  makeCase('16x16x40 tau 4 batched', standardLayerModel(40, 16, 16, 4, 11), 's11', 8_000),
  makeCase('6x10x21 tau 6 pad +1', withPadValue(standardLayerModel(21, 6, 10, 6, 12), 1), 's12'),
  makeCase('9x9x19 tau 3 pad -1', withPadValue(standardLayerModel(19, 9, 9, 3, 13), -1), 's13'),
  makeCase('32x32x16 tau 8 batched', standardLayerModel(16, 32, 32, 8, 14), 's14', 9_000),
  makeCase('8x8x45 tau 4 byte lanes batched', standardLayerModel(45, 8, 8, 4, 16), 's16', 20_000),
  pinned('16x16x40 tau 4 bit planes batched', standardLayerModel(40, 16, 16, 4, 17), 's17', /bit planes, batch 8, 4-bit/),
  // Output groups: the shared counts once per group of outputs, only a group's accumulators kept.
  pinned('8x8x64 tau 4 bit planes, output groups', standardLayerModel(64, 8, 8, 4, 21), 's21', /bit planes.*output groups/),
  pinned('8x8x96 tau 3 byte lanes, output groups', standardLayerModel(96, 8, 8, 3, 22), 's22', /byte lanes.*output groups/),
  pinned('7x7x44 tau 5 pad +1, output groups', withPadValue(standardLayerModel(44, 7, 7, 5, 23), 1), 's23', /output groups/),
  // Row cache (byte lanes, <= 2 rows per unit): one row per unit; two rows with a partial last unit and pad -1.
  makeCase('20x20x24 tau 4 row cache', standardLayerModel(24, 20, 20, 4, 19), 's19'),
  makeCase('15x16x16 tau 3 row cache pad -1', withPadValue(standardLayerModel(16, 15, 16, 3, 20), -1), 's20'),
  // Lanes kernel in column tiles (maps wider than 32): 2 tiles of 20; 3 tiles (21, 21, 19) with pad -1; i32 out and
  // no padding (35 -> 33 wide: the input wider than 32 as well); a fused max pool; 56 wide (ReActNet's first stage).
  makeCase('6x40x12 tau 4 lanes tiles', standardLayerModel(12, 6, 40, 4, 24), 's24'),
  makeCase('5x61x9 dense pad -1 lanes tiles', withPadValue(standardLayerModel(9, 5, 61, null, 25), -1), 's25'),
  makeCase('4x35x10 tau 3 i32 valid lanes tiles', accOut(standardLayerModel(10, 4, 35, 3, 26), true), 's26'),
  makeCase('6x44x8 tau 4 pad +1 pooled lanes tiles', withPadValue(withPool(standardLayerModel(8, 6, 44, 4, 27), [2, 2], [2, 2]), 1), 's27'),
  makeCase('3x56x16 tau 5 i32 lanes tiles', accOut(standardLayerModel(16, 3, 56, 5, 28)), 's28'),
  // Lanes kernel at stride 2 (even and odd column words): both ways, each way alone, odd sizes, pad -1, i32 out,
  // ReActNet's 56 -> 28 downsampling (one tile reading 57 input columns) and 70 -> 35 (two tiles of 18 and 17).
  makeCase('12x10x8 tau 4 stride 2', strided(standardLayerModel(8, 12, 10, 4, 29), 2, 2, 1), 's29'),
  makeCase('9x13x7 dense stride (2, 1) pad -1', withPadValue(strided(standardLayerModel(7, 9, 13, null, 30), 2, 1, 1), -1), 's30'),
  makeCase('7x11x12 tau 3 stride (1, 2) i32', accOut(strided(standardLayerModel(12, 7, 11, 3, 31), 1, 2, 1)), 's31'),
  makeCase('6x56x12 tau 5 stride 2 i32', accOut(strided(standardLayerModel(12, 6, 56, 5, 32), 2, 2, 1)), 's32'),
  makeCase('5x70x6 tau 4 stride 2 tiles, no padding, pad +1', withPadValue(strided(standardLayerModel(6, 5, 70, 4, 33), 2, 2, 0), 1), 's33'),
];
const random: Case[] = SEEDS.map((s) => makeCase(`random ${s}`, randomModel(s), `r${s}`));

describe('fast kernel choice', () => {
  it('ref never uses a fast kernel; fast covers shared and per-kernel paths, every pad value, b1 and i32 outputs', () => {
    const seen = new Set<string>();
    for (const c of [...small, ...random]) {
      for (const l of c.emitted.ref.info.layers) expect(l.kernel).not.toMatch(/lanes|slice/);
      for (const k of ['auto', 'fast'] as const) {
        c.emitted[k].info.layers.forEach((l, i) => {
          if (l.kernel !== 'bnn_bconv2d_b1_acc_lanes') return;
          const layer = c.model.layers[i] as Extract<Model['layers'][number], { op: 'bconv2d' }>;
          seen.add(l.why!.includes('shared') ? 'shared' : 'per-kernel');
          seen.add(`pad${layer.padValue}`);
          seen.add(l.output.dtype);
          seen.add(layer.pad.top === 0 ? 'valid' : 'padded');
          seen.add(layer.weights.kind);
          if (l.why!.includes('column tiles')) seen.add(`tiles ${l.output.dtype}`);
          if (layer.stride[0] === 2 || layer.stride[1] === 2) seen.add(layer.stride[0] === layer.stride[1] ? 'stride 2' : 'stride 2 one way');
        });
      }
    }
    expect([...seen].sort()).toEqual(['b1', 'codebook', 'dense', 'i32', 'pad-1', 'pad0', 'pad1', 'padded', 'per-kernel', 'shared', 'stride 2', 'stride 2 one way', 'tiles b1', 'tiles i32', 'valid']);
  });

  it('fast covers the bit-sliced kernel: every pad value, 4- and 8-bit indices, channel batches, output groups, partial units, the row cache', () => {
    const seen = new Set<string>();
    for (const c of [...small, ...random]) {
      c.emitted.fast.info.layers.forEach((l, i) => {
        if (l.kernel !== 'bnn_bconv2d_b1_b1_slice') return;
        const layer = c.model.layers[i] as Extract<Model['layers'][number], { op: 'bconv2d' }>;
        const [C, H, W] = l.input.shape;
        seen.add(`pad${layer.padValue}`);
        seen.add(l.why!.includes('8-bit indices') ? 'bytes' : 'nibbles');
        seen.add(l.why!.includes('byte lanes') ? 'byte lanes' : 'bit planes');
        seen.add(l.why!.includes(`batch ${C},`) ? 'one batch' : l.why!.includes('byte lanes') ? 'byte lanes batched' : 'batched');
        if (H % Math.max(1, Math.floor(32 / W)) !== 0) seen.add('partial unit');
        if (C % 8 !== 0) seen.add('channel tail');
        if (l.why!.includes('row cache') || l.why!.includes('row ring')) seen.add('row cache');
        if (l.why!.includes('output groups')) seen.add(l.why!.includes('byte lanes') ? 'byte lanes groups' : 'bit planes groups');
      });
    }
    expect([...seen].sort()).toEqual(['batched', 'bit planes', 'bit planes groups', 'byte lanes', 'byte lanes batched', 'byte lanes groups', 'bytes', 'channel tail', 'nibbles', 'one batch', 'pad-1', 'pad0', 'pad1', 'partial unit', 'row cache']);
  });

  it('auto picks the bit-sliced kernel for the standard codebook shapes and the lanes kernel for dense weights', () => {
    for (const [C, H] of [[64, 16], [32, 32], [128, 8]]) {
      for (const tau of [null, 3, 4, 5]) {
        const e = emitModel(standardLayerModel(C, H, H, tau), { kernels: 'auto' });
        const conv = e.info.layers.find((l) => l.name === 'conv')!;
        expect(conv.kernel, `${H}x${H}x${C} tau ${tau}`).toBe(tau === null ? 'bnn_bconv2d_b1_acc_lanes' : 'bnn_bconv2d_b1_b1_slice');
      }
    }
  });
});

describe.skipIf(!haveTool('emcc'))('WebAssembly: ref, auto and fast builds == TS reference, every layer', () => {
  it(`${small.length + random.length} models x 3 builds x 2 inputs`, async () => {
    const cases = [...small, ...random];
    const builds = cases.flatMap((c) => KINDS.map((k) => c.emitted[k]));
    const files: Record<string, string> = {};
    for (const e of builds) Object.assign(files, e.files);
    const engine = await WasmEngine.load(await buildWasm({ files, models: builds.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    for (const c of cases) {
      for (let k = 0; k < 2; k++) {
        const x = randomInput(c.model, 77 + k);
        const ref = runReference(c.model, x);
        const scores: string[] = [];
        for (const kind of KINDS) {
          const run = engine.run(engineModel(c.emitted[kind].info), x, { trace: true });
          const m = compareRun(c.model, c.emitted[kind].info, ref, run);
          if (m) failures.push(`${c.name} ${kind} input ${k}: ${m.message}`);
          scores.push(Buffer.from(new Uint8Array(run.scores.buffer, run.scores.byteOffset, run.scores.byteLength)).toString('hex'));
        }
        if (new Set(scores).size !== 1) failures.push(`${c.name} input ${k}: ref/auto/fast scores differ`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan, fast kernels forced', () => {
  it('small and random models run clean with the arena at exactly ARENA_SIZE and match the reference', async () => {
    const cases = [...small, ...random.slice(0, 32)];
    const exe = await buildHost({ files: Object.assign({}, ...cases.map((c) => c.emitted.fast.files)), models: cases.map((c) => ({ prefix: c.emitted.fast.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const c of cases) {
      const inputs = [0, 1].map((k) => randomInput(c.model, 500 + k));
      const runs = await runHost(exe, engineModel(c.emitted.fast.info), inputs);
      runs.forEach((run, k) => {
        const m = compareRun(c.model, c.emitted.fast.info, runReference(c.model, inputs[k]), run);
        if (m) failures.push(`${c.name} input ${k}: ${m.message}`);
      });
    }
    expect(failures).toEqual([]);
  });
});
