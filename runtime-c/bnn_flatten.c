/* Flatten of a b1 map (real maps are already in (c, y, x) order and need no code). */
#include "bnn_runtime.h"

/* Channel-packed b1 map -> b1 vector in (c, y, x) order. */
void bnn_flatten_b1_b1(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, uint32_t *out)
{
    uint32_t plane = (uint32_t)h * w;
    uint32_t words = BNN_WORDS(c);
    uint32_t total = (uint32_t)c * plane;
    for (uint32_t j = 0; j < BNN_WORDS(total); j++) out[j] = 0;
    for (uint32_t ch = 0; ch < c; ch++) {
        for (uint32_t i = 0; i < plane; i++) {
            uint32_t bit = (in[i * words + (ch >> 5)] >> (ch & 31u)) & 1u;
            uint32_t k = ch * plane + i;
            out[k >> 5] |= bit << (k & 31u);
        }
    }
}
