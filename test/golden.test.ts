// `bnn-gen golden`: the C header checks a host build of the model bit for bit; the .npy files read back.
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseNpy } from 'npyjs';
import { readFileSync } from 'node:fs';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { readInputs } from '../generator/src/import/inputs.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { goldenInputs } from '../generator/src/generate.ts';
import { generateGolden as goldenFiles } from '../generator/src/generate.ts';
import { randomModel } from '../generator/src/model/random.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-golden-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHECK_MAIN = `
#include <stdio.h>
#include <string.h>
#include "bnn_model.h"
#include "bnn_golden.h"
static uint32_t arena[(BNN_ARENA_SIZE + 3) / 4];
int main(void) {
    int bad = 0;
    for (int i = 0; i < BNN_GOLDEN_COUNT; i++) {
        bnn_score_t s[BNN_NUM_CLASSES];
        if (bnn_run(BNN_GOLDEN_INPUTS[i], s, arena) != 0 || memcmp(s, BNN_GOLDEN_SCORES[i], sizeof s) != 0) bad++;
    }
    printf("%d bad\\n", bad);
    return bad != 0;
}
`;

async function checkOnHost(model: Model, name: string, corrupt = false) {
  const dir = join(work, name);
  const inputs = goldenInputs(model, [], 5, 3);
  const files: Record<string, string | Uint8Array> = { ...emitModel(model).files, ...goldenFiles(model, inputs, { inputsFrom: 'test' }), 'check.c': CHECK_MAIN };
  if (corrupt) files['bnn_golden.h'] = (files['bnn_golden.h'] as string).replace(/(GOLDEN_SCORES[^{]*\{\s*\{[^\n]*\n\s*)(-?\d)/, (_, a, d) => a + (d === '1' ? '2' : '1'));
  writeTree(dir, files);
  const sources = Object.keys(files).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
  await runTool('gcc', ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-I', dir, ...sources, '-o', join(dir, 'check')]);
  return runTool(join(dir, 'check'), []).then(
    (r) => ({ code: 0, out: r.stdout.toString() }),
    (e: Error) => ({ code: 1, out: e.message }),
  );
}

describe.skipIf(!haveTool('gcc'))('golden vectors', () => {
  it('the example: the header verifies a host build, bit for bit', async () => {
    const r = await checkOnHost(loadModel(DEFAULT_MODEL), 'example');
    expect(r.out).toContain('0 bad');
    expect(r.code).toBe(0);
  });

  it('an int8-input, int32-score model too; a corrupted expected score is caught', async () => {
    let seed = 1;
    while (!(randomModel(seed).input.dtype === 'i8' && randomModel(seed).layers.at(-1)!.op !== 'dense')) seed++;
    expect((await checkOnHost(randomModel(seed), 'int')).code).toBe(0);
    expect((await checkOnHost(loadModel(DEFAULT_MODEL), 'corrupt', true)).code).toBe(1);
  });

  it('the header stops the build when the model header is another model (hash checked at compile time)', async () => {
    const model = loadModel(DEFAULT_MODEL);
    const other = randomModel(3);
    const dir = join(work, 'mixed');
    const golden = goldenFiles(model, goldenInputs(model, [], 2, 1), { inputsFrom: 'test' });
    writeTree(dir, { ...emitModel(other).files, 'bnn_golden.h': golden['bnn_golden.h'], 'check.c': CHECK_MAIN });
    const r = await runTool('gcc', ['-std=c99', '-fsyntax-only', '-I', dir, join(dir, 'check.c')]).then(() => '', (e: Error) => e.message);
    expect(r).toMatch(/#error "bnn_golden.h was generated for model mnist-sparks \(sha256 [0-9a-f]{16}\.\.\.\), but bnn_model.h is another model/);
  });

  it('the .npy files hold the inputs and the reference scores', () => {
    const model = loadModel(DEFAULT_MODEL);
    const inputs = goldenInputs(model, [], 4, 9);
    const files = goldenFiles(model, inputs, { inputsFrom: 'test' });
    writeFileSync(join(work, 'inputs.npy'), files['inputs.npy']);
    expect(readInputs(join(work, 'inputs.npy'), model)).toEqual(inputs);
    const exp = parseNpy((files['expected.npy'] as Uint8Array).slice().buffer as ArrayBuffer);
    expect(exp.shape).toEqual([4, 10]);
    expect(exp.dtype).toBe('f4');
    inputs.forEach((x, i) => expect(Array.from((exp.data as Float32Array).subarray(i * 10, i * 10 + 10))).toEqual(Array.from(runReference(model, x).scores)));
    void readFileSync;
  });
});
