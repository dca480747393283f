/* Per-channel affine map (a folded batch norm) of real or integer maps, to float32. */
#include "bnn_runtime.h"

/* y = (x * scale[c]) + bias[c], each operation rounded to float32. */
void bnn_affine_f32_f32(const bnn_affine_params_t *p, const float *in, float *out)
{
    uint32_t plane = (uint32_t)p->h * p->w;
    for (uint32_t c = 0; c < p->c; c++) {
        for (uint32_t i = 0; i < plane; i++) {
            float t = in[c * plane + i] * p->scale[c];
            out[c * plane + i] = t + p->bias[c];
        }
    }
}

void bnn_affine_s32_f32(const bnn_affine_params_t *p, const int32_t *in, float *out)
{
    uint32_t plane = (uint32_t)p->h * p->w;
    for (uint32_t c = 0; c < p->c; c++) {
        for (uint32_t i = 0; i < plane; i++) {
            float t = (float)in[c * plane + i] * p->scale[c];
            out[c * plane + i] = t + p->bias[c];
        }
    }
}
