// Cortex-M4 firmware under QEMU (mps2-an386): the example and random models, golden outputs from the TS reference.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, RUNTIME_DIR } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { generate } from '../generator/src/generate.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { randomModel } from '../generator/src/model/random.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { accOut, limitFor, strided, withPadValue, withPool, withThresholds } from './fixtures/layers.ts';
import { Builder } from './fixtures/builder.ts';
import { Rand, randomInput } from '../generator/src/model/random.ts';
import { calibrate, quantizeInt8 } from '../generator/src/quantize/index.ts';
import { residualFloatModel } from './fixtures/residual-float.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { getTarget } from '../generator/src/model/target.ts';
import type { QConv2dLayer } from '../generator/src/ops/qconv2d.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-qemu-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function firmwareRun(model: Model, name: string, golden = 4, kernels: 'ref' | 'auto' | 'fast' = 'auto', scratchLimit?: number, boardName = 'mps2-an386') {
  const board = loadBoard(boardName);
  const g = generate(model, { target: getTarget(board.cpu), board, goldenCount: golden, seed: 7, kernels, scratchLimit });
  const dir = join(work, name);
  writeTree(dir, g.files);
  const { elf } = await buildFirmware(dir);
  return { ...(await runQemu(elf, board)), info: g.info };
}


describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('Cortex-M4 firmware under QEMU', () => {
  it('the example model prints PASS', async () => {
    const r = await firmwareRun(loadModel(DEFAULT_MODEL), 'example', 6);
    expect(r.stdout).toMatch(/^PASS 6\/6$/m);
    expect(r.stdout).toMatch(/^stack: \d+ bytes$/m);
    expect(r.exitCode).toBe(0);
  });

  for (const seed of [11, 23, 37, 41, 59, 73, 88, 97]) {
    it(`random model ${seed} prints PASS`, async () => {
      const r = await firmwareRun(randomModel(seed), `random-${seed}`);
      expect(r.stdout).toMatch(/^PASS 4\/4$/m);
      expect(r.exitCode).toBe(0);
    });
  }

  // The fast binary convolution (bnn_bconv2d_b1_acc_lanes) forced on every eligible layer, built for the M4.
  for (const [seed, tau] of [[1, 4], [2, null], [3, 3]] as const) {
    it(`fast kernels: 8x8x40 tau ${tau ?? 'dense'} and random model ${seed + 100} print PASS`, async () => {
      const a = await firmwareRun(standardLayerModel(40, 8, 8, tau, seed), `fast-std-${seed}`, 3, 'fast');
      expect(a.stdout).toMatch(/^PASS 3\/3$/m);
      const b = await firmwareRun(randomModel(seed + 100), `fast-random-${seed}`, 3, 'fast');
      expect(b.stdout).toMatch(/^PASS 3\/3$/m);
    });
  }

  // bnn_bconv2d_b1_b1_slice's Thumb-2 assembly (byte lanes: row patterns, codeword counts, per-output loop) runs only in
  // optimised M4-class builds: every path it has, against the TS reference's golden outputs.
  // A scratch limit of 'pin' is the first at which the planner picks the working set the case names.
  const sliceCases: [string, Model, 'pin' | undefined, RegExp][] = [
    ['16x16x40 tau 4, channel batches (first/last batch)', standardLayerModel(40, 16, 16, 4, 11), 'pin', /byte lanes, batch 8, 4-bit/],
    ['8x8x45 tau 4, batches and a channel tail', standardLayerModel(45, 8, 8, 4, 16), 'pin', /byte lanes, batch 40, 4-bit/],
    ['13x7x48 tau 4, a partial unit', standardLayerModel(48, 13, 7, 4, 5), undefined, /byte lanes/],
    ['16x16x64 tau 2 (n = 4)', standardLayerModel(64, 16, 16, 2, 6), undefined, /byte lanes/],
    ['8x8x64 tau 3', standardLayerModel(64, 8, 8, 3, 7), undefined, /byte lanes/],
    ['9x9x19 tau 3, pad -1', withPadValue(standardLayerModel(19, 9, 9, 3, 13), -1), undefined, /./],
    ['8x8x32 tau 4, pad +1', withPadValue(standardLayerModel(32, 8, 8, 4, 17), 1), undefined, /byte lanes/],
    ['6x10x24 tau 5 (8-bit indices), saturating', standardLayerModel(24, 6, 10, 5, 18), undefined, /saturating/],
    ['20x20x24 tau 4, one row per unit: row ring, saturating', standardLayerModel(24, 20, 20, 4, 19), undefined, /row ring, saturating/],
    ['15x16x16 tau 3, pad -1, row ring (two rows a unit) and a partial last unit', withPadValue(standardLayerModel(16, 15, 16, 3, 20), -1), undefined, /row ring/],
    ['16x16x40 tau 4, row cache with channel batches', standardLayerModel(40, 16, 16, 4, 21), 'pin', /row cache, batch 24,/],
    ['20x20x21 tau 4, row cache (channels not whole groups), saturating with zero-block channels', standardLayerModel(21, 20, 20, 4, 22), undefined, /row cache, saturating/],
    ['12x32x32 tau 4, thresholds above a byte: row ring, 16-bit lanes', withThresholds(standardLayerModel(32, 12, 32, 4, 23), 230, 280, 23), 'pin', /row ring, batch/],
    ['12x32x32 tau 4, thresholds above a byte: row ring, wide lanes', withThresholds(standardLayerModel(32, 12, 32, 4, 23), 230, 280, 23), undefined, /row ring, wide lanes/],
    ['8x8x70 tau 4, pad +1, wide lanes: three chunks, zero-block channels', withPadValue(standardLayerModel(70, 8, 8, 4, 28), 1), undefined, /wide lanes/],
    ['13x7x64 tau 3, wide lanes with a partial unit and a fused 2x2 max pool', withPool(standardLayerModel(64, 13, 7, 3, 29), [2, 2], [2, 2]), undefined, /wide lanes.*max pool fused/],
    ['6x10x136 tau 5 (8-bit indices), pad -1, wide lanes', withPadValue(standardLayerModel(136, 6, 10, 5, 30), -1), undefined, /wide lanes/],
    ['6x32x120 tau 4, saturating with the corner units on 16-bit lanes', withThresholds(standardLayerModel(120, 6, 32, 4, 24), -700, -580, 24), undefined, /row ring, saturating/],
    ['8x8x96 tau 3, byte lanes (assembly) in output groups', standardLayerModel(96, 8, 8, 3, 25), 'pin', /byte lanes.*output groups/],
    ['16x16x40 tau 4, batches of 4 (every channel on the one-channel loop)', standardLayerModel(40, 16, 16, 4, 26), 'pin', /bit planes, batch 4,/],
    ['16x16x32 tau 4, row ring and saturating with a fused 2x2 max pool', withPool(standardLayerModel(32, 16, 16, 4, 27), [2, 2], [2, 2]), undefined, /max pool fused/],
  ];
  for (const [i, [name, model, limit, mode]] of sliceCases.entries()) {
    it(`bit-sliced kernel on the M4: ${name}`, async () => {
      const r = await firmwareRun(model, `slice-${i}`, 3, 'fast', limit && limitFor(model, mode));
      const conv = r.info.layers.find((l) => l.name === 'conv')!;
      expect(conv.kernel).toBe('bnn_bconv2d_b1_b1_slice');
      expect(conv.why).toMatch(mode);
      expect(r.stdout).toMatch(/^PASS 3\/3$/m);
    });
  }

  // bnn_bconv2d_b1_acc_lanes with a shared codebook runs Thumb-2 assembly in optimised M4-class builds: the gather of
  // 4- and 5-bit index words (bnn_bconv2d_lanes_t2.c), the row sums and codeword counts (bnn_bconv2d_slice_t2.c).
  // Codebook layers the sliced kernel cannot take (i32 out, maps wider than 32, stride 2) get it with 'fast'.
  const lanesCases: [string, Model, RegExp][] = [
    ['6x40x45 tau 5, i32: column tiles, two batches, a partial group', accOut(standardLayerModel(45, 6, 40, 5, 31)), /lanes shared codebook, batch 24, 6 indices a word, column tiles/],
    ['8x8x40 tau 4, i32: two batches of whole groups', accOut(standardLayerModel(40, 8, 8, 4, 32)), /lanes shared codebook, batch 24, 8 indices a word/],
    ['5x9x13 tau 5, pad +1, i32: one partial batch', withPadValue(accOut(standardLayerModel(13, 5, 9, 5, 33)), 1), /lanes shared codebook, batch 18, 6 indices/],
    ['9x11x21 tau 4, pad -1, stride 2, i32', withPadValue(strided(accOut(standardLayerModel(21, 9, 11, 4, 34)), 2, 2, 1), -1), /lanes shared codebook, batch 24, 8 indices/],
    ['4x36x30 tau 5, thresholded, column tiles', standardLayerModel(30, 4, 36, 5, 35), /lanes shared codebook, batch 24, 6 indices a word, column tiles/],
    ['6x40x12 tau 4, thresholded, a fused 2x2 max pool', withPool(standardLayerModel(12, 6, 40, 4, 36), [2, 2], [2, 2]), /lanes shared codebook, batch 16, 8 indices.*max pool fused/],
    ['7x7x70 tau 3 (10 indices a word: the C loop), i32', accOut(standardLayerModel(70, 7, 7, 3, 37)), /lanes shared codebook, batch 20, 10 indices/],
  ];
  for (const [i, [name, model, mode]] of lanesCases.entries()) {
    it(`byte-lane kernel, shared codebook, on the M4: ${name}`, async () => {
      const r = await firmwareRun(model, `lanes-${i}`, 3, 'fast');
      const conv = r.info.layers.find((l) => l.name === 'conv')!;
      expect(conv.kernel).toBe('bnn_bconv2d_b1_acc_lanes');
      expect(conv.why).toMatch(mode);
      expect(r.stdout).toMatch(/^PASS 3\/3$/m);
    });
  }

  // The int8 path's residual blocks: bconv2d -> requant (+ the int8 shortcut, with and without RPReLU) fused into the
  // lanes kernel, whose requant loop over a unit's lanes is Thumb-2 assembly here (bnn_ln_rq_s8, bnn_ln_rq_s8_prelu).
  for (const prelu of [true, false]) {
    it(`int8 residual models, ${prelu ? 'with' : 'without'} RPReLU, requant fused into the lanes kernel, on the M4`, async () => {
      for (const seed of [1, 2, 3]) {
        const float = residualFloatModel(300 + seed, { prelu, size: 16 });
        const model = quantizeInt8(float, calibrate(float, [0, 1, 2, 3].map((k) => randomInput(float, seed * 17 + k)))).model;
        const r = await firmwareRun(model, `int8-res-${prelu}-${seed}`, 3, 'fast');
        expect(r.info.layers.filter((l) => l.kernel === 'bnn_bconv2d_b1_s8_lanes').length).toBeGreaterThan(0);
        expect(r.stdout).toMatch(/^PASS 3\/3$/m);
      }
    });
  }

  // --map-bits 16: int16 residual maps and stem weights. The lanes kernel's fused requant to int16 (its assembly loop,
  // bnn_ln_rq_s16 and _prelu, with the int16 skip map's own pre-shift), the rows convs' int16 output and max pool
  // (SSUB16/SEL), the int16 thresholds, the shortcut convs on the pooled int16 map (raw values in the patches, the
  // zero point folded into the bias; the pool written over its input); on the M7 the rows dot products in assembly.
  it('int16 residual models (--map-bits 16) on the M4 and the M7', async () => {
    for (const seed of [1, 2]) {
      const float = residualFloatModel(500 + seed, { size: 16, prelu: seed === 1 });
      const model = quantizeInt8(float, calibrate(float, [0, 1, 2, 3].map((k) => randomInput(float, seed * 19 + k))), 16).model;
      for (const board of ['mps2-an386', 'mps2-an500']) {
        const r = await firmwareRun(model, `int16-res-${seed}-${board}`, 3, 'fast', undefined, board);
        const kernels = r.info.layers.map((l) => l.kernel);
        for (const k of ['bnn_bconv2d_b1_s16_lanes', 'bnn_qconv2d_u8_s16_rows', 'bnn_threshold_s16_b1', 'bnn_avgpool_s16_s16', 'bnn_qconv2d_s16_s16_rows']) expect(kernels, `${board}: ${k}`).toContain(k);
        expect(r.stdout).toMatch(/^PASS 3\/3$/m);
      }
    }
  });

  // The rows conv's dot products: GCC's code on the M4; on the M7 Thumb-2 assembly scheduled for dual issue
  // (bnn_qr_dots, bnn_qconv2d_rows_t2.c) for every group of four channels, two passes of four pairs a loop. Stems of
  // 7x7, 5x5 and 3x3 taps (74, 38, 14 pairs: an even and an odd number of passes, then a tail of 2), 1x1 shortcuts of
  // 4 pairs (no pass, a tail of 4) and of 5..8 (one pass, then a tail of 1..4 pairs), output channel counts of every
  // remainder mod 4 (the last 1..3 channels in C).
  it('int8 rows convs (stem and 1x1 shortcuts) on the M4 and, dot products in assembly, on the M7', async () => {
    for (const [W, K] of [[7, 7], [9, 5], [11, 3], [14, 7], [16, 3]] as const) {
      const float = residualFloatModel(400 + W, { width: W, stemKernel: K, size: 12, blocks: 1 });
      const model = quantizeInt8(float, calibrate(float, [0, 1, 2, 3].map((k) => randomInput(float, W * 17 + k)))).model;
      for (const board of ['mps2-an386', 'mps2-an500']) {
        const r = await firmwareRun(model, `int8-rows-${W}-${board}`, 3, 'fast', undefined, board);
        const rows = r.info.layers.filter((l) => /^bnn_qconv2d_[us]8_s8_rows$/.test(l.kernel));
        expect(rows.map((l) => /dual issue/.test(l.why ?? ''))).toEqual([board === 'mps2-an500', board === 'mps2-an500']);
        expect(r.stdout).toMatch(/^PASS 3\/3$/m);
      }
    }
  });

  // The Winograd stem (bnn_qconv2d_wino.c): stride-2 stems of 7x7, 5x5 and 6x6 taps with int8 weights, with int8 or
  // int16 output (--map-bits 16); on the M4 GCC's code with SMLAD, on the M7 the products of three input
  // channels in assembly (bnn_qw_gemm), for channel counts of every remainder mod 4 (the last 1..3 in C), odd and even
  // map sizes (tiles past the edge), with and without the pool; the border's padFix (per-channel normalisation).
  it('int8 Winograd stems on the M4 and, products in assembly, on the M7', async () => {
    for (const [W, K, S, pool3, bits] of [[8, 7, 16, true, 8], [13, 7, 18, false, 16], [6, 5, 14, true, 8], [7, 6, 14, true, 16]] as const) {
      const float = residualFloatModel(500 + W, { width: W, stemKernel: K, stemStride: 2, size: S, blocks: 1, pool3 });
      const q = quantizeInt8(float, calibrate(float, [0, 1, 2, 3].map((k) => randomInput(float, W * 19 + k))), bits).model;
      const stem = q.layers[0] as QConv2dLayer;
      expect([stem.weights instanceof Int16Array, stem.padFix !== undefined]).toEqual([bits === 16, true]);
      // At 16-bit maps the quantizer gives the stem int16 weights (the direct form): their int8 rounding keeps this
      // stem on the Winograd path with int16 output (C and reference compared, whatever the weights).
      const model: Model = bits === 8 ? q : { ...q, layers: [{ ...stem, weights: Int8Array.from(stem.weights, (v) => Math.round(v / 258)) } as Layer, ...q.layers.slice(1)] };
      for (const board of ['mps2-an386', 'mps2-an500']) {
        const r = await firmwareRun(model, `int8-wino-${W}-${board}`, 3, 'fast', undefined, board);
        expect(r.info.layers[0].why ?? '').toMatch(/^Winograd F\(3x3, 4x4\)/);
        expect(r.stdout).toMatch(/^PASS 3\/3$/m);
      }
    }
  });

  // The same on an int8 map (SXTB16 gathers its pairs: the stems above read the u8 input through UXTB16), with pad
  // values, on both cores; 3 input channels (the M7's assembly) and 2 (C on both).
  it('int8 Winograd convs on an int8 map, with pad values, on the M4 and the M7', async () => {
    const r = new Rand(4711);
    for (const C of [3, 2]) {
      const g = new Builder({ shape: [C, 15, 17], dtype: 'i8', zeroPoint: -7, scale: new Float32Array(C).fill(1 / 64), bias: new Float32Array(C) });
      const O = 9;
      g.add({ ...g.names(), op: 'qconv2d', outChannels: O, kernel: [7, 7], stride: [2, 2], pad: { top: 3, left: 2, bottom: 3, right: 4 }, weights: new Int8Array(O * C * 49).map(() => r.int(-128, 127)), bias: new Int32Array(O).map(() => r.int(-9000, 9000)), zeroPoint: -7, padValues: Int32Array.from({ length: C }, () => r.int(-128, 127)) } as Layer);
      g.add({ ...g.names(), op: 'maxpool', kernel: [3, 3], stride: [2, 2], pad: { top: 1, left: 1, bottom: 1, right: 1 } } as Layer);
      g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(O).map(() => r.int(1 << 20, 1 << 22))], shift: 30, bias: new Int32Array(O), zeroPoint: 0 } as Layer);
      g.add({ ...g.names(), op: 'flatten' } as Layer);
      const K = g.info.shape.reduce((a, b) => a * b, 1);
      g.add({ ...g.names(), op: 'qdense', outFeatures: 4, weights: new Int8Array(4 * K).map(() => r.int(-5, 5)), bias: new Int32Array(4), zeroPoint: 0 } as Layer);
      const model: Model = { name: `wino-s8-${C}`, input: g.input, layers: g.layers, output: g.cur };
      inferModel(model);
      for (const board of ['mps2-an386', 'mps2-an500']) {
        const run = await firmwareRun(model, `wino-s8-${C}-${board}`, 4, 'fast', undefined, board);
        expect(run.info.layers[0].why ?? '').toMatch(/^Winograd F\(3x3, 4x4\)/);
        expect(run.stdout).toMatch(/^PASS 4\/4$/m);
      }
    }
  });

  // bnn_threshold_s8_b1 compares four int8 positions a step with SSUB8/SEL on cores with the DSP extension: channels
  // past a word, a tail of positions, thresholds at and past both ends of int8 (constant channels), flips.
  it('int8 thresholds, four positions a step, on the M4', async () => {
    const r = new Rand(4242);
    for (const [C, H, W] of [[40, 7, 9], [33, 8, 8], [5, 3, 11]] as const) {
      const g = new Builder({ shape: [C, H, W], dtype: 'i8', zeroPoint: 3, scale: new Float32Array(C).fill(0.05), bias: new Float32Array(C) });
      const edges = [-300, -129, -128, -127, -1, 0, 1, 126, 127, 128, 300];
      // Every edge on several channels, flipped and not (x == 127 or -128 must occur for some of them to tell).
      const value = new Int32Array(C).map((_, c) => (c % 4 === 3 ? r.int(-100, 100) : edges[r.int(0, edges.length - 1)]));
      g.add({ ...g.names(), op: 'threshold', threshold: { value, flip: new Uint8Array(C).map(() => r.int(0, 1)) } });
      g.add({ ...g.names(), op: 'flatten' });
      const K = C * H * W;
      g.add({ ...g.names(), op: 'dense', outFeatures: 4, weights: Float32Array.from({ length: 4 * K }, () => r.int(-8, 8) / 8), bias: new Float32Array(4) });
      const model: Model = { name: `thr-${C}x${H}x${W}`, input: g.input, layers: g.layers, output: g.cur };
      inferModel(model);
      const run = await firmwareRun(model, `thr-${C}`, 4);
      expect(run.info.layers.find((l) => l.kernel === 'bnn_threshold_s8_b1')).toBeDefined();
      expect(run.stdout).toMatch(/^PASS 4\/4$/m);
    }
  });

  // bnn_threshold_s16_b1 compares two int16 positions a word (SSUB16/SEL) on cores with the DSP extension: an int16
  // map made by a requant (x * 200, shifted per channel, so that every channel's values spread over a wide range and
  // some reach both clamps), thresholds at and past both ends of int16, inside the values' range, and flips.
  it('int16 thresholds, two positions a word, on the M4', async () => {
    const r = new Rand(4243);
    for (const [C, H, W] of [[40, 7, 9], [33, 8, 8], [5, 3, 11]] as const) {
      const g = new Builder({ shape: [C, H, W], dtype: 'i8', zeroPoint: 0, scale: new Float32Array(C).fill(0.05), bias: new Float32Array(C) });
      // out = x * 200 + bias / 256 (mult / 2^14 = 51200 = 200 * 256 sixteenths of a step... U counts 1/256 steps).
      const shiftOf = (c: number) => [0, 12000, -12000, 30000, -30000][c % 5];
      g.add({ ...g.names(), op: 'requant', mult: [new Int32Array(C).fill(51200 * 2 ** 14)], shift: 14, bias: Int32Array.from({ length: C }, (_, c) => shiftOf(c) * 256), zeroPoint: 0, bits: 16 });
      const edges = [-40000, -32769, -32768, -32767, -1, 0, 1, 32766, 32767, 32768, 40000];
      const value = new Int32Array(C).map((_, c) => (c % 3 === 2 ? shiftOf(c) + r.int(-20000, 20000) : edges[r.int(0, edges.length - 1)]));
      g.add({ ...g.names(), op: 'threshold', threshold: { value, flip: new Uint8Array(C).map(() => r.int(0, 1)) } });
      g.add({ ...g.names(), op: 'flatten' });
      const K = C * H * W;
      g.add({ ...g.names(), op: 'dense', outFeatures: 4, weights: Float32Array.from({ length: 4 * K }, () => r.int(-8, 8) / 8), bias: new Float32Array(4) });
      const model: Model = { name: `thr16-${C}x${H}x${W}`, input: g.input, layers: g.layers, output: g.cur };
      inferModel(model);
      const run = await firmwareRun(model, `thr16-${C}`, 4);
      expect(run.info.layers.find((l) => l.kernel === 'bnn_threshold_s16_b1')).toBeDefined();
      expect(run.stdout).toMatch(/^PASS 4\/4$/m);
    }
  });

  it('every runtime kernel compiles warning-free for every Cortex-M target', async () => {
    const sources = readdirSync(RUNTIME_DIR).filter((f) => f.endsWith('.c'));
    for (const t of ['cortex-m0plus', 'cortex-m3', 'cortex-m4', 'cortex-m7', 'cortex-m33', 'cortex-m55']) {
      for (const s of sources) {
        await runTool('arm-none-eabi-gcc', [...getTarget(t).cflags, '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-c', join(RUNTIME_DIR, s), '-o', join(work, `${t}-${s}.o`)]);
      }
    }
  });
});
