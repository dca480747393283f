// Initializer text shared by several operators.
import type { Padding, Threshold, TensorInfo } from '../model/ir.ts';
import type { Field, LowerContext } from './types.ts';

export function windowInit(x: TensorInfo, y: TensorInfo, kernel: [number, number], stride: [number, number], pad: Padding): string {
  const [C, H, W] = x.shape;
  const [O, OH, OW] = y.shape;
  return `{ .in_c = ${C}, .in_h = ${H}, .in_w = ${W}, .out_c = ${O}, .out_h = ${OH}, .out_w = ${OW}, .kh = ${kernel[0]}, .kw = ${kernel[1]}, .sh = ${stride[0]}, .sw = ${stride[1]}, .pad_top = ${pad.top}, .pad_left = ${pad.left} }`;
}

/** Flip flags as bit words: bit o of word o >> 5. */
export function flipWords(flip: Uint8Array): Uint32Array {
  const w = new Uint32Array(Math.ceil(flip.length / 32));
  flip.forEach((f, o) => {
    if (f) w[o >> 5] |= 1 << (o & 31);
  });
  return w;
}

export function outputInit(ctx: LowerContext, t: Threshold | undefined): string {
  if (!t) return '{ .thresh = NULL, .flip = NULL }';
  const thresh = ctx.table('thresh', 'int32_t', t.value, 'thresholds');
  const flip = ctx.table('flip', 'uint32_t', flipWords(t.flip), 'thresholds');
  return `{ .thresh = ${thresh}, .flip = ${flip} }`;
}

export function outSize(t: TensorInfo): number {
  return t.shape[0] * t.shape[1] * t.shape[2];
}

/** A designated initializer, one field per line. */
export function struct(fields: Field[]): string {
  return '{\n' + fields.map((f) => `    .${f.name} = ${f.value},`).join('\n') + '\n}';
}
