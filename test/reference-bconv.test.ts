// The reference's fast 3x3 binary convolution (pattern/mask popcounts) against the term-by-term definition
// (accumulateDirect), on seeded random layers: every stride, padding (asymmetric too), pad value and weight kind.
import { describe, expect, it } from 'vitest';
import type { BConv2dLayer, Padding } from '../generator/src/model/ir.ts';
import { Rand } from '../generator/src/model/random.ts';
import { accumulate3x3, accumulateDirect } from '../generator/src/ops/bconv2d/reference.ts';
import type { Tensor } from '../generator/src/ir/tensor.ts';

function randomCase(seed: number): { l: BConv2dLayer; x: Tensor } {
  const r = new Rand(seed);
  const C = r.int(1, 40);
  const H = r.int(3, 12);
  const W = r.int(3, 12);
  const O = r.int(1, 20);
  const stride: [number, number] = [r.int(1, 2), r.int(1, 2)];
  const pad: Padding = { top: r.int(0, 2), left: r.int(0, 2), bottom: r.int(0, 2), right: r.int(0, 2) };
  const padValue = ([0, 1, -1] as const)[r.int(0, 2)];
  const codebook = r.int(0, 1) === 1;
  const n = r.int(1, 32);
  const codewords = new Uint16Array(n);
  const used = new Set<number>();
  for (let k = 0; k < n; k++) {
    let cw;
    do cw = r.int(0, 511);
    while (used.has(cw));
    used.add(cw);
    codewords[k] = cw;
  }
  const weights: BConv2dLayer['weights'] = codebook
    ? { kind: 'codebook', bits: 5, codewords, indices: Uint16Array.from({ length: O * C }, () => r.int(0, n - 1)) }
    : { kind: 'dense', bits: Uint8Array.from({ length: O * C * 9 }, () => r.int(0, 1)) };
  const l: BConv2dLayer = { name: 'b', op: 'bconv2d', inputs: ['x'], output: 'y', outChannels: O, kernel: [3, 3], stride, pad, padValue, weights };
  const x: Tensor = { dtype: 'b1', shape: [C, H, W], data: Int8Array.from({ length: C * H * W }, () => (r.int(0, 1) ? 1 : -1)) };
  return { l, x };
}

describe('reference binary 3x3 convolution', () => {
  it('the fast path equals the term-by-term sum on 400 seeded random layers', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const { l, x } = randomCase(seed);
      expect(Array.from(accumulate3x3(l, x)), `seed ${seed}`).toEqual(Array.from(accumulateDirect(l, x)));
    }
  });

  it('a hand-checked position: one channel, all taps +1 against codeword 0b000000111 is 3 - 6 = -3', () => {
    const l: BConv2dLayer = { name: 'b', op: 'bconv2d', inputs: ['x'], output: 'y', outChannels: 1, kernel: [3, 3], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, padValue: 0, weights: { kind: 'codebook', bits: 1, codewords: Uint16Array.from([0b000000111]), indices: Uint16Array.from([0]) } };
    const x: Tensor = { dtype: 'b1', shape: [1, 3, 3], data: new Int8Array(9).fill(1) };
    expect(Array.from(accumulate3x3(l, x))).toEqual([-3]);
    // With zero padding of 1, the top-left output sees only taps 4, 5, 7, 8 inside the input (activations +1); the
    // codeword sets bits 0..2, so those four taps weigh -1: the sum is -4, the padded taps add nothing.
    const padded = { ...l, pad: { top: 1, left: 1, bottom: 1, right: 1 } };
    expect(accumulate3x3(padded, x)[0]).toBe(-4);
    expect(accumulateDirect(padded, x)[0]).toBe(-4);
  });
});
