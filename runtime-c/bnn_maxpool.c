/* Max pooling of b1, float, int8 and int32 maps. Padded positions are never part of a window's max; the max is taken
 * in ky, kx order and only a strictly greater value replaces it. On b1 maps max is a bitwise OR of the channel words
 * (+1 wins). */
#include "bnn_runtime.h"

void bnn_maxpool_b1_b1(const bnn_window_t *g, const uint32_t *in, uint32_t *out)
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

/* Float, int8 and int32 maps: the first valid tap starts the max, so a padded tap never wins (on int8 it is never
 * -128 nor the zero point). */
#define BNN_DEFINE_MAXPOOL(NAME, T)                                                                         \
    void NAME(const bnn_window_t *g, const T *in, T *out)                                                   \
    {                                                                                                       \
        for (uint32_t c = 0; c < g->in_c; c++) {                                                            \
            for (uint32_t oy = 0; oy < g->out_h; oy++) {                                                    \
                for (uint32_t ox = 0; ox < g->out_w; ox++) {                                                \
                    int first = 1;                                                                          \
                    T m = 0;                                                                                \
                    for (uint32_t ky = 0; ky < g->kh; ky++) {                                               \
                        int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;                               \
                        if (iy < 0 || iy >= (int32_t)g->in_h) continue;                                     \
                        for (uint32_t kx = 0; kx < g->kw; kx++) {                                           \
                            int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;                          \
                            if (ix < 0 || ix >= (int32_t)g->in_w) continue;                                 \
                            T v = in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix];        \
                            if (first || v > m) m = v;                                                      \
                            first = 0;                                                                      \
                        }                                                                                   \
                    }                                                                                       \
                    out[((size_t)c * g->out_h + oy) * g->out_w + ox] = m;                                   \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
    }

BNN_DEFINE_MAXPOOL(bnn_maxpool_f32_f32, float)
BNN_DEFINE_MAXPOOL(bnn_maxpool_s8_s8, int8_t)
BNN_DEFINE_MAXPOOL(bnn_maxpool_s16_s16, int16_t)
BNN_DEFINE_MAXPOOL(bnn_maxpool_s32_s32, int32_t)
