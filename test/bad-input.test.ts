// Every bad model file gives one BnnError line naming the file and the JSON path, never another exception type.
// Bad files are made by writing a good random model with writeModel and then editing its manifest or blob.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BnnError } from '../generator/src/core/errors.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { packBits, packedBytes, unpackBits } from '../generator/src/ir/packing.ts';
import { readModel } from '../generator/src/import/native.ts';
import { writeModel } from '../generator/src/format/write.ts';
import type { Layer, Model } from '../generator/src/model/ir.ts';
import { Rand, randomModel } from '../generator/src/model/random.ts';
import { inferModel } from '../generator/src/model/validate.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-bad-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The manifest is edited as plain JSON.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Files {
  path: string; // manifest
  blobPath: string;
  json: Json;
  blob: Uint8Array;
  model: Model;
}

let counter = 0;

/** Write a good model into a fresh folder as m.json + m.bin and load both back as editable JSON / bytes. */
function good(model: Model): Files {
  const dir = join(work, `case-${++counter}`);
  mkdirSync(dir);
  const { manifest, blob } = writeModel(model, join(dir, 'm.json'));
  return { path: manifest, blobPath: blob, json: JSON.parse(readFileSync(manifest, 'utf8')), blob: new Uint8Array(readFileSync(blob)), model };
}

/** Write the (edited) manifest and blob back. By default the manifest's byte count and sha256 follow the blob. */
function save(f: Files, { keepChecksum = false } = {}): void {
  if (!keepChecksum) {
    f.json.weights.bytes = f.blob.length;
    f.json.weights.sha256 = createHash('sha256').update(f.blob).digest('hex');
  }
  writeFileSync(f.blobPath, f.blob);
  writeFileSync(f.path, JSON.stringify(f.json, null, 2));
}

/** Run fn; it must throw a one-line BnnError whose message contains every needle. Returns the message. */
function expectBnnError(fn: () => unknown, ...needles: (string | RegExp)[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeDefined();
  if (!(caught instanceof BnnError)) throw new Error(`expected a BnnError, got ${String((caught as Error)?.name)}: ${String((caught as Error)?.message)}`);
  const msg = caught.message;
  if (process.env.SHOW_ERRORS) console.log(msg); // SHOW_ERRORS=1 npx vitest run test/bad-input.test.ts: review the wording
  expect(msg).not.toMatch(/[\r\n]/);
  for (const n of needles) {
    if (typeof n === 'string') expect(msg).toContain(n);
    else expect(msg).toMatch(n);
  }
  return msg;
}

/** Read f's manifest; must fail with a BnnError that starts with the manifest's file name. */
function expectReadError(f: Files, ...needles: (string | RegExp)[]): string {
  const msg = expectBnnError(() => readModel(f.path), ...needles);
  expect(msg.startsWith(`${f.path}: `)).toBe(true);
  return msg;
}

/** First seed 1..1000 whose random model satisfies pred (fixed, so every run uses the same model). */
function seedWhere(pred: (m: Model) => boolean): Model {
  for (let seed = 1; seed <= 1000; seed++) {
    const m = randomModel(seed);
    if (pred(m)) return m;
  }
  throw new Error('no random model with the wanted feature');
}

/** "layers[2]" optionally followed by " (name)": validation messages add the layer name after the index. */
function layerPath(i: number, rest: string): RegExp {
  const esc = rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`layers\\[${i}\\]( \\([^)]*\\))?${esc}`);
}

type CodebookConv = Extract<Layer, { op: 'bconv2d' }> & { weights: { kind: 'codebook' } };

/** A random model whose layer 0 is a real 3x3 conv2d (the stem). */
const stemModel = seedWhere((m) => m.layers[0].op === 'conv2d' && m.layers[0].kernel[0] === 3 && m.layers[0].kernel[1] === 3);

