/* qconv2d -> requant [-> maxpool], streamed by output rows: the int8 path's real convs (the stem, 1x1 downsample
 * convs), written straight as int8 (docs/semantics.md §10: the requant of the accumulator) and, with a pool, max
 * pooled as each conv row is made, so neither the int32 map nor the full-resolution int8 map is ever stored.
 *
 * Per output position the patch (q - zero_point for every tap, pad_q[c] - zero_point (or 0) for padded taps, in
 * (c, ky, kx) order, padded to an
 * even count) is built once as int16 pairs; every output channel's sum is then a dot product of int16 pairs with its
 * weight pairs: SMLAD on cores with the DSP extension, two multiplies elsewhere. Positions go two at a time (their
 * patches interleaved) and channels four at a time (their weights interleaved), so each weight word loaded serves two
 * positions and each patch word four channels. Each product is an int8 (or int16) weight times a value of
 * magnitude <= 255 and the sum is exact in int32 (the generator checks |bias| + taps * wmax * 255 < 2^31, wmax 128 or
 * 32768), so every path gives the reference's accumulator. The requant's fast form takes the tighter bound of the
 * params' span (255 times a channel's sum of |w|, plus padFix).
 *
 * An int16 input (the int8 path's 1x1 shortcut convs with --map-bits 16) fills the patches with its raw values q: q -
 * zero_point may not fit int16. The generator passes bias - zero_point * sum(w) as the bias, and checks |bias| +
 * 65535 * sum |w| < 2^31 per channel, so every partial sum stays within int32; span is then 32768 * sum |w|.
 *
 * A stride-2 conv of 5..8 taps each way whose weights' transforms fit int16 (the ResNet stem's int8 weights) makes its
 * accumulator rows by Winograd
 * instead, three at a time (bnn_qconv2d_wino.c; the generator sets the params' wino); the requant and the pool below
 * are the same.
 *
 * With a pool, each conv row's horizontal window maxima are taken on the accumulators and only those are requantised,
 * then max pooled into the pooled rows whose windows hold the row. This equals the reference's requant after pooling
 * the accumulators: the requant is non-decreasing in the accumulator (one input, every multiplier > 0, no PReLU: the
 * generator fuses only then), so it commutes with max, and a window's max is over its valid taps, each of which is
 * >= the output's minimum (-128, or -32768 for int16 output), the value the pooled map starts from. */
#include <string.h>

#include "bnn_runtime.h"
#if BNN_ARCH_DSP
#include <arm_acle.h>
#endif

#if BNN_ARCH_DSP
#define BNN_MAC2(acc, w, x) ((acc) = __smlad((w), (x), (acc)))
#else
#define BNN_MAC2(acc, w, x) ((acc) += (int32_t)(int16_t)((w) & 0xFFFFu) * (int16_t)((x) & 0xFFFFu) + (int32_t)(int16_t)((w) >> 16) * (int16_t)((x) >> 16))
#endif

/* Two positions' dot products of four channels: A's pair k is patch[2k], B's patch[2k + 1]; w the four channels'
 * interleaved weights. Each weight word serves both positions. */
#define BNN_QROWS_STEP4(X, W)                                                                                      \
    {                                                                                                              \
        const uint32_t xa = (X)[0], xb = (X)[1];                                                                   \
        uint32_t t;                                                                                                \
        t = (W)[0]; BNN_MAC2(a0, t, xa); BNN_MAC2(b0, t, xb);                                                      \
        t = (W)[1]; BNN_MAC2(a1, t, xa); BNN_MAC2(b1, t, xb);                                                      \
        t = (W)[2]; BNN_MAC2(a2, t, xa); BNN_MAC2(b2, t, xb);                                                      \
        t = (W)[3]; BNN_MAC2(a3, t, xa); BNN_MAC2(b3, t, xb);                                                      \
    }

#if BNN_T2_DSP_ASM
/* Thumb-2 assembly (bnn_qconv2d_rows_t2.c): for each of `groups` groups of four channels (weights from w on, 16 * pairs
 * bytes a group, biases from bias on, four a group), BNN_QROWS_STEP4 over the P = 4 * passes + tail pairs (tail
 * 1..4) of the two interleaved patches x, and the sums stored as bnn_qrows_dots does (acc[o * stride] for A, and
 * acc[o * stride + 1] for B when two). */
typedef struct {
    const uint32_t *x, *w;
    uint32_t passes, tail;
    const int32_t *bias;
    int32_t *acc;
    uint32_t stride, groups, two;
} bnn_qr_dots_args_t;
void bnn_qr_dots(const bnn_qr_dots_args_t *a);
#endif

