/* Average pooling of real and int8 maps, with or without the padded taps in the divisor. */
#include "bnn_runtime.h"

/* Average pooling: acc = +0; acc = acc + v over valid taps in ky, kx order; out = acc / divisor, where divisor is
 * kh * kw (count_include_pad, PyTorch's default) or the number of valid taps. */
void bnn_avgpool_f32_f32(const bnn_avgpool_params_t *p, const float *in, float *out)
{
    const bnn_window_t *g = &p->g;
    for (uint32_t c = 0; c < g->in_c; c++) {
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            for (uint32_t ox = 0; ox < g->out_w; ox++) {
                float acc = 0.0f;
                uint32_t n = 0;
                for (uint32_t ky = 0; ky < g->kh; ky++) {
                    int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;
                    if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                    for (uint32_t kx = 0; kx < g->kw; kx++) {
                        int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;
                        if (ix < 0 || ix >= (int32_t)g->in_w) continue;
                        acc = acc + in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix];
                        n++;
                    }
                }
                float div = (float)(p->count_include_pad ? (uint32_t)g->kh * g->kw : n);
                out[((size_t)c * g->out_h + oy) * g->out_w + ox] = acc / div;
            }
        }
    }
}

/* int8: S = the int32 sum of the valid taps' q in ky, kx order; out = floor((2S + n) / (2n)) (bnn_mean_s8), n as above.
 * The generator refuses count_include_pad with padding here (a padded tap would have to be the zero point). */
void bnn_avgpool_s8_s8(const bnn_avgpool_params_t *p, const int8_t *in, int8_t *out)
{
    const bnn_window_t *g = &p->g;
    for (uint32_t c = 0; c < g->in_c; c++) {
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            for (uint32_t ox = 0; ox < g->out_w; ox++) {
                int32_t s = 0;
                int32_t n = 0;
                for (uint32_t ky = 0; ky < g->kh; ky++) {
                    int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;
                    if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                    for (uint32_t kx = 0; kx < g->kw; kx++) {
                        int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;
                        if (ix < 0 || ix >= (int32_t)g->in_w) continue;
                        s += in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix];
                        n++;
                    }
                }
                int32_t div = p->count_include_pad ? (int32_t)g->kh * g->kw : n;
                out[((size_t)c * g->out_h + oy) * g->out_w + ox] = bnn_mean_s8(s, div);
            }
        }
    }
}
