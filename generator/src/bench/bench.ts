// Exact per-layer benchmark of a model on a QEMU board: the model is built twice into its golden firmware, once
// with the portable _ref kernels and once with the kernels the generator picks ('auto'), both with -DBNN_BENCH
// (one marker function per layer boundary, templates/model/model.c.hbs); the icount plugin counts the executed
// instructions between markers, by class, so every layer gets exact instructions, instructions per binary MAC,
// an estimated cycle count and its ratio to _ref, measured side by side in the same run.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LayerInfo } from '../plan/resolve.ts';
import { generate } from '../generate.ts';
import type { Board } from '../model/board.ts';
import type { Model } from '../model/ir.ts';
import { getTarget } from '../model/target.ts';
import type { KernelChoice } from '../ops/types.ts';
import { writeTree } from '../core/files.ts';
import { silent, type Progress } from '../core/progress.ts';
import { buildError } from '../toolchain/qemu.ts';
import { runWithCounts, type ClassCounts } from './icount.ts';

export interface BenchOptions {
  /** Builds to measure; the first is the baseline ratios refer to. Default ['ref', 'auto']. */
  kernels?: KernelChoice[];
  /** Upper bound for a fast kernel's scratch (bytes); default: what the board's RAM leaves (see ramBudget). */
  scratchLimit?: number;
  /** Most bytes the arena may take (`--ram-budget`); default: what the board's RAM leaves. */
  ramBudget?: number;
  /** Build for this core instead of the board's (e.g. cortex-m0plus code on the micro:bit's M0: same ISA). */
  cpu?: string;
  timeoutMs?: number;
  progress?: Progress;
}

/** Figures of one layer in one build. */
export interface BenchFigures {
  kernel: string;
  /** Executed instructions of the layer (exact; the 2 marker instructions per region are subtracted). */
  instructions: number;
  /** Estimated cycles from the instruction classes (timingModel). */
  cycles: number;
  weightBytes: number;
  /** Scratch bytes the kernel uses in the arena. */
  scratchBytes: number;
  estInstructions?: number;
  why?: string;
}

export interface BenchRow {
  index: number;
  name: string;
  op: string;
  binaryMacs: number;
  realMacs: number;
  outBytes: number;
  /** One entry per build, in BenchOptions.kernels order. */
  builds: Record<string, BenchFigures>;
}

export interface BenchResult {
  model: string;
  board: string;
  cpu: string;
  builds: KernelChoice[];
  rows: BenchRow[];
  totals: Record<string, { instructions: number; cycles: number; weightBytes: number; arenaBytes: number; binaryMacs: number }>;
  timing: string;
}

/**
 * Cycle estimate from executed instruction classes (bench/plugin/icount.c counts them). Stated models, not
 * measurements (QEMU is not cycle-accurate):
 *
 * - Cortex-M0/M0+ (TRMs): every instruction 1 cycle, plus a load 1, a store 1 (ARMv6-M), LDM/STM/PUSH/POP 1 per
 *   register (1 + N), taken branch 2 on the M0 (pipeline refill), 1 on the M0+; MUL 1 (fast multiplier).
 * - Cortex-M4 (TRM ch. 3), also the M3/M33 and any other core: every instruction 1 cycle, plus a load 1 (2 cycles,
 *   neighbouring loads pipelined are not modelled), LDRD 2 (3 cycles), LDM/STM/PUSH/POP 1 per register (1 + N),
 *   taken branch 2 (pipeline refill 1..3), long multiply and divide 1 (UMULL 1, SDIV 2..12 taken as 2).
 * - Cortex-M7 (dual issue): two instructions issue in one cycle when the second directly follows the first (no taken
 *   branch between), the first is not itself the second of a pair, neither is LDRD, LDM/STM/PUSH/POP or MVE, at most
 *   one of them is a single load/store (one load/store port) and at most one a multiply (one MAC pipe); register
 *   dependencies are ignored (an optimistic bound for this rule). Every other instruction takes 1 cycle: a load
 *   1 (the load-use stall is not modelled), LDRD 1 (64-bit path), LDM/STM ceil(N/2) (two registers per cycle);
 *   taken branch +1 (predicted: the fetch redirect), mispredictions not modelled (the kernels' loops are long).
 *   cycles = instructions - pairs + (LDM/STM 64-bit transfers - LDM/STM) + taken.
 * - Cortex-M55 (beat-wise MVE): scalar instructions as the M4 model; an MVE instruction (128 bits) takes 2 cycles
 *   (two beats of 64 bits); one that directly follows an MVE instruction of the other kind (memory after data
 *   processing or the reverse) overlaps its first beat with that one's last: 1 cycle less. Scalar and vector
 *   instructions do not overlap. A taken LE/LETP costs nothing (low-overhead loop, loop end cached).
 *   cycles = M4 model over the scalar instructions + 2 x MVE - overlaps.
 */
