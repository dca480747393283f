// The in-memory model (IR): a DAG of layers over named tensors, in topological order.
// Every rule about what these numbers mean is in docs/semantics.md; the reference interpreter implements it.

/** Element types of tensors flowing between layers. */
export type DType =
  | 'u8' // raw model input, unsigned
  | 'i8' // raw model input, signed
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

interface LayerBase {
  name: string;
  inputs: string[];
  output: string;
}

/** Real-valued convolution (float32), on the model input (normalised) or on an f32 tensor. */
export interface Conv2dLayer extends LayerBase {
  op: 'conv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  weights: Float32Array; // [O, C, kh, kw]
  bias: Float32Array; // [O]
}

/** Integer convolution on the raw model input: int8 weights, int32 bias and accumulator. */
export interface QConv2dLayer extends LayerBase {
  op: 'qconv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  weights: Int8Array; // [O, C, kh, kw]
  bias: Int32Array; // [O]
  threshold?: Threshold; // present: output b1, absent: output i32
}

export interface CodebookWeights {
  kind: 'codebook';
  bits: number; // tau: bits per index, 1..9
  codewords: Uint16Array; // n <= 2^bits distinct 9-bit codeword ids (tap t = 3*ky + kx; bit 1 = +1)
  indices: Uint16Array; // [O, C] index into codewords
}

export interface DenseBinaryWeights {
  kind: 'dense';
  bits: Uint8Array; // [O, C, kh, kw], 1 = +1, 0 = -1
}

/** Binary convolution: +-1 inputs, +-1 weights, integer accumulator; optional threshold to b1. */
export interface BConv2dLayer extends LayerBase {
  op: 'bconv2d';
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  /** Value of padded taps: 0 (contribute nothing, as PyTorch zero padding), +1 or -1 (Larq pad_values). */
  padValue: 0 | 1 | -1;
  weights: CodebookWeights | DenseBinaryWeights;
  threshold?: Threshold;
}

/** Binary fully connected layer on a b1 vector. */
export interface BDenseLayer extends LayerBase {
  op: 'bdense';
  outFeatures: number;
  bits: Uint8Array; // [N, K], 1 = +1
  threshold?: Threshold;
}

/** f32 -> b1: +1 iff fround(x + shift[c]) >= 0 (sign(0) = +1). */
export interface BinarizeLayer extends LayerBase {
  op: 'binarize';
  shift: Float32Array | null; // [C] or null (no shift)
}

/** f32 or i32 -> f32 per channel: fround(fround(x * scale[c]) + bias[c]) (folded batch norm). */
export interface AffineLayer extends LayerBase {
  op: 'affine';
  scale: Float32Array;
  bias: Float32Array;
}

/** Max pooling on b1 (logical OR of +1) or f32 maps; padded positions are ignored. */
export interface MaxPoolLayer extends LayerBase {
  op: 'maxpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
}

/** Mean over H x W per channel -> [C, 1, 1] f32. */
export interface GlobalAvgPoolLayer extends LayerBase {
  op: 'globalavgpool';
}

/** [C, H, W] -> [C*H*W, 1, 1], element order c, y, x (PyTorch's flatten). */
export interface FlattenLayer extends LayerBase {
  op: 'flatten';
}

/** Real-valued fully connected layer on an f32 or b1 vector -> f32. */
export interface DenseLayer extends LayerBase {
  op: 'dense';
  outFeatures: number;
  weights: Float32Array; // [N, K]
  bias: Float32Array; // [N]
}

/** Integer fully connected layer on a b1 vector: int8 weights, int32 bias -> i32 (integer-only models). */
export interface QDenseLayer extends LayerBase {
  op: 'qdense';
  outFeatures: number;
  weights: Int8Array; // [N, K]
  bias: Int32Array; // [N]
}

/** Element-wise sum of two f32 tensors of the same shape: y = fround(a + b) (residual connections). */
export interface AddLayer extends LayerBase {
  op: 'add';
}

/**
 * Per-channel PReLU with optional shifts before and after (ReActNet's RPReLU; slope 0 gives ReLU):
 * t = fround(x + shiftIn[c]); u = t >= 0 ? t : fround(t * slope[c]); y = fround(u + shiftOut[c]).
 */
export interface PReluLayer extends LayerBase {
  op: 'prelu';
  slope: Float32Array;
  shiftIn: Float32Array | null;
  shiftOut: Float32Array | null;
}

/** Clamp to [min, max] (Hardtanh). */
export interface ClipLayer extends LayerBase {
  op: 'clip';
  min: number;
  max: number;
}

/** Average pooling on f32: sum of valid taps in ky, kx order, divided by kh*kw (countIncludePad) or the valid count. */
export interface AvgPoolLayer extends LayerBase {
  op: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  countIncludePad: boolean;
}

export type Layer =
  | Conv2dLayer
  | QConv2dLayer
  | BConv2dLayer
  | BDenseLayer
  | BinarizeLayer
  | AffineLayer
  | MaxPoolLayer
  | GlobalAvgPoolLayer
  | FlattenLayer
  | DenseLayer
  | QDenseLayer
  | AddLayer
  | PReluLayer
  | ClipLayer
  | AvgPoolLayer;

export type OpName = Layer['op'];

export interface Model {
  name: string;
  input: InputSpec;
  layers: Layer[];
  /** Name of the tensor holding the scores (f32 or i32, shape [N, 1, 1]). */
  output: string;
  labels?: string[];
  metadata?: Record<string, unknown>;
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
