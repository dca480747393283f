// Calibration: the range of every real-valued (f32) tensor of a float model over the inputs the user gives, from the
// float reference. The int8 path (quantize/int8.ts) maps each range it stores to an int8 scale and zero point.
import { BnnError } from '../core/errors.ts';
import type { Model } from '../model/ir.ts';
import { runReference } from '../reference/interpreter.ts';

export interface TensorRange {
  min: number;
  max: number;
}

export interface Calibration {
  inputs: number;
  /** Per f32 tensor name: the smallest and largest value over all calibration inputs. */
  ranges: Map<string, TensorRange>;
}

/** Run the float model on every input and record each f32 layer output's min and max. */
export function calibrate(model: Model, inputs: (Uint8Array | Int8Array)[]): Calibration {
  if (inputs.length === 0) throw new BnnError('--calibrate: no inputs to calibrate on');
  const ranges = new Map<string, TensorRange>();
  for (const x of inputs) {
    const { layers } = runReference(model, x);
    layers.forEach((t, i) => {
      if (t.dtype !== 'f32') return;
      const name = model.layers[i].output;
      const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      const d = t.data as Float32Array;
      for (let k = 0; k < d.length; k++) {
        const v = d[k];
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
      ranges.set(name, r);
    });
  }
  return { inputs: inputs.length, ranges };
}