/* The accumulators of two neighbouring positions A and B (their patches interleaved by pair) for every output
 * channel: acc[o * stride] for A and, when two, acc[o * stride + 1] for B. The weights of channels 4g..4g + 3
 * (g < O / 4) are interleaved by pair, wt[(g * pairs + k) * 4 + j] = pair k of channel 4g + j, so each pass over the
 * patches reads each weight word once for two positions; the O % 4 last channels follow, one row each. */
static void bnn_qrows_dots(const bnn_qconv2d_rows_params_t *p, const uint32_t *patch, int32_t *acc, uint32_t stride, int two)
{
    const uint32_t O = p->g.out_c, P = p->pairs, O4 = O & ~3u;
    const uint32_t *w = p->wt;
    /* Four pairs a pass (the loop's own instructions once per 32 multiplies), then a pair of pairs, then one. */
    const uint32_t *const pe4 = patch + 2u * (P & ~3u), *const pe = patch + 2u * (P & ~1u);
    uint32_t o = 0;
#if BNN_T2_DSP_ASM
    if (p->dual_issue && O4 > 0u) {
        /* Every group in assembly, a load next to each SMLAD (the M7 issues the two together; single-issue cores run
         * GCC's grouped loads, which they pipeline, faster). */
        const bnn_qr_dots_args_t a = { patch, w, (P - 1u) / 4u, P - (P - 1u) / 4u * 4u, p->bias, acc, stride, O4 / 4u, (uint32_t)two };
        bnn_qr_dots(&a);
        o = O4;
        w += (size_t)O4 * P;
    }
#endif
    for (; o < O4; o += 4u) {
        int32_t a0 = p->bias[o], a1 = p->bias[o + 1u], a2 = p->bias[o + 2u], a3 = p->bias[o + 3u];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        const uint32_t *x = patch;
        for (; x < pe4; x += 8, w += 16) {
            BNN_QROWS_STEP4(x, w)
            BNN_QROWS_STEP4(x + 2, w + 4)
            BNN_QROWS_STEP4(x + 4, w + 8)
            BNN_QROWS_STEP4(x + 6, w + 12)
        }
        if (x < pe) {
            BNN_QROWS_STEP4(x, w)
            BNN_QROWS_STEP4(x + 2, w + 4)
            x += 4;
            w += 8;
        }
        if (P & 1u) {
            BNN_QROWS_STEP4(x, w)
            w += 4;
        }
        int32_t *y = acc + (size_t)o * stride;
        y[0] = a0;
        y[stride] = a1;
        y[2u * stride] = a2;
        y[3u * stride] = a3;
        if (two) {
            y[1] = b0;
            y[stride + 1u] = b1;
            y[2u * stride + 1u] = b2;
            y[3u * stride + 1u] = b3;
        }
    }
    for (o = O4; o < O; o++, w += P) {
        int32_t a = p->bias[o], b = a;
        for (uint32_t k = 0; k < P; k++) {
            BNN_MAC2(a, w[k], patch[2u * k]);
            BNN_MAC2(b, w[k], patch[2u * k + 1u]);
        }
        acc[(size_t)o * stride] = a;
        if (two) acc[(size_t)o * stride + 1u] = b;
    }
}

/* One pair of patch values a - zp (low half), b - zp (high half), each in -255..255. */
#if BNN_ARCH_DSP
#define BNN_QROWS_PAIR(a, b, zz) __ssub16((uint32_t)(uint16_t)(a) | ((uint32_t)(b) << 16), (zz))
#else
#define BNN_QROWS_PAIR(a, b, zz) ((uint32_t)(uint16_t)((a) - zp) | ((uint32_t)((b) - zp) << 16))
#endif

/* The input's type: the patch builders differ. */
enum { BNN_QIN_S8 = 0, BNN_QIN_U8 = 1, BNN_QIN_S16 = 2 };

/* The patch of output position (oy, ox) as int16 pairs into slot `slot` (0, 1) of the interleaved patches: pair k at
 * patch[2k + slot] (the caller passes patch + slot). A window inside the map reads every tap at its offset from the
 * window's corner (off[], set once per call); one that overlaps the padding goes by kernel rows, a padded tap of
 * channel c giving pad_q[c] - zero_point (0 without pad_q). */
