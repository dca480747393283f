/* Real-valued convolution, float32, in the summation order of docs/semantics.md:
 * acc = +0; for c, ky, kx over valid taps: acc = acc + w * x (each rounded to float); out = acc + bias.
 * Build with -ffp-contract=off so no compiler fuses w * x + acc into an FMA. */
#include "bnn_runtime.h"

/* Raw inputs are normalised on the fly: x = (q * scale[c]) + bias[c], two float32 roundings. */
static inline float bnn_norm(float q, float scale, float bias)
{
    float t = q * scale;
    return t + bias;
}

/* The accumulator of output (o, oy, ox) before the bias, in the specified order c, ky, kx over valid taps. */
#define BNN_DEFINE_CONV2D_ACC(NAME, IN_T, LOAD)                                                 \
    static inline float NAME(const bnn_conv2d_params_t *p, const IN_T *in, uint32_t o, uint32_t oy, uint32_t ox) \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        float acc = 0.0f;                                                                       \
        for (uint32_t c = 0; c < g->in_c; c++) {                                                \
            const float *w = p->weights + ((size_t)o * g->in_c + c) * g->kh * g->kw;            \
            for (uint32_t ky = 0; ky < g->kh; ky++) {                                           \
                int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;                           \
                if (iy < 0 || iy >= (int32_t)g->in_h) continue;                                 \
                for (uint32_t kx = 0; kx < g->kw; kx++) {                                       \
                    int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;                      \
                    if (ix < 0 || ix >= (int32_t)g->in_w) continue;                             \
                    size_t at = ((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix;  \
                    float x = LOAD;                                                             \
                    float prod = w[ky * g->kw + kx] * x;                                        \
                    acc = acc + prod;                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        return acc;                                                                             \
    }

BNN_DEFINE_CONV2D_ACC(bnn_conv2d_acc_u8, uint8_t, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_ACC(bnn_conv2d_acc_s8, int8_t, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_ACC(bnn_conv2d_acc_f32, float, in[at])

/* Plain conv2d: out = acc + bias, planar f32. */
#define BNN_DEFINE_CONV2D(NAME, IN_T, ACC)                                                      \
    void NAME(const bnn_conv2d_params_t *p, const IN_T *in, float *out)                         \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        for (uint32_t o = 0; o < g->out_c; o++)                                                 \
            for (uint32_t oy = 0; oy < g->out_h; oy++)                                          \
                for (uint32_t ox = 0; ox < g->out_w; ox++)                                      \
                    out[((size_t)o * g->out_h + oy) * g->out_w + ox] = ACC(p, in, o, oy, ox) + p->bias[o]; \
    }

BNN_DEFINE_CONV2D(bnn_conv2d_u8_f32, uint8_t, bnn_conv2d_acc_u8)
BNN_DEFINE_CONV2D(bnn_conv2d_s8_f32, int8_t, bnn_conv2d_acc_s8)
BNN_DEFINE_CONV2D(bnn_conv2d_f32_f32, float, bnn_conv2d_acc_f32)

/* ---- Patch kernels: the window normalised once, then every output channel's sum down it ----
 * The window of output (oy, ox) goes to `patch` in the summation order (c, ky, kx), normalised; a tap outside the
 * input is 0 there. The reference skips such a tap; adding w * 0 = +-0 instead changes no sum: the accumulator
 * starts at +0 and round-to-nearest never makes -0 from it (x + (-0) = x, +0 + -0 = +0), and the generator emits
 * finite weights only. Each output channel then sums its weights (stored in that same order) against the patch. */
#define BNN_DEFINE_CONV2D_PATCH(NAME, IN_T, NORM)                                               \
    static void NAME(const bnn_conv2d_params_t *p, const IN_T *in, uint32_t oy, uint32_t ox, float *patch) \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top, ix0 = (int32_t)(ox * g->sw) - g->pad_left; \
        for (uint32_t c = 0; c < g->in_c; c++)                                                  \
            for (uint32_t ky = 0; ky < g->kh; ky++) {                                           \
                const int32_t iy = iy0 + (int32_t)ky;                                           \
                const int row_in = iy >= 0 && iy < (int32_t)g->in_h;                            \
                for (uint32_t kx = 0; kx < g->kw; kx++) {                                       \
                    const int32_t ix = ix0 + (int32_t)kx;                                       \
                    if (!row_in || ix < 0 || ix >= (int32_t)g->in_w) { *patch++ = 0.0f; continue; } \
                    const size_t at = ((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix; \
                    *patch++ = NORM;                                                            \
                }                                                                               \
            }                                                                                   \
    }

BNN_DEFINE_CONV2D_PATCH(bnn_conv2d_patch_u8, uint8_t, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_PATCH(bnn_conv2d_patch_s8, int8_t, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_PATCH(bnn_conv2d_patch_f32, float, in[at])

/* y[o * ystride] = (w_o . x summed in order from +0) + bias[o] for the n channels, four at a time: four accumulators
 * share each loaded x (every sum keeps its own order; -ffp-contract=off keeps the products rounded). */
static void bnn_conv2d_dots(const float *w, const float *bias, const float *x, uint32_t taps, uint32_t n, float *y, size_t ystride)
{
    uint32_t o = 0;
    for (; o + 4u <= n; o += 4u) {
        const float *w0 = w + (size_t)o * taps, *w1 = w0 + taps, *w2 = w1 + taps, *w3 = w2 + taps;
        const float *xp = x;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (uint32_t t = taps; t != 0u; t--) {
            const float xv = *xp++;
            const float p0 = *w0++ * xv, p1 = *w1++ * xv, p2 = *w2++ * xv, p3 = *w3++ * xv;
            a0 = a0 + p0; a1 = a1 + p1; a2 = a2 + p2; a3 = a3 + p3;
        }
        y[(size_t)o * ystride] = a0 + bias[o];
        y[(size_t)(o + 1u) * ystride] = a1 + bias[o + 1u];
        y[(size_t)(o + 2u) * ystride] = a2 + bias[o + 2u];
        y[(size_t)(o + 3u) * ystride] = a3 + bias[o + 3u];
    }
    for (; o < n; o++) {
        const float *wo = w + (size_t)o * taps, *xp = x;
        float a = 0.0f;
        for (uint32_t t = taps; t != 0u; t--) {
            const float pr = *wo++ * *xp++;
            a = a + pr;
        }
        y[(size_t)o * ystride] = a + bias[o];
    }
}

/* Plain conv2d, patch form (auto and fast builds): scratch holds the patch (in_c * kh * kw floats). */
#define BNN_DEFINE_CONV2D_FAST(NAME, IN_T, PATCH)                                               \
    void NAME(const bnn_conv2d_params_t *p, const IN_T *in, float *out, int32_t *scratch)       \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        float *patch = (float *)(void *)scratch;                                                \
        const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;                                \
        const size_t plane = (size_t)g->out_h * g->out_w;                                       \
        for (uint32_t oy = 0; oy < g->out_h; oy++)                                              \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                PATCH(p, in, oy, ox, patch);                                                    \
                bnn_conv2d_dots(p->weights, p->bias, patch, taps, g->out_c, out + (size_t)oy * g->out_w + ox, plane); \
            }                                                                                   \
    }

BNN_DEFINE_CONV2D_FAST(bnn_conv2d_u8_f32_patch, uint8_t, bnn_conv2d_patch_u8)
BNN_DEFINE_CONV2D_FAST(bnn_conv2d_s8_f32_patch, int8_t, bnn_conv2d_patch_s8)
BNN_DEFINE_CONV2D_FAST(bnn_conv2d_f32_f32_patch, float, bnn_conv2d_patch_f32)

/* Taps of a window: the patch's length. */
#define BNN_TAPS(g) ((uint32_t)(g).in_c * (g).kh * (g).kw)
uint32_t bnn_conv2d_u8_f32_patch_scratch_words(const bnn_conv2d_params_t *p) { return BNN_TAPS(p->g); }
uint32_t bnn_conv2d_s8_f32_patch_scratch_words(const bnn_conv2d_params_t *p) { return BNN_TAPS(p->g); }
uint32_t bnn_conv2d_f32_f32_patch_scratch_words(const bnn_conv2d_params_t *p) { return BNN_TAPS(p->g); }

/* conv2d -> [affine] -> max pool (a ResNet stem), pooled as the rows come: conv row oy of every channel goes to
 * `row` ([out_c][out_w] floats: the only part of the full-resolution map that exists; computed in patch form, the
 * patch after it in scratch), rounded as the separate layers round it (y = acc + bias; y = (y * post_scale) +
 * post_bias), then into each pooled row whose window holds it. Rows arrive in increasing order, so every pooled
 * value sees its window in the max pool's own scan order (ky, kx over valid positions: the first, then only
 * strictly greater values), which keeps -0/+0 ties bit-exact. */
#define BNN_DEFINE_CONV2D_MAXPOOL(NAME, IN_T, PATCH)                                            \
    void NAME(const bnn_conv2d_pool_params_t *p, const IN_T *in, float *out, int32_t *scratch) \
    {                                                                                           \
        const bnn_window_t *g = &p->c.g, *q = &p->pool;                                         \
        float *row = (float *)(void *)scratch, *patch = row + (size_t)g->out_c * g->out_w;      \
        const uint32_t taps = (uint32_t)g->in_c * g->kh * g->kw;                                \
        const uint32_t plane = (uint32_t)q->out_h * q->out_w;                                   \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                PATCH(&p->c, in, oy, ox, patch);                                                \
                bnn_conv2d_dots(p->c.weights, p->c.bias, patch, taps, g->out_c, row + ox, g->out_w); \
            }                                                                                   \
            if (p->c.post_scale)                                                                \
                for (uint32_t o = 0; o < g->out_c; o++)                                         \
                    for (uint32_t ox = 0; ox < g->out_w; ox++) {                                \
                        float *y = row + (size_t)o * g->out_w + ox;                             \
                        float t = *y * p->c.post_scale[o];                                      \
                        *y = t + p->c.post_bias[o];                                             \
                    }                                                                           \
            /* Pooled rows py with py * sh - pad_top <= oy < py * sh - pad_top + kh. */         \
            const int32_t lo = (int32_t)oy + q->pad_top - q->kh + 1;                            \
            uint32_t py = lo <= 0 ? 0u : ((uint32_t)lo + q->sh - 1u) / q->sh;                   \
            for (; py < q->out_h && py * q->sh <= oy + q->pad_top; py++) {                      \
                /* The window's first valid row starts the max. */                             \
                const int32_t top = (int32_t)(py * q->sh) - q->pad_top;                         \
                const int first_row = (top < 0 ? 0 : top) == (int32_t)oy;                       \
                for (uint32_t c = 0; c < q->in_c; c++) {                                        \
                    const float *r = row + (size_t)c * g->out_w;                                \
                    float *dst = out + (size_t)c * plane + (size_t)py * q->out_w;               \
                    for (uint32_t px = 0; px < q->out_w; px++) {                                \
                        const int32_t ix0 = (int32_t)(px * q->sw) - q->pad_left;                \
                        float m = dst[px];                                                      \
                        int first = first_row;                                                  \
                        for (uint32_t kx = 0; kx < q->kw; kx++) {                               \
                            const int32_t ix = ix0 + (int32_t)kx;                               \
                            if (ix < 0 || ix >= (int32_t)q->in_w) continue;                     \
                            const float v = r[ix];                                              \
                            if (first || v > m) m = v;                                          \
                            first = 0;                                                          \
                        }                                                                       \
                        dst[px] = m;                                                            \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

BNN_DEFINE_CONV2D_MAXPOOL(bnn_conv2d_u8_f32_maxpool, uint8_t, bnn_conv2d_patch_u8)
BNN_DEFINE_CONV2D_MAXPOOL(bnn_conv2d_s8_f32_maxpool, int8_t, bnn_conv2d_patch_s8)
BNN_DEFINE_CONV2D_MAXPOOL(bnn_conv2d_f32_f32_maxpool, float, bnn_conv2d_patch_f32)

#define BNN_POOL_SCRATCH(p) ((uint32_t)(p)->c.g.out_c * (p)->c.g.out_w + BNN_TAPS((p)->c.g))
uint32_t bnn_conv2d_u8_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p) { return BNN_POOL_SCRATCH(p); }
uint32_t bnn_conv2d_s8_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p) { return BNN_POOL_SCRATCH(p); }
uint32_t bnn_conv2d_f32_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p) { return BNN_POOL_SCRATCH(p); }

/* Fused stem: conv2d, then optionally a per-channel affine (folded batch norm), then binarize, writing b1 bits
 * straight away so the float feature map never exists. Each step rounds exactly as the separate layers do:
 * y = acc + bias; y = (y * post_scale) + post_bias; bit = (y + shift) >= 0.
 * With at most BNN_PATCH_MAX taps, the window is normalised once into `patch` in the summation order (c, ky, kx),
 * and each output channel runs down it against its weights, which are stored in that same order, instead of
 * normalising the input again for every output channel. A tap outside the input is 0 in the patch: the semantics
 * skip it, and adding w * 0 = +-0 changes no sum (the accumulator starts at +0 and round-to-nearest never makes a
 * -0 from it), so with finite weights (the generator emits no other) both are the same float. */
#define BNN_PATCH_MAX 64u
/* acc = acc + w[t] * x_t for t = 0..8, each product and sum rounded to float (no contraction: -ffp-contract=off). */
#define BNN_MAC1(acc, w, t, x) do { float prod_ = (w)[t] * (x); (acc) = (acc) + prod_; } while (0)
#define BNN_MAC9(acc, w, a, b, c, d, e, f, g_, h, i) do { \
        BNN_MAC1(acc, w, 0, a); BNN_MAC1(acc, w, 1, b); BNN_MAC1(acc, w, 2, c); BNN_MAC1(acc, w, 3, d); \
        BNN_MAC1(acc, w, 4, e); BNN_MAC1(acc, w, 5, f); BNN_MAC1(acc, w, 6, g_); BNN_MAC1(acc, w, 7, h); \
        BNN_MAC1(acc, w, 8, i); } while (0)
#define BNN_DEFINE_CONV2D_B1(NAME, IN_T, ACC, NORM)                                             \
    void NAME(const bnn_conv2d_params_t *p, const IN_T *in, uint32_t *out)                      \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        const uint32_t words = BNN_WORDS(g->out_c), taps = (uint32_t)g->in_c * g->kh * g->kw;   \
        float patch[BNN_PATCH_MAX] = { 0.0f };                                                  \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top;                             \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                const int32_t ix0 = (int32_t)(ox * g->sw) - g->pad_left;                        \
                const int use_patch = taps <= BNN_PATCH_MAX; /* else the bounds-checked path */  \
                uint32_t *dst = out + ((size_t)oy * g->out_w + ox) * words;                     \
                for (uint32_t j = 0; j < words; j++) dst[j] = 0;                                \
                if (use_patch) {                                                                   \
                    uint32_t t = 0;                                                             \
                    for (uint32_t c = 0; c < g->in_c; c++)                                      \
                        for (uint32_t ky = 0; ky < g->kh; ky++)                                 \
                            for (uint32_t kx = 0; kx < g->kw; kx++) {                           \
                                const int32_t iy = iy0 + (int32_t)ky, ix = ix0 + (int32_t)kx;   \
                                if (iy < 0 || iy >= (int32_t)g->in_h || ix < 0 || ix >= (int32_t)g->in_w) { patch[t++] = 0.0f; continue; } \
                                size_t at = ((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix; \
                                patch[t++] = NORM;                                              \
                            }                                                                   \
                }                                                                               \
                const float x0 = patch[0], x1 = patch[1], x2 = patch[2], x3 = patch[3], x4 = patch[4]; \
                const float x5 = patch[5], x6 = patch[6], x7 = patch[7], x8 = patch[8];         \
                for (uint32_t o = 0; o < g->out_c; o++) {                                       \
                    float y;                                                                    \
                    if (use_patch && taps == 9u) {                                                 \
                        /* 3x3 on one channel (the usual stem): the window stays in registers. */  \
                        const float *w = p->weights + (size_t)o * 9u;                           \
                        float acc = 0.0f;                                                       \
                        BNN_MAC9(acc, w, x0, x1, x2, x3, x4, x5, x6, x7, x8);                   \
                        y = acc + p->bias[o];                                                   \
                    } else if (use_patch) {                                                        \
                        const float *w = p->weights + (size_t)o * taps;                         \
                        float acc = 0.0f;                                                       \
                        for (uint32_t t = 0; t < taps; t++) {                                   \
                            float prod = w[t] * patch[t];                                       \
                            acc = acc + prod;                                                   \
                        }                                                                       \
                        y = acc + p->bias[o];                                                   \
                    } else {                                                                    \
                        y = ACC(p, in, o, oy, ox) + p->bias[o];                                 \
                    }                                                                           \
                    if (p->post_scale) {                                                        \
                        float t = y * p->post_scale[o];                                         \
                        y = t + p->post_bias[o];                                                \
                    }                                                                           \
                    if (p->shift) y = y + p->shift[o];                                          \
                    if (y >= 0.0f) dst[o >> 5] |= 1u << (o & 31u);                              \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

BNN_DEFINE_CONV2D_B1(bnn_conv2d_u8_b1, uint8_t, bnn_conv2d_acc_u8, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_B1(bnn_conv2d_s8_b1, int8_t, bnn_conv2d_acc_s8, bnn_norm((float)in[at], p->in_scale[c], p->in_bias[c]))
BNN_DEFINE_CONV2D_B1(bnn_conv2d_f32_b1, float, bnn_conv2d_acc_f32, in[at])

/* ---- Float stem with the chain folded into a threshold (bnn_conv2d_u8_b1_thr, bnn_conv2d_s8_b1_thr) ----
 * After the accumulator, the fused chain y = acc + bias; y = (y * post_scale) + post_bias; bit = (y + shift) >= 0
 * is a composition of float32 roundings of monotone functions, so the bit is a monotone function of acc (increasing,
 * or decreasing when post_scale < 0; +0 and -0 give the same bit). The generator finds, per output channel, the float
 * threshold where it switches, by bisection over float32 bit patterns with the reference's own operations, within a
 * bound on |acc| it derives from the weights and the normalised input range (docs/kernels.md, "Float stem"). A
 * decreasing channel is stored with negated weights: every product and sum then changes sign exactly (rounding to
 * nearest is symmetric), zeros aside, so acc <= A becomes -acc >= -A. Per channel the record is the weights in
 * (c, ky, kx) order, then the threshold; bit o = acc_o >= thr_o.
 * The first product starts the sum (the reference adds it to +0: the two differ only in the sign of a zero), and a
 * padded tap is a 0 in the patch (w * 0 = +-0 changes the sum only in the sign of a zero, as above). Signs of zeros
 * never change a later sum other than in the sign of a zero, and the compare takes +0 == -0. */
/* C path: the compare as integers: key(v) = bits(v) for v >= +0, -(bits(v) & 0x7fffffff) for
    v <= -0, which orders floats as their values with +0 == -0 (no NaN occurs: the generator bounds |acc|). */
static inline int32_t bnn_f32_key(float v)
{
    union { float f; uint32_t u; } c;
    c.f = v;
    return (c.u & 0x80000000u) ? -(int32_t)(c.u & 0x7FFFFFFFu) : (int32_t)c.u;
}

#if !BNN_T2_FP_ASM
/* n (<= 32) channels of 9 taps: bit o of the result = acc_o >= thr_o. */
static uint32_t bnn_thr9_word_c(const float *x, const float *wt, uint32_t n)
{
    const float x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7], x8 = x[8];
    uint32_t bits = 0;
    for (uint32_t o = 0; o < n; o++, wt += 10) {
        float acc = wt[0] * x0;
        BNN_MAC1(acc, wt, 1, x1); BNN_MAC1(acc, wt, 2, x2); BNN_MAC1(acc, wt, 3, x3); BNN_MAC1(acc, wt, 4, x4);
        BNN_MAC1(acc, wt, 5, x5); BNN_MAC1(acc, wt, 6, x6); BNN_MAC1(acc, wt, 7, x7); BNN_MAC1(acc, wt, 8, x8);
        if (bnn_f32_key(acc) >= bnn_f32_key(wt[9])) bits |= 1u << o;
    }
    return bits;
}
#endif

/* n (<= 32) channels of `taps` taps. */
static uint32_t bnn_thr_word_c(const float *x, const float *wt, uint32_t taps, uint32_t n)
{
    uint32_t bits = 0;
    for (uint32_t o = 0; o < n; o++, wt += taps + 1u) {
        float acc = wt[0] * x[0];
        for (uint32_t t = 1; t < taps; t++) BNN_MAC1(acc, wt, t, x[t]);
        if (bnn_f32_key(acc) >= bnn_f32_key(wt[taps])) bits |= 1u << o;
    }
    return bits;
}

#if BNN_T2_FP_ASM
/* Thumb-2 + FPU: bnn_thr9_word_c with the window in s0-s8; each channel's 10-float record is one VLDMDB (from the
 * end: the compare's carry (acc >= thr; VCMP sets C unless less, no NaN occurs) is shifted in with ADC, so the
 * channel read last, channel 0, lands in bit 0). 23 instructions a channel: VLDM, 9 VMUL, 8 VADD, VCMP, VMRS, ADC,
 * SUBS, BNE. wt_end = the end of the n records, n >= 1. */
uint32_t bnn_thr9_word_t2(const float *x, const float *wt_end, uint32_t n);
#define BNN_THR9_MAC(w, xr) "vmul.f32 " w ", " w ", " xr "\n\tvadd.f32 s9, s9, " w "\n\t"
__asm__(
    "\t.pushsection .text.bnn_thr9_word_t2,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_thr9_word_t2\n\t.type bnn_thr9_word_t2, %function\n\t.thumb_func\n"
    "bnn_thr9_word_t2:\n\t"
    "vpush {s16-s18}\n\t"
    "vldmia r0, {s0-s8}\n\t"
    "movs r0, #0\n"
    "1:\n\t"
    "vldmdb r1!, {s9-s18}\n\t"
    "vmul.f32 s9, s9, s0\n\t"
    BNN_THR9_MAC("s10", "s1") BNN_THR9_MAC("s11", "s2") BNN_THR9_MAC("s12", "s3") BNN_THR9_MAC("s13", "s4")
    BNN_THR9_MAC("s14", "s5") BNN_THR9_MAC("s15", "s6") BNN_THR9_MAC("s16", "s7") BNN_THR9_MAC("s17", "s8")
    "vcmp.f32 s9, s18\n\t"
    "vmrs APSR_nzcv, fpscr\n\t"
    "adcs r0, r0, r0\n\t"
    "subs r2, r2, #1\n\t"
    "bne 1b\n\t"
    "vpop {s16-s18}\n\t"
    "bx lr\n\t"
    ".size bnn_thr9_word_t2, .-bnn_thr9_word_t2\n\t"
    ".popsection\n");
#endif

/* The normalised window of each position in `patch`, (c, ky, kx) order, 0 for a padded tap. A window inside the input
 * is filled without bounds checks, and with stride 1 from the previous one: its columns move left by one and only
 * the new last column is normalised. */
#define BNN_DEFINE_CONV2D_B1_THR(NAME, IN_T)                                                    \
    void NAME(const bnn_conv2d_thr_params_t *p, const IN_T *in, uint32_t *out)                  \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        const uint32_t words = BNN_WORDS(g->out_c), kh = g->kh, kw = g->kw, taps = (uint32_t)g->in_c * kh * kw; \
        const size_t plane = (size_t)g->in_h * g->in_w;                                         \
        float patch[BNN_PATCH_MAX];                                                             \
        if (taps > BNN_PATCH_MAX) return; /* the generator never emits such a layer */          \
        if (g->in_c == 1u && kh == 3u && kw == 3u && g->sw == 1u) {                             \
            /* The usual stem, one channel 3x3 stride 1: along a row the window's columns move left by one and only \
             * the new column (3 taps, 0 where padded) is normalised. */                       \
            const float sc = p->in_scale[0], bi = p->in_bias[0];                                \
            const int32_t H = (int32_t)g->in_h, W = (int32_t)g->in_w;                           \
            for (uint32_t oy = 0; oy < g->out_h; oy++) {                                        \
                const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top;                         \
                const int v0 = iy0 >= 0 && iy0 < H, v1 = iy0 + 1 >= 0 && iy0 + 1 < H, v2 = iy0 + 2 >= 0 && iy0 + 2 < H; \
                const IN_T *r0 = in + (v0 ? iy0 : 0) * W, *r1 = in + (v1 ? iy0 + 1 : 0) * W, *r2 = in + (v2 ? iy0 + 2 : 0) * W; \
                int32_t col = -(int32_t)g->pad_left; /* the window's first column */           \
                for (uint32_t k = 0; k < 2u; k++, col++) {                                      \
                    const int ok = col >= 0 && col < W;                                         \
                    patch[k + 1u] = ok && v0 ? bnn_norm((float)r0[col], sc, bi) : 0.0f;         \
                    patch[k + 4u] = ok && v1 ? bnn_norm((float)r1[col], sc, bi) : 0.0f;         \
                    patch[k + 7u] = ok && v2 ? bnn_norm((float)r2[col], sc, bi) : 0.0f;         \
                }                                                                               \
                uint32_t *dst = out + (size_t)oy * g->out_w * words;                            \
                for (uint32_t ox = 0; ox < g->out_w; ox++, col++, dst += words) {               \
                    const int ok = col >= 0 && col < W;                                         \
                    patch[0] = patch[1]; patch[1] = patch[2];                                   \
                    patch[2] = ok && v0 ? bnn_norm((float)r0[col], sc, bi) : 0.0f;              \
                    patch[3] = patch[4]; patch[4] = patch[5];                                   \
                    patch[5] = ok && v1 ? bnn_norm((float)r1[col], sc, bi) : 0.0f;              \
                    patch[6] = patch[7]; patch[7] = patch[8];                                   \
                    patch[8] = ok && v2 ? bnn_norm((float)r2[col], sc, bi) : 0.0f;              \
                    if (words == 1u) dst[0] = BNN_THR9_WORD(patch, p->wt, g->out_c);            \
                    else for (uint32_t j = 0; j < words; j++) {                                 \
                        const uint32_t o0 = j * 32u, n = g->out_c - o0 < 32u ? g->out_c - o0 : 32u; \
                        dst[j] = BNN_THR9_WORD(patch, p->wt + (size_t)o0 * 10u, n);             \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
            return;                                                                             \
        }                                                                                       \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top;                             \
            const int rows_in = iy0 >= 0 && iy0 + (int32_t)kh <= (int32_t)g->in_h;              \
            int slide = 0; /* patch holds the previous position's window, wholly inside */      \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                const int32_t ix0 = (int32_t)(ox * g->sw) - g->pad_left;                        \
                if (rows_in && ix0 >= 0 && ix0 + (int32_t)kw <= (int32_t)g->in_w) {            \
                    const IN_T *r = in + (size_t)iy0 * g->in_w + (uint32_t)ix0;                 \
                    float *q = patch;                                                           \
                    for (uint32_t c = 0; c < g->in_c; c++, r += plane) {                        \
                        const float sc = p->in_scale[c], bi = p->in_bias[c];                    \
                        const IN_T *rr = r;                                                     \
                        for (uint32_t ky = 0; ky < kh; ky++, rr += g->in_w, q += kw) {          \
                            if (slide && kw == 3u) { /* the usual 3-wide window, written out */ \
                                q[0] = q[1]; q[1] = q[2];                                       \
                                q[2] = bnn_norm((float)rr[2], sc, bi);                          \
                            } else if (slide) {                                                 \
                                for (uint32_t kx = 0; kx + 1u < kw; kx++) q[kx] = q[kx + 1u];   \
                                q[kw - 1u] = bnn_norm((float)rr[kw - 1u], sc, bi);              \
                            } else {                                                            \
                                for (uint32_t kx = 0; kx < kw; kx++) q[kx] = bnn_norm((float)rr[kx], sc, bi); \
                            }                                                                   \
                        }                                                                       \
                    }                                                                           \
                    slide = g->sw == 1u;                                                        \
                } else {                                                                        \
                    uint32_t t = 0;                                                             \
                    for (uint32_t c = 0; c < g->in_c; c++) {                                    \
                        const float sc = p->in_scale[c], bi = p->in_bias[c];                    \
                        for (uint32_t ky = 0; ky < kh; ky++) {                                  \
                            const int32_t iy = iy0 + (int32_t)ky;                               \
                            const int row_ok = iy >= 0 && iy < (int32_t)g->in_h;                \
                            const IN_T *r = in + ((size_t)c * g->in_h + (uint32_t)(row_ok ? iy : 0)) * g->in_w; \
                            for (uint32_t kx = 0; kx < kw; kx++) {                              \
                                const int32_t ix = ix0 + (int32_t)kx;                           \
                                patch[t++] = row_ok && ix >= 0 && ix < (int32_t)g->in_w ? bnn_norm((float)r[ix], sc, bi) : 0.0f; \
                            }                                                                   \
                        }                                                                       \
                    }                                                                           \
                    slide = 0;                                                                  \
                }                                                                               \
                uint32_t *dst = out + ((size_t)oy * g->out_w + ox) * words;                     \
                for (uint32_t j = 0; j < words; j++) {                                          \
                    const uint32_t o0 = j * 32u, n = g->out_c - o0 < 32u ? g->out_c - o0 : 32u;  \
                    const float *w = p->wt + (size_t)o0 * (taps + 1u);                          \
                    dst[j] = taps == 9u ? BNN_THR9_WORD(patch, w, n) : bnn_thr_word_c(patch, w, taps, n); \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

#if BNN_T2_FP_ASM
#define BNN_THR9_WORD(x, w, n) bnn_thr9_word_t2((x), (w) + 10u * (n), (n))
#else
#define BNN_THR9_WORD(x, w, n) bnn_thr9_word_c((x), (w), (n))
#endif

BNN_DEFINE_CONV2D_B1_THR(bnn_conv2d_u8_b1_thr, uint8_t)
BNN_DEFINE_CONV2D_B1_THR(bnn_conv2d_s8_b1_thr, int8_t)
