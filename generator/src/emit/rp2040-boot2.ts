// The RP2040's second-stage boot loader as 256 bytes: code assembled from templates/firmware/rp2040/
// boot2-generic-03h.S (the test re-assembles it and compares), zero padding, and the CRC32 the boot ROM checks.

/** arm-none-eabi-as -mcpu=cortex-m0plus -mthumb of boot2-generic-03h.S, then objcopy -O binary -j .boot2. */
export const BOOT2_CODE: readonly number[] = [
  0x00, 0xb5, 0x0c, 0x4b, 0x00, 0x21, 0x99, 0x60, 0x04, 0x21, 0x59, 0x61,
  0x0a, 0x49, 0x19, 0x60, 0x0a, 0x49, 0x0b, 0x48, 0x01, 0x60, 0x00, 0x21,
  0x59, 0x60, 0x01, 0x21, 0x99, 0x60, 0x01, 0xbc, 0x00, 0x28, 0x00, 0xd0,
  0x00, 0x47, 0x07, 0x48, 0x07, 0x49, 0x08, 0x60, 0x03, 0xc8, 0x80, 0xf3,
  0x08, 0x88, 0x08, 0x47, 0x00, 0x00, 0x00, 0x18, 0x00, 0x03, 0x1f, 0x00,
  0x18, 0x02, 0x00, 0x03, 0xf4, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x10,
  0x08, 0xed, 0x00, 0xe0,
];

/** CRC-32 as the RP2040 boot ROM computes it over boot2 (datasheet 2.8.1.3.1): polynomial 0x04C11DB7, initial value
 *  0xFFFFFFFF, bits fed most significant first, no final XOR (the catalogue's CRC-32/MPEG-2). */
export function crc32Mpeg2(data: ArrayLike<number>): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    crc ^= (data[i] & 0xff) << 24;
    for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** The 256-byte boot2 image: 252 bytes of code and zero padding, then the CRC32 of those 252 bytes, little-endian. */
export function rp2040Boot2(): Uint8Array {
  if (BOOT2_CODE.length > 252) throw new Error(`boot2 code is ${BOOT2_CODE.length} bytes; at most 252 fit`);
  const out = new Uint8Array(256);
  out.set(BOOT2_CODE);
  const crc = crc32Mpeg2(out.subarray(0, 252));
  new DataView(out.buffer).setUint32(252, crc, true);
  return out;
}