export function timingModel(cpu: string): { name: string; cycles: (instructions: number, c: ClassCounts) => number } {
  if (cpu === 'cortex-m0' || cpu === 'cortex-m0plus') {
    const branch = cpu === 'cortex-m0' ? 2 : 1;
    return {
      name: `${cpu}: 1/instr, +1 load, +1 store, +N LDM/STM/PUSH/POP, +${branch} taken branch`,
      cycles: (n, c) => n + c.load + c.store + c.ldm_regs + branch * c.taken,
    };
  }
  if (cpu === 'cortex-m7' || cpu === 'cortex-m7-sp') {
    return {
      name: `${cpu} (dual-issue model): 1/instr, -1 per dual-issued pair (adjacent, <= 1 load/store, <= 1 multiply, no LDRD/LDM/STM; dependencies ignored), LDM/STM ceil(N/2), +1 taken branch`,
      cycles: (n, c) => n - c.pair + (c.ldm_dw - c.ldm) + c.taken,
    };
  }
  // The scalar part of the M4 model, on the scalar instructions only.
  const scalar = (n: number, c: ClassCounts) => n + c.load + 2 * c.ldrd + c.ldm_regs + 2 * c.taken + c.longmul;
  if (cpu === 'cortex-m55') {
    return {
      name: `${cpu} (beat-wise MVE model): scalar as the M4 model (taken LE/LETP free); MVE 2 cycles (2 beats of 64 bits), -1 when after an MVE instruction of the other kind (memory/ALU overlap)`,
      cycles: (n, c) => {
        const vec = c.valu + c.vmem;
        return scalar(n - vec, { ...c, taken: c.taken - c.le_taken }) + 2 * vec - c.vovl;
      },
    };
  }
  return {
    name: `${cpu} (M4 model): 1/instr, +1 load, +2 LDRD, +N LDM/STM/PUSH/POP, +2 taken branch, +1 long multiply/divide`,
    cycles: scalar,
  };
}

