// maxpool: max over each window of a b1, f32, i8 or i32 map (same type out). Padded positions are never part of the
// max; the scan order is ky, kx and only a strictly greater value replaces the running max (so -0/+0 ties keep the
// first). On b1 maps it is a logical OR of +1; on i8 it is the max of the stored q (a padded tap is neither -128 nor
// the zero point). Kernel: runtime-c/bnn_maxpool.c.
import { z } from 'zod';
import type { Tensor } from '../ir/tensor.ts';
import { layerBase, windowSpec } from '../ir/spec.ts';
import type { LayerBase, Padding } from '../ir/types.ts';
import { checkWindow, expectDType, windowOut } from './shared/checks.ts';
import { randomWindow, readPadding, windowDims, windowStruct, writeWindow } from './shared/window.ts';
import type { OpDef } from './types.ts';

export interface MaxPoolLayer extends LayerBase {
  op: 'maxpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('maxpool'), ...windowSpec });
const KERNEL = { b1: 'bnn_maxpool_b1_b1', f32: 'bnn_maxpool_f32_f32', i8: 'bnn_maxpool_s8_s8', i16: 'bnn_maxpool_s16_s16', i32: 'bnn_maxpool_s32_s32' } as const;
const DATA = { b1: Int8Array, f32: Float32Array, i8: Int8Array, i16: Int16Array, i32: Int32Array } as const;

export const maxpool: OpDef<MaxPoolLayer, typeof schema> = {
  op: 'maxpool',
  arity: 1,
  schema,
  read: (s, _blob, x) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'maxpool', kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride) }),
  write: (l) => writeWindow(l),
  infer(l, [x], at) {
    expectDType(x, ['b1', 'f32', 'i8', 'i16', 'i32'], at, l.inputs[0]);
    checkWindow(l.kernel, l.stride, l.pad, at);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    return { dtype: x.dtype, shape: [x.shape[0], oh, ow] };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const [OH, OW] = windowDims(x.shape, l);
    const out = new DATA[x.dtype as keyof typeof DATA](C * OH * OW);
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let m = 0;
          let first = true;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - l.pad.top + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - l.pad.left + kx;
              if (ix < 0 || ix >= W) continue;
              const v = x.data[(c * H + iy) * W + ix];
              if (first || v > m) m = v;
              first = false;
            }
          }
          out[(c * OH + oy) * OW + ox] = m;
        }
      }
    }
    return { dtype: x.dtype, shape: [C, OH, OW], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    const x = ctx.inputs[0];
    return {
      kernel: KERNEL[x.dtype as keyof typeof KERNEL],
      params: { type: 'bnn_window_t', value: windowStruct(x, ctx.output, l) },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_maxpool.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]}`,
  // int8 path: max commutes with an increasing per-channel form: pool its one integer tensor (the stem's int32
  // accumulator, before any rounding); otherwise pool the stored int8 map, which keeps its grid.
  quantize(l, q, at) {
    const f = q.form(l.inputs[0]);
    const out = q.type(l.output).shape;
    if (f.terms.length === 1 && f.terms[0].a.every((a) => a > 0)) {
      const src = `${l.output}:int`;
      q.push({ ...l, inputs: [f.terms[0].src], output: src });
      q.setForm(l.output, { terms: [{ src, a: f.terms[0].a }], b: f.b, shape: out });
      return;
    }
    const x = q.int8(l.inputs[0], l.name);
    q.push({ ...l, inputs: [x.name] });
    q.setStored(l.output, x.grid, out);
  },
  random(r, x, names) {
    if (!(x.dtype in KERNEL)) return null;
    const w = randomWindow(r, x.shape);
    return w ? { ...names, op: 'maxpool', ...w } : null;
  },
};