/** A random model with a codebook layer whose codebook is not full (2 <= n < 2^bits, bits >= 2) and >= 6 input channels. */
const codebookModel = seedWhere((m) => {
  const t = inferModel(m);
  return m.layers.some((l) => l.op === 'bconv2d' && l.weights.kind === 'codebook' && l.weights.bits >= 2 && l.weights.codewords.length >= 2 && l.weights.codewords.length < 1 << l.weights.bits && t.get(l.inputs[0])!.shape[0] >= 6);
});
const cbIndex = codebookModel.layers.findIndex((l) => l.op === 'bconv2d' && l.weights.kind === 'codebook' && l.weights.bits >= 2 && l.weights.codewords.length >= 2 && l.weights.codewords.length < 1 << l.weights.bits);
const cbLayer = codebookModel.layers[cbIndex] as CodebookConv;
const cbN = cbLayer.weights.codewords.length;

describe('the base models are good', () => {
  it('each round-trips without error', () => {
    for (const m of [stemModel, codebookModel]) expect(() => readModel(good(m).path)).not.toThrow();
  });
});

describe('files', () => {
  it('manifest that does not exist', () => {
    expectBnnError(() => readModel(join(work, 'nope', 'missing.json')), 'cannot read model', 'missing.json', 'ENOENT');
  });

  it('malformed JSON', () => {
    const f = good(stemModel);
    writeFileSync(f.path, '{"format": "bnn-gen-model", "version": 1,');
    expectReadError(f, 'invalid JSON');
  });

  it('NaN is not JSON', () => {
    const f = good(stemModel);
    writeFileSync(f.path, JSON.stringify(f.json).replace(/"zeroPoint":\s*-?\d+/, '"zeroPoint": NaN'));
    expectReadError(f, 'invalid JSON');
  });

  it('manifest that is not an object', () => {
    const f = good(stemModel);
    writeFileSync(f.path, '[]');
    expectReadError(f, '(root)');
    writeFileSync(f.path, 'null');
    expectReadError(f, '(root)');
  });

  it('missing weights file', () => {
    const f = good(stemModel);
    unlinkSync(f.blobPath);
    expectReadError(f, 'weights.file', "'m.bin'", 'ENOENT');
  });

  it('weights file name with a path', () => {
    const f = good(stemModel);
    f.json.weights.file = '../m.bin';
    save(f);
    expectReadError(f, 'weights.file', '../m.bin');
  });

  it('weights file of the wrong size (longer and shorter than the manifest says)', () => {
    const f = good(stemModel);
    const n = f.blob.length;
    const longer = new Uint8Array(n + 1);
    longer.set(f.blob);
    writeFileSync(f.blobPath, longer);
    expectReadError(f, 'weights.bytes', `manifest says ${n} bytes`, `has ${n + 1}`);
    writeFileSync(f.blobPath, f.blob.subarray(0, n - 4));
    expectReadError(f, 'weights.bytes', `manifest says ${n} bytes`, `has ${n - 4}`);
  });

  it('checksum mismatch', () => {
    const f = good(stemModel);
    f.blob[0] ^= 0x01;
    save(f, { keepChecksum: true });
    expectReadError(f, 'weights.sha256', 'checksum');
  });

  it('unknown file extension', () => {
    expectBnnError(() => loadModel(join(work, 'model.h5')), "unknown format '.h5'");
  });
});

