/* Output stage shared by the integer-accumulating kernels: threshold to b1, or store s32. */
#include "bnn_runtime.h"

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
        dst[w] = bits;
    }
}
