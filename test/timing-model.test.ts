// The cycle models of `bnn-gen bench` / `npm run bench` (generator/src/bench/bench.ts timingModel): their arithmetic
// on hand-made instruction class counts, and the icount plugin's new classes (dual-issue pairs, MVE data processing
// and memory, beat overlaps, LE) on a hand-counted program (bench/plugin/selftest/classes.S) under QEMU on the
// Cortex-M7 (mps2-an500) and the Cortex-M55 (mps3-an547).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timingModel } from '../generator/src/bench/bench.ts';
import { PLUGIN_DIR, runWithCounts, type ClassCounts } from '../generator/src/bench/icount.ts';
import { loadBoard, type Board } from '../generator/src/model/board.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const zero: ClassCounts = { load: 0, store: 0, ldrd: 0, ldm: 0, ldm_regs: 0, mul: 0, longmul: 0, taken: 0, ldm_dw: 0, valu: 0, vmem: 0, le: 0, le_taken: 0, pair: 0, vovl: 0 };
const counts = (c: Partial<ClassCounts>): ClassCounts => ({ ...zero, ...c });

describe('timingModel arithmetic', () => {
  it('cortex-m0 and m0+: +1 load, +1 store, +N LDM registers, +2 / +1 taken branch', () => {
    const c = counts({ load: 10, store: 5, ldm: 2, ldm_regs: 8, taken: 7, mul: 3 });
    expect(timingModel('cortex-m0').cycles(100, c)).toBe(100 + 10 + 5 + 8 + 2 * 7);
    expect(timingModel('cortex-m0plus').cycles(100, c)).toBe(100 + 10 + 5 + 8 + 7);
  });

  it('cortex-m4 (and the default): +1 load, +2 LDRD, +N LDM registers, +2 taken, +1 long multiply; new classes ignored', () => {
    const c = counts({ load: 10, store: 5, ldrd: 4, ldm: 2, ldm_regs: 8, taken: 7, longmul: 3, pair: 40, valu: 9, vovl: 2 });
    expect(timingModel('cortex-m4').cycles(100, c)).toBe(100 + 10 + 8 + 8 + 14 + 3);
    expect(timingModel('cortex-m33').cycles(100, c)).toBe(143);
    expect(timingModel('cortex-m4').name).toMatch(/M4 model/);
  });

  it('cortex-m7 (dual issue): -1 per pair, LDM/STM ceil(N/2) cycles, +1 taken branch; loads and LDRD 1 cycle', () => {
    // 100 instructions, 30 pairs; two LDMs of 8 and 3 registers (4 + 2 transfers: 4 cycles more than 1 each).
    const c = counts({ load: 20, ldrd: 5, ldm: 2, ldm_regs: 11, ldm_dw: 6, taken: 9, pair: 30, longmul: 4 });
    expect(timingModel('cortex-m7').cycles(100, c)).toBe(100 - 30 + 4 + 9);
    expect(timingModel('cortex-m7-sp').cycles(100, c)).toBe(83);
    expect(timingModel('cortex-m7').name).toMatch(/dual-issue/);
    // No pairs, no LDM, no branches: one instruction per cycle.
    expect(timingModel('cortex-m7').cycles(50, counts({ load: 50 }))).toBe(50);
  });

  it('cortex-m55 (beat-wise MVE): M4 model on scalar instructions, taken LE free, 2 per MVE instruction - overlaps', () => {
    // 100 instructions: 40 MVE (25 ALU, 15 memory) with 12 overlaps, 60 scalar with 6 loads, 2 LDRD, 1 LDM of 4,
    // 10 taken branches of which 8 by LE.
    const c = counts({ valu: 25, vmem: 15, vovl: 12, load: 6, ldrd: 2, ldm: 1, ldm_regs: 4, ldm_dw: 2, taken: 10, le: 9, le_taken: 8 });
    const scalar = 60 + 6 + 2 * 2 + 4 + 2 * (10 - 8);
    expect(timingModel('cortex-m55').cycles(100, c)).toBe(scalar + 2 * 40 - 12);
    // Without MVE and LE it is the M4 model.
    const s = counts({ load: 10, ldrd: 4, ldm_regs: 8, taken: 7, longmul: 3 });
    expect(timingModel('cortex-m55').cycles(100, s)).toBe(timingModel('cortex-m4').cycles(100, s));
  });
});

const SOURCE = join(PLUGIN_DIR, 'selftest', 'classes.S');
const LD = join(PLUGIN_DIR, 'selftest', 'known.ld');
const N = 10;

async function classesOn(board: Board) {
  const dir = mkdtempSync(join(tmpdir(), 'bnn-classes-'));
  try {
    const stack = board.memory.find((m) => m.name === board.layout.stack)!;
    const elf = join(dir, 'classes.elf');
    await runTool('arm-none-eabi-gcc', [...getTarget(board.cpu).cflags, '-nostdlib', '-nostartfiles', '-T', LD, `-DSTACK_TOP=0x${(stack.origin + stack.length).toString(16)}`, `-DN=${N}`, SOURCE, '-o', elf]);
    const r = await runWithCounts(elf, board, ['mark_pairs', 'mark_vec', 'mark_end'], { classes: true, timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveTool('gcc') || !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('icount plugin classes on the big cores', () => {
  // Region mark_pairs: bx lr, movs, adr, N x 10 loop instructions, bl = 10N + 4 instructions. Pairs: movs follows
  // the marker's return (taken: no pair); adr + movs pair, so the first ldr follows a paired adr (no pair); 3 per
  // iteration (adds, muls, subs); the bl after the last, not taken, bne pairs with it: 2 + 3N.
  const pairs = { instructions: 10 * N + 4, pair: 2 + 3 * N, load: 3 * N, ldrd: N, mul: 2 * N, taken: N + 1 }; // taken: the call of the marker, its return, bne N - 1 times

  it('cortex-m7 (mps2-an500): dual-issue pairs, loads, LDRD and multiplies of a hand-counted loop', async () => {
    const r = await classesOn(loadBoard('mps2-an500'));
    expect(r.regions[0].instructions).toBe(pairs.instructions);
    const c = r.classes![1];
    expect({ pair: c.pair, load: c.load, ldrd: c.ldrd, mul: c.mul, taken: c.taken, valu: c.valu, vmem: c.vmem }).toEqual({ pair: pairs.pair, load: pairs.load, ldrd: pairs.ldrd, mul: pairs.mul, taken: pairs.taken, valu: 0, vmem: 0 });
    expect(r.regions[1].instructions).toBe(2); // mark_vec: bx lr, bl mark_end (no MVE on the M7)
  }, 60_000);

  it('cortex-m55 (mps3-an547): MVE data processing and memory, beat overlaps, LE and its taken branches', async () => {
    const r = await classesOn(loadBoard('mps3-an547'));
    expect(r.classes![1].pair).toBe(pairs.pair);
    // mark_vec: bx lr; 6 CPACR instructions; adr, sub, movs, dls; N x (4 MVE + le); bl mark_end.
    expect(r.regions[1].instructions).toBe(1 + 6 + 4 + 5 * N + 1);
    const c = r.classes![2];
    expect({ valu: c.valu, vmem: c.vmem, vovl: c.vovl, le: c.le, le_taken: c.le_taken }).toEqual({ valu: 2 * N, vmem: 2 * N, vovl: 3 * N, le: N, le_taken: N - 1 });
  }, 60_000);
});
