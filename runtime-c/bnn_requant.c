/* Integer requantisation of one or two integer maps (int32 accumulators, int8 or int16 maps) to int8 or int16, with an optional
 * integer PReLU (ReActNet's RPReLU): docs/semantics.md §10 "requant", the rule restated in bnn_runtime.h.
 *
 * Every intermediate fits int64_t: |x| <= 2^31 and |mult| <= 2^30 - 1 give |V| < 2^62 for two inputs, and
 * V + 2^(shift - 1) < 2^62 + 2^61; |U| <= 2^31 and |slope| <= 2^31 give |U * slope| <= 2^62.
 *
 * The kernels use the fast form of bnn_runtime.h (bnn_requant_chan_fast) where it applies. It equals the rule for
 * every input in its range; with H, S as there (V' = V * 2^P, P the pre-shift that the inputs and their multipliers
 * share, hi = floor(V' / 2^32)):
 *  - floor((V + 2^(s-1)) / 2^s) = floor((V' + 2^(s-1+P)) / 2^(s+P)) = floor((hi + H) / 2^S) (the low word only
 *    adds a fraction below 1 to an integer before the division);
 *  - adding an integer commutes with floor, so r + bias = floor((hi + cb) / 2^S), which fits int32 (|hi| < 2^30,
 *    |cb| < 2^30): the first sat32 does nothing;
 *  - g(u) = clamp(((u + 128) >> 8) + zero_point, -128, 127) is non-decreasing with g(INT32_MAX) = 127 and
 *    g(INT32_MIN) = -128, so g(sat32(x)) = g(x) for every integer x: the other sat32s never change the output, and
 *    g(x) = clamp((x + 128 + 256 zero_point) >> 8) (floor of floor is floor of the product of the divisors);
 *  - PReLU: |U| <= 2^30 and |slope| <= 2^15 keep U * slope / 2^15 below 2^30: SMMULR(2U, slope * 2^16) =
 *    floor((U * slope * 2^17 + 2^31) / 2^32) = floor((U * slope + 2^14) / 2^15).
 *
 * Assumption: `>>` on a negative int64_t is an arithmetic shift (floor division by a power of two). C99 leaves it
 * implementation-defined; gcc, clang and emcc (every compiler bnn-gen builds with, arm-none-eabi-gcc included)
 * document it as arithmetic. */
#include "bnn_runtime.h"

/* Input kinds: an int8, int16 or int32 map. */
enum { BNN_RQ_S8, BNN_RQ_S16, BNN_RQ_S32 };

static inline int32_t bnn_requant_load(const void *x, int kind, uint32_t i)
{
    if (kind == BNN_RQ_S32) return ((const int32_t *)x)[i];
    if (kind == BNN_RQ_S16) return ((const int16_t *)x)[i];
    return ((const int8_t *)x)[i];
}

/* |x| <= lim, lim < 2^31 (the fast form's input range when lim is what bnn_requant_chan_fast accepted). */
static inline int bnn_requant_in(int32_t x, uint32_t lim)
{
    return (uint32_t)x + lim <= 2u * lim;
}

static inline void bnn_requant_store(void *out, int wide, uint32_t i, int32_t q)
{
    if (wide) ((int16_t *)out)[i] = (int16_t)q;
    else ((int8_t *)out)[i] = (int8_t)q;
}

/* The loop of every kernel: input a of kind ka and, when b != NULL, input b of kind kb; output int16 when wide (the
 * params' out16), else int8; prelu as the layer's. All are constants here, so each loop is specialised on them. An
 * int8 or int16 input is always in the fast form's range when the channel takes it (|x| <= 128, 32768); an int32
 * one is checked element by element (shift <= 32: |x| <= 2^(s-2) - 1; beyond, any). Elements outside, and channels
 * whose constants rule the fast form out, take the rule as written. */
