// qconv2d's padFix (docs/semantics.md §10, ops/shared/pad-fix.ts): the border classes by hand, the reference's sums by
// hand, and what it is for: the int8 path's stem under per-channel normalisation, whose pad values miss each
// channel's real 0 by a fraction, is exact at the border as in the interior. (The C kernels against the reference:
// the seeded convs of winograd.test.ts and the seeded models of random-models.test.ts.)
import { describe, expect, it } from 'vitest';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { inferLayerOutput } from '../generator/src/model/validate.ts';
import type { QConv2dLayer } from '../generator/src/ops/qconv2d.ts';
import { axisClasses, classOf } from '../generator/src/ops/shared/pad-fix.ts';
import { calibrate, quantizeInt8 } from '../generator/src/quantize/index.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { Builder } from './fixtures/builder.ts';
import { residualFloatModel } from './fixtures/residual-float.ts';

describe('padFix', () => {
  it('border classes: outputs whose windows start or end in the padding, each its own class; the interior one', () => {
    // 3x3, stride 1, pad 1 on 8: output 0 starts in the padding, output 7 ends in it.
    expect(axisClasses(8, 3, 1, 1, 8)).toEqual({ top: 1, bottom: 7, count: 3 });
    // ResNet's stem on 224: 7x7, stride 2, pad 3, 112 outputs: 0 and 1 start in the padding (0 * 2 - 3, 1 * 2 - 3),
    // 111 ends in it (111 * 2 - 3 + 7 = 226 > 224).
    const stem = axisClasses(224, 7, 2, 3, 112);
    expect(stem).toEqual({ top: 2, bottom: 111, count: 4 });
    expect([0, 1, 2, 57, 110, 111].map((i) => classOf(stem, i))).toEqual([0, 1, 2, 2, 2, 3]);
    // A map smaller than the kernel: both outputs overlap both sides; the interior class has no member.
    expect(axisClasses(3, 7, 2, 3, 2)).toEqual({ top: 2, bottom: 2, count: 3 });
    // No padding: one class.
    expect(axisClasses(9, 3, 2, 0, 4)).toEqual({ top: 0, bottom: 4, count: 1 });
  });

  it('the reference adds the entry of each position\'s row and column class (hand-checked)', () => {
    // One channel 4x4 of zeros (zero point 0): the sums are the bias (0) plus the table. Rows and columns: output 0
    // class 0, outputs 1 and 2 the interior (class 1), output 3 class 2.
    const g = new Builder({ shape: [1, 4, 4], dtype: 'u8', zeroPoint: 0, scale: new Float32Array([1]), bias: new Float32Array([0]) });
    const T = [[11, 12, 13], [21, 0, 23], [31, 32, 33]];
    g.add({ ...g.names(), op: 'qconv2d', outChannels: 1, kernel: [3, 3], stride: [1, 1], pad: { top: 1, left: 1, bottom: 1, right: 1 }, weights: new Int8Array(9).fill(5), bias: new Int32Array(1), padFix: Int32Array.from(T.flat()) } as Layer);
    const model: Model = { name: 'fix', input: g.input, layers: g.layers, output: g.cur };
    const r = runReference(model, new Uint8Array(16));
    expect(Array.from(r.layers[0].data)).toEqual([11, 12, 12, 13, 21, 0, 0, 23, 21, 0, 0, 23, 31, 32, 32, 33]);
    // With pixels of 1: 5 per valid tap (4 at a corner, 6 on an edge, 9 inside) plus the table.
    const ones = runReference(model, new Uint8Array(16).fill(1));
    expect(Array.from(ones.layers[0].data)).toEqual([31, 42, 42, 33, 51, 45, 45, 53, 51, 45, 45, 53, 51, 62, 62, 53]);
  });

  it('validation: the table\'s length and its 0 for the interior', () => {
    const g = new Builder({ shape: [1, 4, 4], dtype: 'u8', zeroPoint: 0, scale: new Float32Array([1]), bias: new Float32Array([0]) });
    const conv = (padFix: Int32Array) => ({ ...g.names(), op: 'qconv2d', outChannels: 1, kernel: [3, 3], stride: [1, 1], pad: { top: 1, left: 1, bottom: 1, right: 1 }, weights: new Int8Array(9), bias: new Int32Array(1), padFix }) as Layer;
    const infer = (l: Layer) => inferLayerOutput(0, l, [g.info]);
    expect(() => infer(conv(new Int32Array(8)))).toThrow(/padFix/);
    expect(() => infer(conv(Int32Array.from([1, 1, 1, 1, 7, 1, 1, 1, 1])))).toThrow(/padFix\[4\].*interior/);
    expect(infer(conv(Int32Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]))).shape).toEqual([1, 4, 4]);
  });

  // The stem of residualFloatModel reads a u8 input normalised per channel (real 0 at raw 123.86, 116.34, 103.68): its
  // pad values are 124, 116 and 104. The int8 path's stem at 16-bit maps (3x3: int16 weights, so that their rounding
  // is small), its pooled map against the float model's: the border's error with padFix is the interior's; without
  // it, 60 times larger.
  it('makes the int8 path\'s stem as exact at the border as inside, under per-channel normalisation', () => {
    const m = residualFloatModel(31, { width: 8, size: 16 });
    const xs = [0, 1, 2, 3, 4, 5].map((k) => randomInput(m, 100 + k));
    // Calibrated on the inputs it is measured on: nothing is clamped, the error is rounding only.
    const q = quantizeInt8(m, calibrate(m, xs), 16);
    const stem = q.model.layers[0] as QConv2dLayer;
    expect(stem.op).toBe('qconv2d');
    expect(stem.padValues && Array.from(stem.padValues)).toEqual([124, 116, 104]);
    expect(stem.padFix).toBeDefined();
    const without: Model = { ...q.model, layers: [{ ...stem, padFix: undefined } as Layer, ...q.model.layers.slice(1)] };
    const pooled = m.layers[1].output; // the stem's 2x2 max pool: 4x4, its outer rows and columns from the conv's border
    const g = q.stored.get(pooled)!;
    const err = (model: Model) => {
      const sq = { border: 0, inside: 0 }, n = { border: 0, inside: 0 };
      for (const x of xs) {
        const ref = runReference(m, x).layers[1];
        const f = ref.data;
        const at = model.layers.findIndex((l) => l.output === pooled);
        const v = runReference(model, x).layers[at].data;
        const [C, H, W] = ref.shape;
        for (let i = 0; i < C * H * W; i++) {
          const y = Math.floor(i / W) % H, xx = i % W;
          const where = y === 0 || y === H - 1 || xx === 0 || xx === W - 1 ? 'border' : 'inside';
          sq[where] += (f[i] - g.scale * (v[i] - g.zeroPoint)) ** 2;
          n[where]++;
        }
      }
      return { border: Math.sqrt(sq.border / n.border), inside: Math.sqrt(sq.inside / n.inside) };
    };
    const fixed = err(q.model), plain = err(without);
    expect(fixed.border).toBeLessThan(1.5 * fixed.inside);
    expect(plain.border).toBeGreaterThan(10 * plain.inside);
  });
});
