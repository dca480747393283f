// Pure recognisers used by the lowering: node attributes -> IR geometry and weights, and the rewrites of a pending
// step chain in front of a Sign (which pool moves past the sign, what tail the sign makes irrelevant).
import { outDim, samePadding, type Padding, type Shape, type Threshold } from '../../model/ir.ts';
import { direction, NEVER, preservesSign, type Step } from './chain.ts';
import { attrFloat, attrInt, attrInts, nodeError, type OnnxNode } from './proto.ts';
import { type Const, numel } from './tensor.ts';

export type PoolStep = Extract<Step, { kind: 'pool' }>;

// ---- windows and shapes ----------------------------------------------------------------------------------

/** Stride and padding of a Conv/MaxPool node (pads, auto_pad); no dilation; padding smaller than the kernel. */
export function windowOf(n: OnnxNode, inShape: Shape, kernel: [number, number]): { stride: [number, number]; pad: Padding } {
  const dil = attrInts(n, 'dilations') ?? [1, 1];
  if (dil.some((d) => d !== 1)) throw nodeError(n, `dilations [${dil}] are not supported`);
  const s = attrInts(n, 'strides') ?? [1, 1];
  if (s.length !== 2 || s.some((v) => !Number.isInteger(v) || v < 1 || v > 15)) throw nodeError(n, `strides [${s}] must be two integers 1..15`);
  const stride: [number, number] = [s[0], s[1]];
  const auto = (n.attrs.get('auto_pad') as string | undefined) ?? 'NOTSET';
  let pad: Padding;
  if (auto === 'VALID') pad = { top: 0, left: 0, bottom: 0, right: 0 };
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    pad = samePadding(inShape[1], inShape[2], kernel, stride);
    if (auto === 'SAME_LOWER') pad = { top: pad.bottom, left: pad.right, bottom: pad.top, right: pad.left };
  } else {
    const p = attrInts(n, 'pads') ?? [0, 0, 0, 0]; // ONNX order: y_begin, x_begin, y_end, x_end
    if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) throw nodeError(n, `pads [${p}] must be four non-negative integers`);
    pad = { top: p[0], left: p[1], bottom: p[2], right: p[3] };
  }
  for (const side of ['top', 'left', 'bottom', 'right'] as const) {
    const k = side === 'top' || side === 'bottom' ? kernel[0] : kernel[1];
    if (pad[side] >= k) throw nodeError(n, `padding ${pad[side]} on the ${side} is not smaller than the kernel (${k})`);
  }
  const oh = outDim(inShape[1], kernel[0], stride[0], pad.top, pad.bottom);
  const ow = outDim(inShape[2], kernel[1], stride[1], pad.left, pad.right);
  if (!(oh >= 1 && ow >= 1)) throw nodeError(n, `a ${kernel[0]}x${kernel[1]} window does not fit its ${inShape[1]}x${inShape[2]} input`);
  return { stride, pad };
}

export function windowShape(inShape: Shape, channels: number, kernel: [number, number], stride: [number, number], pad: Padding): Shape {
  return [channels, outDim(inShape[1], kernel[0], stride[0], pad.top, pad.bottom), outDim(inShape[2], kernel[1], stride[1], pad.left, pad.right)];
}

/** A MaxPool node as a pending step, with its output shape; ceil_mode only where it changes nothing. */
export function maxPoolOf(n: OnnxNode, inShape: Shape): { step: PoolStep; shape: Shape } {
  const k = attrInts(n, 'kernel_shape') ?? [];
  if (k.length !== 2) throw nodeError(n, `kernel_shape [${k}]: only 2-D pooling is supported`);
  const kernel: [number, number] = [k[0], k[1]];
  const { stride, pad } = windowOf(n, inShape, kernel);
  const shape = windowShape(inShape, inShape[0], kernel, stride, pad);
  if (attrInt(n, 'ceil_mode', 0)) {
    const ceil = (size: number, i: 0 | 1, a: number, b: number) => Math.ceil((size + a + b - kernel[i]) / stride[i]) + 1;
    if (ceil(inShape[1], 0, pad.top, pad.bottom) !== shape[1] || ceil(inShape[2], 1, pad.left, pad.right) !== shape[2]) {
      throw nodeError(n, 'ceil_mode=1 changes the output size here; only floor mode is supported');
    }
  }
  return { step: { kind: 'pool', kernel, stride, pad, node: n.name }, shape };
}

