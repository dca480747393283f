// Bit-exact comparison of an engine's run (scores and every layer's trace) with the reference interpreter.
import type { Model } from '../model/ir.ts';
import type { ModelInfo as EmittedInfo } from '../emit/model-c.ts';
import { decodeTensor, firstDirtySpareWord } from '../ir/layout.ts';
import type { RunResult as ReferenceRun } from '../reference/interpreter.ts';
import type { Tensor } from '../ir/tensor.ts';
import type { RunResult as EngineRun } from './harness.ts';

export interface Mismatch {
  layer: number;
  layerName: string;
  index: number;
  /** (c, y, x) of the element. */
  at: [number, number, number];
  expected: number;
  got: number;
  message: string;
}

/** The bit pattern of an element, so -0 vs +0 (and any NaN) count as different. */
function bitsOf(t: Tensor, i: number): number {
  if (t.dtype === 'f32') return new Uint32Array(new Float32Array([t.data[i]]).buffer)[0];
  return t.data[i];
}

function firstDifference(expected: Tensor, got: Tensor): number {
  for (let i = 0; i < expected.data.length; i++) if (bitsOf(expected, i) !== bitsOf(got, i)) return i;
  return -1;
}

function fmt(t: Tensor, i: number): string {
  const v = t.data[i];
  return t.dtype === 'f32' ? `${v} (0x${bitsOf(t, i).toString(16).padStart(8, '0')})` : String(v);
}

/** Compare one run. Returns null when every layer and every score is identical. */
export function compareRun(model: Model, info: EmittedInfo, ref: ReferenceRun, run: EngineRun): Mismatch | null {
  if (run.status !== 0) {
    return { layer: -1, layerName: '(run)', index: 0, at: [0, 0, 0], expected: 0, got: run.status, message: `run returned status ${run.status}` };
  }
  const traces = new Map(run.traces.map((t) => [t.layer, t.bytes]));
  for (const l of info.layers) {
    const bytes = traces.get(l.index);
    if (!bytes) continue; // engine ran without tracing
    const expected = ref.layers[l.index];
    if (bytes.length !== l.outBytes) {
      return { layer: l.index, layerName: l.name, index: 0, at: [0, 0, 0], expected: l.outBytes, got: bytes.length, message: `layer ${l.index} '${l.name}': traced ${bytes.length} bytes, expected ${l.outBytes}` };
    }
    const got = decodeTensor(l.output, bytes);
    const dirty = firstDirtySpareWord(l.output, bytes);
    if (dirty >= 0) {
      return { layer: l.index, layerName: l.name, index: dirty, at: [0, 0, 0], expected: 0, got: 1, message: `layer ${l.index} '${l.name}' (${l.kernel}): spare bits of word ${dirty} are not zero` };
    }
    const i = firstDifference(expected, got);
    if (i >= 0) return mismatchAt(l.index, l.name, l.kernel, expected, got, i);
  }
  const exp: Tensor = { dtype: info.scoreType, shape: [info.numClasses, 1, 1], data: ref.scores };
  const got: Tensor = { dtype: info.scoreType, shape: [info.numClasses, 1, 1], data: run.scores };
  const i = firstDifference(exp, got);
  if (i >= 0) return mismatchAt(info.layers.length - 1, 'scores', 'output', exp, got, i);
  return null;
}

function mismatchAt(layer: number, name: string, kernel: string, expected: Tensor, got: Tensor, i: number): Mismatch {
  const [, H, W] = expected.shape;
  const at: [number, number, number] = [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];
  return {
    layer,
    layerName: name,
    index: i,
    at,
    expected: Number(expected.data[i]),
    got: Number(got.data[i]),
    message: `layer ${layer} '${name}' (${kernel}) ${expected.dtype}[${expected.shape.join('x')}] element ${i} (c=${at[0]}, y=${at[1]}, x=${at[2]}): expected ${fmt(expected, i)}, got ${fmt(got, i)}`,
  };
}
