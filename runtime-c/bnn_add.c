/* Element-wise sum of two real tensors (residual connections). */
#include "bnn_runtime.h"

/* Residual sum: out = a + b, rounded to float32. out may alias a or b (same index is read before written). */
void bnn_add_f32_f32(uint32_t n, const float *a, const float *b, float *out)
{
    for (uint32_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}
