// How far the int8 model is from the float one on inputs kept apart from calibration: argmax agreement, the scores'
// SNR and every stored int8 map's SNR against the float tensor it stands for (dequantised: scale * (q - zeroPoint)).
import type { Model } from '../model/ir.ts';
import { argmax } from '../model/scores.ts';
import { runReference } from '../reference/interpreter.ts';
import type { StoredTensor } from './int8.ts';

export interface Agreement {
  inputs: number;
  /** Inputs whose int8 argmax equals the float model's. */
  argmaxAgree: number;
  /** Of the inputs, how many are also calibration inputs (equal bytes): 0 for a disjoint measurement. */
  seenInCalibration: number;
  /** 10 log10(sum f^2 / sum (f - q)^2) over all inputs, in dB (Infinity when equal). */
  scoresSnrDb: number;
  /** Per stored int8 map, in model order. */
  layers: { tensor: string; bits: 8 | 16; snrDb: number; scale: number; zeroPoint: number; min: number; max: number; seenMin: number; seenMax: number }[];
}

const snr = (signal: number, noise: number) => (noise === 0 ? Infinity : 10 * Math.log10(signal / noise));

export function agreement(float: Model, int8: Model, stored: Map<string, StoredTensor>, inputs: (Uint8Array | Int8Array)[], calibration: (Uint8Array | Int8Array)[] = []): Agreement {
  const key = (x: Uint8Array | Int8Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
  const seen = new Set(calibration.map(key));
  const floatAt = new Map(float.layers.map((l, i) => [l.output, i]));
  const int8At = new Map(int8.layers.map((l, i) => [l.output, i]));
  const names = [...stored.keys()].filter((t) => floatAt.has(t) && int8At.has(t));
  const sums = new Map(names.map((t) => [t, { s: 0, n: 0 }]));
  let agree = 0, sigS = 0, noiseS = 0;
  for (const x of inputs) {
    const f = runReference(float, x);
    const q = runReference(int8, x);
    if (argmax(f.scores) === argmax(q.scores)) agree++;
    f.scores.forEach((v, k) => {
      sigS += v * v;
      noiseS += (v - q.scores[k]) ** 2;
    });
    for (const t of names) {
      const g = stored.get(t)!;
      const fv = f.layers[floatAt.get(t)!].data;
      const qv = q.layers[int8At.get(t)!].data;
      const acc = sums.get(t)!;
      for (let k = 0; k < fv.length; k++) {
        acc.s += fv[k] * fv[k];
        acc.n += (fv[k] - g.scale * (qv[k] - g.zeroPoint)) ** 2;
      }
    }
  }
  return {
    inputs: inputs.length,
    argmaxAgree: agree,
    seenInCalibration: inputs.filter((x) => seen.has(key(x))).length,
    scoresSnrDb: snr(sigS, noiseS),
    layers: names.map((t) => {
      const g = stored.get(t)!;
      return { tensor: t, bits: g.bits, snrDb: snr(sums.get(t)!.s, sums.get(t)!.n), scale: g.scale, zeroPoint: g.zeroPoint, min: g.range.min, max: g.range.max, seenMin: g.seen.min, seenMax: g.seen.max };
    }),
  };
}

const db = (v: number) => (v === Infinity ? 'exact' : `${v.toFixed(1)} dB`);

/** How the grids were calibrated: on how many inputs, up to which percentile (calibrate.ts). */
export type CalibrationSummary = { inputs: number; percentile: number };

const num = (v: number) => v.toPrecision(4);

/** Which part of the values the grids span, in words. */
function spanned(percentile: number): string {
  if (percentile === 100) return 'grids span the full range';
  return `grids span percentiles ${+(100 - percentile).toFixed(6)} to ${percentile} of the values`;
}

/** The report's lines: agreement first, then the per-map SNR and calibrated range. */
export function formatAgreement(a: Agreement, cal: CalibrationSummary): string[] {
  const pct = a.inputs ? ((100 * a.argmaxAgree) / a.inputs).toFixed(1) : '-';
  const n = cal.inputs;
  const lines = [
    `int8 path${a.layers.some((l) => l.bits === 16) ? ' (--map-bits 16)' : ''}: calibrated on ${n} input${n === 1 ? '' : 's'} (${spanned(cal.percentile)}); on ${a.inputs} ${a.seenInCalibration ? '' : 'other '}input${a.inputs === 1 ? '' : 's'}${a.seenInCalibration ? ` (${a.seenInCalibration} of them calibration inputs: not a disjoint measurement)` : ''} its argmax agrees with the float model's on ${a.argmaxAgree}/${a.inputs} (${pct} %), scores SNR ${db(a.scoresSnrDb)}`,
  ];
  if (a.inputs === 0) lines.push('  (no inputs left for agreement: give more than the calibration inputs)');
  for (const l of a.layers) {
    const seen = l.seenMin !== l.min || l.seenMax !== l.max ? ` of values in [${num(l.seenMin)}, ${num(l.seenMax)}]` : '';
    lines.push(`  ${l.tensor}${l.bits === 16 ? ' (int16)' : ''}: range [${num(l.min)}, ${num(l.max)}]${seen}, scale ${num(l.scale)}, zero point ${l.zeroPoint}, SNR ${db(l.snrDb)}`);
  }
  return lines;
}