#define BNN_QROWS_PATCH(IN_T)                                                                               \
    static void bnn_qrows_patch_##IN_T(const bnn_qconv2d_rows_params_t *p, const IN_T *in, uint32_t oy, uint32_t ox, const int32_t *off, uint32_t *patch) \
    {                                                                                                       \
        const bnn_window_t *g = &p->g;                                                                      \
        const int32_t y0 = (int32_t)(oy * g->sh) - g->pad_top, x0 = (int32_t)(ox * g->sw) - g->pad_left;    \
        const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;                                            \
        const int32_t zp = p->zero_point;                                                                   \
        const uint32_t zz = (uint32_t)(uint16_t)zp * 0x10001u;                                              \
        (void)zz;                                                                                           \
        if (y0 >= 0 && x0 >= 0 && y0 + g->kh <= g->in_h && x0 + g->kw <= g->in_w) {                        \
            const IN_T *base = in + (size_t)y0 * g->in_w + (uint32_t)x0;                                    \
            const int32_t *o = off, *const oe = off + (taps & ~1u);                                         \
            uint32_t *d = patch;                                                                            \
            for (; o < oe; o += 2, d += 2) {                                                                \
                const int32_t a = base[o[0]], b = base[o[1]];                                               \
                *d = BNN_QROWS_PAIR(a, b, zz);                                                              \
            }                                                                                               \
            if (taps & 1u) *d = (uint16_t)((int32_t)base[o[0]] - zp);                                      \
            return;                                                                                         \
        }                                                                                                   \
        uint32_t lo = 0, t = 0;                                                                             \
        const int32_t kw = g->kw, W = g->in_w;                                                              \
        for (uint32_t c = 0; c < g->in_c; c++) {                                                            \
            const uint32_t pad = p->pad_q != NULL ? (uint16_t)(p->pad_q[c] - zp) : 0u;                      \
            for (uint32_t ky = 0; ky < g->kh; ky++) {                                                       \
                const int32_t iy = y0 + (int32_t)ky;                                                        \
                const int rowin = iy >= 0 && iy < (int32_t)g->in_h;                                         \
                const IN_T *r = in + ((size_t)c * g->in_h + (uint32_t)(rowin ? iy : 0)) * g->in_w;          \
                for (int32_t kx = 0; kx < kw; kx++, t++) {                                                  \
                    const int32_t ix = x0 + kx;                                                             \
                    uint32_t q = pad;                                                                       \
                    if (rowin && ix >= 0 && ix < W) q = (uint16_t)((int32_t)r[ix] - zp);                    \
                    if (t & 1u) patch[t - 1u] = lo | (q << 16);                                             \
                    else lo = q;                                                                            \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
        if (t & 1u) patch[t - 1u] = lo;                                                                     \
    }
BNN_QROWS_PATCH(uint8_t)
BNN_QROWS_PATCH(int8_t)

/* The patches of positions ox (slot 0) and oxb (slot 1) of row oy: when both windows lie inside the map, one pass
 * reads each tap's offset once for the two (oxb's window is (oxb - ox) * sw columns further); else one by one. */
#define BNN_QROWS_PATCH2(IN_T)                                                                              \
    static void bnn_qrows_patch2_##IN_T(const bnn_qconv2d_rows_params_t *p, const IN_T *in, uint32_t oy, uint32_t ox, uint32_t oxb, const int32_t *off, uint32_t *patch) \
    {                                                                                                       \
        const bnn_window_t *g = &p->g;                                                                      \
        const int32_t y0 = (int32_t)(oy * g->sh) - g->pad_top, x0 = (int32_t)(ox * g->sw) - g->pad_left;    \
        const int32_t x1 = (int32_t)(oxb * g->sw) - g->pad_left;                                            \
        if (y0 < 0 || x0 < 0 || y0 + g->kh > g->in_h || x1 + g->kw > g->in_w) {                             \
            bnn_qrows_patch_##IN_T(p, in, oy, ox, off, patch);                                              \
            bnn_qrows_patch_##IN_T(p, in, oy, oxb, off, patch + 1);                                         \
            return;                                                                                         \
        }                                                                                                   \
        const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;                                            \
        const int32_t zp = p->zero_point;                                                                   \
        const uint32_t zz = (uint32_t)(uint16_t)zp * 0x10001u;                                              \
        (void)zz;                                                                                           \
        const IN_T *ba = in + (size_t)y0 * g->in_w + (uint32_t)x0, *bb = ba + (x1 - x0);                    \
        const int32_t *o = off, *const oe = off + (taps & ~1u);                                             \
        uint32_t *d = patch;                                                                                \
        for (; o < oe; o += 2, d += 2) {                                                                    \
            const int32_t o0 = o[0], o1 = o[1];                                                             \
            const int32_t a0 = ba[o0], a1 = ba[o1], b0 = bb[o0], b1 = bb[o1];                               \
            d[0] = BNN_QROWS_PAIR(a0, a1, zz);                                                              \
            d[1] = BNN_QROWS_PAIR(b0, b1, zz);                                                              \
        }                                                                                                   \
        if (taps & 1u) {                                                                                    \
            d[0] = (uint16_t)((int32_t)ba[o[0]] - zp);                                                     \
            d[1] = (uint16_t)((int32_t)bb[o[0]] - zp);                                                     \
        }                                                                                                   \
    }
BNN_QROWS_PATCH2(uint8_t)
BNN_QROWS_PATCH2(int8_t)

/* The patch of position (oy, ox) of an int16 input, into slot `slot` as bnn_qrows_patch does. It holds the raw values q,
 * not q - zero_point (whose range, up to +-65535, int16 does not hold); the generator folds -zero_point * sum(w) into
 * the bias, so a padded tap takes pad_q[c], or the zero point, and adds w * (pad - zero_point) as in the reference. */
static void bnn_qrows_patch_s16(const bnn_qconv2d_rows_params_t *p, const int16_t *in, uint32_t oy, uint32_t ox, const int32_t *off, uint32_t *patch)
{
    const bnn_window_t *g = &p->g;
    const int32_t y0 = (int32_t)(oy * g->sh) - g->pad_top, x0 = (int32_t)(ox * g->sw) - g->pad_left;
    const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;
    if (y0 >= 0 && x0 >= 0 && y0 + g->kh <= g->in_h && x0 + g->kw <= g->in_w) {
        /* Inside the map: every tap at its offset from the window's corner, two a word. */
        const int16_t *base = in + (size_t)y0 * g->in_w + (uint32_t)x0;
        const int32_t *o = off, *const oe = off + (taps & ~1u);
        uint32_t *d = patch;
        for (; o < oe; o += 2, d += 2) *d = (uint32_t)(uint16_t)base[o[0]] | ((uint32_t)(uint16_t)base[o[1]] << 16);
        if (taps & 1u) *d = (uint16_t)base[o[0]];
        return;
    }
    uint32_t lo = 0, t = 0;
    for (uint32_t c = 0; c < g->in_c; c++) {
        const uint32_t pad = (uint16_t)(p->pad_q != NULL ? p->pad_q[c] : p->zero_point);
        for (uint32_t ky = 0; ky < g->kh; ky++) {
            const int32_t iy = y0 + (int32_t)ky;
            for (uint32_t kx = 0; kx < g->kw; kx++, t++) {
                const int32_t ix = x0 + (int32_t)kx;
                const int inside = iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w;
                const uint32_t q = inside ? (uint16_t)in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix] : pad;
                if (t & 1u) patch[t - 1u] = lo | (q << 16);
                else lo = q;
            }
        }
    }
    if (t & 1u) patch[t - 1u] = lo;
}

/* Scratch layout: the two interleaved patches' int16 pairs, the taps' offsets, one row of accumulators
 * [out_c][out_w], with a pool one channel's requantised pooled row (pool.out_w values). */
typedef struct {
    uint32_t *patch;
    int32_t *off, *acc;
    int8_t *row;
    int32_t *wscratch, *rows[3]; /* Winograd: its scratch, the three rows it makes (s.acc points at one) */
} bnn_qrows_scratch_t;

/* The accumulators of conv output row oy: acc[o * out_w + ox]. Positions go in pairs (the last alone when out_w is
 * odd: its patch fills both slots, B's result is not stored). */
static void bnn_qrows_acc(const bnn_qconv2d_rows_params_t *p, const void *in, int kind, uint32_t oy, const bnn_qrows_scratch_t *s)
{
    const uint32_t OW = p->g.out_w;
    for (uint32_t ox = 0; ox < OW; ox += 2u) {
        const uint32_t oxb = ox + 1u < OW ? ox + 1u : ox;
        if (kind == BNN_QIN_U8) bnn_qrows_patch2_uint8_t(p, (const uint8_t *)in, oy, ox, oxb, s->off, s->patch);
        else if (kind == BNN_QIN_S8) bnn_qrows_patch2_int8_t(p, (const int8_t *)in, oy, ox, oxb, s->off, s->patch);
        else {
            bnn_qrows_patch_s16(p, (const int16_t *)in, oy, ox, s->off, s->patch);
            bnn_qrows_patch_s16(p, (const int16_t *)in, oy, oxb, s->off, s->patch + 1);
        }
        bnn_qrows_dots(p, s->patch, s->acc + ox, OW, oxb != ox);
    }
}

/* dst[i] = requant of channel o's accumulator a[i], i < n: the fast form when it applies (|acc| <= |bias| + span). */
static void bnn_qrows_requant(const bnn_qconv2d_rows_params_t *p, uint32_t o, const int32_t *a, uint32_t n, int8_t *dst)
{
    const uint64_t span = p->span; /* |acc - bias| <= span */
    const int64_t b = p->bias[o];
    const uint64_t amax = span + (uint64_t)(b < 0 ? -b : b);
    bnn_requant_chan_t k;
    bnn_requant_chan(&p->rq, o, 0, &k);
    if (!bnn_requant_chan_fast(&k, amax > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)amax, 0u))
        for (uint32_t i = 0; i < n; i++) dst[i] = bnn_requant_apply(&k, a[i], 0);
    else if (k.prelu)
        for (uint32_t i = 0; i < n; i++) dst[i] = bnn_requant_fast1(&k, a[i], 1);
    else
        for (uint32_t i = 0; i < n; i++) dst[i] = bnn_requant_fast1(&k, a[i], 0);
}

/* d[i] = max(d[i], h[i]), i < n. */
static void bnn_qrows_max8(int8_t *d, const int8_t *h, uint32_t n)
{
    uint32_t i = 0;
#if BNN_ARCH_DSP
    /* Four lanes per word: SSUB8 sets GE per byte where h >= d, SEL takes those bytes of h. */
    for (; i + 4u <= n; i += 4u) {
        uint32_t x, y;
        memcpy(&x, d + i, 4);
        memcpy(&y, h + i, 4);
        (void)__ssub8(y, x);
        x = __sel(y, x);
        memcpy(d + i, &x, 4);
    }
#endif
    for (; i < n; i++)
        if (h[i] > d[i]) d[i] = h[i];
}

/* The maximum of a[left .. left + kw - 1] over the columns inside 0..w-1 into *m; 0 when there is none. */
static inline int bnn_qrows_hmax(const int32_t *a, int32_t w, int32_t left, uint32_t kw, int32_t *m)
{
    int any = 0;
    for (uint32_t kx = 0; kx < kw; kx++) {
        const int32_t x = left + (int32_t)kx;
        if (x >= 0 && x < w && (!any || a[x] > *m)) {
            *m = a[x];
            any = 1;
        }
    }
    return any;
}

/* Max pool of conv row y (its accumulators in s->acc) into pooled rows py0 .. py1 - 1. Each row's horizontal maxima
 * are taken on the accumulators, before the requant, which is non-decreasing (the fusion's condition): the requant of
 * the maximum is the maximum of the requants, and each conv row is requantised at pool.out_w columns only. */
#ifdef BNN_QW_PROF
__attribute__((noinline))
#endif
static void bnn_qrows_pool_row(const bnn_qconv2d_rows_params_t *p, const bnn_qrows_scratch_t *s, uint32_t py0, uint32_t py1, int8_t *out)
{
    const bnn_window_t *g = &p->g, *pl = &p->pool;
    const uint32_t OW = g->out_w, PH = pl->out_h, PW = pl->out_w, kw = pl->kw, sw = pl->sw, pad = pl->pad_left;
    /* Pooled columns whose window lies inside the row: [pxa, pxb). */
    uint32_t pxa = (pad + sw - 1u) / sw, pxb = OW + pad >= kw ? (OW + pad - kw) / sw + 1u : 0u;
    if (pxa > PW) pxa = PW;
    if (pxb > PW) pxb = PW;
    if (pxb < pxa) pxb = pxa;
    const uint64_t span = p->span; /* |acc - bias| <= span */
    int8_t *h = s->row;
    for (uint32_t o = 0; o < g->out_c; o++) {
        const int32_t *a = s->acc + (size_t)o * OW;
        const int64_t b = p->bias[o];
        const uint64_t amax = span + (uint64_t)(b < 0 ? -b : b);
        bnn_requant_chan_t k;
        bnn_requant_chan(&p->rq, o, 0, &k);
        const int fast = bnn_requant_chan_fast(&k, amax > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)amax, 0u) && !k.prelu;
#define BNN_QROWS_Q(m) (fast ? bnn_requant_fast1(&k, (m), 0) : bnn_requant_apply(&k, (m), 0))
        uint32_t px = 0;
        int32_t m = 0;
        /* Border windows (a window with no column inside the row leaves the pool as it is: -128). */
        for (; px < pxa; px++) h[px] = bnn_qrows_hmax(a, (int32_t)OW, (int32_t)(px * sw) - (int32_t)pad, kw, &m) ? BNN_QROWS_Q(m) : -128;
        if (kw == 3u && sw == 2u && fast && px < pxb) {
            /* 3 wide, stride 2 (the ResNet stem's pool): neighbouring windows share a column. */
            const int32_t *r = a + (px * 2u - pad);
            int32_t c = r[0];
            for (; px < pxb; px++, r += 2) {
                const int32_t e = r[1], f = r[2];
                int32_t v = e > c ? e : c;
                v = f > v ? f : v;
                c = f;
                h[px] = bnn_requant_fast1(&k, v, 0);
            }
        }
        for (; px < pxb; px++) {
            const int32_t *r = a + (px * sw - pad);
            int32_t v = r[0];
            for (uint32_t kx = 1; kx < kw; kx++) v = r[kx] > v ? r[kx] : v;
            h[px] = BNN_QROWS_Q(v);
        }
        for (; px < PW; px++) h[px] = bnn_qrows_hmax(a, (int32_t)OW, (int32_t)(px * sw) - (int32_t)pad, kw, &m) ? BNN_QROWS_Q(m) : -128;
#undef BNN_QROWS_Q
        for (uint32_t py = py0; py < py1; py++) bnn_qrows_max8(out + ((size_t)o * PH + py) * PW, h, PW);
    }
}

