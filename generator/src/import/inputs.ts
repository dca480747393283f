// Model inputs from files: raw bytes (one or more inputs back to back) or .npy arrays of uint8/int8.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { BnnError, fsReason, printable } from '../core/errors.ts';
import { readNpy } from '../format/npy.ts';
import type { Model } from '../model/ir.ts';

type Input = Uint8Array | Int8Array;

const NUMPY_NAMES: Record<string, string> = {
  Int8Array: 'int8', Uint8Array: 'uint8', Int16Array: 'int16', Uint16Array: 'uint16', Int32Array: 'int32', Uint32Array: 'uint32',
  BigInt64Array: 'int64', BigUint64Array: 'uint64', Float32Array: 'float32', Float64Array: 'float64',
};

/** numpy's name of a typed array's element type. */
function numpyType(a: object): string {
  return NUMPY_NAMES[a.constructor.name] ?? a.constructor.name;
}

function split(data: Uint8Array | Int8Array, size: number, path: string): Input[] {
  if (data.length === 0 || data.length % size !== 0) {
    throw new BnnError(`${path}: ${data.length} values is not a whole number of inputs of ${size} values`);
  }
  const out: Input[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.slice(i, i + size));
  return out;
}

/** Read one input or a batch. .npy: dtype uint8/int8 matching the model, shape [..., C, H, W] or [N, C*H*W]. */
export function readInputs(path: string, model: Model): Input[] {
  const [C, H, W] = model.input.shape;
  const size = C * H * W;
  const signed = model.input.dtype === 'i8';
  if (extname(path).toLowerCase() !== '.npy') {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new BnnError(`cannot read input '${printable(path)}': ${fsReason(e)}`);
    }
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    return split(signed ? new Int8Array(raw.buffer, raw.byteOffset, raw.length) : raw, size, path);
  }
  const parsed = readNpy(path, 'input');
  if (parsed.fortranOrder) throw new BnnError(`${path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  const want = signed ? Int8Array : Uint8Array;
  if (!(parsed.data instanceof want)) {
    throw new BnnError(`${path}: dtype must be ${signed ? 'int8' : 'uint8'} for this model's ${model.input.dtype} input, got ${numpyType(parsed.data)}`);
  }
  const shape = parsed.shape;
  const tail = shape.slice(-3).join('x');
  const ok = shape.reduce((a, b) => a * b, 1) % size === 0 && (tail === `${C}x${H}x${W}` || shape[shape.length - 1] === size || shape.length === 1);
  if (!ok) throw new BnnError(`${path}: shape [${shape}] does not hold inputs of shape [${C}, ${H}, ${W}]`);
  return split(parsed.data as Input, size, path);
}

/**
 * Class labels, one per input: .npy of an integer dtype (numpy's default int64 included), shape [N] or [N, 1], every
 * value a class index of the model (0 <= label < classes).
 */
export function readLabels(path: string, count: number, classes: number): number[] {
  if (extname(path).toLowerCase() !== '.npy') throw new BnnError(`${printable(path)}: labels must be an .npy array of integers`);
  const parsed = readNpy(path, 'labels');
  const d = parsed.data;
  const integer = d instanceof Uint8Array || d instanceof Int8Array || d instanceof Uint16Array || d instanceof Int16Array ||
    d instanceof Uint32Array || d instanceof Int32Array || d instanceof BigInt64Array || d instanceof BigUint64Array;
  if (!integer) throw new BnnError(`${path}: labels must have an integer dtype, got ${numpyType(d)}`);
  const shape = parsed.shape;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) throw new BnnError(`${path}: labels must have shape [N], got [${shape}]`);
  const values = Array.from(d as unknown as ArrayLike<number | bigint>, Number);
  if (values.length !== count) throw new BnnError(`${path}: ${values.length} labels for ${count} inputs`);
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
  if (bad >= 0) throw new BnnError(`${path}: label ${bad} is ${values[bad]}, not a class index 0..${classes - 1}`);
  return values;
}
