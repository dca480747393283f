// Window geometry shared by convolutions and pools: the C struct bnn_window_t, "same"/"valid" padding in the model
// file, output sizes, and random windows for the per-op tests.
import type { Rand } from '../../ir/random.ts';
import type { PaddingSpec } from '../../ir/spec.ts';
import { outDim, samePadding, type Padding, type Shape, type TensorInfo } from '../../ir/types.ts';
import type { CStruct } from '../types.ts';

export interface Window {
  kernel: [number, number];
  stride: [number, number];
  pad: Padding;
}

/** bnn_window_t of a window op from its input x and output y (one line in the emitted C). */
export function windowStruct(x: TensorInfo, y: TensorInfo, w: Window): CStruct {
  const [C, H, W] = x.shape;
  const [O, OH, OW] = y.shape;
  const f = (name: string, value: number) => ({ name, value });
  return {
    inline: true,
    fields: [f('in_c', C), f('in_h', H), f('in_w', W), f('out_c', O), f('out_h', OH), f('out_w', OW), f('kh', w.kernel[0]), f('kw', w.kernel[1]), f('sh', w.stride[0]), f('sw', w.stride[1]), f('pad_top', w.pad.top), f('pad_left', w.pad.left)],
  };
}

/** Padding from the model file: "same" is resolved from the input flowing into the layer. */
export function readPadding(spec: PaddingSpec, x: TensorInfo, kernel: [number, number], stride: [number, number]): Padding {
  if (spec === 'valid') return { top: 0, left: 0, bottom: 0, right: 0 };
  if (spec === 'same') return samePadding(x.shape[1], x.shape[2], kernel, stride);
  return spec;
}

/** Padding for the model file: always explicit, so a file means the same whatever reads it. */
export function writePadding(p: Padding): Padding {
  return { top: p.top, left: p.left, bottom: p.bottom, right: p.right };
}

/** The window fields of a layer entry. */
export function writeWindow(w: Window): { kernel: [number, number]; stride: [number, number]; padding: Padding } {
  return { kernel: w.kernel, stride: w.stride, padding: writePadding(w.pad) };
}

/** Output [H, W] of a window op (the caller has validated the window). */
export function windowDims(x: Shape, w: Window): [number, number] {
  return [outDim(x[1], w.kernel[0], w.stride[0], w.pad.top, w.pad.bottom), outDim(x[2], w.kernel[1], w.stride[1], w.pad.left, w.pad.right)];
}

/** A random window that fits an input of H x W (kernels up to `maxK`), or null when none does. */
export function randomWindow(r: Rand, x: Shape, maxK = 3): Window | null {
  const [, H, W] = x;
  const kernel: [number, number] = [r.int(1, Math.min(maxK, H + 2)), r.int(1, Math.min(maxK, W + 2))];
  const stride: [number, number] = [r.int(1, 2), r.int(1, 2)];
  const pad: Padding = { top: r.int(0, kernel[0] - 1), left: r.int(0, kernel[1] - 1), bottom: r.int(0, kernel[0] - 1), right: r.int(0, kernel[1] - 1) };
  const w = { kernel, stride, pad };
  const [oh, ow] = windowDims(x, w);
  return oh >= 1 && ow >= 1 ? w : null;
}
