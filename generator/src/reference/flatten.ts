// [C, H, W] -> [C*H*W, 1, 1]; the element order (c, y, x) is unchanged.
import type { Tensor } from './tensor.ts';

export function flatten(x: Tensor): Tensor {
  return { dtype: x.dtype, shape: [x.shape[0] * x.shape[1] * x.shape[2], 1, 1], data: x.data };
}
