// Turning pending per-channel steps into IR layers, and reading a value as real numbers.
import { INPUT_TENSOR, type Shape } from '../../model/ir.ts';
import { finishInput } from './input.ts';
import type { Lowerer } from './lowerer.ts';
import { windowShape } from './patterns.ts';
import { FLT_MAX, isOnes, isShift, isZeros, type AccValue, type RealValue } from './values.ts';
import type { Step } from './chain.ts';

/** Emit IR layers for `steps` on `v`'s tensor; returns the f32 result. `onnxName` memoises the result. */
export function materialise(lw: Lowerer, v: RealValue | AccValue, steps: Step[] = v.steps, onnxName?: string): RealValue {
  if (steps.length === 0 && v.kind === 'real') return v;
  if (v.kind === 'acc' && v.layer.threshold) lw.fail(`the accumulator of '${v.layer.name}' is needed both thresholded (by a Sign) and as real values`);
  let tensor = v.tensor;
  let shape = v.baseShape;
  steps = [...steps];
  // A shift right after a conv/dense with zero bias is that layer's bias: fl(acc + b) either way.
  if (v.kind === 'real' && v.openBias && isShift(steps[0])) {
    v.openBias.bias = steps[0].add;
    steps.shift();
    for (const [k, t] of lw.tensors) if (t === tensor) lw.tensors.delete(k); // no longer the bias-free value
  }
  let shiftIn: Float32Array | null = null; // RPReLU: shift, PReLU, shift is one IR prelu (same roundings, same order)
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    switch (s.kind) {
      case 'affine': {
        if (isShift(s) && steps[i + 1]?.kind === 'prelu' && !(v.kind === 'acc' && i === 0)) {
          shiftIn = s.add;
          break;
        }
        let { mul, add } = s;
        const next = steps[i + 1];
        // scale then shift (e.g. Mul then Add) is one affine, exactly: fl(fl(x*m) + a).
        if (isZeros(add) && !s.fused && next?.kind === 'affine' && !next.fused && isOnes(next.mul)) {
          add = next.add;
          i++;
        }
        if (s.fused) lw.note(`${s.node}: batch norm as an affine layer rounds twice where PyTorch's fused kernel rounds once (≤ 1 ulp)`);
        tensor = lw.emit({ op: 'affine', scale: mul, bias: add }, tensor, s.node).output;
        break;
      }
      case 'div':
        lw.note(`${s.node}: division by a constant becomes a multiplication by its float32 reciprocal (≤ 1 ulp)`);
        tensor = lw.emit({ op: 'affine', scale: s.by.map((b) => 1 / b), bias: new Float32Array(s.by.length) }, tensor, s.node).output;
        break;
      case 'pool': {
        tensor = lw.emit({ op: 'maxpool', kernel: s.kernel, stride: s.stride, pad: s.pad }, tensor, s.node).output;
        shape = windowShape(shape, shape[0], s.kernel, s.stride, s.pad);
        break;
      }
      case 'clip': // IR clip bounds are finite: ±FLT_MAX clamps every finite value the same as ±Inf
        tensor = lw.emit({ op: 'clip', min: Math.max(s.lo, -FLT_MAX), max: Math.min(s.hi, FLT_MAX) }, tensor, s.node).output;
        break;
      case 'prelu': {
        const next = steps[i + 1];
        const shiftOut = isShift(next) ? next.add : null;
        if (shiftOut) i++;
        tensor = lw.emit({ op: 'prelu', slope: s.slope, shiftIn, shiftOut }, tensor, s.node).output;
        shiftIn = null;
        break;
      }
    }
  }
  if (v.kind === 'acc' && tensor === v.tensor) {
    // An accumulator with no steps left stays i32; give it an exact f32 view.
    tensor = lw.emit({ op: 'affine', scale: new Float32Array(shape[0]).fill(1), bias: new Float32Array(shape[0]) }, tensor, `${v.tensor}:f32`).output;
  }
  const out: RealValue = { kind: 'real', tensor, shape, baseShape: shape, rank: v.rank, steps: [] };
  if (onnxName) lw.set(onnxName, out);
  return out;
}

/** The value as something a real-valued layer can read: an f32 tensor, or the model input. */
export function realInput(lw: Lowerer, name: string): { tensor: string; shape: Shape; rank: 2 | 4 } {
  const v = lw.value(name);
  if (v.kind === 'input') {
    finishInput(lw, v);
    return { tensor: INPUT_TENSOR, shape: v.shape, rank: 4 };
  }
  if (v.kind === 'bin') return v;
  return materialise(lw, v, v.steps, name);
}
