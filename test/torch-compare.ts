// PyTorch's dumps (training/train.py `dump_eval`: inputs.npy, tie_scores.npy, tie_sign{j}.npy, eval mode with
// sign(0) = +1) against bnn-gen's TS reference on the imported model: every Sign activation identical, scores within
// 1e-4 of the largest score, same argmax. Shared by the training tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseNpy } from 'npyjs';
import { expect } from 'vitest';
import type { ImportResult } from '../generator/src/import/onnx/index.ts';
import { parseOnnx } from '../generator/src/import/onnx/proto.ts';
import { runReference, type RunResult } from '../generator/src/reference/interpreter.ts';

export interface Npy {
  data: ArrayLike<number>;
  shape: number[];
}
export function npy(path: string): Npy {
  const b = readFileSync(path);
  const p = parseNpy(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
  return { data: p.data as unknown as ArrayLike<number>, shape: p.shape };
}

export function slice(a: Npy, n: number): number[] {
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return Array.prototype.slice.call(a.data, n * per, (n + 1) * per) as number[];
}

/** Compare bnn-gen's TS reference with PyTorch's dumps in `dir`: every Sign activation identical, scores within 1e-4, same argmax. */
export function compareWithTorch(tag: string, dir: string, imported: ImportResult, signs: number): void {
  const x = npy(join(dir, 'inputs.npy'));
  const inputs = Array.from({ length: x.shape[0] }, (_, i) => Uint8Array.from(slice(x, i)));
  const runs: RunResult[] = inputs.map((q) => runReference(imported.model, q));
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const signTensors = parseOnnx(bytes)
    .nodes.filter((n) => n.op === 'Sign')
    .map((n) => n.outputs[0])
    .filter((o) => imported.tensors.has(o))
    .map((o) => imported.tensors.get(o)!);
  expect(signTensors.length).toBe(signs);
  let values = 0;
  for (let j = 0; j < signs; j++) {
    const torchSigns = npy(join(dir, `tie_sign${j}.npy`));
    const li = imported.model.layers.findIndex((l) => l.output === signTensors[j]);
    expect(li).toBeGreaterThanOrEqual(0);
    for (let n = 0; n < inputs.length; n++) {
      const mine = Array.from(runs[n].layers[li].data as Int8Array);
      const want = slice(torchSigns, n);
      expect(mine.length).toBe(want.length);
      let diff = 0;
      for (let i = 0; i < mine.length; i++) if (mine[i] !== want[i]) diff++;
      expect(diff, `sign ${j} (${signTensors[j]}), input ${n}: ${diff} of ${mine.length} differ`).toBe(0);
      values += mine.length;
    }
  }
  const scores = npy(join(dir, 'tie_scores.npy'));
  let worst = 0;
  for (let n = 0; n < inputs.length; n++) {
    const mine = Array.from(runs[n].scores);
    const want = slice(scores, n);
    const scale = Math.max(1, ...want.map(Math.abs));
    const err = Math.max(...mine.map((v, i) => Math.abs(v - want[i]))) / scale;
    worst = Math.max(worst, err);
    expect(err, `input ${n}: ours [${mine}], PyTorch [${want}]`).toBeLessThanOrEqual(1e-4);
    expect(mine.indexOf(Math.max(...mine))).toBe(want.indexOf(Math.max(...want)));
  }
  console.log(`[${tag}] ${values} sign activations identical over ${inputs.length} digits; scores: largest difference ${worst.toExponential(2)} of the largest score; argmax equal`);
}

