/* Integer requantisation of one or two integer maps (int32 accumulators, int8 activations) to int8, with an optional
 * integer PReLU (ReActNet's RPReLU): docs/semantics.md §10 "requant", the rule restated in bnn_runtime.h.
 *
 * Every intermediate fits int64_t: |x| <= 2^31 and |mult| <= 2^30 - 1 give |V| < 2^62 for two inputs, and
 * V + 2^(shift - 1) < 2^62 + 2^61; |U| <= 2^31 and |slope| <= 2^31 give |U * slope| <= 2^62.
 *
 * Assumption: `>>` on a negative int64_t is an arithmetic shift (floor division by a power of two). C99 leaves it
 * implementation-defined; gcc, clang and emcc (every compiler bnn-gen builds with, arm-none-eabi-gcc included)
 * document it as arithmetic. */
#include "bnn_runtime.h"

static inline int32_t bnn_requant_load(const void *x, int wide, uint32_t i)
{
    return wide ? ((const int32_t *)x)[i] : (int32_t)((const int8_t *)x)[i];
}

/* The loop of every kernel: input a (int32 when a32, else int8) and, when b != NULL, input b likewise. The kernels
 * below call it with constant kinds, so the inlined loops carry no per-element type test. */
static inline void bnn_requant_run(const bnn_requant_params_t *p, const void *a, int a32, const void *b, int b32, int8_t *out)
{
    const uint32_t C = p->c, plane = p->plane;
    for (uint32_t c = 0; c < C; c++) {
        bnn_requant_chan_t k;
        bnn_requant_chan(p, c, b != NULL, &k);
        const int32_t ma = k.mult_a, mb = k.mult_b;
        const uint32_t base = c * plane;
        for (uint32_t i = base; i < base + plane; i++) {
            int64_t v = (int64_t)bnn_requant_load(a, a32, i) * ma;
            if (b) v += (int64_t)bnn_requant_load(b, b32, i) * mb;
            out[i] = bnn_requant_finish(&k, v);
        }
    }
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
