// ONNX import of ops torch writes its own way, against PyTorch itself: nn.AvgPool2d(3, 2, padding=1) (exported as a
// Pad of zeros + an AveragePool without pads: XNOR-Net's pools) and a classifier ending in Softmax / LogSoftmax
// (BinaryNet). test/fixtures/pytorch/make_head_ops.py builds, runs and exports the seeded models (Debian's
// /usr/bin/python3 with PyTorch 1.13); the imported model's reference scores must equal PyTorch's within float32
// rounding and give the same argmax, and the emitted C must equal the reference (WebAssembly).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../generator/src/format/npy.ts';
import { importOnnx } from '../generator/src/import/onnx/index.ts';
import { argmax } from '../generator/src/model/scores.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { verifyWasm } from '../generator/src/verify/verify-model.ts';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'bnn-head-ops-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Float and byte .npy files through the project's own reader (length-checked). */
function npy(path: string): { data: ArrayLike<number>; shape: number[] } {
  const a = readNpy(path, path);
  return { data: a.data as ArrayLike<number>, shape: a.shape };
}

describe.skipIf(!hasTorch)('PyTorch exports: padded AvgPool2d, Softmax, LogSoftmax', () => {
  const made = hasTorch ? spawnSync(PYTHON, [join(import.meta.dirname, 'fixtures', 'pytorch', 'make_head_ops.py'), work], { encoding: 'utf8' }) : null;

  for (const head of ['softmax', 'logsoftmax']) {
    it(`${head}: imports as written and matches PyTorch's scores`, async () => {
      expect(made?.status, made?.stderr).toBe(0);
      const r = importOnnx(readFileSync(join(work, `${head}.onnx`)));
      const ops = r.model.layers.map((l) => l.op);
      expect(ops).toContain('avgpool');
      expect(ops[ops.length - 1]).toBe('softmax');
      expect(r.model.layers.find((l) => l.op === 'avgpool')).toMatchObject({ kernel: [3, 3], stride: [2, 2], pad: { top: 1, left: 1, bottom: 1, right: 1 }, countIncludePad: true });
      const inputs = npy(join(work, `${head}-inputs.npy`));
      const want = npy(join(work, `${head}-scores.npy`));
      const n = inputs.shape[0];
      const size = inputs.data.length / n;
      const xs = Array.from({ length: n }, (_, i) => Uint8Array.from(Array.prototype.slice.call(inputs.data, i * size, (i + 1) * size)));
      let worst = 0;
      xs.forEach((x, i) => {
        const got = Array.from(runReference(r.model, x).scores);
        const ref = Array.from(want.data).slice(i * 10, (i + 1) * 10);
        const scale = Math.max(...ref.map(Math.abs));
        got.forEach((g, k) => (worst = Math.max(worst, Math.abs(g - ref[k]) / scale)));
        expect(argmax(got)).toBe(argmax(ref));
      });
      expect(worst).toBeLessThan(1e-5);
      if (haveTool('emcc')) expect((await verifyWasm(r.model, xs.slice(0, 4))).mismatch).toBeNull();
    });
  }
});
