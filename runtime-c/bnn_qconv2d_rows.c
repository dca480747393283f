/* qconv2d -> requant [-> maxpool], streamed by output rows: the int8 path's real convs (the stem, 1x1 downsample
 * convs), written straight as int8 (docs/semantics.md §10: the requant of the accumulator) and, with a pool, max
 * pooled as each conv row is made, so neither the int32 map nor the full-resolution int8 map is ever stored.
 *
 * Per output position the patch (q - zero_point for every tap, 0 for padded taps, in (c, ky, kx) order, padded to an
 * even count) is built once as int16 pairs; every output channel's sum is then a dot product of int16 pairs with its
 * weight pairs: SMLAD on cores with the DSP extension, two multiplies elsewhere. Each product is an int8 weight times
 * a value of magnitude <= 255 and the sum is exact in int32 (the generator checks taps * 127 * 255 < 2^31), so every
 * path gives the reference's accumulator.
 *
 * Pooling after the requant equals the reference's requant after pooling the accumulators: the requant is
 * non-decreasing in the accumulator (one input, every multiplier > 0, no PReLU: the generator fuses only then), and a
 * window's max is over its valid taps, each of which is >= -128, the value the pooled map starts from. */
#include "bnn_runtime.h"
#if BNN_ARCH_DSP
#include <arm_acle.h>
#endif

static inline int32_t bnn_dot16(const uint32_t *w, const uint32_t *x, uint32_t pairs, int32_t acc)
{
    for (uint32_t k = 0; k < pairs; k++) {
#if BNN_ARCH_DSP
        acc = __smlad(w[k], x[k], acc);
#else
        acc += (int32_t)(int16_t)(w[k] & 0xFFFFu) * (int16_t)(x[k] & 0xFFFFu) + (int32_t)(int16_t)(w[k] >> 16) * (int16_t)(x[k] >> 16);
#endif
    }
    return acc;
}

/* The patch of output position (oy, ox) as int16 pairs. */
#define BNN_QROWS_PATCH(IN_T)                                                                               \
    static void bnn_qrows_patch_##IN_T(const bnn_qconv2d_rows_params_t *p, const IN_T *in, uint32_t oy, uint32_t ox, uint32_t *patch) \
    {                                                                                                       \
        const bnn_window_t *g = &p->g;                                                                      \
        int16_t v[2] = {0, 0};                                                                              \
        uint32_t t = 0;                                                                                     \
        for (uint32_t c = 0; c < g->in_c; c++)                                                              \
            for (uint32_t ky = 0; ky < g->kh; ky++) {                                                       \
                const int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;                                 \
                for (uint32_t kx = 0; kx < g->kw; kx++, t++) {                                              \
                    const int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;                            \
                    int32_t q = 0;                                                                          \
                    if (iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w)               \
                        q = (int32_t)in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix] - p->zero_point; \
                    v[t & 1u] = (int16_t)q;                                                                 \
                    if (t & 1u) patch[t >> 1] = (uint16_t)v[0] | ((uint32_t)(uint16_t)v[1] << 16);          \
                }                                                                                           \
            }                                                                                               \
        if (t & 1u) patch[t >> 1] = (uint16_t)v[0];                                                         \
    }
BNN_QROWS_PATCH(uint8_t)
BNN_QROWS_PATCH(int8_t)

/* One conv output row, requantised: row[o * out_w + ox]. */
static void bnn_qrows_row(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t oy, uint32_t *patch, int8_t *row)
{
    const bnn_window_t *g = &p->g;
    for (uint32_t ox = 0; ox < g->out_w; ox++) {
        if (is_u8) bnn_qrows_patch_uint8_t(p, (const uint8_t *)in, oy, ox, patch);
        else bnn_qrows_patch_int8_t(p, (const int8_t *)in, oy, ox, patch);
        for (uint32_t o = 0; o < g->out_c; o++) {
            const int32_t acc = bnn_dot16(p->wt + (size_t)o * p->pairs, patch, p->pairs, p->bias[o]);
            row[(size_t)o * g->out_w + ox] = bnn_requant_value(&p->rq, o, acc, 0);
        }
    }
}

static void bnn_qrows_run(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, int8_t *out, int32_t *scratch)
{
    const bnn_window_t *g = &p->g, *pl = &p->pool;
    uint32_t *patch = (uint32_t *)scratch;
    int8_t *row = (int8_t *)(patch + p->pairs);
    if (pl->kh == 0) {
        /* No pool: the rows go straight to the output, one plane per channel. */
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            bnn_qrows_row(p, in, is_u8, oy, patch, row);
            for (uint32_t o = 0; o < g->out_c; o++)
                for (uint32_t ox = 0; ox < g->out_w; ox++) out[((size_t)o * g->out_h + oy) * g->out_w + ox] = row[(size_t)o * g->out_w + ox];
        }
        return;
    }
    const uint32_t PH = pl->out_h, PW = pl->out_w;
    for (uint32_t i = 0; i < (uint32_t)g->out_c * PH * PW; i++) out[i] = -128;
    for (uint32_t y = 0; y < g->out_h; y++) {
        bnn_qrows_row(p, in, is_u8, y, patch, row);
        /* Pooled rows whose window holds conv row y: py * sh - pad_top <= y < py * sh - pad_top + kh. */
        for (uint32_t py = 0; py < PH; py++) {
            const int32_t top = (int32_t)(py * pl->sh) - pl->pad_top;
            if ((int32_t)y < top || (int32_t)y >= top + (int32_t)pl->kh) continue;
            for (uint32_t o = 0; o < g->out_c; o++) {
                const int8_t *r = row + (size_t)o * g->out_w;
                int8_t *dst = out + ((size_t)o * PH + py) * PW;
                for (uint32_t px = 0; px < PW; px++) {
                    const int32_t left = (int32_t)(px * pl->sw) - pl->pad_left;
                    int8_t m = dst[px];
                    for (uint32_t kx = 0; kx < pl->kw; kx++) {
                        const int32_t x = left + (int32_t)kx;
                        if (x >= 0 && x < (int32_t)g->out_w && r[x] > m) m = r[x];
                    }
                    dst[px] = m;
                }
            }
        }
    }
}

void bnn_qconv2d_u8_s8_rows(const bnn_qconv2d_rows_params_t *p, const uint8_t *in, int8_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, 1, out, scratch);
}

void bnn_qconv2d_s8_s8_rows(const bnn_qconv2d_rows_params_t *p, const int8_t *in, int8_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, 0, out, scratch);
}

/* Scratch: the patch's int16 pairs, then one requantised conv row of every channel (int8). */
uint32_t bnn_qconv2d_u8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return p->pairs + ((uint32_t)p->g.out_c * p->g.out_w + 3u) / 4u;
}

uint32_t bnn_qconv2d_s8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}
