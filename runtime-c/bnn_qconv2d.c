/* Integer convolution: acc = bias + sum of w * (q - zero_point) over valid taps, + w * (pad_q[c] - zero_point) over
 * padded ones when the layer has pad values, + the border's padFix entry when it has one (exact int32). The input is
 * uint8, int8 or int16 (|q - zero_point| <= 65535; the generator bounds the sum), the weights int8 or int16 (w16). */
#include "bnn_runtime.h"

static inline int32_t bnn_qconv2d_weight(const bnn_qconv2d_params_t *p, size_t k)
{
    return p->w16 ? ((const int16_t *)p->weights)[k] : ((const int8_t *)p->weights)[k];
}

#define BNN_DEFINE_QCONV2D(NAME, IN_T)                                                          \
    void NAME(const bnn_qconv2d_params_t *p, const IN_T *in, void *out, int32_t *acc)           \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        uint32_t plane = (uint32_t)g->out_h * g->out_w;                                         \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            const uint32_t cy = bnn_pad_fix_class(oy, p->fix.top, p->fix.bottom);               \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                for (uint32_t o = 0; o < g->out_c; o++) {                                       \
                    int32_t s = p->bias[o];                                                     \
                    for (uint32_t c = 0; c < g->in_c; c++) {                                    \
                        const size_t w0 = ((size_t)o * g->in_c + c) * g->kh * g->kw;             \
                        const int32_t pad = p->pad_q != NULL ? p->pad_q[c] - p->zero_point : 0; \
                        for (uint32_t ky = 0; ky < g->kh; ky++) {                               \
                            int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;               \
                            for (uint32_t kx = 0; kx < g->kw; kx++) {                           \
                                int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;          \
                                int32_t v = pad;                                                \
                                if (iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w) \
                                    v = (int32_t)in[((size_t)c * g->in_h + (uint32_t)iy) * g->in_w + (uint32_t)ix] - p->zero_point; \
                                s += bnn_qconv2d_weight(p, w0 + ky * g->kw + kx) * v;           \
                            }                                                                   \
                        }                                                                       \
                    }                                                                           \
                    if (p->fix.v != NULL)                                                       \
                        s += p->fix.v[((size_t)o * p->fix.ny + cy) * p->fix.nx +                \
                                      bnn_pad_fix_class(ox, p->fix.left, p->fix.right)];        \
                    acc[o] = s;                                                                 \
                }                                                                               \
                bnn_output_store(&p->out, acc, g->out_c, out, oy * g->out_w + ox, plane);          \
            }                                                                                   \
        }                                                                                       \
    }

BNN_DEFINE_QCONV2D(bnn_qconv2d_u8_acc, uint8_t)
BNN_DEFINE_QCONV2D(bnn_qconv2d_s8_acc, int8_t)
BNN_DEFINE_QCONV2D(bnn_qconv2d_s16_acc, int16_t)

/* Scratch: one int32 accumulator per output channel. */
uint32_t bnn_qconv2d_u8_acc_scratch_words(const bnn_qconv2d_params_t *p) { return p->g.out_c; }
uint32_t bnn_qconv2d_s8_acc_scratch_words(const bnn_qconv2d_params_t *p) { return p->g.out_c; }
uint32_t bnn_qconv2d_s16_acc_scratch_words(const bnn_qconv2d_params_t *p) { return p->g.out_c; }
