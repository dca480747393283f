declare module 'numpy-parser' {
  export function fromArrayBuffer(buffer: ArrayBuffer): { data: ArrayLike<number> & { constructor: { name: string } }; shape: number[] };
}
