// Exact executed-instruction counts for firmware under QEMU, between marker functions.
// The counting is done by a project-written TCG plugin (bench/plugin/icount.c, built here with the host gcc and
// cached under .cache/bench); this module resolves marker symbols, runs QEMU with the plugin and parses its report.
// See bench/plugin/icount.c for the counting semantics and bench/plugin/bnn_mark.h for defining markers in C.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, PROJECT_ROOT } from '../core/paths.ts';
import type { Board } from '../model/board.ts';
import { runQemu } from '../toolchain/qemu.ts';
import { buildKey, requireTool, runTool, toolVersion, writeFileAtomic } from '../toolchain/tools.ts';

export const PLUGIN_DIR = join(PROJECT_ROOT, 'bench', 'plugin');
export const PLUGIN_SOURCE = join(PLUGIN_DIR, 'icount.c');
export const BENCH_CACHE_DIR = cacheDir('bench');

/** Kept in step with bench/plugin/Makefile. The plugin uses no glib, so no pkg-config flags are needed. */
export const PLUGIN_CFLAGS: readonly string[] = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-fvisibility=hidden'];

let pluginPromise: Promise<string> | undefined;

/** Compile the plugin (once per process; the .so is cached under .cache/bench by a hash of gcc, flags and source). */
export function buildPlugin(): Promise<string> {
  pluginPromise ??= (async () => {
    const gcc = requireTool('gcc');
    const source = await readFile(PLUGIN_SOURCE, 'utf8');
    const key = buildKey({ tool: await toolVersion('gcc'), flags: PLUGIN_CFLAGS, source }).slice(0, 16);
    const cached = join(BENCH_CACHE_DIR, `icount-${key}.so`);
    if (existsSync(cached)) return cached;
    const dir = await mkdtemp(join(tmpdir(), 'bnn-icount-'));
    try {
      await runTool(gcc, [...PLUGIN_CFLAGS, PLUGIN_SOURCE, '-o', join(dir, 'icount.so')]);
      await writeFileAtomic(cached, await readFile(join(dir, 'icount.so')), 0o755);
      return cached;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  pluginPromise.catch(() => (pluginPromise = undefined)); // a failed build may be retried
  return pluginPromise;
}

/**
 * How the plugin counts (see bench/plugin/icount.c):
 *  - 'tb':   one inline add per translation block; fastest; exact unless a block is left early (faults, or MMIO in
 *            the middle of a block under -icount);
 *  - 'insn': one inline add per instruction; exact in those cases too;
 *  - 'cb':   one C callback per instruction; slowest; the reference.
 */
export type CountMode = 'tb' | 'insn' | 'cb';

export interface CountOptions {
  /** Default 'tb', or 'insn' when `qemuArgs` contains -icount ('tb' is refused there: it is not exact). */
  mode?: CountMode;
  /** Extra qemu-system-arm arguments, e.g. ['-icount', 'shift=0'] or ['-singlestep']. */
  qemuArgs?: string[];
  timeoutMs?: number;
  /** Also classify executed instructions per region (loads, stores, LDRD, LDM and their registers, multiplies,
   *  taken branches) for a cycle estimate. Uses per-instruction callbacks, so the mode is 'cb'. */
  classes?: boolean;
}

/** Executed instructions of one region by class (see bench/plugin/icount.c, cls=FILE). */
export interface ClassCounts {
  load: number;
  store: number;
  ldrd: number;
  ldm: number;
  ldm_regs: number;
  mul: number;
  longmul: number;
  /** Changes of flow: the next executed instruction is not the sequential successor. */
  taken: number;
  /** LDM/STM/PUSH/POP registers in 64-bit transfers: the sum of ceil(registers / 2). */
  ldm_dw: number;
  /** MVE (Helium) data-processing instructions on Q registers (VADD, VEOR, VDUP, VADDV, VPT, ...). */
  valu: number;
  /** MVE loads and stores (VLDRx/VSTRx, gather/scatter, VLD2x/VLD4x, VST2x/VST4x). */
  vmem: number;
  /** Executed LE/LETP (low-overhead loop ends, Armv8.1-M). */
  le: number;
  /** Taken branches made by an LE/LETP. */
  le_taken: number;
  /** Dual-issue pairs (greedy, in execution order): an instruction directly after an unpaired predecessor, neither
   *  LDRD/LDM/STM/MVE, not both single loads/stores, not both multiplies; register dependencies not looked at. */
  pair: number;
  /** MVE instructions directly after an MVE instruction of the other kind (vmem after valu or the reverse). */
  vovl: number;
}

export interface RegionCount {
  /** The marker symbol that opens the region. */
  name: string;
  /** The marker's address as given to the plugin (bit 0 cleared). */
  address: number;
  /** Instructions from each execution of the marker's first instruction up to the next marker, summed. */
  instructions: number;
  /** How many times the marker was reached. */
  visits: number;
}

export interface CountResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  mode: CountMode;
  /** One entry per marker, in the order given. */
  regions: RegionCount[];
  /** Instructions executed before the first marker was reached (reset, startup, ...). */
  beforeFirst: number;
  /** All instructions executed: beforeFirst plus every region. */
  total: number;
  /** With opts.classes: index 0 is before the first marker, index i the region of markers[i - 1]. */
  classes?: ClassCounts[];
}

/**
 * Addresses of `names` in `elf` (function symbols, from arm-none-eabi-nm). Thumb bit cleared: the plugin compares
 * instruction addresses. Rejects a missing or ambiguous name, and two names at one address (the plugin could not tell
 * them apart; in C, define markers with BNN_MARK_DEFINE so identical code folding cannot merge them).
 */
export async function resolveSymbols(elf: string, names: string[]): Promise<Map<string, number>> {
  requireTool('arm-none-eabi-gcc'); // arm-none-eabi-nm comes with it (binutils-arm-none-eabi)
  const { stdout } = await runTool('arm-none-eabi-nm', ['--defined-only', elf]);
  const wanted = new Set(names);
  const hits = new Map<string, number[]>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const m = /^([0-9a-fA-F]+) ([TtWw]) (\S+)$/.exec(line.trim()); // code symbols only
    if (!m || !wanted.has(m[3])) continue;
    const list = hits.get(m[3]) ?? [];
    list.push((Number.parseInt(m[1], 16) & ~1) >>> 0);
    hits.set(m[3], list);
  }
  const out = new Map<string, number>();
  const byAddress = new Map<number, string>();
  for (const name of names) {
    const list = [...new Set(hits.get(name) ?? [])];
    if (list.length === 0) throw new Error(`marker ${name}: no function symbol of that name in ${elf}`);
    if (list.length > 1) throw new Error(`marker ${name}: ${list.length} symbols of that name in ${elf} (static functions in several files?)`);
    const addr = list[0];
    const other = byAddress.get(addr);
    if (other !== undefined && other !== name)
      throw new Error(`markers ${other} and ${name} share address 0x${addr.toString(16)} in ${elf} (merged by identical code folding? define them with BNN_MARK_DEFINE)`);
    byAddress.set(addr, name);
    out.set(name, addr);
  }
  return out;
}

/** QEMU's option parser splits on commas; a literal comma in a value is written twice. */
const optValue = (s: string) => s.replace(/,/g, ',,');

/**
 * Run `elf` on `board`'s QEMU machine with the counting plugin; `markers` are function symbol names. Resolves with
 * QEMU's exit status, the output and the per-marker counts; rejects if QEMU times out or the plugin reports nothing.
 */
export async function runWithCounts(elf: string, board: Board, markers: string[], opts: CountOptions = {}): Promise<CountResult> {
  if (!board.qemu) throw new Error(`board ${board.name} has no QEMU machine`);
  if (new Set(markers).size !== markers.length) throw new Error(`markers listed twice: ${markers.join(', ')}`);
  const extra = opts.qemuArgs ?? [];
  const icount = extra.some((a) => a === '-icount' || a === '--icount' || a.startsWith('-icount='));
  if (icount && opts.mode === 'tb') throw new Error("mode 'tb' is not exact with -icount (MMIO in the middle of a block re-executes part of it); use 'insn'");
  if (opts.classes && opts.mode && opts.mode !== 'cb') throw new Error("instruction classes need mode 'cb'");
  const mode: CountMode = opts.classes ? 'cb' : opts.mode ?? (icount ? 'insn' : 'tb');

  const [plugin, addresses] = await Promise.all([buildPlugin(), resolveSymbols(elf, markers)]);
  const dir = await mkdtemp(join(tmpdir(), 'bnn-icount-run-'));
  try {
    const out = join(dir, 'counts.txt');
    const clsOut = join(dir, 'classes.txt');
    const pluginOpt = [`file=${optValue(plugin)}`, `out=${optValue(out)}`, `mode=${mode}`, ...(opts.classes ? [`cls=${optValue(clsOut)}`] : []), ...markers.map((n) => `mark=0x${addresses.get(n)!.toString(16)}`)];
    const withPlugin: Board = { ...board, qemu: { ...board.qemu, extraArgs: [...board.qemu.extraArgs, ...extra, '-plugin', pluginOpt.join(',')] } };
    const r = await runQemu(elf, withPlugin, { timeoutMs: opts.timeoutMs });
    let report: string;
    try {
      report = await readFile(out, 'utf8');
    } catch {
      const tail = (r.stdout + r.stderr).trim().split('\n').slice(-5).join(' | ');
      throw new Error(`QEMU (${board.name}) exited with status ${r.exitCode} but the icount plugin wrote no report; last output: ${tail || '(none)'}`);
    }
    const result: CountResult = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, mode, ...parseReport(report, markers, addresses, mode) };
    if (opts.classes) result.classes = parseClasses(await readFile(clsOut, 'utf8'), markers.length);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Parse the plugin's report (format in bench/plugin/icount.c) and check it against what was asked for. */
export function parseReport(text: string, markers: string[], addresses: Map<string, number>, mode: CountMode): Pick<CountResult, 'regions' | 'beforeFirst' | 'total'> {
  const bad = (what: string): never => {
    throw new Error(`icount plugin report: ${what}:\n${text.trim()}`);
  };
  const lines = text.trim().split('\n');
  const head = /^icount mode=(\w+) markers=(\d+)$/.exec(lines[0] ?? '');
  if (!head) bad('no header line');
  if (head![1] !== mode || Number(head![2]) !== markers.length) bad(`expected mode=${mode} markers=${markers.length}`);
  if (lines.length !== markers.length + 3) bad(`expected ${markers.length + 3} lines`);
  const num = (s: string) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) bad(`count ${s} is not a safe integer`);
    return n;
  };
  let beforeFirst = 0;
  const regions: RegionCount[] = [];
  for (let i = 0; i <= markers.length; i++) {
    const m = /^region (\d+) (start|0x[0-9a-f]+) (\d+) (\d+)$/.exec(lines[1 + i]);
    if (!m || Number(m[1]) !== i) bad(`line ${2 + i} is not region ${i}`);
    if (i === 0) beforeFirst = num(m![3]);
    else {
      const name = markers[i - 1];
      const address = addresses.get(name)!;
      if (Number.parseInt(m![2], 16) !== address) bad(`region ${i} is at ${m![2]}, marker ${name} at 0x${address.toString(16)}`);
      regions.push({ name, address, instructions: num(m![3]), visits: num(m![4]) });
    }
  }
  const t = /^total (\d+)$/.exec(lines[lines.length - 1]);
  if (!t) bad('no total line');
  const total = num(t![1]);
  if (beforeFirst + regions.reduce((s, r) => s + r.instructions, 0) !== total) bad('regions do not add up to the total');
  return { regions, beforeFirst, total };
}

/** Parse the plugin's class report: a header naming the classes, then `region <i> <count per class>`. */
export function parseClasses(text: string, markers: number): ClassCounts[] {
  const lines = text.trim().split('\n');
  const names = lines[0].split(/\s+/).slice(1);
  if (lines[0].split(/\s+/)[0] !== 'classes' || lines.length !== markers + 2) throw new Error(`icount plugin class report is malformed:\n${text}`);
  return lines.slice(1).map((l, i) => {
    const f = l.split(/\s+/);
    if (f[0] !== 'region' || Number(f[1]) !== i) throw new Error(`icount plugin class report: bad line ${l}`);
    return Object.fromEntries(names.map((n, k) => [n, Number(f[2 + k])])) as unknown as ClassCounts;
  });
}
