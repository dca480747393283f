/* Integer fully connected on a b1 or an int8 vector: int8 weights, int32 bias and accumulator, exact. */
#include "bnn_runtime.h"

void bnn_qdense_b1_s32(const bnn_qdense_params_t *p, const uint32_t *in, int32_t *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const int8_t *w = p->weights + (size_t)n * p->in_n;
        int32_t acc = p->bias[n];
        for (uint32_t k = 0; k < p->in_n; k++) {
            int32_t v = w[k];
            acc += ((in[k >> 5] >> (k & 31u)) & 1u) ? v : -v;
        }
        out[n] = acc;
    }
}

/* acc = bias + sum of w * (q - zero_point), k ascending (the order does not matter: exact in int32). */
void bnn_qdense_s8_s32(const bnn_qdense_params_t *p, const int8_t *in, int32_t *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const int8_t *w = p->weights + (size_t)n * p->in_n;
        int32_t acc = p->bias[n];
        for (uint32_t k = 0; k < p->in_n; k++) acc += (int32_t)w[k] * ((int32_t)in[k] - p->zero_point);
        out[n] = acc;
    }
}
