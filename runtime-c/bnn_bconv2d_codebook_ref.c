/* Binary 3x3 convolution with a per-layer codebook (Sparks): kernel (o, c) is codeword
 * codewords[index(o, c)]. Per position and input channel, the 9-bit patch of that channel is matched
 * against codewords; with share = 1 each of the n codeword responses is computed once and gathered by
 * every output channel (the compute sharing that makes small codebooks cheap). */
#include "bnn_runtime.h"

/* Response of a patch to a codeword: matches - mismatches over the valid taps. */
static inline int32_t bnn_response(uint32_t patch, uint32_t valid, uint32_t nvalid, uint32_t codeword)
{
    uint32_t mism = bnn_popcount32((patch ^ codeword) & valid);
    return (int32_t)nvalid - 2 * (int32_t)mism;
}

static void bnn_codebook_ref_run(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, const void *skip, int32_t *scratch)
{
    const bnn_window_t *g = &p->g;
    uint32_t words = BNN_WORDS(g->in_c);
    uint32_t plane = (uint32_t)g->out_h * g->out_w;
    int32_t *acc = scratch;
    int32_t *resp = scratch + g->out_c;
    if (p->out.pool.kh) bnn_pool_clear(&p->out.pool, g->out_c, (uint32_t *)out);
    for (uint32_t oy = 0; oy < g->out_h; oy++) {
        for (uint32_t ox = 0; ox < g->out_w; ox++) {
            for (uint32_t o = 0; o < g->out_c; o++) acc[o] = 0;
            for (uint32_t c = 0; c < g->in_c; c++) {
                /* Gather the 3x3 patch of channel c: bit t = 3*ky + kx; padded taps are invalid (pad 0)
                 * or the constant pad activation. */
                uint32_t patch = 0, valid = 0;
                for (uint32_t t = 0; t < 9u; t++) {
                    int32_t iy = (int32_t)(oy * g->sh + t / 3u) - g->pad_top;
                    int32_t ix = (int32_t)(ox * g->sw + t % 3u) - g->pad_left;
                    if (iy >= 0 && iy < (int32_t)g->in_h && ix >= 0 && ix < (int32_t)g->in_w) {
                        uint32_t wd = in[((size_t)iy * g->in_w + (uint32_t)ix) * words + (c >> 5)];
                        patch |= ((wd >> (c & 31u)) & 1u) << t;
                        valid |= 1u << t;
                    } else if (p->pad_value != 0) {
                        patch |= (p->pad_value > 0 ? 1u : 0u) << t;
                        valid |= 1u << t;
                    }
                }
                uint32_t nvalid = bnn_popcount32(valid);
                if (p->share) {
                    for (uint32_t k = 0; k < p->n_codewords; k++) resp[k] = bnn_response(patch, valid, nvalid, p->codewords[k]);
                    for (uint32_t o = 0; o < g->out_c; o++) acc[o] += resp[bnn_read_index(p->indices, o * g->in_c + c, p->index_bits)];
                } else {
                    for (uint32_t o = 0; o < g->out_c; o++) {
                        uint32_t cw = p->codewords[bnn_read_index(p->indices, o * g->in_c + c, p->index_bits)];
                        acc[o] += bnn_response(patch, valid, nvalid, cw);
                    }
                }
            }
            bnn_output_store_skip(&p->out, acc, g->out_c, out, skip, oy * g->out_w + ox, plane);
        }
    }
}

void bnn_bconv2d_b1_acc_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, int32_t *scratch)
{
    bnn_codebook_ref_run(p, in, out, NULL, scratch);
}

/* A requant fused into the output (p->out.rq), reading the skip map at each element (docs/semantics.md §10). */
void bnn_bconv2d_b1_s8_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch)
{
    bnn_codebook_ref_run(p, in, out, skip, scratch);
}

void bnn_bconv2d_b1_s16_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch)
{
    bnn_codebook_ref_run(p, in, out, skip, scratch);
}

/* Scratch: the out_c accumulators, then with sharing the n codeword responses of one channel. */
uint32_t bnn_bconv2d_b1_acc_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p)
{
    return p->g.out_c + (p->share ? p->n_codewords : 0u);
}

uint32_t bnn_bconv2d_b1_s8_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p)
{
    return bnn_bconv2d_b1_acc_codebook_ref_scratch_words(p);
}

uint32_t bnn_bconv2d_b1_s16_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p)
{
    return bnn_bconv2d_b1_acc_codebook_ref_scratch_words(p);
}