function make(dir: string, cpuFlags: string): Promise<string> {
  return new Promise((res, rej) =>
    execFile('make', ['-C', dir, '-j4', `CPUFLAGS=${cpuFlags} -DBNN_BENCH`, 'firmware.elf'], { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (err, _o, stderr) =>
      err ? rej(buildError(stderr, err.message)) : res(resolve(join(dir, 'firmware.elf'))),
    ),
  );
}

const weightsOf = (l: LayerInfo) => Object.values(l.weightBytes).reduce((s, b) => s + b, 0);

async function measureBuild(model: Model, board: Board, kernels: KernelChoice, opts: BenchOptions, progress: Progress) {
  const target = getTarget(opts.cpu ?? board.cpu);
  const { scratchLimit, ramBudget, timeoutMs } = opts;
  const g = generate(model, { target, board, goldenCount: 1, seed: 1, kernels, scratchLimit, ramBudget: kernels === 'ref' ? undefined : ramBudget, armv6m: target.arch === 'armv6-m' });
  const dir = mkdtempSync(join(tmpdir(), `bnn-bench-${kernels}-`));
  try {
    writeTree(dir, g.files);
    progress.phase(`make: building the ${kernels} firmware for ${board.name}`);
    const elf = await make(dir, target.cflags.join(' '));
    progress.phase(`QEMU ${board.name}: counting executed instructions (icount plugin), ${kernels} kernels`);
    const runs = g.info.layers.filter((l) => l.marker);
    const markers = [...runs.map((l) => l.marker!), g.info.markEnd];
    const r = await runWithCounts(elf, board, markers, { classes: true, timeoutMs: timeoutMs ?? 600_000 });
    if (r.exitCode !== 0 || !/^PASS 1\/1$/m.test(r.stdout)) throw new Error(`bench firmware (${kernels}) did not PASS on ${board.name}: exit ${r.exitCode}\n${r.stdout}${r.stderr}`);
    const timing = timingModel(target.name);
    const per = new Map<number, BenchFigures>();
    runs.forEach((l, i) => {
      const reg = r.regions[i];
      if (reg.visits !== 1) throw new Error(`marker ${reg.name} reached ${reg.visits} times, expected once`);
      const instructions = reg.instructions - 2; // the marker's bx lr and the call of the next marker
      const cls = r.classes![i + 1];
      per.set(l.index, {
        kernel: l.kernel,
        instructions,
        cycles: timing.cycles(instructions, cls),
        weightBytes: weightsOf(l),
        scratchBytes: l.scratchBytes,
        estInstructions: l.estInstructions,
        why: l.why,
      });
    });
    return { info: g.info, per, timing: timing.name };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchModel(model: Model, board: Board, opts: BenchOptions = {}): Promise<BenchResult> {
  const builds = opts.kernels ?? ['ref', 'auto'];
  const measured = new Map<KernelChoice, Awaited<ReturnType<typeof measureBuild>>>();
  // Without opts.scratchLimit, generate() plans the fastest kernels whose arena fits what the board's RAM leaves.
  for (const k of builds) measured.set(k, await measureBuild(model, board, k, opts, opts.progress ?? silent));
  const base = measured.get(builds[0])!;
  const rows: BenchRow[] = base.info.layers
    .filter((l) => l.marker)
    .map((l) => ({
      index: l.index,
      name: l.name,
      op: l.op,
      binaryMacs: l.cost.binaryMacs,
      realMacs: l.cost.realMacs,
      outBytes: l.outBytes,
      builds: Object.fromEntries(builds.map((k) => [k, measured.get(k)!.per.get(l.index)!])),
    }));
  const totals: BenchResult['totals'] = {};
  for (const k of builds) {
    const m = measured.get(k)!;
    const figs = [...m.per.values()];
    totals[k] = {
      instructions: figs.reduce((s, f) => s + f.instructions, 0),
      cycles: figs.reduce((s, f) => s + f.cycles, 0),
      weightBytes: m.info.totalWeightBytes,
      arenaBytes: m.info.arenaSize,
      binaryMacs: m.info.binaryMacs,
    };
  }
  return { model: model.name, board: board.name, cpu: opts.cpu ?? board.cpu, builds, rows, totals, timing: base.timing };
}

const num = (n: number) => n.toLocaleString('en-US');
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(3) : '-');
const perMac = (i: number, macs: number) => (macs > 0 ? (i / macs).toFixed(3) : '-');

/** Text table: one line per layer and build, then totals. */
export function formatBench(r: BenchResult): string {
  const base = r.builds[0];
  const head = ['#', 'layer', 'build', 'kernel', 'instructions', 'binary MACs', 'instr/MAC', `x ${base}`, 'est. cycles', 'cyc/MAC', 'weights B', 'scratch B'];
  const lines: string[][] = [head];
  for (const row of r.rows) {
    for (const k of r.builds) {
      const f = row.builds[k];
      const b = row.builds[base];
      lines.push([String(row.index), `${row.name} (${row.op})`, k, f.kernel, num(f.instructions), num(row.binaryMacs), perMac(f.instructions, row.binaryMacs), ratio(f.instructions, b.instructions), num(f.cycles), perMac(f.cycles, row.binaryMacs), num(f.weightBytes), num(f.scratchBytes)]);
    }
  }
  for (const k of r.builds) {
    const t = r.totals[k];
    lines.push(['', 'total per inference', k, '', num(t.instructions), num(t.binaryMacs), perMac(t.instructions, t.binaryMacs), ratio(t.instructions, r.totals[base].instructions), num(t.cycles), perMac(t.cycles, t.binaryMacs), num(t.weightBytes), `arena ${num(t.arenaBytes)}`]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const right = new Set([0, 4, 5, 6, 7, 8, 9, 10, 11]);
  const text = lines.map((l) => l.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
  return [`model ${r.model} on ${r.board} (${r.cpu}); cycles: ${r.timing}`, ...text].join('\n');
}