/* The int16 output (rq.out16, --map-bits 16) of bnn_qrows_requant, bnn_qrows_max8 and bnn_qrows_pool_row: the same
 * steps on int16_t, kept apart so that the int8 path's code stays as it was. */
static void bnn_qrows_requant16(const bnn_qconv2d_rows_params_t *p, uint32_t o, const int32_t *a, uint32_t n, int16_t *dst)
{
    const uint64_t span = p->span; /* |acc - bias| <= span */
    const int64_t b = p->bias[o];
    const uint64_t amax = span + (uint64_t)(b < 0 ? -b : b);
    bnn_requant_chan_t k;
    bnn_requant_chan(&p->rq, o, 0, &k);
    if (!bnn_requant_chan_fast(&k, amax > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)amax, 0u))
        for (uint32_t i = 0; i < n; i++) dst[i] = (int16_t)bnn_requant_apply(&k, a[i], 0);
    else if (k.prelu)
        for (uint32_t i = 0; i < n; i++) dst[i] = (int16_t)bnn_requant_fast1q(&k, a[i], 1, 1);
    else
        for (uint32_t i = 0; i < n; i++) dst[i] = (int16_t)bnn_requant_fast1q(&k, a[i], 0, 1);
}

/* d[i] = max(d[i], h[i]) on int16 (SSUB16 sets GE per halfword). */
static void bnn_qrows_max16(int16_t *d, const int16_t *h, uint32_t n)
{
    uint32_t i = 0;
#if BNN_ARCH_DSP
    for (; i + 2u <= n; i += 2u) {
        uint32_t x, y;
        memcpy(&x, d + i, 4);
        memcpy(&y, h + i, 4);
        (void)__ssub16(y, x);
        x = __sel(y, x);
        memcpy(d + i, &x, 4);
    }
#endif
    for (; i < n; i++)
        if (h[i] > d[i]) d[i] = h[i];
}

