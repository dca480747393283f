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

#if BNN_ARCH_DSP
#define BNN_MAC2(acc, w, x) ((acc) = __smlad((w), (x), (acc)))
#else
#define BNN_MAC2(acc, w, x) ((acc) += (int32_t)(int16_t)((w) & 0xFFFFu) * (int16_t)((x) & 0xFFFFu) + (int32_t)(int16_t)((w) >> 16) * (int16_t)((x) >> 16))
#endif

/* The accumulators of one position for every output channel: four channels share each load of the patch. */
static void bnn_qrows_dots(const bnn_qconv2d_rows_params_t *p, const uint32_t *patch, int32_t *acc, uint32_t stride)
{
    const uint32_t O = p->g.out_c, P = p->pairs;
    uint32_t o = 0;
    for (; o + 4u <= O; o += 4u) {
        const uint32_t *w0 = p->wt + (size_t)o * P, *w1 = w0 + P, *w2 = w1 + P, *w3 = w2 + P;
        int32_t a0 = p->bias[o], a1 = p->bias[o + 1u], a2 = p->bias[o + 2u], a3 = p->bias[o + 3u];
        for (uint32_t k = 0; k < P; k++) {
            const uint32_t x = patch[k];
            BNN_MAC2(a0, w0[k], x);
            BNN_MAC2(a1, w1[k], x);
            BNN_MAC2(a2, w2[k], x);
            BNN_MAC2(a3, w3[k], x);
        }
        acc[o * stride] = a0;
        acc[(o + 1u) * stride] = a1;
        acc[(o + 2u) * stride] = a2;
        acc[(o + 3u) * stride] = a3;
    }
    for (; o < O; o++) {
        const uint32_t *w = p->wt + (size_t)o * P;
        int32_t a = p->bias[o];
        for (uint32_t k = 0; k < P; k++) BNN_MAC2(a, w[k], patch[k]);
        acc[o * stride] = a;
    }
}

/* The patch of output position (oy, ox) as int16 pairs: a window inside the map reads every tap at its offset from
 * the window's corner (off[], set once per call); one that overlaps the padding checks each tap. */
#define BNN_QROWS_PATCH(IN_T)                                                                               \
    static void bnn_qrows_patch_##IN_T(const bnn_qconv2d_rows_params_t *p, const IN_T *in, uint32_t oy, uint32_t ox, const int32_t *off, uint32_t *patch) \
    {                                                                                                       \
        const bnn_window_t *g = &p->g;                                                                      \
        const int32_t y0 = (int32_t)(oy * g->sh) - g->pad_top, x0 = (int32_t)(ox * g->sw) - g->pad_left;    \
        const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;                                            \
        const int32_t zp = p->zero_point;                                                                   \
        if (y0 >= 0 && x0 >= 0 && y0 + g->kh <= g->in_h && x0 + g->kw <= g->in_w) {                        \
            const IN_T *base = in + (size_t)y0 * g->in_w + (uint32_t)x0;                                    \
            uint32_t t = 0;                                                                                 \
            for (; t + 2u <= taps; t += 2u)                                                                 \
                patch[t >> 1] = (uint16_t)(int16_t)((int32_t)base[off[t]] - zp) | ((uint32_t)(uint16_t)(int16_t)((int32_t)base[off[t + 1u]] - zp) << 16); \
            if (t < taps) patch[t >> 1] = (uint16_t)(int16_t)((int32_t)base[off[t]] - zp);                 \
            return;                                                                                         \
        }                                                                                                   \
        int16_t v[2] = {0, 0};                                                                              \
        uint32_t t = 0;                                                                                     \
        for (uint32_t c = 0; c < g->in_c; c++)                                                              \
            for (uint32_t ky = 0; ky < g->kh; ky++) {                                                       \
                const int32_t iy = y0 + (int32_t)ky;                                                        \
                for (uint32_t kx = 0; kx < g->kw; kx++, t++) {                                              \
                    const int32_t ix = x0 + (int32_t)kx;                                                    \
                    int32_t q = 0;                                                                          \
                    if (iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w)               \
                        q = (int32_t)in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix] - zp; \
                    v[t & 1u] = (int16_t)q;                                                                 \
                    if (t & 1u) patch[t >> 1] = (uint16_t)v[0] | ((uint32_t)(uint16_t)v[1] << 16);          \
                }                                                                                           \
            }                                                                                               \
        if (t & 1u) patch[t >> 1] = (uint16_t)v[0];                                                         \
    }
