/* Output stage shared by the integer-accumulating kernels: threshold to b1 (max pooled when fused), or store s32. */
#include "bnn_runtime.h"

void bnn_pool_clear(const bnn_pool_t *pl, uint32_t out_c, uint32_t *out)
{
    const uint32_t n = (uint32_t)pl->out_h * pl->out_w * BNN_WORDS(out_c);
    for (uint32_t i = 0; i < n; i++) out[i] = 0u;
}

/* Pooled rows (or columns) whose window holds input row v: py with py*s - pad <= v < py*s - pad + k. */
static inline void bnn_pool_span(uint32_t v, uint32_t k, uint32_t s, uint32_t pad, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    const uint32_t t = v + pad;
    *lo = t + 1u > k ? (t + 1u - k + s - 1u) / s : 0u;
    *hi = t / s + 1u < n ? t / s + 1u : n;
}

void bnn_pool_or(const bnn_pool_t *pl, uint32_t *out, uint32_t words, uint32_t pos, uint32_t j, uint32_t bits)
{
    const uint32_t y = pos / pl->in_w, x = pos % pl->in_w;
    uint32_t y0, y1, x0, x1;
    bnn_pool_span(y, pl->kh, pl->sh, pl->pad_top, pl->out_h, &y0, &y1);
    bnn_pool_span(x, pl->kw, pl->sw, pl->pad_left, pl->out_w, &x0, &x1);
    for (uint32_t py = y0; py < y1; py++)
        for (uint32_t px = x0; px < x1; px++) out[((size_t)py * pl->out_w + px) * words + j] |= bits;
}

void bnn_output_store(const bnn_output_t *o, const int32_t *acc, uint32_t out_c, void *out, uint32_t pos, uint32_t plane)
{
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
        if (o->pool.kh) bnn_pool_or(&o->pool, (uint32_t *)out, words, pos, w, bits);
        else dst[w] = bits;
    }
}
