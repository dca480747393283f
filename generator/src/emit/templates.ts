// The one Handlebars environment used for every emitted file. Logic lives in TS; templates only lay text out.
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATES_DIR } from '../paths.ts';

const hb = Handlebars.create();

/** Format numbers as a C initializer body, `perLine` values per line, indented by 4 spaces. */
export function cArrayBody(values: ArrayLike<number | bigint | string>, perLine = 12, fmt: (v: number | bigint | string) => string = String): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++) row.push(fmt(values[j]));
    lines.push('    ' + row.join(', ') + ',');
  }
  return lines.length ? lines.join('\n') : '    0 /* empty */';
}

/** C literal for a float32 value that round-trips exactly (hex float literals are C99). */
export function cFloat(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`non-finite float ${v} cannot be emitted`);
  if (Object.is(f, -0)) return '-0.0f';
  if (f === 0) return '0.0f';
  // Shortest decimal that parses back to the same float32; append f.
  let s = String(f);
  for (let p = 1; p <= 9; p++) {
    const t = f.toPrecision(p);
    if (Math.fround(Number(t)) === f) { s = t; break; }
  }
  if (!/[.eE]/.test(s)) s += '.0';
  return s + 'f';
}

hb.registerHelper('upper', (s: string) => String(s).toUpperCase());
hb.registerHelper('join', (arr: unknown[], sep: string) => (Array.isArray(arr) ? arr.join(typeof sep === 'string' ? sep : ', ') : ''));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('hex', (v: number, width: number) => '0x' + (v >>> 0).toString(16).padStart(typeof width === 'number' ? width : 2, '0'));

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Render `templates/<name>` with `context`. Missing fields are errors (strict mode), never silent blanks. */
export function render(name: string, context: object): string {
  let tpl = cache.get(name);
  if (!tpl) {
    const src = readFileSync(join(TEMPLATES_DIR, name), 'utf8');
    tpl = hb.compile(src, { noEscape: true, strict: true });
    cache.set(name, tpl);
  }
  return tpl(context);
}
