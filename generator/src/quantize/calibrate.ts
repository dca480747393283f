// Calibration: the range of every real-valued (f32) tensor of a float model over the inputs the user gives, from the
// float reference. The int8 path (quantize/int8.ts) maps each range it stores to an int8 scale and zero point.
//
// A grid may span two percentiles of the values instead of the extremes (--calibrate-percentile), so that a few rare
// values do not stretch it; the default is the extremes (percentile.ts says why).
import { BnnError } from '../core/errors.ts';
import type { Model } from '../model/ir.ts';
import { runReference } from '../reference/interpreter.ts';
import { DEFAULT_PERCENTILE, tailRank } from './percentile.ts';
import { Tails } from './tails.ts';

export { DEFAULT_PERCENTILE };

export interface TensorRange {
  min: number;
  max: number;
}

export interface Calibration {
  inputs: number;
  /** Each grid spans [the (100 - p)th, the pth] percentile of its tensor's values; 100: the full range. */
  percentile: number;
  /** Per f32 tensor name: the range its grid spans (see percentile). */
  ranges: Map<string, TensorRange>;
  /** Per f32 tensor name: the smallest and largest value over all calibration inputs. */
  extremes: Map<string, TensorRange>;
}

/** Run the float model on every input and record each f32 layer output's extremes and percentile bounds. */
export function calibrate(model: Model, inputs: (Uint8Array | Int8Array)[], percentile = DEFAULT_PERCENTILE): Calibration {
  if (inputs.length === 0) throw new BnnError('--calibrate: no inputs to calibrate on');
  if (!(percentile > 50 && percentile <= 100)) throw new BnnError(`--calibrate-percentile: must be above 50 and at most 100, got ${percentile}`);
  const extremes = new Map<string, TensorRange>();
  const tails = new Map<string, Tails>();
  for (const x of inputs) {
    const { layers } = runReference(model, x);
    layers.forEach((t, i) => {
      if (t.dtype !== 'f32') return;
      const name = model.layers[i].output;
      const d = t.data as Float32Array;
      const r = extremes.get(name) ?? { min: Infinity, max: -Infinity };
      for (let k = 0; k < d.length; k++) {
        const v = d[k];
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
      extremes.set(name, r);
      if (percentile < 100) {
        if (!tails.has(name)) tails.set(name, new Tails(tailRank(d.length * inputs.length, percentile)));
        tails.get(name)!.add(d);
      }
    });
  }
  const ranges = new Map([...extremes].map(([name, r]) => {
    const t = tails.get(name);
    return [name, t ? { min: t.lower, max: t.upper } : { ...r }];
  }));
  return { inputs: inputs.length, percentile, ranges, extremes };
}
