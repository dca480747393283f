// The one Handlebars environment used for every emitted file. Logic lives in TS; templates only lay text out.
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATES_DIR } from '../core/paths.ts';

const hb = Handlebars.create();

/** The API prefix as every template uses it: `prefix` in identifiers (bnn_run), `PREFIX` in macros (BNN_ARENA_SIZE). */
export function prefixContext(prefix: string): { prefix: string; PREFIX: string } {
  return { prefix, PREFIX: prefix.toUpperCase() };
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
