/* Flatten of a b1 map (real maps are already in (c, y, x) order and need no code). */
#include "bnn_runtime.h"

/* Channel-packed b1 map -> b1 vector in (c, y, x) order. With at most 32 positions a plane, the plane's words of 32
 * channels are transposed as a 32x32 bit matrix (word b: channel b's plane) and appended to the output stream. */
void bnn_flatten_b1_b1(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, uint32_t *out)
{
    const uint32_t plane = (uint32_t)h * w;
    const uint32_t words = BNN_WORDS(c);
    const uint32_t total = (uint32_t)c * plane;
    if (plane <= 32u) {
        uint32_t tb[32], acc = 0, nb = 0;
        for (uint32_t j = 0; j < words; j++) {
            for (uint32_t i = 0; i < plane; i++) tb[i] = in[i * words + j];
            for (uint32_t i = plane; i < 32u; i++) tb[i] = 0u;
            bnn_transpose32(tb);
            const uint32_t n = c - 32u * j < 32u ? c - 32u * j : 32u;
            for (uint32_t b = 0; b < n; b++) {
                const uint32_t v = tb[b];
                acc |= v << nb; /* nb < 32 */
                nb += plane;
                if (nb >= 32u) {
                    *out++ = acc;
                    nb -= 32u;
                    acc = nb ? v >> (plane - nb) : 0u; /* the bits of v past the word; plane - nb >= 1 */
                }
            }
        }
        if (nb) *out = acc;
        return;
    }
    for (uint32_t j = 0; j < BNN_WORDS(total); j++) out[j] = 0;
    for (uint32_t ch = 0; ch < c; ch++) {
        for (uint32_t i = 0; i < plane; i++) {
            uint32_t bit = (in[i * words + (ch >> 5)] >> (ch & 31u)) & 1u;
            uint32_t k = ch * plane + i;
            out[k >> 5] |= bit << (k & 31u);
        }
    }
}