static void bnn_qrows_pool_row16(const bnn_qconv2d_rows_params_t *p, const bnn_qrows_scratch_t *s, uint32_t py0, uint32_t py1, int16_t *out)
{
    const bnn_window_t *g = &p->g, *pl = &p->pool;
    const uint32_t OW = g->out_w, PH = pl->out_h, PW = pl->out_w, kw = pl->kw, sw = pl->sw, pad = pl->pad_left;
    uint32_t pxa = (pad + sw - 1u) / sw, pxb = OW + pad >= kw ? (OW + pad - kw) / sw + 1u : 0u;
    if (pxa > PW) pxa = PW;
    if (pxb > PW) pxb = PW;
    if (pxb < pxa) pxb = pxa;
    const uint64_t span = p->span; /* |acc - bias| <= span */
    int16_t *h = (int16_t *)(void *)s->row;
    for (uint32_t o = 0; o < g->out_c; o++) {
        const int32_t *a = s->acc + (size_t)o * OW;
        const int64_t b = p->bias[o];
        const uint64_t amax = span + (uint64_t)(b < 0 ? -b : b);
        bnn_requant_chan_t k;
        bnn_requant_chan(&p->rq, o, 0, &k);
        const int fast = bnn_requant_chan_fast(&k, amax > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)amax, 0u) && !k.prelu;
#define BNN_QROWS_Q16(m) (int16_t)(fast ? bnn_requant_fast1q(&k, (m), 0, 1) : bnn_requant_apply(&k, (m), 0))
        uint32_t px = 0;
        int32_t m = 0;
        for (; px < pxa; px++) h[px] = bnn_qrows_hmax(a, (int32_t)OW, (int32_t)(px * sw) - (int32_t)pad, kw, &m) ? BNN_QROWS_Q16(m) : -32768;
        if (kw == 3u && sw == 2u && fast && px < pxb) {
            /* The stem's pool (3 wide, stride 2), as in bnn_qrows_pool_row. */
            const int32_t *r = a + (px * 2u - pad);
            int32_t c = r[0];
            for (; px < pxb; px++, r += 2) {
                const int32_t e = r[1], f = r[2];
                int32_t v = e > c ? e : c;
                v = f > v ? f : v;
                c = f;
                h[px] = (int16_t)bnn_requant_fast1q(&k, v, 0, 1);
            }
        }
        for (; px < pxb; px++) {
            const int32_t *r = a + (px * sw - pad);
            int32_t v = r[0];
            for (uint32_t kx = 1; kx < kw; kx++) v = r[kx] > v ? r[kx] : v;
            h[px] = BNN_QROWS_Q16(v);
        }
        for (; px < PW; px++) h[px] = bnn_qrows_hmax(a, (int32_t)OW, (int32_t)(px * sw) - (int32_t)pad, kw, &m) ? BNN_QROWS_Q16(m) : -32768;
#undef BNN_QROWS_Q16
        for (uint32_t py = py0; py < py1; py++) bnn_qrows_max16(out + ((size_t)o * PH + py) * PW, h, PW);
    }
}

