// --stem int8 (generator/src/compact/stem.ts): the float stem (conv2d -> [affine] -> binarize) becomes an int8
// qconv2d with the threshold folded in. Hand-checked thresholds; on seeded random models the integer stem's bits
// equal the rule it states (a (Δ acc + b) + d >= 0), evaluated here independently in double precision; refusals;
// and the CLI prints what it costs.
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
    expect(r.stdout).toMatch(/bnn_qconv2d_u8_acc/);
    // verify (like memory, bench, golden, run, report) takes --stem too: it checks the C of the int8-stem model.
    const v = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'bnn-gen.js'), 'verify', '--stem', 'int8', '--count', '2', '-q'], { encoding: 'utf8', timeout: 300_000 });
    expect(v.status, v.stderr + v.stdout).toBe(0);
    // The int8 stem replaces conv2d + binarize: 9 layers instead of the float model's 10.
    expect(v.stdout).toMatch(/PASS mnist-sparks: \d+ inputs x 9 layers bit-exact/);
  });
});
