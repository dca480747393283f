// avgpool: average over each window of an f32 map: acc = +0; over the valid taps in ky, kx order acc = fround(acc + v);
// y = fround(acc / fround(divisor)), divisor kh*kw with countIncludePad (PyTorch's default), else the valid count.
// Kernel: runtime-c/bnn_avgpool.c.
import { z } from 'zod';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase, windowSpec } from '../ir/spec.ts';
import type { LayerBase, Padding } from '../ir/types.ts';
import { checkWindow, expectDType, windowOut } from './shared/checks.ts';
import { randomWindow, readPadding, windowDims, windowStruct, writeWindow } from './shared/window.ts';
import type { OpDef } from './types.ts';

export interface AvgPoolLayer extends LayerBase {
  op: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  countIncludePad: boolean;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('avgpool'), ...windowSpec, countIncludePad: z.boolean().default(true) });

export const avgpool: OpDef<AvgPoolLayer, typeof schema> = {
  op: 'avgpool',
  arity: 1,
  schema,
  read: (s, _blob, x) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'avgpool', kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), countIncludePad: s.countIncludePad }),
  write: (l) => ({ ...writeWindow(l), countIncludePad: l.countIncludePad }),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    checkWindow(l.kernel, l.stride, l.pad, at);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    return { dtype: 'f32', shape: [x.shape[0], oh, ow] };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const [OH, OW] = windowDims(x.shape, l);
    const out = new Float32Array(C * OH * OW);
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          let n = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - l.pad.top + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - l.pad.left + kx;
              if (ix < 0 || ix >= W) continue;
              acc = f32(acc + x.data[(c * H + iy) * W + ix]);
              n++;
            }
          }
          out[(c * OH + oy) * OW + ox] = f32(acc / f32(l.countIncludePad ? kh * kw : n));
        }
      }
    }
    return { dtype: 'f32', shape: [C, OH, OW], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    return {
      kernel: 'bnn_avgpool_f32_f32',
      params: { type: 'bnn_avgpool_params_t', value: { fields: [{ name: 'g', value: windowStruct(ctx.inputs[0], ctx.output, l) }, { name: 'count_include_pad', value: l.countIncludePad ? 1 : 0 }] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_avgpool.c'],
    };
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]}`,
  random(r, x, names) {
    if (x.dtype !== 'f32') return null;
    const w = randomWindow(r, x.shape);
    return w ? { ...names, op: 'avgpool', ...w, countIncludePad: r.bool() } : null;
  },
};
