/* Average pooling of real, int8 and int16 maps, with or without the padded taps in the divisor. */
#include <string.h>

#include "bnn_runtime.h"
#if BNN_ARCH_DSP
#include <arm_acle.h>
#endif

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

/* int8, int16: S = the int32 sum of the valid taps' q in ky, kx order; out = floor((2S + n) / (2n)) (bnn_mean_s32),
 * n as above. The generator refuses count_include_pad with padding here (a padded tap would have to be the zero
 * point). Windows inside the map (every one of ResNet's 2x2 / 2 downsample pools) take no bounds checks, n = kh kw,
 * and the division is a shift when n is a power of two (>> on a negative int32 floors, as gcc, clang and emcc define
 * it). */
#define BNN_DEFINE_AVGPOOL_BORDER(NAME, T)                                                                   \
    static T NAME(const bnn_avgpool_params_t *p, const T *plane, uint32_t oy, uint32_t ox)                  \
    {                                                                                                        \
        const bnn_window_t *g = &p->g;                                                                       \
        int32_t s = 0, n = 0;                                                                                \
        for (uint32_t ky = 0; ky < g->kh; ky++) {                                                            \
            int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;                                            \
            if (iy < 0 || iy >= (int32_t)g->in_h) continue;                                                  \
            for (uint32_t kx = 0; kx < g->kw; kx++) {                                                        \
                int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;                                       \
                if (ix < 0 || ix >= (int32_t)g->in_w) continue;                                              \
                s += plane[(uint32_t)iy * g->in_w + (uint32_t)ix];                                           \
                n++;                                                                                         \
            }                                                                                                \
        }                                                                                                    \
        return (T)bnn_mean_s32(s, p->count_include_pad ? (int32_t)g->kh * g->kw : n);                        \
    }
BNN_DEFINE_AVGPOOL_BORDER(bnn_avgpool_s8_border, int8_t)
BNN_DEFINE_AVGPOOL_BORDER(bnn_avgpool_s16_border, int16_t)

/* [lo, hi): the output indices whose window lies inside 0 .. in - 1 (k taps, stride st, pad before). */
static void bnn_avgpool_inside(uint32_t out, uint32_t in, uint32_t k, uint32_t st, uint32_t pad, uint32_t *lo, uint32_t *hi)
{
    *lo = (pad + st - 1u) / st;
    *hi = in + pad >= k ? (in + pad - k) / st + 1u : 0u;
    if (*hi > out) *hi = out;
    if (*lo > *hi) *lo = *hi;
}

/* The sum of a 2x2 window at r (row stride W). int16 on cores with the DSP extension: each row's two taps are one
 * word, summed by SMUAD / SMLAD against 0x00010001 (r is at an even column of a row of even width: aligned). */
static inline int32_t bnn_avgpool_q2_int8_t(const int8_t *r, uint32_t W)
{
    return (int32_t)r[0] + r[1] + r[W] + r[W + 1u];
}

static inline int32_t bnn_avgpool_q2_int16_t(const int16_t *r, uint32_t W)
{
#if BNN_ARCH_DSP
    uint32_t a, b;
    memcpy(&a, r, 4);
    memcpy(&b, r + W, 4);
    return __smlad(b, 0x00010001u, __smuad(a, 0x00010001u));
#else
    return (int32_t)r[0] + r[1] + r[W] + r[W + 1u];
#endif
}

