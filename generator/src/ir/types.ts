// The IR's vocabulary below the ops: tensor types and shapes, padding, thresholds, the model input. Every rule about
// what these numbers mean is in docs/semantics.md; each op (ops/<op>.ts) defines its own layer type on top.

/** Element types of tensors flowing between layers. */
export type DType =
  | 'u8' // raw model input, unsigned
  | 'i8' // raw model input, signed; int8 maps of the int8 path
  | 'i16' // int16 maps of the int8 path (--map-bits 16)
  | 'f32' // real values, float32, CHW
  | 'i32' // integer accumulators, CHW
  | 'b1'; // binary activations: +1 / -1 (one bit each in C), CHW

/** Every tensor is [C, H, W]; vectors are [N, 1, 1]. */
export type Shape = [number, number, number];

export interface TensorInfo {
  dtype: DType;
  shape: Shape;
}

export interface Padding {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** Per-output-channel integer threshold: output is +1 iff (flip ? acc <= value : acc >= value). */
export interface Threshold {
  value: Int32Array;
  flip: Uint8Array; // 0 or 1 per channel
}

export interface InputSpec {
  shape: Shape;
  dtype: 'u8' | 'i8';
  /** Integer ops see (q - zeroPoint). */
  zeroPoint: number;
  /** Real-valued ops see fround(fround(q * scale[c]) + bias[c]). */
  scale: Float32Array;
  bias: Float32Array;
}

/** What every layer has: a unique name, the tensors it reads, the tensor it makes. */
export interface LayerBase {
  name: string;
  inputs: string[];
  output: string;
}

/** Name of the model input tensor in layer input lists. */
export const INPUT_TENSOR = 'input';

/** Output size of a window op along one axis. */
export function outDim(size: number, k: number, stride: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - k) / stride) + 1;
}

/** "same" padding as PyTorch/TF compute it for a given size, kernel and stride (extra pixel at the end). */
export function samePadding(h: number, w: number, k: [number, number], s: [number, number]): Padding {
  const axis = (size: number, kk: number, ss: number): [number, number] => {
    const out = Math.ceil(size / ss);
    const total = Math.max(0, (out - 1) * ss + kk - size);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = axis(h, k[0], s[0]);
  const [left, right] = axis(w, k[1], s[1]);
  return { top, left, bottom, right };
}

/** Elements of a tensor. */
export function numel(t: TensorInfo): number {
  return t.shape[0] * t.shape[1] * t.shape[2];
}
