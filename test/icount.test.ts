// The icount QEMU plugin counts executed instructions exactly: a hand-counted Thumb program (known.S) on a Cortex-M4
// (mps2-an386) and a Cortex-M0 (microbit), in every counting mode, with and without -icount / -singlestep, run twice.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPlugin, runWithCounts, type CountOptions, type CountResult } from '../generator/src/bench/icount.ts';
import { buildKnownFirmware, expectedCounts, KNOWN_MARKERS, type KnownParams } from '../generator/src/bench/selftest.ts';
import { loadBoard, parseBoard, type Board } from '../generator/src/model/board.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

// No boards/microbit.json yet: the memory map checked in shared/context/toolchains.md (nRF51822 in QEMU 7.2).
const microbit: Board = parseBoard(
  {
    name: 'microbit',
    description: 'BBC micro:bit (nRF51822, Cortex-M0). Runnable in QEMU as -M microbit.',
    cpu: 'cortex-m0',
    memory: [
      { name: 'FLASH', origin: '0x00000000', length: '256K', attributes: 'rx' },
      { name: 'RAM', origin: '0x20000000', length: '16K', attributes: 'rwx' },
    ],
    layout: { code: 'FLASH', data: 'RAM', stack: 'RAM', stackSize: '2K' },
    qemu: { machine: 'microbit', extraArgs: [] },
    output: { method: 'semihosting' },
  },
  'test/icount.test.ts (microbit)',
);

const BASE: KnownParams = { passes: 3, loopN: 1000, callN: 100 };

/** The result in the shape of expectedCounts(), for one toEqual. */
const counts = (r: CountResult) => ({
  beforeFirst: r.beforeFirst,
  regions: r.regions.map(({ name, instructions, visits }) => ({ name, instructions, visits })),
  total: r.total,
});

async function run(board: Board, params: KnownParams, opts: CountOptions = {}): Promise<CountResult> {
  const elf = await buildKnownFirmware(board, params);
  const r = await runWithCounts(elf, board, [...KNOWN_MARKERS], opts);
  expect(r.exitCode, r.stderr).toBe(0);
  // SYS_WRITE0 goes to QEMU's semihosting console, which is stderr when no chardev is configured.
  expect(r.stdout + r.stderr).toContain('known-count firmware done\n');
  return r;
}

describe.skipIf(!haveTool('gcc') || !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('icount plugin', () => {
  it('builds once and is cached', async () => {
    const so = await buildPlugin();
    expect(existsSync(so)).toBe(true);
    expect(await buildPlugin()).toBe(so);
  });

  it('the hand computation for the default parameters', () => {
    // start 3; mark_loop 3 x (4*1000 + 5); mark_calls 3 x (5*100 + 2); mark_done 5*2 + 9.
    expect(expectedCounts(BASE)).toEqual({
      beforeFirst: 3,
      regions: [
        { name: 'mark_loop', instructions: 12015, visits: 3 },
        { name: 'mark_calls', instructions: 1506, visits: 3 },
        { name: 'mark_done', instructions: 19, visits: 3 },
      ],
      total: 13543,
    });
  });

  for (const board of [loadBoard('mps2-an386'), microbit]) {
    describe(`${board.name} (${board.cpu})`, () => {
      it('counts equal the hand computation, and two runs are identical', async () => {
        const a = await run(board, BASE);
        const b = await run(board, BASE);
        expect(a.mode).toBe('tb');
        expect(counts(a)).toEqual(expectedCounts(BASE));
        expect(counts(b)).toEqual(counts(a));
      });

      it('per-TB, per-instruction and callback counting agree, also with -singlestep and -icount', async () => {
        const want = expectedCounts(BASE);
        for (const qemuArgs of [[], ['-singlestep'], ['-icount', 'shift=0'], ['-icount', 'shift=0', '-singlestep']]) {
          const icount = qemuArgs.includes('-icount');
          for (const mode of ['tb', 'insn', 'cb'] as const) {
            if (icount && mode === 'tb') continue; // refused: see the next test
            const r = await run(board, BASE, { mode, qemuArgs });
            expect(counts(r), `${mode} ${qemuArgs.join(' ')}`).toEqual(want);
          }
          if (icount) expect((await run(board, BASE, { qemuArgs })).mode).toBe('insn');
        }
      });

      it('other loop lengths, including one iteration', async () => {
        for (const p of [{ passes: 1, loopN: 1, callN: 1 }, { passes: 2, loopN: 123457, callN: 999 }]) {
          expect(counts(await run(board, p))).toEqual(expectedCounts(p));
        }
      });
    });
  }

  it('refuses mode tb with -icount, unknown and duplicate markers', async () => {
    const board = loadBoard('mps2-an386');
    const elf = await buildKnownFirmware(board, BASE);
    await expect(runWithCounts(elf, board, ['mark_loop'], { mode: 'tb', qemuArgs: ['-icount', 'shift=0'] })).rejects.toThrow(/not exact with -icount/);
    await expect(runWithCounts(elf, board, ['mark_loop', 'no_such_marker'])).rejects.toThrow(/no_such_marker: no function symbol/);
    await expect(runWithCounts(elf, board, ['mark_loop', 'mark_loop'])).rejects.toThrow(/listed twice/);
  });

  it('a single marker takes everything after it', async () => {
    const board = loadBoard('mps2-an386');
    const r = await runWithCounts(await buildKnownFirmware(board, BASE), board, ['mark_calls']);
    const want = expectedCounts(BASE);
    // Region "mark_calls" now runs to the end of the program, except the first pass's mark_loop region and start.
    expect(r.beforeFirst).toBe(want.beforeFirst + want.regions[0].instructions / BASE.passes);
    expect(r.regions).toEqual([expect.objectContaining({ name: 'mark_calls', instructions: want.total - r.beforeFirst, visits: 3 })]);
  });
});
