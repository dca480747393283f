/* Per-element ops between real and binary tensors. */
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

/* Residual sum: out = a + b, rounded to float32. out may alias a or b (same index is read before written). */
void bnn_add_f32(uint32_t n, const float *a, const float *b, float *out)
{
    for (uint32_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* PReLU with optional shifts (RPReLU): t = x + shift_in[c]; u = t >= 0 ? t : t * slope[c]; y = u + shift_out[c]. */
void bnn_prelu_f32(const bnn_prelu_params_t *p, const float *in, float *out)
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

/* Clamp to [lo, hi] (Hardtanh). */
void bnn_clip_f32(uint32_t n, float lo, float hi, const float *in, float *out)
{
    for (uint32_t i = 0; i < n; i++) {
        float v = in[i];
        out[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}
