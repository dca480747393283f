// Tensors as the reference sees them: plain arrays in C, H, W order, one element per value.
import type { DType, Shape } from './types.ts';

export type TensorData = Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface Tensor {
  dtype: DType;
  shape: Shape;
  /** f32: Float32Array; i32: Int32Array; b1: Int8Array of +1/-1; u8: Uint8Array; i8: Int8Array; i16: Int16Array. */
  data: TensorData;
}

export const f32 = Math.fround;

export function size(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

/** Read element (c, y, x) of the model input or of an f32 tensor as the real value a real-valued op sees. */
export type RealReader = (c: number, y: number, x: number) => number;
