// C text from data: literals, table bodies, initializers and call arguments. The one place that formats C values
// (ops describe them as CValue / CStruct; no other module builds C text).
import type { CStruct, CTable, CValue } from '../ops/types.ts';

/** Format values as a C initializer body, `perLine` values per line, indented by 4 spaces. */
export function cArrayBody(values: ArrayLike<number | bigint | string>, perLine = 12, fmt: (v: number | bigint | string) => string = String): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++) row.push(fmt(values[j]));
    lines.push('    ' + row.join(', ') + ',');
  }
  return lines.length ? lines.join('\n') : '    0 /* empty */';
}

/** C literal for a float32 value that round-trips exactly. */
export function cFloat(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`non-finite float ${v} cannot be emitted`);
  if (Object.is(f, -0)) return '-0.0f';
  if (f === 0) return '0.0f';
  // Shortest decimal that parses back to the same float32; append f.
  let s = String(f);
  for (let p = 1; p <= 9; p++) {
    const t = f.toPrecision(p);
    if (Math.fround(Number(t)) === f) {
      s = t;
      break;
    }
  }
  if (!/[.eE]/.test(s)) s += '.0';
  return s + 'f';
}

/** int32 as a C literal: INT32_MIN has no literal of type int, so it is written as an expression. */
export function cInt32(v: number | bigint | string): string {
  return Number(v) === -2147483648 ? '(-2147483647 - 1)' : String(v);
}

export const cHex32 = (v: number | bigint | string) => '0x' + (Number(v) >>> 0).toString(16).padStart(8, '0') + 'u';
export const cHex8 = (v: number | bigint | string) => '0x' + Number(v).toString(16).padStart(2, '0');

/** The initializer body of a constant table, by element type. */
export function tableBody(t: CTable): string {
  switch (t.ctype) {
    case 'float':
      return cArrayBody(t.values, 8, (v) => cFloat(Number(v)));
    case 'uint32_t':
      return cArrayBody(t.values, 8, cHex32);
    case 'uint8_t':
      return cArrayBody(t.values, 16, cHex8);
    case 'int32_t':
      return cArrayBody(t.values, 10, cInt32);
    default:
      return cArrayBody(t.values, 16);
  }
}

function isStruct(v: CValue): v is CStruct {
  return v !== null && typeof v === 'object' && 'fields' in v;
}

/** One value: an integer, a float32 literal, an unsigned literal, a table's name, NULL, or a nested initializer. */
export function cValue(v: CValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (isStruct(v)) return cStruct(v);
  if ('f32' in v) return cFloat(v.f32);
  if ('u32' in v) return `${v.u32}u`;
  return v.table;
}

/** A designated initializer: one field per line, or on one line when `inline`. */
export function cStruct(s: CStruct): string {
  if (s.inline) return `{ ${s.fields.map((f) => `.${f.name} = ${cValue(f.value)}`).join(', ')} }`;
  return '{\n' + s.fields.map((f) => `    .${f.name} = ${cValue(f.value)},`).join('\n') + '\n}';
}
