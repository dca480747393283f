// Board definitions (boards/<name>.json): a machine's real memory map, where the firmware's code, data and stack
// go, how to run it (QEMU machine or none) and how results come out. Validated with zod so a bad file fails with
// the JSON path of the problem instead of producing a linker script that boots nowhere.
import { z } from 'zod';
import { BnnError, printable } from '../core/errors.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOARDS_DIR } from '../core/paths.ts';
import { listBoards } from './board-names.ts';
import { TARGET_NAMES } from './target.ts';

export { BOARDS_DIR, listBoards };

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Addresses and sizes: JSON has no hex numbers, so also accept "0x20000000", "64K", "4M" (binary units). */
const Quantity = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let n = NaN;
  if (typeof v === 'number') n = v;
  else {
    const m = /^(0x[0-9a-fA-F]+|[0-9]+)([KMG]?)$/.exec(v.trim());
    if (m) n = Number(m[1]) * SIZE_UNITS[m[2]];
  }
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 32) {
    ctx.addIssue({ code: 'custom', message: `expected an integer in 0..2^32 ("0x…", decimal, or with a K/M/G suffix), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

/** Region names become linker-script MEMORY names, so they must be C-like identifiers. */
const Identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier (letters, digits, _)');

const MemoryRegionSchema = z.strictObject({
  name: Identifier,
  origin: Quantity,
  length: Quantity.refine((n) => n > 0, 'length must be positive'),
  /** GNU ld attribute letters: r (read), w (write), x (execute). */
  attributes: z.string().regex(/^(?!.*(.).*\1)[rwx]+$/, 'expected GNU ld attributes: some of r, w, x, each at most once'),
  description: z.string().optional(),
});

const QemuSchema = z.strictObject({
  /** `-M` value, e.g. "mps2-an386". */
  machine: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a QEMU machine name'),
  /** Extra qemu-system-arm arguments (e.g. "-cpu", "..."), passed verbatim after the standard ones. */
  extraArgs: z.array(z.string()).default([]),
});

/** A QEMU machine that runs a real board's own firmware unchanged (its startup, vector table, linker script and
 *  UART driver): the emulated chip has the same memory map, clock-enable bits and UART registers as the board's, for
 *  what the firmware touches. The console is read from the machine's serial port number `serial`. */
const EmulationSchema = z.strictObject({
  /** `-M` value, e.g. "netduinoplus2". */
  machine: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a QEMU machine name'),
  /** Which of the machine's serial ports (0-based, the order of its `-serial` options) is the board's console UART. */
  serial: z.number().int().min(0).max(7),
  extraArgs: z.array(z.string()).default([]),
  /** What differs between the emulated chip and the board's (stated, so a reader knows what a PASS proves). */
  description: z.string().min(1),
});

/** One pin of a UART: its name as the board's documents spell it, the GPIO port's base address, the pin number in
 *  that port and the function to select (STM32: GPIOx_AFR alternate function; RP2040: IO_BANK0 FUNCSEL). */
const UartPinSchema = z.strictObject({
  name: z.string().min(1),
  port: Quantity,
  pin: z.number().int().min(0).max(31),
  function: z.number().int().min(0).max(31).optional(),
});

/** A read-modify-write that sets one bit (a clock enable, a power switch), done in list order before the UART is used. */
const SetBitSchema = z.strictObject({
  register: Quantity,
  bit: z.number().int().min(0).max(31),
  name: z.string().min(1),
});

/** Register-level UART drivers in templates/firmware/uart/. */
export const UART_DRIVERS = ['stm32-usart-v1', 'stm32-usart-v2', 'stm32-lpuart', 'nrf-uarte', 'nrf51-uart', 'rp2040-pl011'] as const;
export type UartDriver = (typeof UART_DRIVERS)[number];

const OutputSchema = z.discriminatedUnion('method', [
  /** Results via Arm semihosting (QEMU, or a debugger with semihosting on); exit status is the verdict. */
  z.strictObject({ method: z.literal('semihosting') }),
  /** Results printed on a UART (a real board's USB virtual COM port or a USB-UART adapter); the harness then idles. */
  z.strictObject({
    method: z.literal('uart'),
    /** Peripheral name in the reference manual, e.g. "USART2". */
    instance: z.string().min(1),
    driver: z.enum(UART_DRIVERS),
    /** Peripheral base address. */
    base: Quantity,
    baud: z.number().int().positive(),
    /** The UART's kernel clock in Hz at the clock configuration the firmware runs (see `clock`); the baud divisor
     *  is computed from it. */
    clockHz: z.number().int().positive(),
    tx: UartPinSchema,
    rx: UartPinSchema,
    /** Bits to set before touching GPIO and UART registers (bus clock enables, I/O supply switches), in order. */
    enable: z.array(SetBitSchema).default([]),
    /** How the UART reaches a host: which connector, adapter or debug probe, and what to open there. */
    console: z.string().min(1),
  }),
]);

/** The core clock the firmware runs at: the reset default unless the board file says the startup code changes it. */
const ClockSchema = z.strictObject({
  hz: z.number().int().positive(),
  source: z.string().min(1),
  description: z.string().min(1),
});

const FlashSchema = z.strictObject({
  /** Program that writes the image, e.g. "openocd", "pyocd", "picotool", "nrfjprog". */
  tool: z.string().min(1),
  /** Its arguments; "{elf}" is replaced with the firmware image path. */
  args: z.array(z.string()),
});

export const BoardSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a lowercase board name (a-z, 0-9, ., _, -)'),
    description: z.string().min(1),
    cpu: z.enum(TARGET_NAMES as [string, ...string[]]),
    /** The machine's real memory map (RAM/flash only; peripherals are not listed). */
    memory: z.array(MemoryRegionSchema).min(1),
    /** Which region holds what: code = vectors, .text, .rodata and the load image of .data;
     *  data = .data and .bss (the firmware has no heap); stack = the top `stackSize` bytes of that region. */
    layout: z.strictObject({
      code: Identifier,
      data: Identifier,
      stack: Identifier,
      stackSize: Quantity,
    }),
    /** null when QEMU cannot run this board. */
    qemu: QemuSchema.nullable(),
    /** Real boards (UART output) whose firmware QEMU runs on a machine with a compatible chip; absent when none. */
    emulation: EmulationSchema.optional(),
    output: OutputSchema,
    flash: FlashSchema.nullable().optional(),
    /** Core clock (required for UART output: the baud divisor depends on it). */
    clock: ClockSchema.optional(),
    /** Device interrupt lines (IRQ0..IRQn-1) the vector table reserves after the 16 core exception slots; 0 for a
     *  table of core exceptions only. The harness enables no interrupt; the slots point at the fault handler. */
    interrupts: z.number().int().min(0).max(496).default(0),
    /** RP2040: the boot ROM loads 256 bytes from the start of flash, checks their CRC32 and runs them (a second-stage
     *  boot loader that sets up XIP); "rp2040-generic-03h" emits the project's own one (plain 03h serial reads). */
    boot2: z.enum(['rp2040-generic-03h']).optional(),
    /** Where the memory map was checked (datasheet section, `info mtree`, ...). */
    references: z.array(z.string()).optional(),
  })
  .superRefine((b, ctx) => {
    const seen = new Map<string, number>();
    b.memory.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['memory', i, 'name'], message: `duplicate region name '${r.name}'` });
      seen.set(r.name, i);
      if (r.origin + r.length > 2 ** 32) ctx.addIssue({ code: 'custom', path: ['memory', i, 'length'], message: 'region ends beyond the 4 GiB address space' });
      b.memory.forEach((o, j) => {
        if (j < i && r.origin < o.origin + o.length && o.origin < r.origin + r.length)
          ctx.addIssue({ code: 'custom', path: ['memory', i], message: `region '${r.name}' overlaps '${o.name}'` });
      });
    });
    const need = (key: 'code' | 'data' | 'stack', attr: string) => {
      const i = seen.get(b.layout[key]);
      if (i === undefined) ctx.addIssue({ code: 'custom', path: ['layout', key], message: `no memory region named '${b.layout[key]}'` });
      else if (!b.memory[i].attributes.includes(attr))
        ctx.addIssue({ code: 'custom', path: ['layout', key], message: `region '${b.layout[key]}' lacks attribute '${attr}'` });
      return i === undefined ? undefined : b.memory[i];
    };
    need('code', 'x');
    need('data', 'w');
    const stack = need('stack', 'w');
    // AAPCS wants an 8-byte aligned stack pointer at every public interface.
    if (b.layout.stackSize === 0 || b.layout.stackSize % 8 !== 0)
      ctx.addIssue({ code: 'custom', path: ['layout', 'stackSize'], message: 'stackSize must be a positive multiple of 8' });
    if (stack && b.layout.stackSize > stack.length)
      ctx.addIssue({ code: 'custom', path: ['layout', 'stackSize'], message: `stackSize exceeds region '${stack.name}'` });
    if (b.output.method === 'uart') {
      if (!b.clock) ctx.addIssue({ code: 'custom', path: ['clock'], message: 'a board with UART output must state its clock' });
      const needsFunction = b.output.driver !== 'nrf-uarte' && b.output.driver !== 'nrf51-uart';
      for (const k of ['tx', 'rx'] as const)
        if (needsFunction && b.output[k].function === undefined)
          ctx.addIssue({ code: 'custom', path: ['output', k, 'function'], message: `driver ${b.output.driver} needs the pin's alternate function` });
      if (!b.flash) ctx.addIssue({ code: 'custom', path: ['flash'], message: 'a board with UART output runs on hardware only: name the flash tool' });
    }
    if (b.emulation && b.output.method !== 'uart')
      ctx.addIssue({ code: 'custom', path: ['emulation'], message: 'emulation runs a real board\'s UART firmware; a semihosting board runs under `qemu`' });
    if (b.boot2 && b.cpu !== 'cortex-m0plus')
      ctx.addIssue({ code: 'custom', path: ['boot2'], message: `boot2 '${b.boot2}' is for the RP2040 (cortex-m0plus), not ${b.cpu}` });
    if (stack && (stack.origin + stack.length) % 8 !== 0)
      ctx.addIssue({ code: 'custom', path: ['layout', 'stack'], message: `region '${stack.name}' must end 8-byte aligned (it holds the initial stack pointer)` });
  });

