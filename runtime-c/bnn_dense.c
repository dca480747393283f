/* Real-valued fully connected, float32: acc = +0; acc = acc + w * x for k = 0..K-1; out = acc + bias.
 * On a b1 input the product is +w or -w exactly. */
#include "bnn_runtime.h"

void bnn_dense_f32_f32(const bnn_dense_params_t *p, const float *in, float *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const float *w = p->weights + (size_t)n * p->in_n;
        float acc = 0.0f;
        for (uint32_t k = 0; k < p->in_n; k++) {
            float prod = w[k] * in[k];
            acc = acc + prod;
        }
        out[n] = acc + p->bias[n];
    }
}

void bnn_dense_b1_f32(const bnn_dense_params_t *p, const uint32_t *in, float *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const float *w = p->weights + (size_t)n * p->in_n;
        float acc = 0.0f;
        for (uint32_t k = 0; k < p->in_n; k++) {
            float v = ((in[k >> 5] >> (k & 31u)) & 1u) ? w[k] : -w[k];
            acc = acc + v;
        }
        out[n] = acc + p->bias[n];
    }
}
