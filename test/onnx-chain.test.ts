// The numerics behind threshold folding: an exactly rounded float32 FMA, and the integer switch point search.
import { describe, expect, it } from 'vitest';
import { ALWAYS, batchNormStep, fma32, foldThreshold, NEVER, type Step } from '../generator/src/import/onnx/chain.ts';

const affine = (mul: number[], add: number[], fused = false): Step => ({ kind: 'affine', mul: Float32Array.from(mul), add: Float32Array.from(add), fused, node: 'n' });

describe('fma32', () => {
  it('rounds x*a + b once: no double rounding through float64', () => {
    // x*a = 2^-24 - 2^-60 exactly; b = 1 + 2^-23 (odd mantissa). The exact sum lies just below the float32
    // midpoint 1 + 2^-23 + 2^-24, so it rounds down; rounding to float64 first lands on the midpoint, which then
    // rounds to even (up).
    const x = 2 ** -12 * (1 + 2 ** -18);
    const a = 2 ** -12 * (1 - 2 ** -18);
    const b = 1 + 2 ** -23;
    expect([x, a, b].every((v) => Math.fround(v) === v)).toBe(true);
    expect(Math.fround(x * a + b)).toBe(1 + 2 ** -22);
    expect(fma32(x, a, b)).toBe(1 + 2 ** -23);
  });

  it('agrees with a plain float64 evaluation whenever that is exact', () => {
    expect(fma32(3, 0.75, -2.25)).toBe(0);
    expect(fma32(-3, 0.5, 1)).toBe(-0.5);
    expect(fma32(1e30, 1e30, 0)).toBe(Infinity);
  });
});

describe('foldThreshold', () => {
  const K = 20;

  it('semantics §7 worked example: T = 8, and T = 4 with flip for γ < 0', () => {
    // α = 0.5; batch norm γ = ±1.5, β = -0.75, μ = 3, var = 4, ε = 0
    const steps = [affine([0.5, 0.5], [0, 0]), batchNormStep([1.5, -1.5], [-0.75, -0.75], [3, 3], [4, 4], 0, 'bn')];
    const f = foldThreshold(steps, 2, K);
    expect(Array.from(f.threshold.value)).toEqual([8, 4]);
    expect(Array.from(f.threshold.flip)).toEqual([0, 1]);
    expect(f.flipped).toBe(1);
  });

  it('constant channels: γ = 0, or a threshold outside [-K, K]', () => {
    const steps = [affine([1, 1, 1, 1], [0, 0, 0, 0]), affine([0, 0, 1, -1], [0.5, -0.5, 100, 100])];
    const f = foldThreshold(steps, 4, K);
    const got = [0, 1, 2, 3].map((c) => ({ value: f.threshold.value[c], flip: f.threshold.flip[c] }));
    expect(got).toEqual([ALWAYS, NEVER, ALWAYS, ALWAYS]);
    expect(f.constant).toBe(4);
  });

  it('an exact tie y = 0 switches on (sign(0) = +1)', () => {
    const f = foldThreshold([affine([0.25], [-1])], 1, K); // y = acc/4 - 1 = 0 at acc = 4
    expect(f.threshold.value[0]).toBe(4);
    expect(f.threshold.flip[0]).toBe(0);
  });

  it('follows float32 rounding where it departs from the real-number formula', () => {
    // y = fl(fl(acc * 0.2f) - 0.6f): the real threshold 0.6f/0.2f = 3.0000000745 gives ⌈t⌉ = 4, but in float32
    // fl(3 * 0.2f) = 0.6f, so y(3) = 0 and the output is +1 at acc = 3.
    const f = foldThreshold([affine([0.2], [0]), affine([1], [-0.6])], 1, K);
    expect(f.threshold.value[0]).toBe(3);
    expect(f.movedByRounding).toBe(1);
  });

  it('monotone clips and positive PReLU slopes replay exactly', () => {
    const steps: Step[] = [affine([1], [-5]), { kind: 'clip', lo: -1, hi: 1, node: 'c', op: 'Clip' }, { kind: 'prelu', slope: Float32Array.from([0.25]), node: 'p', op: 'PRelu' }];
    expect(foldThreshold(steps, 1, K).threshold.value[0]).toBe(5);
  });
});
