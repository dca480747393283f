/* Element-wise choice by a comparison with a constant (mask arithmetic of PyTorch forward code). */
#include "bnn_runtime.h"

/* out[i] = cmp(x[i], value) ? a[i] : b[i]; cmp 0: <, 1: <=, 2: >, 3: >=. out may be x, a or b. */
void bnn_where_f32_f32(const bnn_where_params_t *p, const float *x, const float *a, const float *b, float *out)
{
    for (uint32_t i = 0; i < p->n; i++) {
        float v = x[i];
        int take;
        switch (p->cmp) {
        case 0: take = v < p->value; break;
        case 1: take = v <= p->value; break;
        case 2: take = v > p->value; break;
        default: take = v >= p->value; break;
        }
        out[i] = take ? a[i] : b[i];
    }
}