/* padFix of conv row y (acc[o * out_w + x]): every column of a border row, the border columns of the others. */
static void bnn_qrows_fix(const bnn_qconv2d_rows_params_t *p, uint32_t y, int32_t *acc)
{
    const bnn_pad_fix_t *f = &p->fix;
    const uint32_t OW = p->g.out_w, cy = bnn_pad_fix_class(y, f->top, f->bottom);
    /* Interior rows: columns [0, left) and [right, OW) only. */
    const uint32_t skip0 = cy == f->top ? f->left : OW, skip1 = cy == f->top ? f->right : OW;
    for (uint32_t o = 0; o < p->g.out_c; o++) {
        const int32_t *v = f->v + ((size_t)o * f->ny + cy) * f->nx;
        int32_t *a = acc + (size_t)o * OW;
        for (uint32_t x = 0; x < OW; x++) {
            if (x == skip0 && skip1 > x) x = skip1;
            if (x < OW) a[x] += v[bnn_pad_fix_class(x, f->left, f->right)];
        }
    }
}

/* Conv output row y's accumulators into s->acc, padFix added. Winograd (p->wino) makes rows three at a time, into
 * s->rows: the first call for a row of a triple makes all three, which the next calls (rows go in order, each once)
 * then take. */
static void bnn_qrows_make(const bnn_qconv2d_rows_params_t *p, const void *in, int kind, uint32_t y, bnn_qrows_scratch_t *s, int32_t *made)
{
    if (p->wino == NULL) {
        bnn_qrows_acc(p, in, kind, y, s);
    } else {
        if ((int32_t)(y / 3u) != *made) {
            bnn_qconv2d_wino_rows(p, in, kind == BNN_QIN_U8, y / 3u, s->rows, s->wscratch);
            *made = (int32_t)(y / 3u);
        }
        s->acc = s->rows[y % 3u];
    }
    if (p->fix.v != NULL) bnn_qrows_fix(p, y, s->acc);
}