#define BNN_DEFINE_AVGPOOL(NAME, T, BORDER)                                                                    \
    void NAME(const bnn_avgpool_params_t *p, const T *in, T *out)                                              \
    {                                                                                                          \
        const bnn_window_t *g = &p->g;                                                                         \
        const uint32_t n = (uint32_t)g->kh * g->kw, W = g->in_w;                                               \
        uint32_t lg = 0;                                                                                       \
        while ((1u << lg) < n) lg++;                                                                           \
        const int pow2 = (1u << lg) == n;                                                                      \
        const int q2 = n == 4u && g->kw == 2u && g->sh == 2u && g->sw == 2u && (g->pad_left & 1u) == 0u && (W & 1u) == 0u; \
        uint32_t ylo, yhi, xlo, xhi;                                                                           \
        bnn_avgpool_inside(g->out_h, g->in_h, g->kh, g->sh, g->pad_top, &ylo, &yhi);                           \
        bnn_avgpool_inside(g->out_w, g->in_w, g->kw, g->sw, g->pad_left, &xlo, &xhi);                          \
        for (uint32_t c = 0; c < g->in_c; c++) {                                                               \
            const T *plane = in + (size_t)c * g->in_h * W;                                                     \
            for (uint32_t oy = 0; oy < g->out_h; oy++) {                                                       \
                T *o = out + ((size_t)c * g->out_h + oy) * g->out_w;                                           \
                const int inside = oy >= ylo && oy < yhi;                                                      \
                if (inside && q2) {                                                                            \
                    /* 2x2 windows of stride 2 at even columns of rows of even width: (S + 2) >> 2. */         \
                    const T *r = plane + (oy * 2u - g->pad_top) * W + (xlo * 2u - g->pad_left);                \
                    for (uint32_t ox = xlo; ox < xhi; ox++, r += 2) o[ox] = (T)((bnn_avgpool_q2_##T(r, W) + 2) >> 2); \
                }                                                                                              \
                for (uint32_t ox = 0; ox < g->out_w; ox++) {                                                   \
                    if (inside && q2 && ox == xlo) ox = xhi;                                                   \
                    if (ox >= g->out_w) break;                                                                 \
                    if (!inside || ox < xlo || ox >= xhi) {                                                    \
                        o[ox] = BORDER(p, plane, oy, ox);                                                      \
                        continue;                                                                              \
                    }                                                                                          \
                    const T *r = plane + (oy * g->sh - g->pad_top) * W + (ox * g->sw - g->pad_left);           \
                    int32_t s;                                                                                 \
                    if (n == 4u && g->kw == 2u) s = (int32_t)r[0] + r[1] + r[W] + r[W + 1u];                   \
                    else {                                                                                     \
                        s = 0;                                                                                 \
                        for (uint32_t ky = 0; ky < g->kh; ky++, r += W)                                        \
                            for (uint32_t kx = 0; kx < g->kw; kx++) s += r[kx];                                \
                    }                                                                                          \
                    o[ox] = (T)(pow2 ? (2 * s + (int32_t)n) >> (lg + 1u) : bnn_mean_s32(s, (int32_t)n));       \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }
BNN_DEFINE_AVGPOOL(bnn_avgpool_s8_s8, int8_t, bnn_avgpool_s8_border)
BNN_DEFINE_AVGPOOL(bnn_avgpool_s16_s16, int16_t, bnn_avgpool_s16_border)

/* A row's n windows of 2x2, stride 2, inside the map, from r on, requantised by the fast form without PReLU (the
 * shortcut pools of ResNet's downsample blocks): the mean floor((2S + 4) / 8) = (S + 2) >> 2. */
#define BNN_DEFINE_AVGPOOL_Q2(NAME, T, TO)                                                                     \
    static void NAME(const bnn_requant_chan_t *k, const T *r, uint32_t W, uint32_t n, TO *o)                   \
    {                                                                                                          \
        for (uint32_t i = 0; i < n; i++, r += 2)                                                               \
            o[i] = (TO)bnn_requant_fast1q(k, (bnn_avgpool_q2_##T(r, W) + 2) >> 2, 0, sizeof(TO) == 2);         \
    }
BNN_DEFINE_AVGPOOL_Q2(bnn_avgpool_q2_s8_s8, int8_t, int8_t)
BNN_DEFINE_AVGPOOL_Q2(bnn_avgpool_q2_s8_s16, int8_t, int16_t)
BNN_DEFINE_AVGPOOL_Q2(bnn_avgpool_q2_s16_s8, int16_t, int8_t)
BNN_DEFINE_AVGPOOL_Q2(bnn_avgpool_q2_s16_s16, int16_t, int16_t)

/* avgpool -> requant: the same means, each requantised by rq (one input) before it is stored: the fast form where the
 * channel takes it (a mean lies in its input's range: |m| <= 128, or 32768 for int16), else the rule as written.
 * Windows inside the map take no bounds checks, as in BNN_DEFINE_AVGPOOL, whose interior sum this repeats: one
 * inline helper for both (tried) made GCC's M7 code of each pool about 1.5 M est. cycles slower on the full network. */
#define BNN_DEFINE_AVGPOOL_RQ(NAME, T, BORDER, AMAX, TO, Q2)                                                   \
    void NAME(const bnn_avgpool_rq_params_t *p, const T *in, TO *out)                                          \
    {                                                                                                          \
        const bnn_window_t *g = &p->pool.g;                                                                    \
        const uint32_t n = (uint32_t)g->kh * g->kw, W = g->in_w;                                               \
        uint32_t lg = 0;                                                                                       \
        while ((1u << lg) < n) lg++;                                                                           \
        const int pow2 = (1u << lg) == n, quad = n == 4u && g->kw == 2u;                                       \
        /* 2x2 windows of stride 2 at even columns of rows of even width: a row's interior by Q2. */           \
        const int q2 = quad && g->sh == 2u && g->sw == 2u && (g->pad_left & 1u) == 0u && (W & 1u) == 0u;       \
        uint32_t ylo, yhi, xlo, xhi;                                                                           \
        bnn_avgpool_inside(g->out_h, g->in_h, g->kh, g->sh, g->pad_top, &ylo, &yhi);                           \
        bnn_avgpool_inside(g->out_w, g->in_w, g->kw, g->sw, g->pad_left, &xlo, &xhi);                          \
        for (uint32_t c = 0; c < g->in_c; c++) {                                                               \
            bnn_requant_chan_t k;                                                                              \
            bnn_requant_chan(&p->rq, c, 0, &k);                                                                \
            const int fast = bnn_requant_chan_fast(&k, (AMAX), 0u);                                            \
            const T *plane = in + (size_t)c * g->in_h * W;                                                     \
            TO *o = out + (size_t)c * g->out_h * g->out_w;                                                     \
            for (uint32_t oy = 0; oy < g->out_h; oy++, o += g->out_w) {                                        \
                const int inside = oy >= ylo && oy < yhi;                                                      \
                const int row = inside && q2 && fast && !k.prelu && xhi > xlo;                                 \
                if (row) Q2(&k, plane + (oy * 2u - g->pad_top) * W + (xlo * 2u - g->pad_left), W, xhi - xlo, o + xlo); \
                for (uint32_t ox = 0; ox < g->out_w; ox++) {                                                   \
                    if (row && ox == xlo) ox = xhi;                                                            \
                    if (ox >= g->out_w) break;                                                                 \
                    int32_t m;                                                                                 \
                    if (!inside || ox < xlo || ox >= xhi) {                                                    \
                        m = (int32_t)BORDER(&p->pool, plane, oy, ox);                                          \
                    } else {                                                                                   \
                        const T *r = plane + (oy * g->sh - g->pad_top) * W + (ox * g->sw - g->pad_left);       \
                        int32_t s = 0;                                                                         \
                        if (quad) s = (int32_t)r[0] + r[1] + r[W] + r[W + 1u];                                 \
                        else                                                                                   \
                            for (uint32_t ky = 0; ky < g->kh; ky++, r += W)                                    \
                                for (uint32_t kx = 0; kx < g->kw; kx++) s += r[kx];                            \
                        m = pow2 ? (2 * s + (int32_t)n) >> (lg + 1u) : bnn_mean_s32(s, (int32_t)n);            \
                    }                                                                                          \
                    int32_t q;                                                                                 \
                    if (!fast) q = bnn_requant_apply(&k, m, 0);                                                \
                    else if (k.prelu) q = bnn_requant_fast1q(&k, m, 1, sizeof(TO) == 2);                       \
                    else q = bnn_requant_fast1q(&k, m, 0, sizeof(TO) == 2);                                    \
                    o[ox] = (TO)q;                                                                             \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }
BNN_DEFINE_AVGPOOL_RQ(bnn_avgpool_s8_rq_s8, int8_t, bnn_avgpool_s8_border, 128u, int8_t, bnn_avgpool_q2_s8_s8)
BNN_DEFINE_AVGPOOL_RQ(bnn_avgpool_s8_rq_s16, int8_t, bnn_avgpool_s8_border, 128u, int16_t, bnn_avgpool_q2_s8_s16)
BNN_DEFINE_AVGPOOL_RQ(bnn_avgpool_s16_rq_s8, int16_t, bnn_avgpool_s16_border, 32768u, int8_t, bnn_avgpool_q2_s16_s8)
BNN_DEFINE_AVGPOOL_RQ(bnn_avgpool_s16_rq_s16, int16_t, bnn_avgpool_s16_border, 32768u, int16_t, bnn_avgpool_q2_s16_s16)
