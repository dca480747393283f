// Integer accumulator -> binary activation: +1 iff (flip ? acc <= T : acc >= T). Batch norm + sign fold into this.
import type { Shape, Threshold } from '../model/ir.ts';
import type { Tensor } from './tensor.ts';

export function applyThreshold(acc: Int32Array, shape: Shape, t: Threshold | undefined): Tensor {
  if (!t) return { dtype: 'i32', shape, data: acc };
  const plane = shape[1] * shape[2];
  const out = new Int8Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const o = Math.floor(i / plane);
    const v = acc[i];
    const on = t.flip[o] ? v <= t.value[o] : v >= t.value[o];
    out[i] = on ? 1 : -1;
  }
  return { dtype: 'b1', shape, data: out };
}
