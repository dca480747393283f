/* Output stage shared by the integer-accumulating kernels: threshold to b1 (max pooled when fused), store s32, or
 * requantise to int8 or int16 (a fused requant layer, with the skip map of a two-input one). */
#include "bnn_runtime.h"

void bnn_pool_clear(const bnn_pool_t *pl, uint32_t out_c, uint32_t *out)
{
    const uint32_t n = (uint32_t)pl->out_h * pl->out_w * BNN_WORDS(out_c);
    for (uint32_t i = 0; i < n; i++) out[i] = 0u;
}

void bnn_pool_or(const bnn_pool_t *pl, uint32_t *out, uint32_t words, uint32_t y, uint32_t x, uint32_t j, uint32_t bits)
{
    const uint32_t y1 = pl->span_y[2u * y + 1u], x0 = pl->span_x[2u * x], x1 = pl->span_x[2u * x + 1u];
    for (uint32_t py = pl->span_y[2u * y]; py < y1; py++)
        for (uint32_t px = x0; px < x1; px++) out[((size_t)py * pl->out_w + px) * words + j] |= bits;
}

void bnn_output_store(const bnn_output_t *o, const int32_t *acc, uint32_t out_c, void *out, uint32_t pos, uint32_t plane)
{
    bnn_output_store_skip(o, acc, out_c, out, NULL, pos, plane);
}

void bnn_output_store_skip(const bnn_output_t *o, const int32_t *acc, uint32_t out_c, void *out, const void *skip, uint32_t pos, uint32_t plane)
{
    if (o->rq.mult != NULL) {
        for (uint32_t c = 0; c < out_c; c++) {
            const uint32_t at = c * plane + pos;
            int32_t b = 0;
            if (skip != NULL)
                b = o->skip_kind == BNN_SKIP_S32 ? ((const int32_t *)skip)[at]
                  : o->skip_kind == BNN_SKIP_S16 ? ((const int16_t *)skip)[at] : ((const int8_t *)skip)[at];
            const int32_t q = bnn_requant_value(&o->rq, c, acc[c], b);
            if (o->rq.out16) ((int16_t *)out)[at] = (int16_t)q;
            else ((int8_t *)out)[at] = (int8_t)q;
        }
        return;
    }
    if (o->thresh == NULL) {
        int32_t *dst = (int32_t *)out;
        for (uint32_t c = 0; c < out_c; c++) dst[c * plane + pos] = acc[c];
        return;
    }
    uint32_t words = BNN_WORDS(out_c);
    uint32_t *dst = (uint32_t *)out + pos * words;
    for (uint32_t w = 0; w < words; w++) {
        uint32_t bits = 0;
        uint32_t n = out_c - 32u * w < 32u ? out_c - 32u * w : 32u;
        for (uint32_t b = 0; b < n; b++) {
            uint32_t c = 32u * w + b;
            int32_t t = o->thresh[c];
            uint32_t on = ((o->flip[w] >> b) & 1u) ? (acc[c] <= t) : (acc[c] >= t);
            bits |= on << b;
        }
        if (o->pool.kh) bnn_pool_or(&o->pool, (uint32_t *)out, words, pos / o->pool.in_w, pos % o->pool.in_w, w, bits);
        else dst[w] = bits;
    }
}
