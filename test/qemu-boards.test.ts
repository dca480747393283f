// Every QEMU Cortex-M board in boards/: the golden self-check firmware (the example model and seeded random models)
// built for the board's own CPU target and run on its QEMU machine must print PASS and exit 0. The microbit's 16 KiB
// of RAM cannot hold every model: there a model that does not fit must be refused at generation, and one that is
// accepted must link and run. Also the exit-status protocol (1 on a mismatch, 3 on a fault) per board.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { existsSync } from 'node:fs';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { renderFirmware } from '../generator/src/emit/firmware.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { generate } from '../generator/src/generate.ts';
import { arenaBudget, firmwareRam } from '../generator/src/plan/fit.ts';
import { labelledInputs, qemuBoardFor } from '../generator/src/cli/common.ts';
import { writeModel } from '../generator/src/format/write.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { runFirmware } from '../generator/src/verify/firmware-run.ts';
import { tooBigForMicrobit } from './fixtures/layers.ts';
import { loadBoard, type Board } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomModel } from '../generator/src/model/random.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

// mps2-an500-h743 last: each board's random seeds follow from its position.
const BOARDS = ['microbit', 'mps2-an385', 'mps2-an386', 'mps2-an500', 'mps2-an505', 'mps3-an547', 'mps2-an500-h743'] as const;
const haveMake = spawnSync('make', ['--version'], { stdio: 'ignore' }).status === 0;
const toolsMissing = !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm') || !haveMake;

