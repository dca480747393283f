// Max pooling fused into the kernel before it (bnn_pool_t, runtime-c/bnn_output.c): the kernel clears the pooled b1
// map and ORs each of its output positions into every pooled position whose window holds it, so the
// full-resolution map is never stored. Only b1 maps pool this way (max of +-1 is OR).
import type { TensorInfo } from '../../ir/types.ts';
import type { CStruct } from '../types.ts';
import type { MaxPoolLayer } from '../maxpool.ts';

/** bnn_pool_t of `pool` over a map `width` wide, writing `pooled`. */
export function poolStruct(pool: MaxPoolLayer, width: number, pooled: TensorInfo): CStruct {
  const f = (name: string, value: number) => ({ name, value });
  const [, OH, OW] = pooled.shape;
  return {
    inline: true,
    fields: [f('out_h', OH), f('out_w', OW), f('in_w', width), f('kh', pool.kernel[0]), f('kw', pool.kernel[1]), f('sh', pool.stride[0]), f('sw', pool.stride[1]), f('pad_top', pool.pad.top), f('pad_left', pool.pad.left)],
  };
}