describe('tensor references', () => {
  it('tensor outside the blob', () => {
    const f = good(stemModel);
    f.json.layers[0].bias.offset = f.blob.length - 2;
    save(f);
    expectReadError(f, 'layers[0].bias', 'outside', `${f.blob.length}-byte weights file`);
  });

  it('tensor whose shape runs past the end of the blob', () => {
    const f = good(stemModel);
    f.json.layers[0].weights.shape = [1000, 1000];
    save(f);
    expectReadError(f, 'layers[0].weights', 'outside');
  });

  it('wrong dtype for a tensor', () => {
    const f = good(stemModel);
    f.json.layers[0].weights.dtype = 'int32';
    save(f);
    expectReadError(f, 'layers[0].weights.dtype', 'expected float32, got int32');
  });

  it('packed tensor without bits', () => {
    const f = good(codebookModel);
    delete f.json.layers[cbIndex].weights.indices.bits;
    save(f);
    expectReadError(f, `layers[${cbIndex}].weights.indices.bits`, 'required');
  });

  it('packed indices whose bit width differs from the codebook bits', () => {
    const f = good(codebookModel);
    f.json.layers[cbIndex].weights.indices.bits = cbLayer.weights.bits + 1;
    save(f);
    expectReadError(f, `layers[${cbIndex}].weights.indices.bits`, `expected ${cbLayer.weights.bits}, got ${cbLayer.weights.bits + 1}`);
  });

  it('codewords stored as another dtype', () => {
    const f = good(codebookModel);
    f.json.layers[cbIndex].weights.codewords.dtype = 'int32';
    save(f);
    expectReadError(f, `layers[${cbIndex}].weights.codewords.dtype`, 'expected uint16, got int32');
  });
});

describe('schema', () => {
  it('missing field', () => {
    const f = good(stemModel);
    delete f.json.layers[0].outChannels;
    save(f);
    expectReadError(f, 'layers[0].outChannels', /is required/);
  });

  it('missing top-level field', () => {
    const f = good(stemModel);
    delete f.json.output;
    save(f);
    expectReadError(f, 'output', /expected string/);
  });

  it('wrong type', () => {
    const f = good(stemModel);
    f.json.layers[0].kernel = '3x3';
    save(f);
    expectReadError(f, 'layers[0].kernel', /expected tuple/);
  });

  it('non-integer where an integer is required', () => {
    const f = good(stemModel);
    f.json.layers[0].outChannels = 1.5;
    save(f);
    expectReadError(f, 'layers[0].outChannels', /int/i);
  });

  it('unknown op is named in the message', () => {
    const f = good(stemModel);
    f.json.layers[1].op = 'conv3d';
    save(f);
    expectReadError(f, 'layers[1].op', 'conv3d');
  });

  it('unknown extra field in a layer and at the top level', () => {
    const f = good(stemModel);
    f.json.layers[0].dilation = [2, 2];
    save(f);
    expectReadError(f, 'layers[0]', 'dilation');
    delete f.json.layers[0].dilation;
    f.json.comment = 'hi';
    save(f);
    expectReadError(f, '(root)', 'comment');
  });

  it('version 2', () => {
    const f = good(stemModel);
    f.json.version = 2;
    save(f);
    expectReadError(f, 'version', /expected 1/);
  });

  it('wrong format name', () => {
    const f = good(stemModel);
    f.json.format = 'onnx';
    save(f);
    expectReadError(f, 'format', 'bnn-gen-model');
  });

  it('bad padding string', () => {
    const f = good(stemModel);
    f.json.layers[0].padding = 'full';
    save(f);
    expectReadError(f, 'layers[0].padding');
  });

  it('bad padValue', () => {
    const m = seedWhere((mm) => mm.layers.some((l) => l.op === 'bconv2d'));
    const i = m.layers.findIndex((l) => l.op === 'bconv2d');
    const f = good(m);
    f.json.layers[i].padValue = 2;
    save(f);
    expectReadError(f, `layers[${i}].padValue`);
  });
});

