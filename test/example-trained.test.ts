// Issue 4: the shipped example is a trained Sparks model. Its recorded accuracy is re-measured here on bnn-gen's own
// engines (not PyTorch), the labelled digits run on the M4 firmware under QEMU with the accuracy printed, and the
// label plumbing fails loudly on bad files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputs, readLabels } from '../generator/src/import/inputs.ts';
import { DEFAULT_DIGITS, DEFAULT_EXAMPLE, DEFAULT_LABELS, DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { argmax, countCorrect } from '../generator/src/model/scores.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { runFirmware } from '../generator/src/verify/firmware-run.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { engineModel } from '../generator/src/verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { mnistTestSplit } from './fixtures/mnist.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const work = mkdtempSync(join(tmpdir(), 'bnn-example-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const training = JSON.parse(readFileSync(join(DEFAULT_EXAMPLE, 'training.json'), 'utf8'));
const model = loadModel(DEFAULT_MODEL);
const digits = readInputs(DEFAULT_DIGITS, model);
const labels = readLabels(DEFAULT_LABELS, digits.length, 10);
/** The TS reference's correct count on the shipped digits (computed once; three tests compare against it). */
let refCorrect: number | undefined;
const referenceCorrect = () => (refCorrect ??= countCorrect(digits.map((x) => runReference(model, x).scores), labels));


describe('the shipped example (trained Sparks model)', () => {
  it('is trained, has codebooks, and its labelled digits are about ten per class', () => {
    expect(training.smoke).toBe(false);
    expect(training.tau).toBeLessThan(9);
    expect(model.layers.filter((l) => l.op === 'bconv2d' && l.weights.kind === 'codebook')).toHaveLength(3);
    expect(digits).toHaveLength(100);
    const perClass = Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    for (const n of perClass) expect(n).toBeGreaterThanOrEqual(8);
  });

  it('the shipped digits are test digits 0, 20, 40, ... of the split (never seen in training)', () => {
    const { inputs: xs, labels: ys } = mnistTestSplit();
    expect(xs).toHaveLength(2000);
    digits.forEach((x, k) => {
      expect(Buffer.from(x).equals(Buffer.from(xs[20 * k]))).toBe(true);
      expect(labels[k]).toBe(ys[20 * k]);
    });
  });

  it.skipIf(!haveTool('emcc'))('reaches the recorded accuracy on all 2,000 test digits in the emitted C (WebAssembly), >= 97.5 %', async () => {
    const { inputs: xs, labels: ys } = mnistTestSplit();
    const e = emitModel(model);
    const engine = await WasmEngine.load(await buildWasm({ files: e.files, models: [{ prefix: e.info.prefix }] }));
    const scores = xs.map((x) => engine.run(engineModel(e.info), x).scores);
    const correct = countCorrect(scores, ys);
    console.log(`[example] ${model.name}: ${correct}/2000 = ${(correct / 20).toFixed(2)} % on the test digits (PyTorch recorded ${(100 * training.test_accuracy).toFixed(2)} %)`);
    expect(correct / 2000).toBeGreaterThanOrEqual(0.975);
    // PyTorch's sign(0) = 0 differs from bnn-gen's +1 only at exact ties: allow a handful of digits either way.
    expect(Math.abs(correct - Math.round(2000 * training.test_accuracy))).toBeLessThanOrEqual(4);
    // The reference agrees with the C on a sample (the full bit-exact check lives in the verify suites).
    for (const k of [0, 777, 1999]) expect(Array.from(runReference(model, xs[k]).scores)).toEqual(Array.from(scores[k]));
  }, 600_000);

  it.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('the M4 firmware classifies the 100 digits under QEMU and prints the TS reference accuracy exactly', async () => {
    const reference = referenceCorrect();
    const r = await runFirmware(model, loadBoard('mps2-an386'), digits, labels);
    expect(r.passed).toBe(true);
    expect(r.accuracy).toEqual({ correct: reference, reference, total: 100 });
    expect(r.stdout).toMatch(new RegExp(`^accuracy: ${reference}/100 correct \\(${reference}\\.00 %\\); TS reference: ${reference}/100 correct`, 'm'));
    expect(reference).toBeGreaterThanOrEqual(95);
    console.log(`[example] firmware on mps2-an386: ${reference}/100 digits correct, equal to the TS reference`);
  }, 600_000);

  it('the default command embeds the labelled digits and states the reference accuracy', () => {
    const r = spawnSync(process.execPath, [BIN, '--target', 'cortex-m4', '-o', 'ex'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    expect(r.status).toBe(0);
    const reference = referenceCorrect();
    expect(r.stdout).toContain(`TS reference accuracy ${reference}/100 correct`);
    const golden = readFileSync(join(work, 'ex', 'golden.h'), 'utf8');
    expect(golden).toMatch(/#define GOLDEN_COUNT\s+100u/);
    expect(golden).toMatch(new RegExp(`#define GOLDEN_REF_CORRECT ${reference}u`));
    expect(golden).toContain('golden_labels[GOLDEN_COUNT]');
  }, 300_000);

  it('run --labels prints the accuracy; bad label files are one-line errors', () => {
    const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    const ok = run('run', DEFAULT_MODEL, '--input', DEFAULT_DIGITS, '--labels', DEFAULT_LABELS, '--json');
    expect(ok.status).toBe(0);
    const j = JSON.parse(ok.stdout);
    expect(j.accuracy.total).toBe(100);
    expect(j.results.filter((x: { argmax: number; label: number }) => x.argmax === x.label)).toHaveLength(j.accuracy.correct);
    expect(j.results[3].argmax).toBe(argmax(runReference(model, digits[3]).scores));

    writeFileSync(join(work, 'short.npy'), readFileSync(DEFAULT_LABELS).subarray(0, 128 + 8 * 5)); // header + 5 labels
    const cases: [string[], RegExp][] = [
      [['--labels', join(work, 'short.npy')], /short\.npy: (5 labels for 100 inputs|not a readable \.npy|the \.npy header declares shape \[100\] \(800 bytes of data\), the file holds 40 bytes of data)/],
      [['--labels', DEFAULT_DIGITS], /labels must have shape \[N\]|labels for 100 inputs/],
      [['--labels', join(work, 'missing.npy')], /cannot read labels/],
    ];
    for (const [extra, pattern] of cases) {
      const r = run('run', DEFAULT_MODEL, '--input', DEFAULT_DIGITS, ...extra);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  }, 300_000);
});
