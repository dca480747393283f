// Option-value parsers: a bad value is a one-line error naming the option.
import { BnnError } from '../core/errors.ts';

export function intOption(name: string, min: number, max: number) {
  return (v: string) => {
    const x = Number(v);
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isInteger(x) || x < min || x > max) throw new BnnError(`${name}: expected an integer ${min}..${max}, got '${v}'`);
    return x;
  };
}

export function positiveNumber(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (!(v.trim() !== '' && Number.isFinite(x) && x > 0)) throw new BnnError(`${name}: expected a positive number, got '${v}'`);
    return x;
  };
}

/** A number in (lo, hi]: --calibrate-percentile. */
export function numberAbove(name: string, lo: number, hi: number) {
  return (v: string) => {
    const x = Number(v);
    if (!(v.trim() !== '' && Number.isFinite(x) && x > lo && x <= hi)) throw new BnnError(`${name}: expected a number above ${lo} and at most ${hi}, got '${v}'`);
    return x;
  };
}

/** One of a few integers: --map-bits. */
export function intChoice(name: string, allowed: number[]) {
  return (v: string) => {
    const x = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !allowed.includes(x)) throw new BnnError(`${name}: expected ${allowed.join(' or ')}, got '${v}'`);
    return x;
  };
}
