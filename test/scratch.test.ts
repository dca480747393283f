// Scratch sizes have one truth per kernel: its C companion bnn_<kernel>_scratch_words(params). The generator's
// planner computes the same figure in TS to lay out the arena; here both are compared for many shapes and every
// kernel that takes scratch (qconv2d and its int8 rows, plain and codebook _ref, lanes, slice in all its modes, bdense,
// the int8 path's fused variants), all models
// linked into one host program (one prefix each) built with -DBNN_SCRATCH_CHECK.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { emitModel, type EmitOptions, type ModelInfo } from '../generator/src/emit/model-c.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomInput, randomModel } from '../generator/src/model/random.ts';
import { calibrate, quantizeInt8 } from '../generator/src/quantize/index.ts';
import { residualFloatModel } from './fixtures/residual-float.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-scratch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  model: Model;
  opts: EmitOptions;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (let seed = 1; seed <= 40; seed++) out.push({ model: randomModel(seed), opts: { kernels: seed % 3 === 0 ? 'ref' : 'auto' } });
  // Fast kernels in every mode: the standard layers with and without DSP, under tight and loose scratch limits.
  for (const [C, H] of [[16, 12], [32, 8], [24, 20], [64, 6], [40, 32]] as const) {
    for (const tau of [3, 4, 5, 6, null]) {
      for (const dsp of [true, false]) {
        for (const scratchLimit of [undefined, 40_000, 12_000]) {
          out.push({ model: standardLayerModel(C, H, Math.min(H, 32), tau, C + H), opts: { kernels: 'auto', dsp, scratchLimit } });
        }
      }
    }
  }
  // The int8 path's fused kernels (qconv2d rows with and without a pool, bconv2d with a requant: lanes and _ref).
  for (let seed = 1; seed <= 6; seed++) {
    const float = residualFloatModel(300 + seed);
    const calib = Array.from({ length: 4 }, (_, k) => randomInput(float, k + 1));
    out.push({ model: quantizeInt8(float, calibrate(float, calib)).model, opts: { kernels: seed % 2 ? 'auto' : 'ref' } });
  }
  return out;
}

describe.skipIf(!haveTool('gcc'))('scratch companions', () => {
  it('every layer: the C companion returns exactly the scratch the TS planner reserved', async () => {
    const all = cases();
    const files: Record<string, string> = {};
    const infos: ModelInfo[] = [];
    all.forEach((c, i) => {
      const e = emitModel(c.model, { ...c.opts, prefix: `m${i}_` });
      infos.push(e.info);
      for (const [name, text] of Object.entries(e.files)) files[name] = text;
    });
    const kernels = new Set(infos.flatMap((inf) => inf.layers.filter((l) => l.scratchBytes > 0).map((l) => l.kernel)));
    // Every kernel with scratch is exercised.
    for (const k of ['bnn_qconv2d_u8_acc', 'bnn_bconv2d_b1_acc_plain_ref', 'bnn_bconv2d_b1_acc_codebook_ref', 'bnn_bconv2d_b1_acc_lanes', 'bnn_bconv2d_b1_b1_slice', 'bnn_bdense_b1_acc_ref']) {
      expect(kernels, k).toContain(k);
    }
    const main = [
      '#include <stdio.h>',
      '#include <stdint.h>',
      ...infos.map((inf) => `void ${inf.prefix}scratch_words(uint32_t *words);`),
      'int main(void) {',
      '    static uint32_t w[4096];',
      ...infos.map((inf) => `    ${inf.prefix}scratch_words(w); for (unsigned i = 0; i < ${inf.layers.length}u; i++) printf("%u ", (unsigned)w[i]); printf("\\n");`),
      '    return 0;',
      '}',
    ].join('\n');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
    writeFileSync(join(work, 'main.c'), main);
    const sources = [...Object.keys(files).filter((f) => f.endsWith('.c')), 'main.c'];
    await runTool('gcc', ['-std=c99', '-O1', '-Wall', '-Wextra', '-Werror', '-DBNN_SCRATCH_CHECK', ...sources, '-o', 'check'], { cwd: work });
    const lines = (await runTool(join(work, 'check'), [])).stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(infos.length);
    const bad: string[] = [];
    infos.forEach((inf, m) => {
      const words = lines[m].trim().split(' ').map(Number);
      inf.layers.forEach((l, i) => {
        if (words[i] * 4 !== l.scratchBytes) bad.push(`model ${m} layer ${i} (${l.kernel}): C says ${words[i] * 4} B, the plan ${l.scratchBytes} B`);
      });
    });
    expect(bad).toEqual([]);
  });
});
