/* PReLU, ReLU and ReActNet's RPReLU on real maps. */
#include "bnn_runtime.h"

/* PReLU with optional shifts (RPReLU): t = x + shift_in[c]; u = t >= 0 ? t : t * slope[c]; y = u + shift_out[c]. */
void bnn_prelu_f32_f32(const bnn_prelu_params_t *p, const float *in, float *out)
{
    uint32_t plane = (uint32_t)p->h * p->w;
    for (uint32_t c = 0; c < p->c; c++) {
        for (uint32_t i = 0; i < plane; i++) {
            float t = in[c * plane + i];
            if (p->shift_in) t = t + p->shift_in[c];
            float u = t >= 0.0f ? t : t * p->slope[c];
            if (p->shift_out) u = u + p->shift_out[c];
            out[c * plane + i] = u;
        }
    }
}
