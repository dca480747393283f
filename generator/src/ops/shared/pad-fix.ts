// qconv2d's padFix (docs/semantics.md §10): an int32 added to the accumulator of each output position whose window
// overlaps the padding, one per output channel and *border class*. A padded tap takes an integer raw value
// (padValues), so where the real 0 of a channel lies between two raw values the border sums are off by
// w * (that fraction); the padded taps of a position depend only on its row's and column's class, so one table
// entry per class makes them exact up to a rounding of the whole sum.
import { check } from '../../core/errors.ts';
import type { Padding, TensorInfo } from '../../ir/types.ts';
import type { QConv2dLayer } from '../qconv2d.ts';
import type { Rand } from '../../ir/random.ts';
import type { CStruct, LowerContext } from '../types.ts';
import { checkLength } from './checks.ts';
import { windowDims } from './window.ts';

/**
 * Along one axis of n inputs (kernel k, stride s, padding before/after): the `top` first outputs, whose windows start
 * in the padding, are classes 0..top-1; outputs from `bottom` on, whose windows end in it, are classes top+1.. in
 * order; the interior between them is class `top`. count = top + 1 + (out - bottom).
 */
export interface AxisClasses {
  top: number;
  bottom: number;
  count: number;
}

export function axisClasses(n: number, k: number, s: number, before: number, out: number): AxisClasses {
  const top = Math.min(out, Math.ceil(before / s));
  // The first output whose window passes the end: o * s - before + k > n.
  const past = Math.floor((n + before - k) / s) + 1;
  const bottom = Math.max(top, Math.min(out, past));
  return { top, bottom, count: top + 1 + out - bottom };
}

/** The class of output i along an axis. */
export const classOf = (a: AxisClasses, i: number) => (i < a.top ? i : i < a.bottom ? a.top : a.top + 1 + i - a.bottom);

/** The row and column classes of a conv's output (input H x W, output OH x OW). */
export function padFixClasses(H: number, W: number, kernel: [number, number], stride: [number, number], pad: Padding, OH: number, OW: number): { rows: AxisClasses; cols: AxisClasses } {
  return { rows: axisClasses(H, kernel[0], stride[0], pad.top, OH), cols: axisClasses(W, kernel[1], stride[1], pad.left, OW) };
}

/** One output index of each class along an axis (the first). */
export function classMembers(a: AxisClasses, out: number): number[] {
  const first = new Array<number>(a.count).fill(-1);
  for (let i = out - 1; i >= 0; i--) first[classOf(a, i)] = i;
  return first;
}

/** The table's classes for a qconv2d on input x (output OH x OW). */
function classesOf(l: QConv2dLayer, x: TensorInfo, [OH, OW]: [number, number]) {
  return padFixClasses(x.shape[1], x.shape[2], l.kernel, l.stride, l.pad, OH, OW);
}

/** Validation: the table's length, 0 for the interior; returns the largest |entry| (it joins the int32 bound). */
export function checkPadFix(l: QConv2dLayer, x: TensorInfo, out: [number, number], at: string): number {
  const { rows, cols } = classesOf(l, x, out);
  const per = rows.count * cols.count;
  checkLength(l.padFix!, l.outChannels * per, `${at}.padFix`);
  for (let o = 0; o < l.outChannels; o++) {
    const interior = o * per + rows.top * cols.count + cols.top;
    check(l.padFix![interior] === 0, `${at}.padFix[${interior}]`, 'the interior class (no padded tap) must be 0');
  }
  return padFixMax(l);
}

/** The largest |entry| of the layer's padFix (0 without one): it joins the bounds of the accumulator. */
export function padFixMax(l: QConv2dLayer): number {
  let max = 0;
  for (const v of l.padFix ?? []) max = Math.max(max, Math.abs(v));
  return max;
}

/** bnn_pad_fix_t (runtime-c/bnn_runtime.h): the table and its classes, or v = NULL without padFix. */
export function padFixStruct(l: QConv2dLayer, x: TensorInfo, out: [number, number], ctx: LowerContext): CStruct {
  if (!l.padFix) return { inline: true, fields: [{ name: 'v', value: null }] };
  const { rows, cols } = classesOf(l, x, out);
  const f = (name: string, value: number) => ({ name, value });
  return {
    inline: true,
    fields: [{ name: 'v', value: ctx.table('pad_fix', 'int32_t', l.padFix, 'int') }, f('top', rows.top), f('bottom', rows.bottom), f('left', cols.top), f('right', cols.bottom), f('ny', rows.count), f('nx', cols.count)],
  };
}

/** A random table for the seeded models: 0 for the interior, small values elsewhere. */
export function randomPadFix(r: Rand, l: QConv2dLayer, x: TensorInfo): Int32Array {
  const [OH, OW] = windowDims(x.shape, l);
  const { rows, cols } = classesOf(l, x, [OH, OW]);
  const per = rows.count * cols.count;
  return Int32Array.from({ length: l.outChannels * per }, (_, k) => (k % per === rows.top * cols.count + cols.top ? 0 : r.int(-3000, 3000)));
}
