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