/** The ONNX shape a Flatten / Squeeze / Reshape node asks for, given its input's ONNX shape. */
export function reshapeTarget(n: OnnxNode, shape: number[], input1: Const | undefined): number[] {
  if (n.op === 'Flatten') {
    let axis = attrInt(n, 'axis', 1);
    if (axis < 0) axis += shape.length;
    return [numel(shape.slice(0, axis)), numel(shape.slice(axis))];
  }
  if (n.op === 'Squeeze') {
    const raw = input1 ? Array.from(input1.data) : attrInts(n, 'axes') ?? shape.flatMap((d, i) => (d === 1 && i > 0 ? [i] : []));
    const axes = raw.map((a) => (a < 0 ? a + shape.length : a));
    return shape.filter((_, i) => !axes.includes(i));
  }
  if (!input1) throw nodeError(n, 'the target shape must be a constant');
  const dims = Array.from(input1.data, (d, i) => (d === 0 ? shape[i] : d));
  const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
  return dims.map((d) => (d === -1 ? numel(shape) / known : d));
}

// ---- fully connected -------------------------------------------------------------------------------------

/** Gemm (alpha, beta, transB) or MatMul weights as [N, K] row-major, and the bias. */
export function denseOf(n: OnnxNode, K: number, b: Const, c: Const | undefined): { N: number; weights: Float32Array; bias: Float32Array } {
  if (b.dims.length !== 2) throw nodeError(n, `weights must be 2-D, got [${b.dims}]`);
  const transposed = n.op === 'Gemm' && attrInt(n, 'transB', 0) === 1; // PyTorch's Linear: [N, K]
  if (n.op === 'Gemm' && attrInt(n, 'transA', 0)) throw nodeError(n, 'transA=1 is not supported');
  if (b.dims[transposed ? 1 : 0] !== K) throw nodeError(n, `weights of shape [${b.dims}] do not take ${K} inputs`);
  const N = b.dims[transposed ? 0 : 1];
  const alpha = attrFloat(n, 'alpha') ?? 1;
  const beta = attrFloat(n, 'beta') ?? 1;
  const weights = new Float32Array(N * K);
  for (let o = 0; o < N; o++) for (let k = 0; k < K; k++) weights[o * K + k] = alpha * b.data[transposed ? o * K + k : k * N + o];
  if (c && c.data.length !== 1 && c.data.length !== N) throw nodeError(n, `bias of shape [${c.dims}] is not per output`);
  const bias = Float32Array.from({ length: N }, (_, o) => (c ? (c.data.length === 1 ? c.data[0] : c.data[o]) * beta : 0));
  return { N, weights, bias };
}

// ---- the chain in front of a Sign --------------------------------------------------------------------------

/**
 * sign(f2(maxpool(x))) = maxpool(sign(f2(x))) when f2 (the steps after the pool) is non-decreasing on every channel:
 * then the pool moves after the sign, where it is an OR of bits. `stuck` when some channel decreases (a min pool).
 */
export function splitPool(steps: Step[], channels: number): { steps: Step[]; pool?: PoolStep; stuck: boolean } {
  const at = steps.findIndex((s) => s.kind === 'pool');
  if (at < 0) return { steps, stuck: false };
  const after = steps.slice(at + 1);
  for (let c = 0; c < channels; c++) if (direction(after, c) < 0) return { steps, stuck: true };
  return { steps: [...steps.slice(0, at), ...after], pool: steps[at] as PoolStep, stuck: false };
}

/** Drop a sign-preserving tail (Hardtanh, PReLU > 0), then take a final shift as binarize's (RSign: sign(x + b)). */
export function signTail(steps: Step[]): { steps: Step[]; shift: Float32Array | null } {
  const rest = [...steps];
  while (rest.length && preservesSign(rest[rest.length - 1])) rest.pop();
  const tail = rest[rest.length - 1];
  if (tail?.kind === 'affine' && !tail.fused && tail.mul.every((m) => m === 1)) {
    rest.pop();
    return { steps: rest, shift: tail.add };
  }
  return { steps: rest, shift: null };
}

/**
 * For a pool that cannot move past the sign: with σ the direction of the steps before the pool, p = maxpool(σ·acc)
 * gives PyTorch's pooled accumulator σ·p, and z = scale·p + bias is >= 0 exactly where the threshold holds.
 * All values are integers below 2^24, so float32 computes them exactly.
 */
export function thresholdAfterPool(before: Step[], t: Threshold): { sigma: Float32Array; scale: Float32Array; bias: Float32Array } {
  const C = t.value.length;
  const sigma = new Float32Array(C);
  const scale = new Float32Array(C);
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    sigma[c] = direction(before, c) < 0 ? -1 : 1;
    if (t.value[c] === NEVER.value) [scale[c], bias[c]] = [0, t.flip[c] ? -1 : 1]; // constant channel
    else if (t.flip[c]) [scale[c], bias[c]] = [-sigma[c], t.value[c]]; // acc <= T
    else [scale[c], bias[c]] = [sigma[c], -t.value[c]]; // acc >= T
  }
  return { sigma, scale, bias };
}
