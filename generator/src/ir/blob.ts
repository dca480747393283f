// The model file's weights blob: typed arrays in and out at 16-byte aligned offsets, each described by a TensorRef
// in the manifest. Reading checks every reference against the blob and names the JSON path of a bad one.
import { BnnError } from '../core/errors.ts';
import { packBits, packedBytes, unpackBits } from './packing.ts';
import type { TensorRef } from './spec.ts';

const ELEMENT_BYTES = { float32: 4, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2 } as const;
const ALIGN = 16;

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte length of a stored tensor. */
export function refBytes(ref: TensorRef): number {
  if (ref.dtype === 'packed') return packedBytes(count(ref.shape), ref.bits ?? 1);
  return count(ref.shape) * ELEMENT_BYTES[ref.dtype];
}

export class BlobReader {
  private readonly view: DataView;
  /** `where` names the manifest in errors. */
  constructor(readonly bytes: Uint8Array, private readonly where: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private slice(ref: TensorRef, at: string, dtype: TensorRef['dtype']): number {
    if (ref.dtype !== dtype) throw new BnnError(`${this.where}: ${at}.dtype: expected ${dtype}, got ${ref.dtype}`);
    if (dtype === 'packed' && ref.bits === undefined) throw new BnnError(`${this.where}: ${at}.bits: required for dtype packed`);
    const end = ref.offset + refBytes(ref);
    if (end > this.bytes.length) {
      throw new BnnError(`${this.where}: ${at}: bytes ${ref.offset}..${end} lie outside the ${this.bytes.length}-byte weights file`);
    }
    return ref.offset;
  }

  f32(ref: TensorRef, at: string): Float32Array {
    const o = this.slice(ref, at, 'float32');
    const out = new Float32Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getFloat32(o + 4 * i, true);
    return out;
  }

  i32(ref: TensorRef, at: string): Int32Array {
    const o = this.slice(ref, at, 'int32');
    const out = new Int32Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getInt32(o + 4 * i, true);
    return out;
  }

  i8(ref: TensorRef, at: string): Int8Array {
    const o = this.slice(ref, at, 'int8');
    return Int8Array.from(new Int8Array(this.bytes.buffer, this.bytes.byteOffset + o, count(ref.shape)));
  }

  i16(ref: TensorRef, at: string): Int16Array {
    const o = this.slice(ref, at, 'int16');
    const out = new Int16Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getInt16(o + 2 * i, true);
    return out;
  }

  u16(ref: TensorRef, at: string): Uint16Array {
    const o = this.slice(ref, at, 'uint16');
    const out = new Uint16Array(count(ref.shape));
    for (let i = 0; i < out.length; i++) out[i] = this.view.getUint16(o + 2 * i, true);
    return out;
  }

  /** A packed stream of `bits`-bit values (bits is required to match when given). */
  packed(ref: TensorRef, at: string, bits?: number): Uint16Array {
    const o = this.slice(ref, at, 'packed');
    if (bits !== undefined && ref.bits !== bits) throw new BnnError(`${this.where}: ${at}.bits: expected ${bits}, got ${ref.bits}`);
    const n = count(ref.shape);
    return unpackBits(this.bytes.subarray(o, o + packedBytes(n, ref.bits!)), n, ref.bits!);
  }

  bits(ref: TensorRef, at: string): Uint8Array {
    return Uint8Array.from(this.packed(ref, at, 1));
  }
}

export class BlobWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private put(bytes: Uint8Array, ref: Omit<TensorRef, 'offset'>): TensorRef {
    const pad = (ALIGN - (this.length % ALIGN)) % ALIGN;
    if (pad) this.chunks.push(new Uint8Array(pad));
    this.length += pad;
    const offset = this.length;
    this.chunks.push(bytes);
    this.length += bytes.length;
    return { offset, ...ref };
  }

  f32(a: Float32Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 4);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setFloat32(4 * i, x, true));
    return this.put(b, { dtype: 'float32', shape });
  }

  i32(a: Int32Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 4);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setInt32(4 * i, x, true));
    return this.put(b, { dtype: 'int32', shape });
  }

  i8(a: Int8Array, shape: number[]): TensorRef {
    return this.put(new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.length)), { dtype: 'int8', shape });
  }

  i16(a: Int16Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 2);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setInt16(2 * i, x, true));
    return this.put(b, { dtype: 'int16', shape });
  }

  u16(a: Uint16Array, shape: number[]): TensorRef {
    const b = new Uint8Array(a.length * 2);
    const v = new DataView(b.buffer);
    a.forEach((x, i) => v.setUint16(2 * i, x, true));
    return this.put(b, { dtype: 'uint16', shape });
  }

  packed(a: ArrayLike<number>, bits: number, shape: number[]): TensorRef {
    return this.put(packBits(a, bits), { dtype: 'packed', bits, shape });
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
