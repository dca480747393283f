// The bit-sliced kernel on ARMv6-M (Cortex-M0/M0+): its Thumb-1 assembly (mode 1, bnn_bconv2d_slice_t1.c) and the C
// paths as GCC builds them for Thumb-1, against the TS reference's golden outputs under QEMU. Working sets larger
// than the micro:bit's 16 KiB run on the M3 board (mps2-an385, 4 MiB): ARMv6-M code executes there unchanged; the
// micro:bit itself runs the cases that fit it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { integerStem } from '../generator/src/compact/stem.ts';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { generate } from '../generator/src/generate.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { limitFor, withPadValue, withPool } from './fixtures/layers.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-qemu-m0-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function m0Run(model: Model, name: string, boardName: string, scratchLimit?: number) {
  const board = loadBoard(boardName);
  const g = generate(model, { target: getTarget('cortex-m0'), board, goldenCount: 3, seed: 5, kernels: 'fast', scratchLimit, armv6m: true });
  const dir = join(work, name);
  writeTree(dir, g.files);
  const { elf } = await buildFirmware(dir);
  return { ...(await runQemu(elf, board)), info: g.info };
}

// [name, model, the planner's reason to pin (by scratch limit), board]
const cases: [string, Model, RegExp, string][] = [
  ['16x16x40 tau 4, byte lanes (assembly), one batch', standardLayerModel(40, 16, 16, 4, 51), /byte lanes, batch 40, 4-bit/, 'mps2-an385'],
  ['8x8x44 tau 4, byte lanes (assembly), batches and a channel tail, pad +1', withPadValue(standardLayerModel(44, 8, 8, 4, 52), 1), /byte lanes, batch 16, 4-bit/, 'mps2-an385'],
  ['8x8x96 tau 3, byte lanes (assembly), output groups', standardLayerModel(96, 8, 8, 3, 53), /byte lanes.*output groups/, 'mps2-an385'],
  ['20x20x24 tau 4, byte lanes, row cache, pad -1', withPadValue(standardLayerModel(24, 20, 20, 4, 54), -1), /row cache/, 'mps2-an385'],
  ['6x10x24 tau 5 (8-bit indices: the C loop), byte lanes', standardLayerModel(24, 6, 10, 5, 55), /byte lanes, batch 24, 8-bit/, 'mps2-an385'],
  ['13x7x33 tau 4, bit planes, output groups, a partial unit', standardLayerModel(33, 13, 7, 4, 56), /bit planes.*output groups/, 'mps2-an385'],
  ['16x16x32 tau 4, byte lanes (assembly), max pool fused', withPool(standardLayerModel(32, 16, 16, 4, 57), [2, 2], [2, 2]), /byte lanes.*max pool fused/, 'mps2-an385'],
  ['16x16x32 tau 4 on the micro:bit, bit planes, batches', standardLayerModel(32, 16, 16, 4, 58), /bit planes, batch 8, 4-bit/, 'microbit'],
  ['8x8x64 tau 4 on the micro:bit, byte lanes (assembly), batches', standardLayerModel(64, 8, 8, 4, 59), /byte lanes, batch 8, 4-bit/, 'microbit'],
];

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('bit-sliced kernel on ARMv6-M under QEMU', () => {
  it('the example with --stem int8 (an int8 qconv2d stem) on the micro:bit', async () => {
    const r = await m0Run(integerStem(loadModel(DEFAULT_MODEL)), 'm0-int8-stem', 'microbit');
    expect(r.info.layers[0].kernel).toBe('bnn_qconv2d_u8_b1_thr');
    expect(r.stdout).toMatch(/^PASS 3\/3$/m);
  });

  for (const [i, [name, model, want, board]] of cases.entries()) {
    it(name, async () => {
      const r = await m0Run(model, `m0-${i}`, board, limitFor(model, want, { armv6m: true }));
      const conv = r.info.layers.find((l) => l.name === 'conv')!;
      expect(conv.kernel).toBe('bnn_bconv2d_b1_b1_slice');
      expect(conv.why).toMatch(want);
      expect(r.stdout).toMatch(/^PASS 3\/3$/m);
      expect(r.exitCode).toBe(0);
    });
  }
});
