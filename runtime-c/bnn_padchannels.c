/* Zero channels around a planar f32 map (ResNet's option-A shortcut). */
#include "bnn_runtime.h"

void bnn_padchannels_f32_f32(const bnn_padchannels_params_t *p, const float *in, float *out)
{
    uint32_t lead = (uint32_t)p->before * p->hw, body = (uint32_t)p->c * p->hw, tail = (uint32_t)p->after * p->hw;
    for (uint32_t i = 0; i < lead; i++) out[i] = 0.0f;
    for (uint32_t i = 0; i < body; i++) out[lead + i] = in[i];
    for (uint32_t i = 0; i < tail; i++) out[lead + body + i] = 0.0f;
}
