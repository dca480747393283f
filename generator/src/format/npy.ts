// NumPy .npy files (inputs and labels): parsed by npyjs, then checked so that a file whose data is shorter or longer
// than its header declares is refused, naming both byte counts, instead of silently holding fewer values.
import { readFileSync } from 'node:fs';
import { parse as parseNpy } from 'npyjs';
import { BnnError, fsReason, printable } from '../core/errors.ts';

export interface Npy {
  data: ArrayBufferView & ArrayLike<number | bigint>;
  shape: number[];
  fortranOrder: boolean;
}

/** Offset of the data: after the magic, the version, the header length and the header (format versions 1, 2, 3). */
function dataOffset(bytes: Uint8Array, where: string): number {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new BnnError(`${where}: not a .npy file (no \\x93NUMPY header)`);
  const major = bytes[6];
  if (major === 1) return 10 + (bytes[8] | (bytes[9] << 8));
  if ((major === 2 || major === 3) && bytes.length >= 12) return 12 + (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
  throw new BnnError(`${where}: .npy format version ${major} is not supported (1, 2 or 3)`);
}

/** Read and check a .npy file; `what` says what it is for in messages ('input', 'labels'). */
export function readNpy(path: string, what: string): Npy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new BnnError(`cannot read ${what} '${printable(path)}': ${fsReason(e)}`);
  }
  const where = printable(path);
  const offset = dataOffset(bytes, where);
  if (offset > bytes.length) throw new BnnError(`${where}: the .npy header says it is ${offset} bytes long, the file has ${bytes.length}`);
  let parsed: { data: ArrayBufferView; shape: number[]; fortranOrder: boolean };
  try {
    parsed = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
  } catch (e) {
    throw new BnnError(`${where}: not a readable .npy file: ${printable((e as Error).message, 100)}`);
  }
  const shape = parsed.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new BnnError(`${where}: the .npy header's shape is not a list of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemBytes = (parsed.data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const expected = count * itemBytes;
  const actual = bytes.length - offset;
  if (expected !== actual) throw new BnnError(`${where}: the .npy header declares shape [${shape}] (${expected} bytes of data), the file holds ${actual} bytes of data`);
  const data = (parsed.data as unknown as { subarray(a: number, b: number): Npy['data'] }).subarray(0, count);
  return { data, shape, fortranOrder: parsed.fortranOrder };
}