export type Board = z.output<typeof BoardSchema>;
export type MemoryRegion = Board['memory'][number];

/** `memory[1].origin` style rendering of a zod issue path. */
function jsonPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? (s ? '.' : '') + String(k) : `[${JSON.stringify(String(k))}]`;
  return s || '(root)';
}

/** Validate parsed JSON; `source` names the file in the error. Throws one-line Errors. */
export function parseBoard(json: unknown, source: string): Board {
  const r = BoardSchema.safeParse(json);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message.replace(/\s+/g, ' ')}`);
  throw new Error(`invalid board ${source}: ${problems.join('; ')}`);
}

/** Read and validate `<dir>/<name>.json` (dir defaults to the project's boards/). */
export function loadBoard(name: string, dir: string = BOARDS_DIR): Board {
  // The name becomes a path component: refuse anything that could leave `dir`.
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name) || name.includes('..'))
    throw new BnnError(`invalid board name '${printable(name)}'; known boards: ${listBoards(dir).join(', ') || '(none)'}`);
  const file = join(dir, `${name}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new BnnError(`unknown board '${name}' (no ${file}); known boards: ${listBoards(dir).join(', ') || '(none)'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid board ${file}: not JSON: ${(e as Error).message.replace(/\s+/g, ' ')}`);
  }
  const board = parseBoard(json, file);
  if (board.name !== name) throw new Error(`invalid board ${file}: name: '${board.name}' does not match the file name '${name}'`);
  return board;
}