BNN_QROWS_PATCH(uint8_t)
BNN_QROWS_PATCH(int8_t)

/* Scratch layout: the patch's int16 pairs, the taps' offsets, one row of accumulators [out_c][out_w], one requantised
 * row (int8). */
typedef struct {
    uint32_t *patch;
    int32_t *off, *acc;
    int8_t *row;
} bnn_qrows_scratch_t;

/* One conv output row, requantised: row[o * out_w + ox]. */
static void bnn_qrows_row(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t oy, const bnn_qrows_scratch_t *s)
{
    const bnn_window_t *g = &p->g;
    const uint32_t OW = g->out_w;
    for (uint32_t ox = 0; ox < OW; ox++) {
        if (is_u8) bnn_qrows_patch_uint8_t(p, (const uint8_t *)in, oy, ox, s->off, s->patch);
        else bnn_qrows_patch_int8_t(p, (const int8_t *)in, oy, ox, s->off, s->patch);
        bnn_qrows_dots(p, s->patch, s->acc + ox, OW);
    }
    for (uint32_t o = 0; o < g->out_c; o++) {
        bnn_requant_chan_t k;
        bnn_requant_chan(&p->rq, o, 0, &k);
        const int32_t *a = s->acc + (size_t)o * OW;
        int8_t *r = s->row + (size_t)o * OW;
        for (uint32_t ox = 0; ox < OW; ox++) r[ox] = bnn_requant_apply(&k, a[ox], 0);
    }
}

static void bnn_qrows_run(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, int8_t *out, int32_t *scratch)
{
    const bnn_window_t *g = &p->g, *pl = &p->pool;
    const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;
    bnn_qrows_scratch_t s;
    s.patch = (uint32_t *)scratch;
    s.off = (int32_t *)(s.patch + p->pairs);
    s.acc = s.off + taps;
    s.row = (int8_t *)(s.acc + (size_t)g->out_c * g->out_w);
    for (uint32_t c = 0, t = 0; c < g->in_c; c++)
        for (uint32_t ky = 0; ky < g->kh; ky++)
            for (uint32_t kx = 0; kx < g->kw; kx++, t++) s.off[t] = (int32_t)(((size_t)c * g->in_h + ky) * g->in_w + kx);
    int8_t *row = s.row;
    if (pl->kh == 0) {
        /* No pool: the rows go straight to the output, one plane per channel. */
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            bnn_qrows_row(p, in, is_u8, oy, &s);
            for (uint32_t o = 0; o < g->out_c; o++)
                for (uint32_t ox = 0; ox < g->out_w; ox++) out[((size_t)o * g->out_h + oy) * g->out_w + ox] = row[(size_t)o * g->out_w + ox];
        }
        return;
    }
    const uint32_t PH = pl->out_h, PW = pl->out_w;
    for (uint32_t i = 0; i < (uint32_t)g->out_c * PH * PW; i++) out[i] = -128;
    for (uint32_t y = 0; y < g->out_h; y++) {
        bnn_qrows_row(p, in, is_u8, y, &s);
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

/* Scratch (bnn_qrows_scratch_t): the patch's pairs, the taps' offsets, a row of accumulators, a requantised row. */
uint32_t bnn_qconv2d_u8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    const uint32_t taps = (uint32_t)p->g.in_c * p->g.kh * p->g.kw, row = (uint32_t)p->g.out_c * p->g.out_w;
    return p->pairs + taps + row + (row + 3u) / 4u;
}

uint32_t bnn_qconv2d_s8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}
