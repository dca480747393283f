/* Integer maps to binary activations: a per-channel threshold on int8, int16 or int32 values (docs/semantics.md §7,
 * §10), the exact integer form of sign(x + shift) on an int8 or int16 residual stream.
 *
 * The input is planar (CHW) and the output channel-packed per position, so the work goes in blocks of 32 positions by
 * 32 channels: each channel's 32 comparisons become one word (bit i: position pos0 + i), and a 32x32 bit transpose
 * turns the block's channel words into its positions' words. On cores with the DSP extension the int8 comparisons run
 * four positions at a time (SSUB8 sets a GE flag per byte where x - t >= 0, exactly, and SEL and a multiply collect
 * the four flags), the int16 ones two a word (SSUB16). */
#include <string.h>

#include "bnn_runtime.h"
#if BNN_ARCH_DSP && BNN_GNUC
#define BNN_THR_SIMD 1
#else
#define BNN_THR_SIMD 0
#endif

/* Bit c of position pos = flip[c] ? x <= thresh[c] : x >= thresh[c]; each position's words are written whole, so the
 * spare bits of the last one are 0. */
#define BNN_THR_MASK(x, t, f) ((f) ? (x) <= (t) : (x) >= (t))

/* Comparisons of channel row x at positions 0..np - 1 against t: bit i = x[i] >= t (flip: x[i] <= t). */
#define BNN_DEFINE_THR_ROW(NAME, T)                                                                               \
    static inline uint32_t NAME(const T *x, uint32_t np, int32_t t, uint32_t flip)                               \
    {                                                                                                             \
        uint32_t m = 0;                                                                                           \
        for (uint32_t i = 0; i < np; i++) m |= (uint32_t)BNN_THR_MASK((int32_t)x[i], t, flip) << i;             \
        return m;                                                                                                 \
    }
BNN_DEFINE_THR_ROW(bnn_thr_row_s32, int32_t)
#if !BNN_THR_SIMD
BNN_DEFINE_THR_ROW(bnn_thr_row_s16, int16_t)
BNN_DEFINE_THR_ROW(bnn_thr_row_s8, int8_t)
#else
BNN_DEFINE_THR_ROW(bnn_thr_row_s8_each, int8_t)
/* Four positions a step (a tail of fewer than 32 one by one): x <= t is !(x >= t + 1); a threshold no int8 meets (or
 * that every int8 meets) is a constant word. */
static inline uint32_t bnn_thr_row_s8(const int8_t *x, uint32_t np, int32_t t, uint32_t flip)
{
    if (np < 32u) return bnn_thr_row_s8_each(x, np, t, flip);
    const int32_t ge = flip ? (t >= 127 ? 128 : t + 1) : t; /* on = (x >= ge) XOR flip */
    uint32_t m;
    if (ge <= -128) m = 0xFFFFFFFFu;
    else if (ge > 127) m = 0u;
    else {
        const uint32_t tt = (uint32_t)(uint8_t)(int8_t)ge * 0x01010101u;
        m = 0;
        for (int32_t q = 7; q >= 0; q--) {
            uint32_t w;
            memcpy(&w, x + 4 * q, 4);
            uint32_t s; /* GE[k] = x_k - t >= 0; byte k of s: 2^k where set (one asm: nothing may come between) */
            __asm__("ssub8 %0, %1, %2\n\tsel %0, %3, %4" : "=&r"(s) : "r"(w), "r"(tt), "r"(0x08040201u), "r"(0u) : "cc");
            m = (m << 4) | ((s * 0x01010101u) >> 24);  /* byte 3 of the product: the sum of the four */
        }
    }
    return flip ? ~m : m;
}

BNN_DEFINE_THR_ROW(bnn_thr_row_s16_each, int16_t)
/* The same on int16, four positions a step in two halfword pairs: SSUB16 sets the GE flags of each halfword where
 * x - t >= 0, SEL places 1, 2 (first pair) and 4, 8 (second) in the halfwords, and the two halves' sum is the step's
 * four bits. */
static inline uint32_t bnn_thr_row_s16(const int16_t *x, uint32_t np, int32_t t, uint32_t flip)
{
    if (np < 32u) return bnn_thr_row_s16_each(x, np, t, flip);
    const int32_t ge = flip ? (t >= 32767 ? 32768 : t + 1) : t; /* on = (x >= ge) XOR flip */
    uint32_t m;
    if (ge <= -32768) m = 0xFFFFFFFFu;
    else if (ge > 32767) m = 0u;
    else {
        const uint32_t tt = (uint32_t)(uint16_t)(int16_t)ge * 0x00010001u;
        m = 0;
        for (int32_t q = 7; q >= 0; q--) {
            uint32_t w0, w1, s0, s1;
            memcpy(&w0, x + 4 * q, 4);
            memcpy(&w1, x + 4 * q + 2, 4);
            __asm__("ssub16 %0, %1, %2\n\tsel %0, %3, %4" : "=&r"(s0) : "r"(w0), "r"(tt), "r"(0x00020001u), "r"(0u) : "cc");
            __asm__("ssub16 %0, %1, %2\n\tsel %0, %3, %4" : "=&r"(s1) : "r"(w1), "r"(tt), "r"(0x00080004u), "r"(0u) : "cc");
            const uint32_t sv = s0 | s1;
            m = (m << 4) | ((sv + (sv >> 16)) & 0xFu);
        }
    }
    return flip ? ~m : m;
}
#endif

#define BNN_DEFINE_THRESHOLD(NAME, T, ROW)                                                                        \
    void NAME(const bnn_threshold_params_t *p, const T *in, uint32_t *out)                                        \
    {                                                                                                             \
        const uint32_t plane = (uint32_t)p->h * p->w, words = BNN_WORDS(p->c);                                    \
        uint32_t A[32];                                                                                           \
        for (uint32_t pos0 = 0; pos0 < plane; pos0 += 32u) {                                                      \
            const uint32_t np = plane - pos0 < 32u ? plane - pos0 : 32u;                                          \
            for (uint32_t j = 0; j < words; j++) {                                                                \
                const uint32_t n = p->c - 32u * j < 32u ? p->c - 32u * j : 32u;                                   \
                for (uint32_t b = 0; b < 32u; b++) {                                                              \
                    uint32_t m = 0;                                                                               \
                    if (b < n) {                                                                                  \
                        const uint32_t c = 32u * j + b, f = (p->flip[j] >> b) & 1u;                               \
                        const T *x = in + (size_t)c * plane + pos0;                                               \
                        const int32_t t = p->thresh[c];                                                           \
                        m = ROW(x, np, t, f);                                                                     \
                    }                                                                                             \
                    A[b] = m;                                                                                     \
                }                                                                                                 \
                bnn_transpose32(A);                                                                               \
                for (uint32_t i = 0; i < np; i++) out[(pos0 + i) * words + j] = A[i];                             \
            }                                                                                                     \
        }                                                                                                         \
    }

BNN_DEFINE_THRESHOLD(bnn_threshold_s8_b1, int8_t, bnn_thr_row_s8)
BNN_DEFINE_THRESHOLD(bnn_threshold_s16_b1, int16_t, bnn_thr_row_s16)
BNN_DEFINE_THRESHOLD(bnn_threshold_s32_b1, int32_t, bnn_thr_row_s32)
