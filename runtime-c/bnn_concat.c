/* Concatenation along the channels (ONNX Concat, axis 1). */
#include "bnn_runtime.h"

/* Planar f32 maps [ca][h][w] and [cb][h][w]: the output is a's values, then b's. */
void bnn_concat_f32_f32(uint32_t na, uint32_t nb, const float *a, const float *b, float *out)
{
    for (uint32_t i = 0; i < na; i++) out[i] = a[i];
    for (uint32_t i = 0; i < nb; i++) out[na + i] = b[i];
}

/* Channel-packed b1 maps: at every position, channels 0..ca-1 from a, then ca..ca+cb-1 from b (spare bits 0). */
void bnn_concat_b1_b1(const bnn_concat_params_t *p, const uint32_t *a, const uint32_t *b, uint32_t *out)
{
    uint32_t wa = BNN_WORDS(p->ca), wb = BNN_WORDS(p->cb), wo = BNN_WORDS((uint32_t)p->ca + p->cb);
    for (uint32_t i = 0; i < p->hw; i++) {
        const uint32_t *pa = a + i * wa, *pb = b + i * wb;
        uint32_t *po = out + i * wo;
        for (uint32_t j = 0; j < wo; j++) po[j] = 0;
        for (uint32_t c = 0; c < p->ca; c++) po[c >> 5] |= ((pa[c >> 5] >> (c & 31u)) & 1u) << (c & 31u);
        for (uint32_t c = 0; c < p->cb; c++) {
            uint32_t k = p->ca + c;
            po[k >> 5] |= ((pb[c >> 5] >> (c & 31u)) & 1u) << (k & 31u);
        }
    }
}
