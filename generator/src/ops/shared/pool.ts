// Max pooling fused into the kernel before it (bnn_pool_t, runtime-c/bnn_output.c): the kernel clears the pooled b1
// map and ORs each of its output positions into every pooled position whose window holds it, so the
// full-resolution map is never stored. Only b1 maps pool this way (max of +-1 is OR).
import type { TensorInfo } from '../../ir/types.ts';
import type { CStruct, LowerContext } from '../types.ts';
import type { MaxPoolLayer } from '../maxpool.ts';

/** For each input row (or column) v of n, the pooled rows [lo, hi) of `out` whose window holds it:
 *  py·s − pad ≤ v < py·s − pad + k. Tables, so the kernels divide by nothing at run time. */
export function poolSpans(n: number, k: number, s: number, pad: number, out: number): Uint16Array {
  const t = new Uint16Array(2 * n);
  for (let v = 0; v < n; v++) {
    const lo = Math.max(0, Math.ceil((v + pad - k + 1) / s));
    const hi = Math.min(out, Math.floor((v + pad) / s) + 1);
    t[2 * v] = lo;
    t[2 * v + 1] = Math.max(lo, hi);
  }
  return t;
}

/** bnn_pool_t of `pool` over the kernel's own H x W output, writing `pooled`. */
export function poolStruct(pool: MaxPoolLayer, H: number, W: number, pooled: TensorInfo, ctx: LowerContext): CStruct {
  const [, OH, OW] = pooled.shape;
  return {
    inline: true,
    fields: [
      { name: 'out_h', value: OH },
      { name: 'out_w', value: OW },
      { name: 'in_w', value: W },
      { name: 'kh', value: pool.kernel[0] },
      { name: 'span_y', value: ctx.table('pool_rows', 'uint16_t', poolSpans(H, pool.kernel[0], pool.stride[0], pool.pad.top, OH), 'int') },
      { name: 'span_x', value: ctx.table('pool_cols', 'uint16_t', poolSpans(W, pool.kernel[1], pool.stride[1], pool.pad.left, OW), 'int') },
    ],
  };
}
