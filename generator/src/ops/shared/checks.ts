// Checks shared by the ops' infer(): every failure is a BnnError "where: what" naming the layer and the field.
import { BnnError, check } from '../../core/errors.ts';
import { outDim, type DType, type Padding, type Shape, type TensorInfo } from '../../ir/types.ts';

export function checkFinite(arr: Float32Array, at: string): void {
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) throw new BnnError(`${at}[${i}]: non-finite value ${arr[i]}`);
  }
}

export function checkLength(arr: ArrayLike<unknown>, n: number, at: string): void {
  check(arr.length === n, at, `expected ${n} values, got ${arr.length}`);
}

/** A float32 vector of n finite values. */
export function checkVector(arr: Float32Array, n: number, at: string): void {
  checkLength(arr, n, at);
  checkFinite(arr, at);
}

export function checkPositive(v: number, at: string): void {
  check(Number.isInteger(v) && v >= 1, at, `must be a positive integer, got ${v}`);
}

/** Kernel and stride 1..15; padding below the kernel on each side (a window made only of padding has no value). */
export function checkWindow(k: [number, number], s: [number, number], pad: Padding, at: string): void {
  for (const v of k) check(Number.isInteger(v) && v >= 1 && v <= 15, `${at}.kernel`, `kernel size must be an integer 1..15, got ${v}`);
  for (const v of s) check(Number.isInteger(v) && v >= 1 && v <= 15, `${at}.stride`, `stride must be an integer 1..15, got ${v}`);
  const pairs: [keyof Padding, number][] = [['top', k[0]], ['bottom', k[0]], ['left', k[1]], ['right', k[1]]];
  for (const [side, kk] of pairs) {
    const v = pad[side];
    check(Number.isInteger(v) && v >= 0 && v < kk, `${at}.padding.${side}`, `padding must be an integer 0..${kk - 1}, got ${v}`);
  }
}

/** Output height and width of a window op; refuses a window that does not fit. */
export function windowOut(inShape: Shape, k: [number, number], s: [number, number], pad: Padding, at: string): [number, number] {
  const oh = outDim(inShape[1], k[0], s[0], pad.top, pad.bottom);
  const ow = outDim(inShape[2], k[1], s[1], pad.left, pad.right);
  check(oh >= 1 && ow >= 1, at, `window ${k[0]}x${k[1]} does not fit input ${inShape[1]}x${inShape[2]} with this padding`);
  return [oh, ow];
}

/** Integer layers accumulate in int32: bias plus the largest possible sum of products must fit. */
export function checkInt32Range(bias: Int32Array, maxProducts: number, at: string): void {
  let maxBias = 0;
  for (let i = 0; i < bias.length; i++) maxBias = Math.max(maxBias, Math.abs(bias[i]));
  check(maxBias + maxProducts <= 2 ** 31 - 1, at, `the int32 accumulator could overflow (|bias| up to ${maxBias} plus up to ${maxProducts} from the products); use fewer input channels or a float layer`);
}

export function checkBits(bits: Uint8Array, at: string): void {
  for (let i = 0; i < bits.length; i++) check(bits[i] <= 1, `${at}[${i}]`, `binary weight must be 0 or 1, got ${bits[i]}`);
}

/** The layer's input k has one of the allowed types. */
export function expectDType(info: TensorInfo, allowed: DType[], at: string, tensor: string): void {
  check(allowed.includes(info.dtype), at, `input '${tensor}' has type ${info.dtype}; this layer takes ${allowed.join(' or ')}`);
}

export function expectVector(info: TensorInfo, at: string, tensor: string): void {
  check(info.shape[1] === 1 && info.shape[2] === 1, at, `input '${tensor}' has shape [${info.shape}]; a vector [N,1,1] is required (add a flatten layer)`);
}
