// Board definitions (boards/<name>.json): a machine's real memory map, where the firmware's code, data and stack
// go, how to run it (QEMU machine or none) and how results come out. Validated with zod so a bad file fails with
// the JSON path of the problem instead of producing a linker script that boots nowhere.
import { z } from 'zod';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../emit/templates.ts';
import { TARGET_NAMES } from './target.ts';

export const BOARDS_DIR = join(PROJECT_ROOT, 'boards');

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

const OutputSchema = z.discriminatedUnion('method', [
  /** Results via Arm semihosting (QEMU, or a debugger with semihosting on); exit status is the verdict. */
  z.strictObject({ method: z.literal('semihosting') }),
  /** Reserved for real boards without a debugger attached; not emitted yet. */
  z.strictObject({ method: z.literal('uart'), instance: z.string(), baud: z.number().int().positive() }),
]);

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
     *  data = .data, .bss and the heap; stack = the top `stackSize` bytes of that region. */
    layout: z.strictObject({
      code: Identifier,
      data: Identifier,
      stack: Identifier,
      stackSize: Quantity,
    }),
    /** null when QEMU cannot run this board. */
    qemu: QemuSchema.nullable(),
    output: OutputSchema,
    flash: FlashSchema.nullable().optional(),
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
    throw new Error(`invalid board name '${name}'; known boards: ${listBoards(dir).join(', ') || '(none)'}`);
  const file = join(dir, `${name}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`unknown board '${name}' (no ${file}); known boards: ${listBoards(dir).join(', ') || '(none)'}`);
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

/** Board names available in `dir`, sorted. */
export function listBoards(dir: string = BOARDS_DIR): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}
