/* Pooling. Padded positions are never part of a window's max; the max is taken in ky, kx order and only
 * a strictly greater value replaces it. On b1 maps max is a bitwise OR of the channel words. */
#include "bnn_runtime.h"

void bnn_maxpool_b1(const bnn_window_t *g, const uint32_t *in, uint32_t *out)
{
    uint32_t words = BNN_WORDS(g->in_c);
    for (uint32_t oy = 0; oy < g->out_h; oy++) {
        for (uint32_t ox = 0; ox < g->out_w; ox++) {
            uint32_t *dst = out + ((size_t)oy * g->out_w + ox) * words;
            for (uint32_t j = 0; j < words; j++) dst[j] = 0;
            for (uint32_t ky = 0; ky < g->kh; ky++) {
                int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;
                if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                for (uint32_t kx = 0; kx < g->kw; kx++) {
                    int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;
                    if (ix < 0 || ix >= (int32_t)g->in_w) continue;
                    const uint32_t *src = in + ((size_t)iy * g->in_w + (uint32_t)ix) * words;
                    for (uint32_t j = 0; j < words; j++) dst[j] |= src[j];
                }
            }
        }
    }
}

void bnn_maxpool_f32(const bnn_window_t *g, const float *in, float *out)
{
    for (uint32_t c = 0; c < g->in_c; c++) {
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            for (uint32_t ox = 0; ox < g->out_w; ox++) {
                int first = 1;
                float m = 0.0f;
                for (uint32_t ky = 0; ky < g->kh; ky++) {
                    int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;
                    if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                    for (uint32_t kx = 0; kx < g->kw; kx++) {
                        int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;
                        if (ix < 0 || ix >= (int32_t)g->in_w) continue;
                        float v = in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix];
                        if (first || v > m) m = v;
                        first = 0;
                    }
                }
                out[((size_t)c * g->out_h + oy) * g->out_w + ox] = m;
            }
        }
    }
}

/* Mean per channel: acc = +0; acc = acc + v in y, x order; out = acc / (h * w). */
void bnn_globalavgpool_f32(uint16_t c, uint16_t h, uint16_t w, const float *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + in[ch * plane + i];
        out[ch] = acc / (float)plane;
    }
}

void bnn_globalavgpool_s32(uint16_t c, uint16_t h, uint16_t w, const int32_t *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + (float)in[ch * plane + i];
        out[ch] = acc / (float)plane;
    }
}

void bnn_globalavgpool_b1(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    uint32_t words = BNN_WORDS(c);
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + (((in[i * words + (ch >> 5)] >> (ch & 31u)) & 1u) ? 1.0f : -1.0f);
        out[ch] = acc / (float)plane;
    }
}

/* Channel-packed b1 map -> b1 vector in (c, y, x) order. */
void bnn_flatten_b1(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, uint32_t *out)
{
    uint32_t plane = (uint32_t)h * w;
    uint32_t words = BNN_WORDS(c);
    uint32_t total = (uint32_t)c * plane;
    for (uint32_t j = 0; j < BNN_WORDS(total); j++) out[j] = 0;
    for (uint32_t ch = 0; ch < c; ch++) {
        for (uint32_t i = 0; i < plane; i++) {
            uint32_t bit = (in[i * words + (ch >> 5)] >> (ch & 31u)) & 1u;
            uint32_t k = ch * plane + i;
            out[k >> 5] |= bit << (k & 31u);
        }
    }
}

/* Average pooling: acc = +0; acc = acc + v over valid taps in ky, kx order; out = acc / divisor, where divisor is
 * kh * kw (count_include_pad, PyTorch's default) or the number of valid taps. */
void bnn_avgpool_f32(const bnn_avgpool_params_t *p, const float *in, float *out)
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
