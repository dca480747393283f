// Reading user JSON: one-line errors with a line and column, and limits that keep later stages (zod's issue
// printer, the writer, JSON.stringify) from recursing without bound on hostile input.
import { BnnError, printable } from '../core/errors.ts';
import { jsonPath } from './schema.ts';

/** Nesting deeper than this is refused: model files need 6 levels, metadata a few more. */
export const MAX_JSON_DEPTH = 64;

function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

/** JSON.parse with a message that says where (line, column) and names NaN/Infinity, which JSON does not have. */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const at = /at position (\d+)/.exec(msg);
    const bare = /(?<![\w"])(NaN|-?Infinity)(?![\w"])/.exec(text);
    if (bare && (!at || Number(at[1]) >= bare.index)) {
      throw new BnnError(`${where}: invalid JSON at ${lineColumn(text, bare.index)}: ${bare[1]} is not a JSON number`);
    }
    let pos = at ? Number(at[1]) : /end of JSON/.test(msg) ? text.length : -1;
    // V8 names an unexpected token with a snippet of the text around it instead of a position: find the snippet.
    const token = /^Unexpected token '(.)', (?:\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(msg);
    if (token && pos < 0) {
      const snippet = token[2];
      const start = text.indexOf(snippet);
      if (start >= 0 && text.indexOf(snippet, start + 1) < 0) pos = start + snippet.lastIndexOf(token[1]);
    }
    const what = token ? `unexpected '${token[1]}'` : msg.replace(/ in JSON at position \d+.*$/, '').replace(/ at position \d+$/, '');
    throw new BnnError(`${where}: invalid JSON${pos >= 0 ? ` at ${lineColumn(text, pos)}` : ''}: ${printable(what, 80)}`);
  }
}

/**
 * Walk parsed JSON without recursion: refuse nesting deeper than MAX_JSON_DEPTH and numbers JSON.parse turned into
 * Infinity (1e400), naming the JSON path of the first.
 */
export function checkJsonLimits(raw: unknown, where: string): void {
  const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: raw, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) throw new BnnError(`${where}: ${jsonPath(path)}: number out of range (not a finite float64)`);
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) throw new BnnError(`${where}: ${printable(jsonPath(path.slice(0, 4)))}...: nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (Array.isArray(v)) v.forEach((e, i) => stack.push({ v: e, path: [...path, i] }));
    else for (const [k, e] of Object.entries(v)) stack.push({ v: e, path: [...path, k] });
  }
}
