// bconv2d -> maxpool runs as one kernel that writes the pooled map (bnn_pool_t, runtime-c/bnn_output.c): every
// bconv2d kernel (codebook and plain _ref, lanes, the sliced kernel's bit planes, byte lanes, batches and output groups)
// with pools that tile, overlap (k > s), pad, and leave positions out (7 -> 3), bit for bit against the reference in
// WebAssembly and in a host build under AddressSanitizer/UBSan; and the arena no longer holds the full-resolution map.
import { describe, expect, it } from 'vitest';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { emitModel, type EmittedModel } from '../generator/src/emit/model-c.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomInput } from '../generator/src/model/random.ts';
import type { KernelChoice } from '../generator/src/ops/types.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { compareRun } from '../generator/src/verify/compare.ts';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { limitFor, withPadValue, withPool } from './fixtures/layers.ts';

interface Case {
  name: string;
  model: Model;
  builds: EmittedModel[];
}

const KINDS: KernelChoice[] = ['ref', 'fast'];
let tag = 0;
function poolCase(name: string, model: Model, scratchLimit?: number): Case {
  tag++;
  return { name, model, builds: KINDS.map((k) => emitModel(model, { prefix: `p${tag}${k}_`, kernels: k, scratchLimit })) };
}

/** A case whose scratch limit pins the slice kernel's working set (`want` matches the planner's reason). */
const pinned = (name: string, model: Model, want: RegExp) => poolCase(name, model, limitFor(model, want));

const cases: Case[] = [
  poolCase('16x16x40 tau 4, 2x2/2', withPool(standardLayerModel(40, 16, 16, 4, 31), [2, 2], [2, 2])),
  poolCase('28x28x32 tau 4, 2x2/2, byte lanes', withPool(standardLayerModel(32, 28, 28, 4, 32), [2, 2], [2, 2])),
  poolCase('7x7x20 tau 3, 3x3/2 pad 1 (overlapping)', withPool(standardLayerModel(20, 7, 7, 3, 33), [3, 3], [2, 2], [1, 1])),
  poolCase('7x7x24 tau 5, 2x2/2 (row and column 6 left out)', withPool(standardLayerModel(24, 7, 7, 5, 34), [2, 2], [2, 2])),
  poolCase('13x7x33 tau 4 pad -1, 3x2/1', withPool(withPadValue(standardLayerModel(33, 13, 7, 4, 35), -1), [3, 2], [1, 1])),
  pinned('8x8x64 tau 4, 2x2/2, bit planes, output groups', withPool(standardLayerModel(64, 8, 8, 4, 36), [2, 2], [2, 2]), /bit planes.*output groups/),
  pinned('16x16x40 tau 4, 2x2/2, bit planes batched', withPool(standardLayerModel(40, 16, 16, 4, 37), [2, 2], [2, 2]), /bit planes, batch 8, 4-bit/),
  pinned('6x6x96 tau 3, 2x2/2, byte lanes output groups', withPool(standardLayerModel(96, 6, 6, 3, 40), [2, 2], [2, 2]), /byte lanes.*output groups/),
  poolCase('9x9x24 dense, 3x3/3', withPool(standardLayerModel(24, 9, 9, null, 38), [3, 3], [3, 3])),
  poolCase('12x10x8 dense, 2x2/2', withPool(standardLayerModel(8, 12, 10, null, 39), [2, 2], [2, 2])),
];

describe('bconv2d -> maxpool fusion', () => {
  it('the example: the arena lower bound is the stem bits plus the first pooled map, and the portable plan reaches it but for scratch', () => {
    const example = loadModel(DEFAULT_MODEL);
    const ref = emitModel(example, { kernels: 'ref' }).info;
    // 32x28x28 bits (3,136 B) alive while b1 writes its 64x14x14 pooled bits (1,568 B).
    expect(ref.arenaLowerBound).toBe(3136 + 1568);
    const scratch = Math.max(...ref.layers.map((l) => l.scratchBytes));
    expect(ref.arenaSize).toBeGreaterThanOrEqual(ref.arenaLowerBound);
    expect(ref.arenaSize).toBeLessThanOrEqual(ref.arenaLowerBound + scratch);
    expect(ref.arenaSize).toBe(5024);
  });

  it('fuses in every build; ref and fast cover every bconv2d kernel; the full-resolution map is never stored', () => {
    const kernels = new Set<string>();
    for (const c of cases) {
      for (const e of c.builds) {
        const conv = e.info.layers.find((l) => l.name === 'conv')!;
        const pool = e.info.layers.find((l) => l.name === 'pool')!;
        expect(pool.kernel, c.name).toBe(`(fused into ${conv.index})`);
        expect(conv.why, c.name).toMatch(/max pool fused/);
        expect(conv.outOffset, c.name).toBeNull();
        kernels.add(conv.kernel + (conv.why!.includes('bit planes') ? ' bit planes' : conv.why!.includes('byte lanes') ? ' byte lanes' : '') + (conv.why!.includes('output groups') ? ' groups' : ''));
      }
    }
    expect([...kernels].sort()).toEqual([
      'bnn_bconv2d_b1_acc_codebook_ref', 'bnn_bconv2d_b1_acc_lanes', 'bnn_bconv2d_b1_acc_plain_ref',
      'bnn_bconv2d_b1_b1_slice bit planes', 'bnn_bconv2d_b1_b1_slice bit planes groups', 'bnn_bconv2d_b1_b1_slice byte lanes', 'bnn_bconv2d_b1_b1_slice byte lanes groups',
    ]);
  });

  it.skipIf(!haveTool('emcc'))('WebAssembly: every build == the TS reference, every layer, 3 inputs', async () => {
    const builds = cases.flatMap((c) => c.builds);
    const engine = await WasmEngine.load(await buildWasm({ files: Object.assign({}, ...builds.map((e) => e.files)), models: builds.map((e) => ({ prefix: e.info.prefix })) }));
    const failures: string[] = [];
    for (const c of cases)
      for (let k = 0; k < 3; k++) {
        const x = randomInput(c.model, 300 + k);
        const ref = runReference(c.model, x);
        for (const e of c.builds) {
          const m = compareRun(c.model, e.info, ref, engine.run(engineModel(e.info), x, { trace: true }));
          if (m) failures.push(`${c.name} ${e.info.prefix} input ${k}: ${m.message}`);
        }
      }
    expect(failures).toEqual([]);
  });

  it.skipIf(!haveTool('gcc'))('host build under AddressSanitizer + UBSan: clean, == the reference', async () => {
    const builds = cases.flatMap((c) => c.builds);
    const exe = await buildHost({ files: Object.assign({}, ...builds.map((e) => e.files)), models: builds.map((e) => ({ prefix: e.info.prefix })), sanitize: true });
    const failures: string[] = [];
    for (const c of cases)
      for (const e of c.builds) {
        const inputs = [0, 1].map((k) => randomInput(c.model, 600 + k));
        (await runHost(exe, engineModel(e.info), inputs)).forEach((run, k) => {
          const m = compareRun(c.model, e.info, runReference(c.model, inputs[k]), run);
          if (m) failures.push(`${c.name} ${e.info.prefix} input ${k}: ${m.message}`);
        });
      }
    expect(failures).toEqual([]);
  });
});
