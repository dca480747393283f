// `bnn-gen report` on a hand-built model whose every figure is worked out by hand below: BOPs dense and with
// codebook sharing (both accumulation conventions), binary / real MACs, weight bits by category, and the arena
// (which must be emitModel's).
import { describe, expect, it } from 'vitest';
import { emitModel } from '../generator/src/emit/model-c.ts';
import type { Layer, Model, Padding, Threshold } from '../generator/src/model/ir.ts';
import { formatReport, modelReport, reportJson } from '../generator/src/report.ts';

const SAME3: Padding = { top: 1, left: 1, bottom: 1, right: 1 };
const VALID: Padding = { top: 0, left: 0, bottom: 0, right: 0 };
const thr = (n: number): Threshold => ({ value: new Int32Array(n), flip: new Uint8Array(n) });

/**
 * u8[2x8x8] → conv2d 2→4 3x3 (f32[4x8x8]) → binarize → bconv2d 4→8 3x3 codebook τ=2, 3 codewords, threshold
 * (b1[8x8x8]) → maxpool 2x2 (b1[8x4x4]) → bconv2d 8→16 3x3/2 plain, threshold (b1[16x2x2]) → flatten (b1[64])
 * → bdense 64→32, threshold → dense 32→10.
 */
function model(): Model {
  const layers: Layer[] = [
    { name: 'stem', op: 'conv2d', inputs: ['input'], output: 'x0', outChannels: 4, kernel: [3, 3], stride: [1, 1], pad: SAME3, weights: new Float32Array(4 * 2 * 9).fill(0.1), bias: new Float32Array(4) },
    { name: 'sign0', op: 'binarize', inputs: ['x0'], output: 'a0', shift: null },
    {
      name: 'cb', op: 'bconv2d', inputs: ['a0'], output: 'a1', outChannels: 8, kernel: [3, 3], stride: [1, 1], pad: SAME3, padValue: 0,
      weights: { kind: 'codebook', bits: 2, codewords: Uint16Array.from([7, 73, 511]), indices: Uint16Array.from({ length: 32 }, (_, i) => i % 3) },
      threshold: thr(8),
    },
    { name: 'pool', op: 'maxpool', inputs: ['a1'], output: 'a2', kernel: [2, 2], stride: [2, 2], pad: VALID },
    { name: 'plain', op: 'bconv2d', inputs: ['a2'], output: 'a3', outChannels: 16, kernel: [3, 3], stride: [2, 2], pad: SAME3, padValue: 0, weights: { kind: 'dense', bits: new Uint8Array(16 * 8 * 9).fill(1) }, threshold: thr(16) },
    { name: 'flat', op: 'flatten', inputs: ['a3'], output: 'f' },
    { name: 'bfc', op: 'bdense', inputs: ['f'], output: 'h', outFeatures: 32, bits: new Uint8Array(32 * 64), threshold: thr(32) },
    { name: 'fc', op: 'dense', inputs: ['h'], output: 'scores', outFeatures: 10, weights: new Float32Array(320), bias: new Float32Array(10) },
  ];
  return { name: 'hand', input: { shape: [2, 8, 8], dtype: 'u8', zeroPoint: 0, scale: new Float32Array([1, 1]), bias: new Float32Array(2) }, layers, output: 'scores' };
}

describe('model report', () => {
  const m = model();
  const r = modelReport(m);
  const layer = (name: string) => r.layers.find((l) => l.name === name)!;

  it('BOPs per binary layer: dense, and the codebook responses + accumulations', () => {
    // cb: 8x8 outputs, C_in 4, C_out 8, 3x3; n = 3 codewords.
    expect(layer('cb').bops).toEqual({
      dense: 64 * 4 * 8 * 9, // 18,432
      codebook: { n: 3, tau: 2, responses: 64 * 4 * 9 * 3, accumulations: 64 * 4 * 8, bops: 6912 + 2048 / 2 },
    });
    expect(layer('plain').bops).toEqual({ dense: 4 * 8 * 16 * 9 }); // 2x2 outputs: 4,608
    expect(layer('bfc').bops).toEqual({ dense: 64 * 32 }); // 2,048
    expect(layer('stem').bops).toBeNull();
    expect(layer('cb').binaryMacs).toBe(18432);
    expect(layer('stem').realMacs).toBe(4 * 64 * 2 * 9);
  });

  it('totals: both conventions, OPs, and which layers share profitably', () => {
    const t = r.totals;
    expect([t.layers, t.binaryLayers, t.codebookLayers]).toEqual([8, 3, 1]);
    expect(t.bopsDense).toBe(18432 + 4608 + 2048);
    expect(t.binaryMacs).toBe(t.bopsDense);
    expect([t.responses, t.accumulations]).toEqual([6912, 2048]);
    expect(t.bopsCodebook).toBe(7936 + 4608 + 2048); // layers without a codebook count dense
    expect(t.bopsCodebookFullAccumulations).toBe(t.bopsCodebook + 1024);
    expect(t.realMacs).toBe(4608 + 320);
    expect(t.opsDense).toBe(25088 / 64 + 4928);
    expect(t.sharingDoesNotPay).toEqual([]); // 9·3 + 8/2 = 31 < 72
    expect(t.binaryWeights).toBe(8 * 4 * 9 + 16 * 8 * 9 + 32 * 64);
  });

  it('weight bits by category, flash bytes and arena from emitModel', () => {
    expect(r.totals.weightBits).toEqual({
      codebook: 9 * 3,
      indices: 2 * 8 * 4,
      thresholds: 33 * (8 + 16 + 32),
      binary: 16 * 8 * 9 + 32 * 64,
      real: 32 * (72 + 4) + 32 * (320 + 10),
      int: 0,
      total: 27 + 64 + 1848 + 3200 + 2432 + 10560,
    });
    const info = emitModel(m).info;
    expect(r.arenaBytes).toBe(info.arenaSize);
    expect(r.flash.total).toBe(info.totalWeightBytes);
    expect(r.flash.codebook).toBe(info.weightBytes.codebook);
  });

  it('text and JSON forms', () => {
    const text = formatReport(r);
    expect(text).toMatch(/^report: hand: u8\[2x8x8\] -> f32\[10x1x1\]$/m);
    // weight bits of cb: codebook 9·3 + indices 2·32 + thresholds 33·8 = 27 + 64 + 264
    expect(text).toMatch(/^2 +cb +bconv2d +3x3\/1 codebook τ=2 n=3 \+ threshold +b1\[4x8x8\] +b1\[8x8x8\] +18,432 +18,432 +7,936 +6,912 +2,048 +355 +[\d,]+$/m);
    // RAM in use at that layer: at least its b1 input (4 channels, 64 positions: 256 B) and output (8 channels: 256 B).
    const ramAt2 = Number(/^2 +cb .* ([\d,]+)$/m.exec(text)![1].replace(/,/g, ''));
    expect(ramAt2).toBeGreaterThanOrEqual(512);
    expect(text).toMatch(/BOPs dense: +25,088/);
    expect(text).toMatch(/BOPs codebook: +14,592 .*½ × accumulations/);
    expect(text).toMatch(/15,616 .* counting each accumulation as 1 BOP/);
    expect(text).toMatch(/weight bits: +18,131 .*codebook 27, indices 64, thresholds 1,848, plain binary 3,200, real-valued 12,992/);
    expect(text).toMatch(new RegExp(`arena: +${r.arenaBytes.toLocaleString('en-US')} B`));
    const j = JSON.parse(reportJson(r));
    expect(j.totals.bopsCodebook).toBe(14592);
    expect(j.conventions.length).toBeGreaterThan(0);
  });
});
