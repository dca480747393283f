// tau-bit packing used by the model file and by the emitted C tables: value j occupies stream bits
// [j*bits, (j+1)*bits), least significant bit first; stream bit b lives in byte b >> 3 at bit b & 7.

export function packedBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

export function packBits(values: ArrayLike<number>, bits: number, extraBytes = 0): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`bits must be 1..16, got ${bits}`);
  const out = new Uint8Array(packedBytes(values.length, bits) + extraBytes);
  const max = 1 << bits;
  let pos = 0;
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    if (!Number.isInteger(v) || v < 0 || v >= max) throw new RangeError(`value ${v} at ${j} does not fit ${bits} bits`);
    for (let b = 0; b < bits; b++, pos++) if ((v >> b) & 1) out[pos >> 3] |= 1 << (pos & 7);
  }
  return out;
}

export function unpackBits(bytes: Uint8Array, count: number, bits: number): Uint16Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`bits must be 1..16, got ${bits}`);
  if (bytes.length < packedBytes(count, bits)) throw new RangeError(`${count} values of ${bits} bits need ${packedBytes(count, bits)} bytes, got ${bytes.length}`);
  const out = new Uint16Array(count);
  let pos = 0;
  for (let j = 0; j < count; j++) {
    let v = 0;
    for (let b = 0; b < bits; b++, pos++) v |= ((bytes[pos >> 3] >> (pos & 7)) & 1) << b;
    out[j] = v;
  }
  return out;
}
