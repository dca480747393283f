/* Clamp of real values (Hardtanh). */
#include "bnn_runtime.h"

/* Clamp to [lo, hi] (Hardtanh). */
void bnn_clip_f32_f32(uint32_t n, float lo, float hi, const float *in, float *out)
{
    for (uint32_t i = 0; i < n; i++) {
        float v = in[i];
        out[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}
