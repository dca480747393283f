// Model file format v1: tau-bit packing, and manifest + blob round trips.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packBits, packedBytes, unpackBits } from '../generator/src/ir/packing.ts';
import { readModel } from '../generator/src/import/native.ts';
import { writeModel } from '../generator/src/format/write.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { Rand, randomModel } from '../generator/src/model/random.ts';
import { inferModel } from '../generator/src/model/validate.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-format-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A plain-JSON view of a model: typed arrays become { type, values } (values compared with Object.is), undefined keys vanish. */
function plain(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return { type: x.constructor.name, values: Array.from(x as unknown as ArrayLike<number>) };
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return x;
}

describe('tau-bit packing', () => {
  it('hand-checked streams (LSB first, value j at stream bits [j*bits, (j+1)*bits))', () => {
    // [1,2,3] x 2 bits: 01 | 10 | 11 -> bits 0, 3, 4, 5 set -> 0b00111001
    expect(Array.from(packBits([1, 2, 3], 2))).toEqual([0b00111001]);
    // [5,0,7] x 3 bits: 5 = 101 at bits 0..2, 0 at 3..5, 7 at 6..8 -> byte0 = 1 + 4 + 64 + 128 = 0xc5, byte1 = 0x01
    expect(Array.from(packBits([5, 0, 7], 3))).toEqual([0xc5, 0x01]);
    // [341, 511] x 9 bits: 341 = 0b1_01010101 -> byte0 0x55, bit 8 -> byte1 bit0; 511 fills byte1 bits 1..7 and byte2 bits 0..1
    expect(Array.from(packBits([341, 511], 9))).toEqual([0x55, 0xff, 0x03]);
    // 16 bits: little-endian halfwords
    expect(Array.from(packBits([0x1234, 0xfedc], 16))).toEqual([0x34, 0x12, 0xdc, 0xfe]);
    // 1 bit: [1,0,0,0,0,0,0,1,1] -> 0b10000001, 0b00000001
    expect(Array.from(packBits([1, 0, 0, 0, 0, 0, 0, 1, 1], 1))).toEqual([0x81, 0x01]);
    expect(Array.from(unpackBits(Uint8Array.of(0b00111001), 3, 2))).toEqual([1, 2, 3]);
    expect(Array.from(unpackBits(Uint8Array.of(0x55, 0xff, 0x03), 2, 9))).toEqual([341, 511]);
  });

  it('rejects values that do not fit and bad bit widths', () => {
    expect(() => packBits([4], 2)).toThrow(RangeError);
    expect(() => packBits([-1], 3)).toThrow(RangeError);
    expect(() => packBits([1.5], 3)).toThrow(RangeError);
    expect(() => packBits([0], 0)).toThrow(RangeError);
    expect(() => packBits([0], 17)).toThrow(RangeError);
    expect(() => unpackBits(new Uint8Array(1), 3, 3)).toThrow(RangeError); // 9 bits need 2 bytes
  });

  const r = new Rand(20240601);
  for (let bits = 1; bits <= 16; bits++) {
    it(`round trip, ${bits} bits`, () => {
      const max = 2 ** bits - 1;
      for (const n of [0, 1, 7, 8, 9, 100]) {
        const values = Array.from({ length: n }, () => r.int(0, max));
        // the extremes appear at both ends and in the middle
        if (n >= 1) values[0] = max;
        if (n >= 2) values[n - 1] = 0;
        if (n >= 4) [values[1], values[2]] = [0, max];
        const bytes = packBits(values, bits);
        expect(bytes.length).toBe(Math.ceil((n * bits) / 8));
        expect(bytes.length).toBe(packedBytes(n, bits));
        // stream bits past the last value are zero (deterministic files)
        const used = n * bits;
        if (used % 8) expect(bytes[bytes.length - 1] >> (used % 8)).toBe(0);
        expect(Array.from(unpackBits(bytes, n, bits))).toEqual(values);
      }
    });
  }
});