const work = mkdtempSync(join(tmpdir(), 'bnn-boards-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const KiB = 1024;
const MiB = 1024 * 1024;

/** The facts each board file must state (checked against QEMU 7.2's `info mtree`, see the files' references); the QEMU
 *  machine is the board's name unless `machine` says otherwise. */
const EXPECTED: Record<(typeof BOARDS)[number], { cpu: string; machine?: string; code: [number, number]; data: [number, number]; stack: [number, number] }> = {
  microbit: { cpu: 'cortex-m0', code: [0x00000000, 256 * KiB], data: [0x20000000, 16 * KiB], stack: [0x20000000, 16 * KiB] },
  'mps2-an385': { cpu: 'cortex-m3', code: [0x00000000, 4 * MiB], data: [0x20000000, 4 * MiB], stack: [0x20000000, 4 * MiB] },
  'mps2-an386': { cpu: 'cortex-m4', code: [0x00000000, 4 * MiB], data: [0x20000000, 4 * MiB], stack: [0x20000000, 4 * MiB] },
  'mps2-an500': { cpu: 'cortex-m7', code: [0x00000000, 4 * MiB], data: [0x20000000, 4 * MiB], stack: [0x20000000, 4 * MiB] },
  // Secure aliases: the M33 resets in the Secure state with its vector table at 0x10000000.
  'mps2-an505': { cpu: 'cortex-m33', code: [0x10000000, 4 * MiB], data: [0x38000000, 4 * MiB], stack: [0x38000000, 4 * MiB] },
  // ITCM for code (the reset vector table is read at 0), the SSE-300 internal SRAM for data, the DTCM for the stack.
  'mps3-an547': { cpu: 'cortex-m55', code: [0x00000000, 512 * KiB], data: [0x21000000, 4 * MiB], stack: [0x20000000, 512 * KiB] },
  // The STM32H743's budget on AN500: 2 MiB of SSRAM1 for code (its flash), 512 KiB of SSRAM2/3 for data (its AXI SRAM)
  // and the 128 KiB below it for the stack (its DTCM).
  'mps2-an500-h743': { cpu: 'cortex-m7', machine: 'mps2-an500', code: [0x00000000, 2 * MiB], data: [0x20020000, 512 * KiB], stack: [0x20000000, 128 * KiB] },
};

function region(board: Board, name: string): [number, number] {
  const r = board.memory.find((m) => m.name === name)!;
  return [r.origin, r.length];
}

describe('QEMU board files', () => {
  for (const name of BOARDS) {
    it(`${name}: memory map, CPU target and QEMU machine`, () => {
      const b = loadBoard(name);
      const want = EXPECTED[name];
      expect(b.cpu).toBe(want.cpu);
      expect(getTarget(b.cpu).name).toBe(want.cpu);
      expect(b.qemu?.machine).toBe(want.machine ?? name);
      expect(b.output.method).toBe('semihosting');
      expect(region(b, b.layout.code)).toEqual(want.code);
      expect(region(b, b.layout.data)).toEqual(want.data);
      expect(region(b, b.layout.stack)).toEqual(want.stack);
      expect(b.references?.some((r) => r.includes('info mtree'))).toBe(true);
    });
  }

  it('a target alone gets the board named after its machine, never the H743 stand-in on the same machine', () => {
    expect(qemuBoardFor(getTarget('cortex-m7'))?.name).toBe('mps2-an500');
    expect(qemuBoardFor(getTarget('cortex-m4'))?.name).toBe('mps2-an386');
    expect(qemuBoardFor(getTarget('cortex-m7-sp'))).toBeUndefined();
  });

  it('targets state what the QEMU cores have (MVFR0/MVFR1/ID_ISAR3 read on each machine)', () => {
    const m0 = getTarget('cortex-m0');
    expect([m0.hasFpu, m0.hasDsp, m0.hasVtor, m0.unalignedAccess]).toEqual([false, false, false, false]);
    expect(getTarget('cortex-m3')).toMatchObject({ hasFpu: false, hasDsp: false, floatAbi: 'soft' });
    expect(getTarget('cortex-m7')).toMatchObject({ hasFpu: true, hasFpuDouble: true, hasDsp: true });
    expect(getTarget('cortex-m33')).toMatchObject({ hasFpu: true, hasFpuDouble: false, hasDsp: true, hasMve: false });
    expect(getTarget('cortex-m55')).toMatchObject({ hasFpu: true, hasFpuDouble: true, hasDsp: true, hasMve: true });
  });

  it('the linker scripts place code, data and stack as the boards say', () => {
    const dummy = { prefix: 'bnn_', modelSources: ['bnn_model.c'], inputs: [new Uint8Array(4)], expected: [new Float32Array(2)], inputSigned: false, scoreIsFloat: true };
    const an505 = renderFirmware({ ...dummy, board: loadBoard('mps2-an505'), target: getTarget('cortex-m33') })['linker.ld'];
    expect(an505).toContain('SSRAM1_S (rwx) : ORIGIN = 0x10000000, LENGTH = 0x00400000');
    expect(an505).toMatch(/\} > SSRAM1_S\n/);
    const an547 = renderFirmware({ ...dummy, board: loadBoard('mps3-an547'), target: getTarget('cortex-m55') })['linker.ld'];
    expect(an547).toContain('__StackTop = ORIGIN(DTCM) + LENGTH(DTCM);');
    expect(an547).toContain('} > ISRAM AT > ISRAM');
    expect(an547).not.toMatch(/__HeapLimit|__heap_min/); // no heap: all RAM is .data, .bss and the stack
    const microbit = renderFirmware({ ...dummy, board: loadBoard('microbit'), target: getTarget('cortex-m0') });
    expect(microbit['startup.c']).not.toContain('0xE000ED08'); // no VTOR on ARMv6-M Cortex-M0
    expect(microbit['startup.c']).not.toContain('0xE000ED88'); // no FPU to enable
    expect(microbit['linker.ld']).toContain('FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 0x00040000');
  });
});

/** The arena-heavy fixture at 288x288: its arena (about 8 B per input pixel) outgrows the STM32H743's 512 KiB AXI SRAM
 *  while its weights stay under 3 KiB. */
function tooBigForH743(): Model {
  const m = tooBigForMicrobit();
  return { ...m, name: 'too-big-for-h743', input: { ...m.input, shape: [1, 288, 288] } };
}

/** Weights beyond the H743's 2 MiB of flash with a small arena: a real-valued dense layer on 32x16x16 = 8192 binary
 *  features, 80 outputs (8192 x 80 x 4 B = 2.5 MiB of f32 weights). */
function tooHeavyForH743(): Model {
  const k3: [number, number] = [3, 3];
  const same = { top: 1, left: 1, bottom: 1, right: 1 };
  const m = tooBigForMicrobit();
  return {
    name: 'too-heavy-for-h743',
    input: { ...m.input, shape: [1, 16, 16] },
    layers: [
      { name: 'stem', op: 'conv2d', inputs: ['input'], output: 's', outChannels: 32, kernel: k3, stride: [1, 1], pad: same, weights: new Float32Array(32 * 9).fill(0.1), bias: new Float32Array(32) },
      { name: 'sign', op: 'binarize', inputs: ['s'], output: 'b', shift: null },
      { name: 'flat', op: 'flatten', inputs: ['b'], output: 'f' },
      { name: 'fc', op: 'dense', inputs: ['f'], output: 'out', outFeatures: 80, weights: new Float32Array(8192 * 80).fill(0.01), bias: new Float32Array(80) },
    ],
    output: 'out',
  };
}

describe('mps2-an500-h743: the STM32H743\'s memory budget in QEMU', () => {
  const standIn = loadBoard('mps2-an500-h743');
  const h743 = loadBoard('nucleo-h743zi');
  const length = (b: Board, region: string) => b.memory.find((r) => r.name === region)!.length;

  it('has the NUCLEO-H743ZI\'s core, region sizes and layout, so a model fits both or neither', () => {
    expect(standIn.cpu).toBe(h743.cpu);
    expect(length(standIn, standIn.layout.code)).toBe(length(h743, h743.layout.code)); // 2 MiB flash
    expect(length(standIn, standIn.layout.data)).toBe(length(h743, h743.layout.data)); // 512 KiB AXI SRAM
    expect(length(standIn, standIn.layout.stack)).toBe(length(h743, h743.layout.stack)); // 128 KiB DTCM
    expect(standIn.layout.stackSize).toBe(h743.layout.stackSize);
    expect([standIn.layout.stack === standIn.layout.data, h743.layout.stack === h743.layout.data]).toEqual([false, false]);
    expect(arenaBudget(standIn, 10)).toBe(arenaBudget(h743, 10));
    expect(arenaBudget(standIn, 10)).toBe(512 * KiB - firmwareRam(0, 10, h743).harness);
    expect(standIn.description).toMatch(/limited to 2 MiB \(the H743's flash\), \.data and \.bss \(the arena\) to 512 KiB \(its AXI SRAM\)/);
  });

  it('an arena beyond 512 KiB is refused at generation, naming both numbers, on the stand-in as on the board', () => {
    const m = tooBigForH743();
    const info = emitModel(m, { kernels: 'ref' }).info;
    expect(info.arenaSize).toBeGreaterThan(512 * KiB);
    expect(info.totalWeightBytes).toBeLessThan(2 * MiB);
    for (const board of [standIn, h743]) {
      expect(() => generate(m, { target: getTarget(board.cpu), board, goldenCount: 1, seed: 7 })).toThrow(
        new RegExp(`^model too-big-for-h743 does not fit ${board.name}: its firmware needs [\\d,]+ B of RAM \\(arena [\\d,]+, harness and C library [\\d,]+\\), AXI_SRAM has 524,288 B$`),
      );
    }
  });

  it('weights beyond 2 MiB are refused at generation, naming both numbers, on the stand-in as on the board', () => {
    const m = tooHeavyForH743();
    const info = emitModel(m, { kernels: 'ref' }).info;
    expect(info.totalWeightBytes).toBeGreaterThan(2 * MiB);
    expect(info.arenaSize).toBeLessThan(512 * KiB);
    for (const board of [standIn, h743]) {
      expect(() => generate(m, { target: getTarget(board.cpu), board, goldenCount: 1, seed: 7 })).toThrow(
        new RegExp(`^model too-heavy-for-h743 does not fit ${board.name}: its weights need [\\d,]+ B of flash, FLASH holds 2,097,152 B$`),
      );
    }
  });

  it('through the CLI: one error line, exit 2, nothing written', () => {
    const dir = join(work, 'h743-cli');
    mkdirSync(dir, { recursive: true });
    writeModel(tooBigForH743(), join(dir, 'model.json'));
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'bnn-gen.js'), join(dir, 'model.json'), '--board', 'mps2-an500-h743', '-o', join(dir, 'out')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^bnn-gen: error: model too-big-for-h743 does not fit mps2-an500-h743: its firmware needs [\d,]+ B of RAM \(arena [\d,]+, harness and C library [\d,]+\), AXI_SRAM has 524,288 B\n$/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('the linker script puts code in the 2 MiB, .data/.bss in the 512 KiB and the stack at the top of the 128 KiB', () => {
    const dummy = { prefix: 'bnn_', modelSources: ['bnn_model.c'], inputs: [new Uint8Array(4)], expected: [new Float32Array(2)], inputSigned: false, scoreIsFloat: true };
    const ld = renderFirmware({ ...dummy, board: standIn, target: getTarget('cortex-m7') })['linker.ld'];
    expect(ld).toContain('FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 0x00200000');
    expect(ld).toContain('DTCM (rwx) : ORIGIN = 0x20000000, LENGTH = 0x00020000');
    expect(ld).toContain('AXI_SRAM (rwx) : ORIGIN = 0x20020000, LENGTH = 0x00080000');
    expect(ld).toContain('} > AXI_SRAM AT > FLASH');
    expect(ld).toContain('__StackTop = ORIGIN(DTCM) + LENGTH(DTCM);');
  });

  it.skipIf(toolsMissing)('the shipped example with its 100 labelled digits prints PASS 100/100 within the budget', async () => {
    const example = loadModel(DEFAULT_MODEL);
    const { inputs, labels } = labelledInputs(undefined, {}, example);
    const r = await runFirmware(example, standIn, inputs, labels);
    expect(r.stdout, r.stdout).toMatch(/^PASS 100\/100$/m);
    expect(r.passed).toBe(true);
    expect(r.accuracy).toEqual({ correct: 99, reference: 99, total: 100 });
    expect(r.scores).toEqual(inputs.map((x) => runReference(example, x).scores));
    // .data + .bss within the 512 KiB and within what the planner counted; the stack measured inside its 128 KiB.
    const planned = firmwareRam(r.memory.ram.arena, 10, standIn);
    expect(r.memory.ram.region).toBe('AXI_SRAM');
    expect(r.memory.ram.stackRegion).toBe('DTCM');
    expect(r.memory.ram.total - r.memory.ram.stackReserved).toBeLessThanOrEqual(planned.total);
    expect(r.memory.flash.total).toBeLessThanOrEqual(2 * MiB);
    expect(r.stackBytes).toBeGreaterThan(0);
    expect(r.stackBytes).toBeLessThan(128 * KiB);
  }, 300_000);
});

async function build(board: Board, model: Model, name: string) {
  const g = generate(model, { target: getTarget(board.cpu), board, goldenCount: 4, seed: 7 });
  const dir = join(work, board.name, name);
  writeTree(dir, g.files);
  return (await buildFirmware(dir, { jobs: 2 })).elf;
}

async function expectPass(board: Board, model: Model, name: string) {
  const r = await runQemu(await build(board, model, name), board, { timeoutMs: 60_000 });
  expect(r.stdout, r.stdout + r.stderr).toMatch(/^PASS 4\/4$/m);
  expect(r.stdout).toMatch(/^stack: \d+ bytes$/m);
  expect(r.exitCode).toBe(0);
}

/** The arena size of a model, without building anything. */
const arenaOf = (m: Model) => emitModel(m, { kernels: 'ref' }).info.arenaSize; // fast kernels only take RAM the board has to spare

/** The first `n` seeds from `from` whose random model satisfies `pred` (deterministic). */
function seedsWhere(from: number, n: number, pred: (m: Model) => boolean): number[] {
  const out: number[] = [];
  for (let s = from; out.length < n && s < from + 2000; s++) if (pred(randomModel(s))) out.push(s);
  if (out.length < n) throw new Error(`only ${out.length} of ${n} random seeds from ${from} qualify`);
  return out;
}

const endsInDense = (m: Model) => m.layers[m.layers.length - 1].op === 'dense';

/** The model with a softmax (or log-softmax) over its f32 scores. */
function withSoftmax(m: Model, log: boolean): Model {
  return { ...m, name: `${m.name}-softmax`, layers: [...m.layers, { name: 'softmax', op: 'softmax', inputs: [m.output], output: 'probs', log }], output: 'probs' };
}

/** The first `n` seeds from `from` whose model's arena is in [lo, hi] bytes. */
function seedsWithArena(from: number, n: number, lo: number, hi: number): number[] {
  return seedsWhere(from, n, (m) => {
    const a = arenaOf(m);
    return a >= lo && a <= hi;
  });
}

const SMALL_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'mnist-untrained', 'model.json');

describe.skipIf(toolsMissing)('golden firmware on every QEMU Cortex-M board', () => {
  const example = loadModel(DEFAULT_MODEL);

  BOARDS.forEach((name, b) => {
    const board = loadBoard(name);
    if (name !== 'microbit') {
      it(`${name}: the example model prints PASS`, () => expectPass(board, example, 'example'));
      // Different seeds per board: more of the random space for the same run time.
      for (const seed of [300 + 10 * b, 301 + 10 * b, 302 + 10 * b]) {
        it(`${name}: random model ${seed} prints PASS`, () => expectPass(board, randomModel(seed), `random-${seed}`));
      }
      // Softmax's exp and log on the core's own float: FPv4/FPv5 hardware on the M4..M55, libgcc's soft float on the M3.
      it(`${name}: a model ending in ${b % 2 ? 'log-' : ''}softmax prints PASS`, () => expectPass(board, withSoftmax(randomModel(seedsWhere(320 + 10 * b, 1, endsInDense)[0]), b % 2 === 1), 'softmax'));
      // The bit-sliced kernel as the cost model picks it: on DSP cores (M4, M7, M33, M55) its Thumb-2 assembly
      // (4-bit indices, row cache), on the M3 its C loops.
      it(`${name}: a tau-4 bit-sliced layer prints PASS`, async () => {
        const m = standardLayerModel(24, 20, 20, 4, 30 + b);
        const conv = emitModel(m, { kernels: 'auto' }).info.layers.find((l) => l.name === 'conv')!;
        expect(conv.kernel).toBe('bnn_bconv2d_b1_b1_slice');
        await expectPass(board, m, 'slice');
      });
    }
  });

  describe('microbit (16 KiB RAM)', () => {
    const board = loadBoard('microbit');

    // The trained example with the 100 labelled digits bnn-gen embeds when no model is given (bnn-gen --board
    // microbit): its arena, 2.5 KiB of harness and newlib (no heap) and the 2 KiB stack. About 10 s in all.
    it('the trained example with its 100 labelled digits prints PASS 100/100 and the reference\'s 99/100 within 16 KiB', async () => {
      const { inputs, labels } = labelledInputs(undefined, {}, example);
      expect(inputs).toHaveLength(100);
      const r = await runFirmware(example, board, inputs, labels);
      expect(r.stdout, r.stdout).toMatch(/^PASS 100\/100$/m);
      expect(r.passed).toBe(true);
      expect(r.stdout).toMatch(/^accuracy: 99\/100 correct \(99\.00 %\); TS reference: 99\/100 correct \(99\.00 %\)$/m);
      expect(r.accuracy).toEqual({ correct: 99, reference: 99, total: 100 });
      // All of its RAM, from the ELF: .data + .bss + the reserved stack, within what the planner counted and the board has.
      const planned = firmwareRam(r.memory.ram.arena, 10, board);
      expect(r.memory.ram.total).toBeLessThanOrEqual(planned.total);
      expect(r.memory.ram.total).toBeLessThanOrEqual(16 * KiB);
      console.log(`[microbit] example: ${r.memory.ram.total} B of RAM (arena ${r.memory.ram.arena}, other ${r.memory.ram.other}, stack ${r.memory.ram.stackReserved}, ${r.memory.ram.stackMeasured} used)`);
      // The scores read back from the printed bits are the reference's, bit for bit.
      expect(r.scores).toEqual(inputs.map((x) => runReference(example, x).scores));
      // The stack the model used was measured and stayed inside the reserved 2 KiB (the RAM counted above).
      expect(r.stdout).toMatch(/^stack: \d+ bytes$/m);
    }, 300_000);

    // The smaller untrained fixture (two binary layers) is MNIST-sized too.
    it('an MNIST-sized model (the small untrained fixture) runs on the micro:bit', () => expectPass(board, loadModel(SMALL_FIXTURE), 'small'));

    it('a model whose arena exceeds the RAM is refused at generation, naming both numbers', async () => {
      await expect(build(board, tooBigForMicrobit(), 'too-big')).rejects.toThrow(/does not fit microbit: its firmware needs [\d,]+ B of RAM \(arena [\d,]+, harness and C library [\d,]+, stack 2,048\), RAM has 16,384 B/);
    });

    it('what the generator accepts links and runs: models within 3 KiB of the RAM bound print PASS, just above is refused', async () => {
      // firmwareRam counts arena + harness and newlib + stack (there is no heap); a model it accepts must never fail to link.
      const slack = (m: Model) => {
        const info = emitModel(m, { kernels: 'ref' }).info;
        const r = firmwareRam(info.arenaSize, info.numClasses, board);
        return r.capacity - r.total;
      };
      for (const seed of seedsWhere(400, 2, (m) => slack(m) >= 0 && slack(m) < 3072)) await expectPass(board, randomModel(seed), `near-${seed}`);
      const [over] = seedsWhere(400, 1, (m) => slack(m) < 0 && slack(m) > -4096);
      await expect(build(board, randomModel(over), `over-${over}`)).rejects.toThrow(/does not fit microbit: its firmware needs/);
    });

    it('softmax and log-softmax on soft float (ARMv6-M, no FPU) print PASS', async () => {
      const [a, c] = seedsWhere(360, 2, (m) => endsInDense(m) && arenaOf(m) <= 6 * 1024);
      await expectPass(board, withSoftmax(randomModel(a), false), 'softmax');
      await expectPass(board, withSoftmax(randomModel(c), true), 'log-softmax');
    });

    for (const seed of seedsWithArenaLazy()) {
      it(`random model ${seed} (fits) prints PASS`, () => expectPass(board, randomModel(seed), `random-${seed}`));
    }
  });
});

/** Seeds of random models small enough for the microbit (found at collection time; deterministic). */
function seedsWithArenaLazy(): number[] {
  if (toolsMissing) return [];
  return seedsWithArena(360, 3, 0, 6 * 1024);
}

// The exit-status protocol on every board, with a hand-written model: 1 on a mismatch, 3 on a fault.
const MODEL_H = `#ifndef BNN_MODEL_H
#define BNN_MODEL_H
#include <stdint.h>
#define BNN_INPUT_SIZE  16
#define BNN_NUM_CLASSES 2
#define BNN_ARENA_SIZE  4
#define BNN_SCORE_IS_FLOAT 0
typedef uint8_t bnn_input_t;
typedef int32_t bnn_score_t;
int bnn_run(const bnn_input_t *input, bnn_score_t *scores, void *arena);
#endif
`;
const modelC = (fault: boolean) => `#include "bnn_model.h"
int bnn_run(const bnn_input_t *input, bnn_score_t *scores, void *arena)
{
    int32_t s = 0;
    (void)arena;
    for (int i = 0; i < BNN_INPUT_SIZE; i++) s += input[i];
${fault ? '    __asm__ volatile ("udf #0");\n' : ''}    scores[0] = s;
    scores[1] = -s;
    return 0;
}
`;

describe.skipIf(toolsMissing)('exit status protocol on every QEMU board', () => {
  for (const name of BOARDS) {
    it(`${name}: exit 1 on a mismatch, 3 on a fault`, async () => {
      const board = loadBoard(name);
      const input = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
      const sum = input.reduce((a, v) => a + v, 0);
      for (const [kind, expectedScores, fault, status, line] of [
        ['mismatch', [sum, -sum + 1], false, 1, /^FAIL 1\/1 mismatched$/m],
        ['fault', [sum, -sum], true, 3, /fault, exception #003/],
      ] as const) {
        const dir = join(work, name, `protocol-${kind}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'bnn_model.h'), MODEL_H);
        writeFileSync(join(dir, 'bnn_model.c'), modelC(fault));
        const files = renderFirmware({
          board, target: getTarget(board.cpu), prefix: 'bnn_', modelSources: ['bnn_model.c'],
          inputs: [input], expected: [Int32Array.from(expectedScores)], inputSigned: false, scoreIsFloat: false,
        });
        for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
        const r = await runQemu((await buildFirmware(dir, { jobs: 2 })).elf, board, { timeoutMs: 30_000 });
        expect(r.stdout + r.stderr).toMatch(line);
        expect(r.exitCode).toBe(status);
      }
    });
  }
});
