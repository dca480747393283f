// How each tensor type is laid out in C memory (runtime-c/bnn_runtime.h states the same rules), and the
// decoding of C buffers back into reference tensors so that every layer can be compared bit for bit.
import type { TensorInfo } from './types.ts';
import type { Tensor } from './tensor.ts';

export const ARENA_ALIGN = 8;

export function words(bits: number): number {
  return Math.ceil(bits / 32);
}

/** Bytes a tensor occupies in C. */
export function tensorBytes(t: TensorInfo): number {
  const [C, H, W] = t.shape;
  switch (t.dtype) {
    case 'b1':
      return H * W * words(C) * 4;
    case 'f32':
    case 'i32':
      return C * H * W * 4;
    case 'u8':
    case 'i8':
      return C * H * W;
    case 'i16':
      return C * H * W * 2;
  }
}

/** C element type used for pointers to a tensor. */
export function cType(t: TensorInfo): string {
  switch (t.dtype) {
    case 'b1':
      return 'uint32_t';
    case 'f32':
      return 'float';
    case 'i32':
      return 'int32_t';
    case 'u8':
      return 'uint8_t';
    case 'i8':
      return 'int8_t';
    case 'i16':
      return 'int16_t';
  }
}

/** Decode a C buffer (little-endian, as on Arm, x86 and WASM) into the reference's representation. */
export function decodeTensor(t: TensorInfo, bytes: Uint8Array): Tensor {
  const [C, H, W] = t.shape;
  const n = C * H * W;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < tensorBytes(t)) throw new Error(`buffer of ${bytes.length} bytes is too small for ${t.dtype}[${t.shape}]`);
  switch (t.dtype) {
    case 'f32': {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getFloat32(4 * i, true);
      return { dtype: 'f32', shape: t.shape, data: d };
    }
    case 'i32': {
      const d = new Int32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getInt32(4 * i, true);
      return { dtype: 'i32', shape: t.shape, data: d };
    }
    case 'b1': {
      const wpp = words(C);
      const d = new Int8Array(n);
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < H * W; p++) {
          const word = view.getUint32(4 * (p * wpp + (c >> 5)), true);
          d[c * H * W + p] = (word >>> (c & 31)) & 1 ? 1 : -1;
        }
      }
      return { dtype: 'b1', shape: t.shape, data: d };
    }
    case 'u8':
      return { dtype: 'u8', shape: t.shape, data: Uint8Array.from(bytes.subarray(0, n)) };
    case 'i8':
      return { dtype: 'i8', shape: t.shape, data: Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)) };
    case 'i16': {
      const d = new Int16Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getInt16(2 * i, true);
      return { dtype: 'i16', shape: t.shape, data: d };
    }
  }
}

/** Spare bits of b1 buffers must be zero (kernels rely on it); returns the first offending word, or -1. */
export function firstDirtySpareWord(t: TensorInfo, bytes: Uint8Array): number {
  if (t.dtype !== 'b1') return -1;
  const [C, H, W] = t.shape;
  const wpp = words(C);
  const spare = wpp * 32 - C;
  if (spare === 0) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mask = (0xffffffff << (32 - spare)) >>> 0;
  for (let p = 0; p < H * W; p++) {
    const i = p * wpp + wpp - 1;
    if ((view.getUint32(4 * i, true) & mask) !== 0) return i;
  }
  return -1;
}