describe('inconsistent shapes', () => {
  it('weights length not matching the layer', () => {
    const f = good(stemModel);
    const shape: number[] = f.json.layers[0].weights.shape;
    const want = shape.reduce((a, b) => a * b, 1);
    f.json.layers[0].weights.shape = [...shape.slice(0, -1), shape[shape.length - 1] - 1];
    const got = f.json.layers[0].weights.shape.reduce((a: number, b: number) => a * b, 1);
    save(f);
    expectReadError(f, layerPath(0, '.weights'), `expected ${want} values, got ${got}`);
  });

  it('input normalisation with the wrong number of channels', () => {
    const f = good(stemModel);
    f.json.input.normalize.scale.push(1);
    save(f);
    expectReadError(f, 'input.normalize', 'one per channel');
  });

  it('dense on a non-flattened map', () => {
    const m = seedWhere((mm) => {
      const t = inferModel(mm);
      const n = mm.layers.length;
      const fl = mm.layers[n - 2];
      const shape = t.get(fl.inputs[0])!.shape;
      return fl.op === 'flatten' && mm.layers[n - 1].op === 'dense' && shape[1] * shape[2] > 1 && (t.get(fl.inputs[0])!.dtype === 'b1' || t.get(fl.inputs[0])!.dtype === 'f32');
    });
    const f = good(m);
    const n = f.json.layers.length;
    const mapName: string = f.json.layers[n - 2].inputs[0];
    f.json.layers.splice(n - 2, 1); // drop the flatten
    f.json.layers[n - 2].inputs = [mapName];
    save(f);
    expectReadError(f, layerPath(n - 2, ''), `'${mapName}'`, 'vector [N,1,1] is required', 'flatten');
  });

  it('layer input not defined (unknown name, or a later layer)', () => {
    const f = good(stemModel);
    f.json.layers[1].inputs = ['nowhere'];
    save(f);
    expectReadError(f, layerPath(1, '.inputs[0]'), "'nowhere'", 'not produced by an earlier layer');
    f.json.layers[1].inputs = [f.json.layers[2].output];
    save(f);
    expectReadError(f, layerPath(1, '.inputs[0]'), 'not produced by an earlier layer');
  });

  it('layer with two inputs', () => {
    const f = good(stemModel);
    f.json.layers[1].inputs = [f.json.layers[0].output, f.json.layers[0].output];
    save(f);
    expectReadError(f, layerPath(1, '.inputs'), 'expected 1 input, got 2');
  });

  it('duplicate tensor name', () => {
    const f = good(stemModel);
    const first: string = f.json.layers[0].output;
    f.json.layers[1].output = first;
    f.json.layers[2].inputs = [first];
    save(f);
    expectReadError(f, layerPath(1, '.output'), `'${first}'`, 'already defined');
  });

  it('a layer output named like the model input', () => {
    const f = good(stemModel);
    f.json.layers[1].output = 'input';
    f.json.layers[2].inputs = ['input'];
    save(f);
    expectReadError(f, layerPath(1, '.output'), "'input'", 'already defined');
  });

  it('duplicate layer name', () => {
    const f = good(stemModel);
    f.json.layers[1].name = f.json.layers[0].name;
    save(f);
    expectReadError(f, 'layers[1].name', `duplicate layer name '${f.json.layers[0].name}'`);
  });

  it('unused tensor', () => {
    const f = good(stemModel);
    const from: string = f.json.layers[0].output;
    f.json.layers.splice(1, 0, { name: 'extra', op: 'flatten', inputs: [from], output: 'extra' });
    save(f);
    expectReadError(f, layerPath(1, '.output'), "'extra'", 'never used');
  });

  it('model output that no layer produces', () => {
    const f = good(stemModel);
    f.json.output = 'scores';
    save(f);
    expectReadError(f, 'output', "'scores'");
  });

  it('labels of the wrong length', () => {
    const f = good(stemModel);
    f.json.labels = ['only-one'];
    save(f);
    expectReadError(f, 'labels', 'got 1');
  });

  it('kernel that does not fit the input', () => {
    const f = good(stemModel);
    f.json.input.shape = [f.json.input.shape[0], 1, 1];
    f.json.layers[0].padding = 'valid';
    save(f);
    expectReadError(f, layerPath(0, ''), 'window 3x3 does not fit input 1x1');
  });

  it('padding >= kernel', () => {
    const f = good(stemModel);
    f.json.layers[0].padding = { top: 3, left: 0, bottom: 0, right: 0 };
    save(f);
    expectReadError(f, layerPath(0, '.pad'), 'top', 'padding must be an integer 0..2, got 3');
  });

  it('kernel larger than 15', () => {
    const m = seedWhere((mm) => mm.layers.some((l) => l.op === 'maxpool'));
    const i = m.layers.findIndex((l) => l.op === 'maxpool');
    const f = good(m);
    f.json.layers[i].kernel = [16, 16];
    save(f);
    expectReadError(f, layerPath(i, '.kernel'), 'got 16');
  });
});

