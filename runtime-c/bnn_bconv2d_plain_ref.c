/* Binary convolution with plain 1-bit weights, any kernel size: channel-packed XOR + popcount.
 * Each valid tap adds in_c - 2 * popcount(a ^ w); a padded tap adds nothing (pad_value 0) or uses a
 * constant word of all +1 / all -1 activations. */
#include "bnn_runtime.h"

static void bnn_plain_ref_run(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, const void *skip, int32_t *acc)
{
    const bnn_window_t *g = &p->g;
    uint32_t words = BNN_WORDS(g->in_c);
    uint32_t plane = (uint32_t)g->out_h * g->out_w;
    uint32_t spare = words * 32u - g->in_c; /* always-zero bits of the last word */
    if (p->out.pool.kh) bnn_pool_clear(&p->out.pool, g->out_c, (uint32_t *)out);
    for (uint32_t oy = 0; oy < g->out_h; oy++) {
        for (uint32_t ox = 0; ox < g->out_w; ox++) {
            for (uint32_t o = 0; o < g->out_c; o++) {
                int32_t s = 0;
                const uint32_t *w = p->weights + (size_t)o * g->kh * g->kw * words;
                for (uint32_t ky = 0; ky < g->kh; ky++) {
                    int32_t iy = (int32_t)(oy * g->sh + ky) - g->pad_top;
                    for (uint32_t kx = 0; kx < g->kw; kx++, w += words) {
                        int32_t ix = (int32_t)(ox * g->sw + kx) - g->pad_left;
                        uint32_t mism = 0;
                        if (iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w) {
                            const uint32_t *a = in + ((size_t)iy * g->in_w + (uint32_t)ix) * words;
                            for (uint32_t j = 0; j < words; j++) mism += bnn_popcount32(a[j] ^ w[j]);
                        } else if (p->pad_value == 0) {
                            continue;
                        } else {
                            /* Constant activation: all +1 (bits 1) or all -1 (bits 0); spare bits stay 0. */
                            for (uint32_t j = 0; j < words; j++) {
                                uint32_t a = p->pad_value > 0 ? 0xFFFFFFFFu : 0u;
                                if (j == words - 1u && spare) a &= 0xFFFFFFFFu >> spare;
                                mism += bnn_popcount32(a ^ w[j]);
                            }
                        }
                        s += (int32_t)g->in_c - 2 * (int32_t)mism;
                    }
                }
                acc[o] = s;
            }
            bnn_output_store_skip(&p->out, acc, g->out_c, out, skip, oy * g->out_w + ox, plane);
        }
    }
}

void bnn_bconv2d_b1_acc_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, int32_t *scratch)
{
    bnn_plain_ref_run(p, in, out, NULL, scratch);
}

/* A requant fused into the output (p->out.rq), reading the skip map at each element (docs/semantics.md §10). */
void bnn_bconv2d_b1_s8_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch)
{
    bnn_plain_ref_run(p, in, out, skip, scratch);
}

void bnn_bconv2d_b1_s16_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch)
{
    bnn_plain_ref_run(p, in, out, skip, scratch);
}

/* Scratch: one int32 accumulator per output channel. */
uint32_t bnn_bconv2d_b1_acc_plain_ref_scratch_words(const bnn_bconv2d_params_t *p) { return p->g.out_c; }

uint32_t bnn_bconv2d_b1_s8_plain_ref_scratch_words(const bnn_bconv2d_params_t *p)
{
    return bnn_bconv2d_b1_acc_plain_ref_scratch_words(p);
}

uint32_t bnn_bconv2d_b1_s16_plain_ref_scratch_words(const bnn_bconv2d_params_t *p)
{
    return bnn_bconv2d_b1_acc_plain_ref_scratch_words(p);
}
