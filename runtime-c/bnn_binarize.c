/* Real values to binary activations: the sign, with an optional per-channel shift (ReActNet's RSign). */
#include "bnn_runtime.h"

/* +1 iff x + shift[c] >= 0 (so sign(0) = +1, and -0 counts as 0). Output channel-packed per position. */
void bnn_binarize_f32_b1(const bnn_binarize_params_t *p, const float *in, uint32_t *out)
{
    uint32_t plane = (uint32_t)p->h * p->w;
    uint32_t words = BNN_WORDS(p->c);
    for (uint32_t pos = 0; pos < plane; pos++) {
        for (uint32_t j = 0; j < words; j++) out[pos * words + j] = 0;
        for (uint32_t c = 0; c < p->c; c++) {
            float v = in[c * plane + pos];
            if (p->shift) v = v + p->shift[c];
            if (v >= 0.0f) out[pos * words + (c >> 5)] |= 1u << (c & 31u);
        }
    }
}