describe('codebooks', () => {
  const at = cbIndex;
  const codewordsOffset = (f: Files): number => f.json.layers[at].weights.codewords.offset;
  const setCodeword = (f: Files, k: number, v: number) => new DataView(f.blob.buffer, f.blob.byteOffset).setUint16(codewordsOffset(f) + 2 * k, v, true);

  it('index out of range', () => {
    const f = good(codebookModel);
    const ref = f.json.layers[at].weights.indices;
    const count = ref.shape.reduce((a: number, b: number) => a * b, 1);
    const bytes = packedBytes(count, ref.bits);
    const values = Array.from(unpackBits(f.blob.subarray(ref.offset, ref.offset + bytes), count, ref.bits));
    values[5] = cbN; // first index past the end; fits the bit width since n < 2^bits
    f.blob.set(packBits(values, ref.bits), ref.offset);
    save(f);
    expectReadError(f, layerPath(at, '.weights.indices[5]'), '(output 0, input 5)', `index ${cbN} out of range for a codebook of ${cbN}`);
  });

  it('duplicate codewords', () => {
    const f = good(codebookModel);
    setCodeword(f, 1, cbLayer.weights.codewords[0]);
    save(f);
    expectReadError(f, layerPath(at, '.weights.codewords[1]'), `duplicate codeword ${cbLayer.weights.codewords[0]}`, '[0]');
  });

  it('codeword id >= 512', () => {
    const f = good(codebookModel);
    setCodeword(f, 0, 512);
    save(f);
    expectReadError(f, layerPath(at, '.weights.codewords[0]'), 'codeword id must be 0..511, got 512');
  });

  it('more than 512 codewords', () => {
    const f = good(codebookModel);
    // Append 513 distinct-looking uint16 values (0..512) at the end of the blob, 16-byte aligned.
    const start = Math.ceil(f.blob.length / 16) * 16;
    const blob = new Uint8Array(start + 513 * 2);
    blob.set(f.blob);
    const v = new DataView(blob.buffer);
    for (let k = 0; k < 513; k++) v.setUint16(start + 2 * k, k, true);
    f.blob = blob;
    f.json.layers[at].weights.codewords = { offset: start, dtype: 'uint16', shape: [513] };
    save(f);
    expectReadError(f, layerPath(at, '.weights.codewords'), '1..512 codewords, got 513');
  });

  it('n codewords > 2^bits', () => {
    const f = good(codebookModel);
    const bits = Math.ceil(Math.log2(cbN)) - 1; // 2^bits < n
    f.json.layers[at].weights.bits = bits;
    f.json.layers[at].weights.indices.bits = bits;
    save(f);
    expectReadError(f, layerPath(at, '.weights.codewords'), `${cbN} codewords do not fit ${bits}-bit indices (at most ${1 << bits})`);
  });

  it('codebook bits outside 1..9', () => {
    const f = good(codebookModel);
    f.json.layers[at].weights.bits = 10;
    f.json.layers[at].weights.indices.bits = 10;
    save(f);
    expectReadError(f, `layers[${at}].weights.bits`);
  });
});

