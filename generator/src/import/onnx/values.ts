// What an ONNX value becomes while lowering (see lowerer.ts): the model input, a real tensor or an integer
// accumulator with pending per-channel steps, or a binary tensor; and small helpers the handlers share.
import type { Conv2dLayer, BConv2dLayer, BDenseLayer, DenseLayer, Layer, Shape } from '../../model/ir.ts';
import type { Step } from './chain.ts';

export interface Base {
  shape: Shape; // current IR shape [C, H, W]
  rank: 2 | 4; // ONNX rank: [1, C] or [1, C, H, W]
}
export type InputValue = Base & { kind: 'input'; scale: Float64Array; bias: Float64Array; byteDiv: boolean; ops: string[] };
/**
 * `tensor` has shape `baseShape`; `shape` is after the pending steps (a pending pool changes it). `openBias`: the
 * conv/dense that made `tensor` has a zero bias and no other reader, so a first shift step can become its bias.
 */
export type RealValue = Base & { kind: 'real'; tensor: string; baseShape: Shape; steps: Step[]; openBias?: Conv2dLayer | DenseLayer };
export type AccValue = Base & { kind: 'acc'; tensor: string; baseShape: Shape; steps: Step[]; layer: BConv2dLayer | BDenseLayer; K: number };
export type BinValue = Base & { kind: 'bin'; tensor: string };
export type Value = InputValue | RealValue | AccValue | BinValue;

/** A layer without its wiring (name, inputs, output), distributed over the Layer union. */
export type Body<L> = L extends Layer ? Omit<L, 'name' | 'inputs' | 'output'> : never;

export const FLT_MAX = 3.4028234663852886e38;

/** An unfused affine step that only adds (Add / Sub of a per-channel constant). */
export function isShift(s: Step | undefined): s is Extract<Step, { kind: 'affine' }> {
  return s?.kind === 'affine' && !s.fused && s.mul.every((m) => m === 1);
}

export function isZeros(a: Float32Array): boolean {
  return a.every((v) => v === 0);
}

export function isOnes(a: Float32Array): boolean {
  return a.every((v) => v === 1);
}

export function f32s(a: ArrayLike<number>): Float32Array {
  return Float32Array.from(a);
}

