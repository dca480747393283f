// Memory figures: the report read from the linked ELF, and refusal of models that cannot fit a board.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { generate, goldenInputs } from '../generator/src/generate.ts';
import { checkFits, HARNESS_STATIC_RAM } from '../generator/src/plan/fit.ts';
import { liveBytes, planArena } from '../generator/src/plan/arena.ts';
import { loadBoard, parseBoard } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { runFirmware } from '../generator/src/verify/firmware-run.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

/** A board like the BBC micro:bit's nRF51 (256 KiB flash, 16 KiB RAM), made smaller to provoke refusals. */
function tinyBoard(flash: string, ram: string) {
  const b = structuredClone(loadBoard('mps2-an386')) as unknown as Record<string, unknown>;
  return parseBoard(
    {
      ...b,
      name: 'tiny',
      memory: [
        { name: 'FLASH', origin: '0x00000000', length: flash, attributes: 'rx' },
        { name: 'RAM', origin: '0x20000000', length: ram, attributes: 'rwx' },
      ],
      layout: { code: 'FLASH', data: 'RAM', stack: 'RAM', stackSize: '2K' },
      qemu: null,
    },
    'test',
  );
}

describe('arena plan: a pool written over the start of its dying input', () => {
  // x (steps 0..2) is pooled at step 2 into y, over x's start; z (steps 3..4) then takes the rest of x's bytes.
  const requests = [
    { id: 'x', bytes: 100, first: 0, last: 2 },
    { id: 'y', bytes: 25, first: 2, last: 4, at: 'x' },
    { id: 'z', bytes: 60, first: 3, last: 4 },
    { id: 'w', bytes: 40, first: 0, last: 4 },
  ];
  it('places it at its input\'s offset and frees the rest, hand-checked', () => {
    const plan = planArena(requests);
    const at = (id: string) => plan.placements.get(id)!.offset;
    // Largest first: x at 0, y with it at 0; w (alive throughout) after x at 104 (8-byte aligned); z after y at 32.
    expect([at('x'), at('y'), at('w'), at('z')]).toEqual([0, 0, 104, 32]);
    expect(plan.size).toBe(144);
    // At step 2, y shares x's bytes: 100 + 40, not 125 + 40.
    expect(liveBytes(requests, 2)).toBe(140);
    expect(liveBytes(requests, 3)).toBe(125);
  });
  it('moves the pair together when the input\'s lowest gap cannot hold the output later', () => {
    // v (120 B, steps 3..4, the largest) takes 0 first: y, alive with it, cannot start there, so neither can x.
    const plan = planArena([...requests.slice(0, 2), { id: 'v', bytes: 120, first: 3, last: 4 }]);
    expect(plan.placements.get('v')!.offset).toBe(0);
    expect(plan.placements.get('x')!.offset).toBe(plan.placements.get('y')!.offset);
    expect(plan.placements.get('x')!.offset).toBe(120);
  });
});

describe('fit checks at generation time', () => {
  const model = loadModel(DEFAULT_MODEL);
  const info = emitModel(model).info;

  it('refuses weights larger than flash, naming both numbers', () => {
    const n = (v: number) => v.toLocaleString('en-US');
    expect(() => checkFits(info, tinyBoard('32K', '64K'))).toThrow(new RegExp(`weights need ${n(info.totalWeightBytes)} B of flash, FLASH holds 32,768 B`));
  });

  it('refuses a firmware whose RAM (arena, harness and C library, stack: there is no heap) exceeds the board\'s, naming each part', () => {
    const n = (v: number) => v.toLocaleString('en-US');
    const need = info.arenaSize + HARNESS_STATIC_RAM + 4 * info.numClasses + 2048;
    expect(() => checkFits(info, tinyBoard('1M', '8K'))).toThrow(`its firmware needs ${n(need)} B of RAM (arena ${n(info.arenaSize)}, harness and C library ${n(HARNESS_STATIC_RAM + 4 * info.numClasses)}, stack 2,048), RAM has 8,192 B`);
    // Regions end 8-byte aligned: 8 bytes short of the (rounded up) total is refused, the total fits.
    const fit = Math.ceil(need / 8) * 8;
    expect(() => checkFits(info, tinyBoard('1M', String(fit - 8)))).toThrow(/does not fit tiny/);
    expect(() => checkFits(info, tinyBoard('1M', String(fit)))).not.toThrow();
  });

  it('accepts a model that fits and generation goes through', () => {
    expect(() => generate(model, { target: getTarget('cortex-m4'), board: tinyBoard('1M', '24K'), kernels: 'ref' })).not.toThrow();
  });
});

describe.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('memory report from the linked ELF', () => {
  it('splits flash and RAM, with the exact arena and a measured stack', async () => {
    const model = loadModel(DEFAULT_MODEL);
    const info = emitModel(model).info;
    const r = await runFirmware(model, loadBoard('mps2-an386'), goldenInputs(model, [], 2, 1));
    expect(r.passed).toBe(true);
    const m = r.memory;
    expect(m.ram.arena).toBe(Math.ceil(info.arenaSize / 4) * 4); // the harness declares it as uint32_t words
    // Model constants are the weight tables plus the per-layer parameter structs.
    expect(m.flash.modelConstants).toBeGreaterThanOrEqual(info.totalWeightBytes);
    expect(m.flash.modelConstants).toBeLessThan(info.totalWeightBytes + 2048);
    expect(m.flash.kernels).toBeGreaterThan(500);
    expect(m.flash.goldenData).toBe(2 * info.inputSize + 2 * info.numClasses * 4);
    expect(m.flash.startupAndLibc).toBeGreaterThan(0);
    expect(m.flash.total).toBe(m.flash.modelConstants + m.flash.kernels + m.flash.goldenData + m.flash.startupAndLibc);
    expect(m.ram.stackMeasured).toBeGreaterThan(0);
    expect(m.ram.stackMeasured).toBeLessThan(m.ram.stackReserved);
    // The rest of RAM (harness, newlib, the scores; no heap) is within what the fit check counts for it.
    expect(m.ram.other).toBeLessThanOrEqual(HARNESS_STATIC_RAM + 4 * info.numClasses);
    expect(m.ram.total).toBe(m.ram.arena + m.ram.other + m.ram.stackReserved);
    expect(m.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
  });
});