describe('non-finite numbers', () => {
  it('NaN in a float tensor', () => {
    const f = good(stemModel);
    new DataView(f.blob.buffer, f.blob.byteOffset).setFloat32(f.json.layers[0].weights.offset + 4, Number.NaN, true);
    save(f);
    expectReadError(f, layerPath(0, '.weights[1]'), 'non-finite', 'NaN');
  });

  it('Infinity in a float tensor', () => {
    const f = good(stemModel);
    new DataView(f.blob.buffer, f.blob.byteOffset).setFloat32(f.json.layers[0].bias.offset, Number.NEGATIVE_INFINITY, true);
    save(f);
    expectReadError(f, layerPath(0, '.bias[0]'), 'non-finite', '-Infinity');
  });

  it('Infinity in the input normalisation (1e999 in the JSON)', () => {
    const f = good(stemModel);
    save(f);
    const text = JSON.stringify(f.json);
    const scale = text.replace(/"scale":\[[^\]]*\]/, `"scale":[${new Array(f.json.input.shape[0]).fill('1e999').join(',')}]`);
    writeFileSync(f.path, scale);
    // JSON has no Infinity; 1e999 parses to it. The message must say where and that the value is not finite.
    expectReadError(f, 'input.normalize.scale[0]', /Infinity|finite/);
    const bias = text.replace(/"bias":\[[^\]]*\]/, `"bias":[${new Array(f.json.input.shape[0]).fill('-1e999').join(',')}]`);
    writeFileSync(f.path, bias);
    expectReadError(f, 'input.normalize.bias[0]', /Infinity|finite/);
  });
});

describe('robustness: mangled manifests and blobs only ever give one-line BnnErrors', () => {
  const BAD: unknown[] = [-1, 0, 1.5, 1e9, 65536, 'x', '', null, true, [], {}];

  /** Paths of every leaf (and every array) in a JSON value. */
  function paths(x: Json, prefix: (string | number)[] = []): (string | number)[][] {
    if (x === null || typeof x !== 'object') return [prefix];
    const out: (string | number)[][] = Array.isArray(x) ? [prefix] : [];
    for (const [k, v] of Object.entries(x)) out.push(...paths(v, [...prefix, Array.isArray(x) ? Number(k) : k]));
    return out;
  }

  function setAt(x: Json, p: (string | number)[], v: unknown): void {
    let o = x;
    for (const k of p.slice(0, -1)) o = o[k];
    o[p[p.length - 1]] = v;
  }

  for (const m of [stemModel, codebookModel]) {
    it(`every manifest value of ${m.name} replaced by a bad one`, () => {
      const f = good(m);
      const original = JSON.stringify(f.json);
      const leaves = paths(f.json).filter((p) => p.length > 0 && !(p[0] === 'weights' && (p[1] === 'bytes' || p[1] === 'sha256')));
      let failures = 0;
      for (const p of leaves) {
        for (const v of BAD) {
          const json = JSON.parse(original);
          setAt(json, p, v);
          writeFileSync(f.path, JSON.stringify(json));
          try {
            readModel(f.path);
          } catch (e) {
            failures++;
            if (!(e instanceof BnnError)) throw new Error(`${p.join('.')} = ${JSON.stringify(v)}: ${(e as Error).name}: ${(e as Error).message}`);
            expect(e.message, `${p.join('.')} = ${JSON.stringify(v)}`).not.toMatch(/[\r\n]/);
            expect(e.message.startsWith(`${f.path}: `), e.message).toBe(true);
          }
        }
      }
      expect(failures).toBeGreaterThan(leaves.length); // most replacements are rejected
    });
  }

  it('random byte changes in the blob (with a matching checksum)', () => {
    const r = new Rand(99);
    const f = good(codebookModel);
    const pristine = f.blob.slice();
    for (let trial = 0; trial < 300; trial++) {
      f.blob = pristine.slice();
      for (let k = 0; k < 3; k++) f.blob[r.int(0, f.blob.length - 1)] = r.int(0, 255);
      save(f);
      try {
        readModel(f.path);
      } catch (e) {
        if (!(e instanceof BnnError)) throw new Error(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
        expect(e.message).not.toMatch(/[\r\n]/);
      }
    }
  });
});
