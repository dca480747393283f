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
 * y = acc + bias; y = (y * post_scale) + post_bias; bit = (y + shift) >= 0. */
#define BNN_DEFINE_CONV2D_B1(NAME, IN_T, ACC)                                                   \
    void NAME(const bnn_conv2d_params_t *p, const IN_T *in, uint32_t *out)                      \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        uint32_t words = BNN_WORDS(g->out_c);                                                   \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                uint32_t *dst = out + ((size_t)oy * g->out_w + ox) * words;                     \
                for (uint32_t j = 0; j < words; j++) dst[j] = 0;                                \
                for (uint32_t o = 0; o < g->out_c; o++) {                                       \
                    float y = ACC(p, in, o, oy, ox) + p->bias[o];                               \
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

BNN_DEFINE_CONV2D_B1(bnn_conv2d_u8_b1, uint8_t, bnn_conv2d_acc_u8)
BNN_DEFINE_CONV2D_B1(bnn_conv2d_s8_b1, int8_t, bnn_conv2d_acc_s8)
BNN_DEFINE_CONV2D_B1(bnn_conv2d_f32_b1, float, bnn_conv2d_acc_f32)