static inline void bnn_requant_loop(const bnn_requant_params_t *p, const void *a, int ka, const void *b, int kb, void *out, int wide, int prelu)
{
    const uint32_t C = p->c, plane = p->plane;
    const uint32_t lim = p->shift >= 33u ? 0xFFFFFFFFu : (p->shift >= 2u ? (1u << (p->shift - 2u)) - 1u : 0u);
    const uint32_t any = lim > 0x7FFFFFFFu;
    const int a32 = ka == BNN_RQ_S32, b32 = kb == BNN_RQ_S32;
    const uint32_t amax = a32 ? lim : (ka == BNN_RQ_S16 ? 32768u : 128u), bmax = b32 ? lim : (kb == BNN_RQ_S16 ? 32768u : 128u);
    for (uint32_t c = 0; c < C; c++) {
        bnn_requant_chan_t k;
        bnn_requant_chan(p, c, b != NULL, &k);
        const int32_t ma = k.mult_a, mb = k.mult_b;
        const uint32_t base = c * plane;
        if (!bnn_requant_chan_fast(&k, amax, b == NULL ? 0u : bmax)) {
            for (uint32_t i = base; i < base + plane; i++) {
                int64_t v = (int64_t)bnn_requant_load(a, ka, i) * ma;
                if (b) v += (int64_t)bnn_requant_load(b, kb, i) * mb;
                bnn_requant_store(out, wide, i, bnn_requant_finish(&k, v));
            }
            continue;
        }
        for (uint32_t i = base; i < base + plane; i++) {
            const int32_t x = bnn_requant_load(a, ka, i), y = b ? bnn_requant_load(b, kb, i) : 0;
            int32_t q;
            if (((a32 && !any && !bnn_requant_in(x, lim)) || (b32 && !any && !bnn_requant_in(y, lim))))
                q = bnn_requant_apply(&k, x, y);
            else
                q = b ? bnn_requant_fastq(&k, x, y, prelu, wide) : bnn_requant_fast1q(&k, x, prelu, wide);
            bnn_requant_store(out, wide, i, q);
        }
    }
}

static inline void bnn_requant_run(const bnn_requant_params_t *p, const void *a, int ka, const void *b, int kb, void *out, int wide)
{
    if (p->slope != NULL) bnn_requant_loop(p, a, ka, b, kb, out, wide, 1);
    else bnn_requant_loop(p, a, ka, b, kb, out, wide, 0);
}

#define BNN_RQ_KIND_s8 BNN_RQ_S8
#define BNN_RQ_KIND_s16 BNN_RQ_S16
#define BNN_RQ_KIND_s32 BNN_RQ_S32
#define BNN_RQ_WIDE_s8 0
#define BNN_RQ_WIDE_s16 1
#define BNN_REQUANT_DEF1(A, TA, O, TO)                                                          \
    void bnn_requant_##A##_##O(const bnn_requant_params_t *p, const TA *in, TO *out)            \
    {                                                                                           \
        bnn_requant_run(p, in, BNN_RQ_KIND_##A, NULL, BNN_RQ_S8, out, BNN_RQ_WIDE_##O);         \
    }
#define BNN_REQUANT_DEF2(A, TA, B, TB, O, TO)                                                   \
    void bnn_requant_##A##B##_##O(const bnn_requant_params_t *p, const TA *a, const TB *b, TO *out) \
    {                                                                                           \
        bnn_requant_run(p, a, BNN_RQ_KIND_##A, b, BNN_RQ_KIND_##B, out, BNN_RQ_WIDE_##O);       \
    }
BNN_REQUANT_KINDS(BNN_REQUANT_DEF1, BNN_REQUANT_DEF2, s8, int8_t)
BNN_REQUANT_KINDS(BNN_REQUANT_DEF1, BNN_REQUANT_DEF2, s16, int16_t)

/* One element, b the second input's value or 0 (a one-input requant has no second mult row). */
int32_t bnn_requant_value(const bnn_requant_params_t *p, uint32_t c, int32_t a, int32_t b)
{
    bnn_requant_chan_t k;
    bnn_requant_chan(p, c, b != 0, &k);
    return bnn_requant_apply(&k, a, b);
}