describe('model file round trip', () => {
  const SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);
  it.each(SEEDS)('random model %i: write, read back, deep-equal; rewriting gives identical bytes', (seed) => {
    const model = randomModel(seed);
    const a = join(work, `rt-${seed}-a`);
    const b = join(work, `rt-${seed}-b`);
    mkdirSync(a);
    mkdirSync(b);
    const first = writeModel(model, join(a, 'model.json'));
    expect(first.blob).toBe(join(a, 'model.bin'));
    const back = readModel(first.manifest);
    expect(plain(back)).toEqual(plain(model));
    const second = writeModel(back, join(b, 'model.json'));
    expect(readFileSync(second.manifest, 'utf8')).toBe(readFileSync(first.manifest, 'utf8'));
    expect(Buffer.compare(readFileSync(second.blob), readFileSync(first.blob))).toBe(0);
  });

  it('the random models cover every layer type and both weight kinds', () => {
    const ops = new Set<string>();
    for (const seed of SEEDS) {
      for (const l of randomModel(seed).layers) {
        ops.add(l.op);
        if (l.op === 'bconv2d') ops.add(`bconv2d:${l.weights.kind}`);
        if ('threshold' in l && l.threshold) ops.add(`${l.op}:threshold`);
      }
    }
    for (const op of ['conv2d', 'qconv2d', 'bconv2d:codebook', 'bconv2d:dense', 'bdense', 'binarize', 'affine', 'maxpool', 'globalavgpool', 'flatten', 'dense', 'qdense', 'bconv2d:threshold']) {
      expect(ops, op).toContain(op);
    }
  });

  it('labels and metadata survive the round trip', () => {
    const model = randomModel(7);
    const n = inferModel(model).get(model.output)!.shape[0];
    const withExtras: Model = { ...model, labels: Array.from({ length: n }, (_, i) => `class ${i}`), metadata: { source: 'test', epochs: 3, nested: { ok: true } } };
    const dir = join(work, 'labels');
    mkdirSync(dir);
    const { manifest } = writeModel(withExtras, join(dir, 'm.json'));
    const back = readModel(manifest);
    expect(back.labels).toEqual(withExtras.labels);
    expect(back.metadata).toEqual(withExtras.metadata);
  });
});

describe('padding strings in the manifest', () => {
  // Input u8 [1,6,5]. conv2d 3x3 stride 2 "same": H: out = ceil(6/2) = 3, total = (3-1)*2 + 3 - 6 = 1 -> top 0, bottom 1;
  // W: out = ceil(5/2) = 3, total = 4 + 3 - 5 = 2 -> left 1, right 1. Output [2,3,3].
  // bconv2d 3x3 stride 1 "same" on 3x3: total 2 -> 1 on each side. maxpool 2x2 stride 2 "valid" -> 1x1.
  const layers: Layer[] = [
    { name: 'c', op: 'conv2d', inputs: ['input'], output: 'c', outChannels: 2, kernel: [3, 3], stride: [2, 2], pad: { top: 0, left: 1, bottom: 1, right: 1 }, weights: new Float32Array(18).map((_, i) => i - 9), bias: Float32Array.of(0.5, -0.5) },
    { name: 'a', op: 'binarize', inputs: ['c'], output: 'a', shift: null },
    { name: 'b', op: 'bconv2d', inputs: ['a'], output: 'b', outChannels: 2, kernel: [3, 3], stride: [1, 1], pad: { top: 1, left: 1, bottom: 1, right: 1 }, padValue: -1, weights: { kind: 'codebook', bits: 2, codewords: Uint16Array.of(341, 0, 511), indices: Uint16Array.of(0, 1, 2, 0) }, threshold: { value: Int32Array.of(0, 1), flip: Uint8Array.of(0, 1) } },
    { name: 'p', op: 'maxpool', inputs: ['b'], output: 'p', kernel: [2, 2], stride: [2, 2], pad: { top: 0, left: 0, bottom: 0, right: 0 } },
    { name: 'f', op: 'flatten', inputs: ['p'], output: 'f' },
    { name: 'd', op: 'dense', inputs: ['f'], output: 'd', outFeatures: 2, weights: Float32Array.of(1, -1, 0.5, 2), bias: Float32Array.of(0, 0) },
  ];
  const model: Model = { name: 'pads', input: { shape: [1, 6, 5], dtype: 'u8', zeroPoint: 0, scale: Float32Array.of(1), bias: Float32Array.of(0) }, layers, output: 'd' };

  it('"same" and "valid" resolve to the explicit padding; stride and padValue defaults apply', () => {
    const dir = join(work, 'pads');
    mkdirSync(dir);
    const { manifest } = writeModel(model, join(dir, 'm.json'));
    const json = JSON.parse(readFileSync(manifest, 'utf8'));
    json.layers[0].padding = 'same';
    json.layers[2].padding = 'same';
    delete json.layers[2].stride; // default [1,1]
    delete json.layers[2].padValue; // default 0
    json.layers[3].padding = 'valid';
    writeFileSync(manifest, JSON.stringify(json));
    const back = readModel(manifest);
    const l0 = back.layers[0] as Extract<Layer, { op: 'conv2d' }>;
    const l2 = back.layers[2] as Extract<Layer, { op: 'bconv2d' }>;
    const l3 = back.layers[3] as Extract<Layer, { op: 'maxpool' }>;
    expect(l0.pad).toEqual({ top: 0, left: 1, bottom: 1, right: 1 });
    expect(l2.pad).toEqual({ top: 1, left: 1, bottom: 1, right: 1 });
    expect(l2.stride).toEqual([1, 1]);
    expect(l2.padValue).toBe(0);
    expect(l3.pad).toEqual({ top: 0, left: 0, bottom: 0, right: 0 });
    // With padding omitted altogether the default is "valid".
    delete json.layers[3].padding;
    writeFileSync(manifest, JSON.stringify(json));
    expect((readModel(manifest).layers[3] as Extract<Layer, { op: 'maxpool' }>).pad).toEqual({ top: 0, left: 0, bottom: 0, right: 0 });
  });
});
