// Memory report of a linked firmware: flash split into model constants, kernels, golden data and startup/libc;
// RAM into the arena, the stack (reserved and measured) and the rest. Symbols are classified from the ELF with
// arm-none-eabi-nm, section totals come from arm-none-eabi-size.
import { BnnError } from '../core/errors.ts';
import type { ModelInfo } from '../emit/model-c.ts';
import type { Board } from '../model/board.ts';
import { runTool } from '../toolchain/tools.ts';

export interface MemoryReport {
  board: string;
  cpu: string;
  flash: { modelConstants: number; kernels: number; goldenData: number; startupAndLibc: number; total: number; capacity: number; region: string };
  /** total: .data + .bss + the reserved stack; capacity and region: the data region. The stack lies in stackRegion,
   *  the data region on most boards, a region of its own on some (a DTCM). */
  ram: { arena: number; arenaLowerBound: number; stackReserved: number; stackMeasured: number | null; other: number; total: number; capacity: number; region: string; stackRegion: string };
  layers: { index: number; name: string; op: string; kernel: string; weightBytes: number; outOffset: number | 'scores' | null; outBytes: number; scratchBytes: number }[];
}

interface Sym {
  name: string;
  size: number;
  type: string;
}

async function symbols(elf: string): Promise<Sym[]> {
  const r = await runTool('arm-none-eabi-nm', ['-S', '--defined-only', elf]);
  const out: Sym[] = [];
  for (const line of r.stdout.toString().split('\n')) {
    const m = /^[0-9a-f]+ ([0-9a-f]+) (\w) (\S+)$/.exec(line.trim());
    if (m) out.push({ size: parseInt(m[1], 16), type: m[2], name: m[3] });
  }
  return out;
}

async function sections(elf: string): Promise<Map<string, number>> {
  const r = await runTool('arm-none-eabi-size', ['-A', elf]);
  const out = new Map<string, number>();
  for (const line of r.stdout.toString().split('\n')) {
    const m = /^(\.\S+)\s+(\d+)\s+\d+/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Flash holds code, constants and the initial values of .data; RAM holds .data, .bss and the stack (the firmware has no heap). */
export async function memoryReport(elf: string, board: Board, info: ModelInfo, stackMeasured: number | null): Promise<MemoryReport> {
  const syms = await symbols(elf);
  const secs = await sections(elf);
  const sum = (pred: (s: Sym) => boolean) => syms.filter(pred).reduce((a, s) => a + s.size, 0);
  const isText = (s: Sym) => /[tT]/.test(s.type);
  const modelConstants = sum((s) => /^L\d+_/.test(s.name));
  const kernels = sum((s) => isText(s) && (s.name.startsWith('bnn_') || s.name === `${info.prefix}run`));
  const goldenData = sum((s) => /^golden_/.test(s.name));
  const flashSections = ['.text', '.rodata', '.ARM.exidx', '.ARM.extab', '.data', '.init_array', '.fini_array', '.preinit_array', '.vectors'];
  const flashTotal = flashSections.reduce((a, n) => a + (secs.get(n) ?? 0), 0);
  const arena = sum((s) => s.name === 'arena');
  const ramData = (secs.get('.data') ?? 0) + (secs.get('.bss') ?? 0);
  const region = (name: string) => board.memory.find((m) => m.name === name)!;
  const code = region(board.layout.code);
  const data = region(board.layout.data);
  if (flashTotal === 0) throw new BnnError(`${elf}: no code sections found; is it a firmware ELF?`);
  return {
    board: board.name,
    cpu: board.cpu,
    flash: { modelConstants, kernels, goldenData, startupAndLibc: flashTotal - modelConstants - kernels - goldenData, total: flashTotal, capacity: code.length, region: code.name },
    ram: {
      arena,
      arenaLowerBound: info.arenaLowerBound,
      stackReserved: board.layout.stackSize,
      stackMeasured,
      other: ramData - arena,
      total: ramData + board.layout.stackSize,
      capacity: data.length,
      region: data.name,
      stackRegion: board.layout.stack,
    },
    layers: info.layers.map((l) => ({
      index: l.index,
      name: l.name,
      op: l.op,
      kernel: l.kernel,
      weightBytes: Object.values(l.weightBytes).reduce((a, b) => a + b, 0),
      outOffset: l.outOffset,
      outBytes: l.outBytes,
      scratchBytes: l.scratchBytes,
    })),
  };
}

export function formatMemoryReport(r: MemoryReport): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const pct = (v: number, cap: number) => `${((100 * v) / cap).toFixed(1)} %`;
  // A stack in a region of its own (a DTCM) takes nothing from the data region: the figure against it is .data + .bss.
  const ownStack = r.ram.stackRegion !== r.ram.region;
  const inRegion = ownStack ? r.ram.total - r.ram.stackReserved : r.ram.total;
  return [
    `memory on ${r.board} (${r.cpu}):`,
    `  flash ${n(r.flash.total)} B of ${n(r.flash.capacity)} B in ${r.flash.region} (${pct(r.flash.total, r.flash.capacity)}): model constants ${n(r.flash.modelConstants)}, kernels ${n(r.flash.kernels)}, golden test data ${n(r.flash.goldenData)}, startup + libc + harness ${n(r.flash.startupAndLibc)}`,
    `  RAM   ${n(inRegion)} B of ${n(r.ram.capacity)} B in ${r.ram.region} (${pct(inRegion, r.ram.capacity)}): arena ${n(r.ram.arena)} (lower bound ${n(r.ram.arenaLowerBound)}), stack ${n(r.ram.stackReserved)} reserved${ownStack ? ` in ${r.ram.stackRegion}` : ''}${r.ram.stackMeasured !== null ? ` (${n(r.ram.stackMeasured)} used by the model, measured)` : ''}, other data/bss ${n(r.ram.other)}`,
  ].join('\n');
}
