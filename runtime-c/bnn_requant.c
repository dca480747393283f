/* Integer requantisation of one or two integer maps (int32 accumulators, int8 activations) to int8, with an optional
 * integer PReLU (ReActNet's RPReLU): docs/semantics.md §10 "requant", the rule restated in bnn_runtime.h.
 *
 * Every intermediate fits int64_t: |x| <= 2^31 and |mult| <= 2^30 - 1 give |V| < 2^62 for two inputs, and
 * V + 2^(shift - 1) < 2^62 + 2^61; |U| <= 2^31 and |slope| <= 2^31 give |U * slope| <= 2^62.
 *
 * The kernels use the fast form of bnn_runtime.h (bnn_requant_chan_fast) where it applies. It equals the rule for
 * every input in its range; with H, S as there (V' = V * 2^pre, hi = floor(V' / 2^32)):
 *  - floor((V + 2^(s-1)) / 2^s) = floor((V' + 2^(s-1+pre)) / 2^(s+pre)) = floor((hi + H) / 2^S) (the low word only
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

static inline int32_t bnn_requant_load(const void *x, int wide, uint32_t i)
{
    return wide ? ((const int32_t *)x)[i] : (int32_t)((const int8_t *)x)[i];
}

/* |x| <= lim, lim < 2^31 (the fast form's input range when lim is what bnn_requant_chan_fast accepted). */
static inline int bnn_requant_in(int32_t x, uint32_t lim)
{
    return (uint32_t)x + lim <= 2u * lim;
}

/* The loop of every kernel: input a (int32 when a32, else int8) and, when b != NULL, input b likewise; prelu as the
 * layer's (a constant here, so each loop below is specialised on it). An int8 input is always in the fast form's
 * range when the channel takes it (|x| <= 128); an int32 one is checked element by element (shift <= 32:
 * |x| <= 2^(s-2) - 1; beyond, any). Elements outside, and channels whose constants rule the fast form out, take the
 * rule as written. */
static inline void bnn_requant_loop(const bnn_requant_params_t *p, const void *a, int a32, const void *b, int b32, int8_t *out, int prelu)
{
    const uint32_t C = p->c, plane = p->plane;
    const uint32_t lim = p->shift >= 33u ? 0xFFFFFFFFu : (p->shift >= 2u ? (1u << (p->shift - 2u)) - 1u : 0u);
    const uint32_t wide = lim > 0x7FFFFFFFu;
    for (uint32_t c = 0; c < C; c++) {
        bnn_requant_chan_t k;
        bnn_requant_chan(p, c, b != NULL, &k);
        const int32_t ma = k.mult_a, mb = k.mult_b;
        const uint32_t base = c * plane;
        if (!bnn_requant_chan_fast(&k, a32 ? lim : 128u, b == NULL ? 0u : (b32 ? lim : 128u))) {
            for (uint32_t i = base; i < base + plane; i++) {
                int64_t v = (int64_t)bnn_requant_load(a, a32, i) * ma;
                if (b) v += (int64_t)bnn_requant_load(b, b32, i) * mb;
                out[i] = bnn_requant_finish(&k, v);
            }
            continue;
        }
        for (uint32_t i = base; i < base + plane; i++) {
            const int32_t x = bnn_requant_load(a, a32, i), y = b ? bnn_requant_load(b, b32, i) : 0;
            if (((a32 && !wide && !bnn_requant_in(x, lim)) || (b32 && !wide && !bnn_requant_in(y, lim))))
                out[i] = bnn_requant_apply(&k, x, y);
            else
                out[i] = b ? bnn_requant_fast(&k, x, y, prelu) : bnn_requant_fast1(&k, x, prelu);
        }
    }
}

static inline void bnn_requant_run(const bnn_requant_params_t *p, const void *a, int a32, const void *b, int b32, int8_t *out)
{
    if (p->slope != NULL) bnn_requant_loop(p, a, a32, b, b32, out, 1);
    else bnn_requant_loop(p, a, a32, b, b32, out, 0);
}

void bnn_requant_s32_s8(const bnn_requant_params_t *p, const int32_t *in, int8_t *out)
{
    bnn_requant_run(p, in, 1, NULL, 0, out);
}

void bnn_requant_s8_s8(const bnn_requant_params_t *p, const int8_t *in, int8_t *out)
{
    bnn_requant_run(p, in, 0, NULL, 0, out);
}

void bnn_requant_s32s8_s8(const bnn_requant_params_t *p, const int32_t *a, const int8_t *b, int8_t *out)
{
    bnn_requant_run(p, a, 1, b, 0, out);
}

void bnn_requant_s32s32_s8(const bnn_requant_params_t *p, const int32_t *a, const int32_t *b, int8_t *out)
{
    bnn_requant_run(p, a, 1, b, 1, out);
}

void bnn_requant_s8s8_s8(const bnn_requant_params_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    bnn_requant_run(p, a, 0, b, 0, out);
}

void bnn_requant_s8s32_s8(const bnn_requant_params_t *p, const int8_t *a, const int32_t *b, int8_t *out)
{
    bnn_requant_run(p, a, 0, b, 1, out);
}

/* One element, b the second input's value or 0 (a one-input requant has no second mult row). */
int8_t bnn_requant_value(const bnn_requant_params_t *p, uint32_t c, int32_t a, int32_t b)
{
    bnn_requant_chan_t k;
    bnn_requant_chan(p, c, b != 0, &k);
    return bnn_requant_apply(&k, a, b);
}
