// The bit-sliced kernel's Helium loops (runtime-c/bnn_bconv2d_slice_mve.c) on QEMU's Cortex-M55 (mps3-an547): the
// saturating and wide record paths as the M55 build runs them, against the TS reference's golden outputs. The
// firmware's symbol table shows the MVE routine was linked (an M4-class build would take the Thumb-2 one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../generator/src/generate.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { withPadValue, withPool, withThresholds } from './fixtures/layers.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-m55-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const board = loadBoard('mps3-an547');

async function m55Run(model: Model, name: string) {
  const g = generate(model, { target: getTarget('cortex-m55'), board, goldenCount: 3, seed: 11, kernels: 'fast' });
  const dir = join(work, name);
  writeTree(dir, g.files);
  const { elf } = await buildFirmware(dir);
  const symbols = (await runTool('arm-none-eabi-nm', [elf])).stdout.toString();
  return { ...(await runQemu(elf, board)), info: g.info, symbols };
}

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('Cortex-M55 Helium loops under QEMU', () => {
  const cases: [string, Model, RegExp, string][] = [
    ['20x20x32 tau 4, row ring, saturating', standardLayerModel(32, 20, 20, 4, 41), /row ring, saturating/, 'bnn_sl_mve_sat_out'],
    ['6x10x32 tau 5 (8-bit indices), saturating', standardLayerModel(32, 6, 10, 5, 42), /saturating/, 'bnn_sl_mve_sat_out'],
    ['6x32x120 tau 4, saturating with the corner units on 16-bit lanes', withThresholds(standardLayerModel(120, 6, 32, 4, 43), -700, -580, 43), /saturating/, 'bnn_sl_mve_sat_out'],
    ['16x16x64 tau 4, row ring, wide lanes (three chunks)', standardLayerModel(64, 16, 16, 4, 44), /row ring, wide lanes/, 'bnn_sl_mve_wide_out'],
    ['8x8x70 tau 3, pad +1, wide lanes with zero-block channels', withPadValue(standardLayerModel(70, 8, 8, 3, 45), 1), /wide lanes/, 'bnn_sl_mve_wide_out'],
    ['13x7x64 tau 4, pad -1, wide lanes, a partial unit and a fused 2x2 max pool', withPool(withPadValue(standardLayerModel(64, 13, 7, 4, 46), -1), [2, 2], [2, 2]), /wide lanes.*max pool fused/, 'bnn_sl_mve_wide_out'],
    ['8x8x64 tau 4, four rows a unit: row ring (rows in C), wide lanes', standardLayerModel(64, 8, 8, 4, 49), /row ring, wide lanes/, 'bnn_sl_mve_wide_out'],
    ['6x10x136 tau 5 (8-bit indices), pad -1, wide lanes', withPadValue(standardLayerModel(136, 6, 10, 5, 48), -1), /wide lanes/, 'bnn_sl_mve_wide_out'],
    ['12x32x32 tau 4, thresholds above a byte, wide lanes', withThresholds(standardLayerModel(32, 12, 32, 4, 47), 230, 280, 47), /wide lanes/, 'bnn_sl_mve_wide_out'],
  ];
  for (const [i, [name, model, why, routine]] of cases.entries()) {
    it(`bit-sliced kernel on the M55: ${name}`, async () => {
      const r = await m55Run(model, `m55-${i}`);
      const conv = r.info.layers.find((l) => l.name === 'conv')!;
      expect(conv.kernel).toBe('bnn_bconv2d_b1_b1_slice');
      expect(conv.why).toMatch(why);
      expect(r.symbols).toMatch(new RegExp(` T ${routine}$`, 'm'));
      expect(r.stdout).toMatch(/^PASS 3\/3$/m);
    });
  }
});
