/* Integer maps to binary activations: a per-channel threshold on int8 or int32 values (docs/semantics.md §7, §10),
 * the exact integer form of sign(x + shift) on an int8 residual stream. */
#include "bnn_runtime.h"

/* Bit c of position pos = flip[c] ? x <= thresh[c] : x >= thresh[c]; each position's words are written whole, so the
 * spare bits of the last one are 0. */
#define BNN_DEFINE_THRESHOLD(NAME, T)                                                                       \
    void NAME(const bnn_threshold_params_t *p, const T *in, uint32_t *out)                                  \
    {                                                                                                       \
        uint32_t plane = (uint32_t)p->h * p->w;                                                             \
        uint32_t words = BNN_WORDS(p->c);                                                                   \
        for (uint32_t pos = 0; pos < plane; pos++) {                                                        \
            for (uint32_t j = 0; j < words; j++) {                                                          \
                uint32_t bits = 0;                                                                          \
                uint32_t n = p->c - 32u * j < 32u ? p->c - 32u * j : 32u;                                   \
                for (uint32_t b = 0; b < n; b++) {                                                          \
                    uint32_t c = 32u * j + b;                                                               \
                    int32_t x = in[c * plane + pos], t = p->thresh[c];                                      \
                    uint32_t on = ((p->flip[j] >> b) & 1u) ? (x <= t) : (x >= t);                           \
                    bits |= on << b;                                                                        \
                }                                                                                           \
                out[pos * words + j] = bits;                                                                \
            }                                                                                               \
        }                                                                                                   \
    }

BNN_DEFINE_THRESHOLD(bnn_threshold_s8_b1, int8_t)
BNN_DEFINE_THRESHOLD(bnn_threshold_s32_b1, int32_t)
