// avgpool: average over each window of an f32 map: acc = +0; over the valid taps in ky, kx order acc = fround(acc + v);
// y = fround(acc / fround(divisor)), divisor kh*kw with countIncludePad (PyTorch's default), else the valid count.
// On an i8 or i16 map (same type out): S = the int32 sum of the valid taps' q, n the same divisor, y = floor((2S + n) / (2n)) (the
// mean rounded half up); countIncludePad with padding is refused (a padded tap would have to be the zero point).
// Kernel: runtime-c/bnn_avgpool.c.
import { z } from 'zod';
import { check } from '../core/errors.ts';
import { f32, type Tensor } from '../ir/tensor.ts';
import { layerBase, windowSpec } from '../ir/spec.ts';
import type { LayerBase, Padding, TensorInfo } from '../ir/types.ts';
import { checkWindow, expectDType, windowOut } from './shared/checks.ts';
import { randomWindow, readPadding, windowDims, windowStruct, writeWindow } from './shared/window.ts';
import { requantOut, requantStruct, type RequantLayer } from './requant.ts';
import { INT_MAPS, intMapData, isIntMap, type IntMapType } from './shared/int8-path.ts';
import type { OpDef } from './types.ts';

export interface AvgPoolLayer extends LayerBase {
  op: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
  countIncludePad: boolean;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('avgpool'), ...windowSpec, countIncludePad: z.boolean().default(true) });

const padded = (p: Padding) => p.top > 0 || p.left > 0 || p.bottom > 0 || p.right > 0;

export const avgpool: OpDef<AvgPoolLayer, typeof schema> = {
  op: 'avgpool',
  arity: 1,
  schema,
  read: (s, _blob, x) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'avgpool', kernel: s.kernel, stride: s.stride, pad: readPadding(s.padding, x, s.kernel, s.stride), countIncludePad: s.countIncludePad }),
  write: (l) => ({ ...writeWindow(l), countIncludePad: l.countIncludePad }),
  infer(l, [x], at) {
    expectDType(x, ['f32', 'i8', 'i16'], at, l.inputs[0]);
    checkWindow(l.kernel, l.stride, l.pad, at);
    if (isIntMap(x.dtype)) check(!l.countIncludePad || !padded(l.pad), `${at}.countIncludePad`, `an integer input '${l.inputs[0]}' with padding needs countIncludePad false (a padded tap would count as the zero point, which this layer does not know)`);
    const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
    return { dtype: x.dtype, shape: [x.shape[0], oh, ow] };
  },
  run(l, [x]) {
    const [C, H, W] = x.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const [OH, OW] = windowDims(x.shape, l);
    const integer = isIntMap(x.dtype);
    const out = isIntMap(x.dtype) ? intMapData(x.dtype, C * OH * OW) : new Float32Array(C * OH * OW);
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
              const v = x.data[(c * H + iy) * W + ix];
              acc = integer ? acc + v : f32(acc + v);
              n++;
            }
          }
          const d = l.countIncludePad ? kh * kw : n;
          // int8, int16: exact integers; the mean rounded half up, floor((2S + d) / (2d)), also for a negative sum.
          out[(c * OH + oy) * OW + ox] = integer ? Math.floor((2 * acc + d) / (2 * d)) : f32(acc / f32(d));
        }
      }
    }
    return { dtype: x.dtype, shape: [C, OH, OW], data: out } satisfies Tensor;
  },
  lower(l, ctx) {
    return {
      kernel: { i8: 'bnn_avgpool_s8_s8', i16: 'bnn_avgpool_s16_s16' }[ctx.inputs[0].dtype as IntMapType] ?? 'bnn_avgpool_f32_f32',
      params: { type: 'bnn_avgpool_params_t', value: { fields: [{ name: 'g', value: windowStruct(ctx.inputs[0], ctx.output, l) }, { name: 'count_include_pad', value: l.countIncludePad ? 1 : 0 }] } },
      args: ['params', 'in', 'out'],
      scratchBytes: 0,
      runtime: ['bnn_avgpool.c'],
      // Unpadded, every window starts at or after its output's own index, and the kernels write each output after
      // reading its window, in order: the pooled map may overwrite its input's start (ResNet's shortcut pools).
      shrinksInPlace: !padded(l.pad),
    };
  },
  // avgpool -> requant (one input): the int8 copy of an int16 map's pool (--map-bits 16, the shortcut's input) made as
  // the means are, so the int16 pool is never stored.
  fuses: {
    chains: [[{ op: 'requant', when: (_h, m) => m.inputs.length === 1 }]],
    lower: (l, [rq], ctx) => {
      const x = ctx.inputs[0];
      const pooled: TensorInfo = { dtype: x.dtype, shape: ctx.output.shape };
      const out = INT_MAPS[requantOut(rq as RequantLayer)].c;
      return {
        kernel: `bnn_avgpool_${INT_MAPS[x.dtype as IntMapType].c}_rq_${out}`,
        params: { type: 'bnn_avgpool_rq_params_t', value: { fields: [
          { name: 'pool', value: { fields: [{ name: 'g', value: windowStruct(x, pooled, l) }, { name: 'count_include_pad', value: l.countIncludePad ? 1 : 0 }] } },
          { name: 'rq', value: requantStruct(rq as RequantLayer, ctx.output.shape, ctx) },
        ] } },
        args: ['params', 'in', 'out'],
        scratchBytes: 0,
        runtime: ['bnn_avgpool.c', 'bnn_requant.c'],
        why: 'requant fused',
      };
    },
  },
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => `${l.kernel[0]}x${l.kernel[1]}/${l.stride[0]}`,
  // int8 path: the mean of the stored int8 map on the same grid (unpadded: countIncludePad changes nothing).
  quantize(l, q, at) {
    const x = q.int8(l.inputs[0], l.name);
    const unpadded = l.pad.top + l.pad.left + l.pad.bottom + l.pad.right === 0;
    q.push({ ...l, inputs: [x.name], countIncludePad: unpadded ? false : l.countIncludePad } as AvgPoolLayer);
    q.setStored(l.output, x.grid, q.type(l.output).shape);
  },
  random(r, x, names) {
    if (x.dtype !== 'f32' && !isIntMap(x.dtype)) return null;
    const w = randomWindow(r, x.shape);
    if (!w) return null;
    // int8: countIncludePad only without padding (infer refuses it with padding).
    const countIncludePad = r.bool() && (x.dtype === 'f32' || !padded(w.pad));
    return { ...names, op: 'avgpool', ...w, countIncludePad };
  },
};