static void bnn_qrows_run(const bnn_qconv2d_rows_params_t *p, const void *in, int kind, void *out, int32_t *scratch)
{
    const bnn_window_t *g = &p->g, *pl = &p->pool;
    const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw, OW = g->out_w;
    bnn_qrows_scratch_t s;
    int32_t made = -1;
    if (p->wino != NULL) {
        /* Winograd: its V and M (bnn_qconv2d_wino.c), three rows of accumulators, a requantised row. */
        s.wscratch = scratch;
        s.rows[0] = scratch + BNN_QW_SCRATCH_WORDS(g->in_c, g->out_c);
        s.rows[1] = s.rows[0] + (size_t)g->out_c * OW;
        s.rows[2] = s.rows[1] + (size_t)g->out_c * OW;
        s.row = (int8_t *)(s.rows[2] + (size_t)g->out_c * OW);
    } else {
        s.patch = (uint32_t *)scratch;
        s.off = (int32_t *)(s.patch + 2u * p->pairs);
        s.acc = s.off + taps;
        s.row = (int8_t *)(s.acc + (size_t)g->out_c * OW);
        for (uint32_t c = 0, t = 0; c < g->in_c; c++)
            for (uint32_t ky = 0; ky < g->kh; ky++)
                for (uint32_t kx = 0; kx < g->kw; kx++, t++) s.off[t] = (int32_t)(((size_t)c * g->in_h + ky) * g->in_w + kx);
    }
    if (pl->kh == 0) {
        /* No pool: each row is requantised straight into the output, one plane per channel. */
        for (uint32_t oy = 0; oy < g->out_h; oy++) {
            bnn_qrows_make(p, in, kind, oy, &s, &made);
            for (uint32_t o = 0; o < g->out_c; o++) {
                const size_t at = ((size_t)o * g->out_h + oy) * OW;
                if (p->rq.out16) bnn_qrows_requant16(p, o, s.acc + (size_t)o * OW, OW, (int16_t *)out + at);
                else bnn_qrows_requant(p, o, s.acc + (size_t)o * OW, OW, (int8_t *)out + at);
            }
        }
        return;
    }
    const uint32_t PH = pl->out_h, PW = pl->out_w;
    const size_t n = (size_t)g->out_c * PH * PW;
    if (p->rq.out16)
        for (size_t i = 0; i < n; i++) ((int16_t *)out)[i] = -32768;
    else
        memset(out, 0x80, n); /* -128 */
    for (uint32_t y = 0; y < g->out_h; y++) {
        /* Pooled rows whose window holds conv row y: py * sh - pad_top <= y < py * sh - pad_top + kh. */
        uint32_t py0 = PH, py1 = 0;
        for (uint32_t py = 0; py < PH; py++) {
            const int32_t top = (int32_t)(py * pl->sh) - pl->pad_top;
            if ((int32_t)y < top || (int32_t)y >= top + (int32_t)pl->kh) continue;
            if (py < py0) py0 = py;
            py1 = py + 1u;
        }
        if (py0 >= py1) continue; /* in no window */
        bnn_qrows_make(p, in, kind, y, &s, &made);
        if (p->rq.out16) bnn_qrows_pool_row16(p, &s, py0, py1, (int16_t *)out);
        else bnn_qrows_pool_row(p, &s, py0, py1, (int8_t *)out);
    }
}

void bnn_qconv2d_u8_s8_rows(const bnn_qconv2d_rows_params_t *p, const uint8_t *in, int8_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_U8, out, scratch);
}

void bnn_qconv2d_s8_s8_rows(const bnn_qconv2d_rows_params_t *p, const int8_t *in, int8_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_S8, out, scratch);
}

void bnn_qconv2d_u8_s16_rows(const bnn_qconv2d_rows_params_t *p, const uint8_t *in, int16_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_U8, out, scratch);
}

void bnn_qconv2d_s8_s16_rows(const bnn_qconv2d_rows_params_t *p, const int8_t *in, int16_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_S8, out, scratch);
}

void bnn_qconv2d_s16_s8_rows(const bnn_qconv2d_rows_params_t *p, const int16_t *in, int8_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_S16, out, scratch);
}

void bnn_qconv2d_s16_s16_rows(const bnn_qconv2d_rows_params_t *p, const int16_t *in, int16_t *out, int32_t *scratch)
{
    bnn_qrows_run(p, in, BNN_QIN_S16, out, scratch);
}

/* Scratch (bnn_qrows_scratch_t): the two patches' pairs, the taps' offsets, a row of accumulators, with a pool one
 * channel's requantised pooled row (int8, or int16 with rq.out16); with Winograd weights its V and M, three rows of
 * accumulators, the pooled row. */
uint32_t bnn_qconv2d_u8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    const uint32_t taps = (uint32_t)p->g.in_c * p->g.kh * p->g.kw, row = (uint32_t)p->g.out_c * p->g.out_w;
    /* One channel's requantised pooled row (pool_row's h); none without a pool. */
    const uint32_t qrow = p->pool.kh == 0 ? 0u : ((uint32_t)p->pool.out_w * (p->rq.out16 ? 2u : 1u) + 3u) / 4u;
    if (p->wino != NULL) return BNN_QW_SCRATCH_WORDS(p->g.in_c, p->g.out_c) + 3u * row + qrow;
    return 2u * p->pairs + taps + row + qrow;
}

uint32_t bnn_qconv2d_s8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}

uint32_t bnn_qconv2d_u8_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}

uint32_t bnn_qconv2d_s8_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}

uint32_t bnn_qconv2d_s16_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}

uint32_t bnn_qconv2d_s16_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p)
{
    return bnn_qconv2d_u8_s8_rows_scratch_words(p);
}
