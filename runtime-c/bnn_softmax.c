/*
 * Softmax and LogSoftmax over a float32 vector. exp and log are the short range-reduced polynomials of the
 * generator's reference (ops/softmax.ts), step for step: each operation rounds to float32 on its own, and no libm is
 * called, because newlib's, emscripten's and the host's expf differ in the last bit (docs/semantics.md §9).
 */
#include <string.h>

#include "bnn_runtime.h"

static float bnn_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* e^x for x <= 0: x = k ln2 + r with ln2 split so k * 0.693359375f is exact, e^r by its degree-7 Taylor polynomial.
 * Below -87 (e^x < 2^-125, and NaN) the result is 0, which keeps 2^k a normal number. */
static float bnn_expf(float x)
{
    if (!(x >= -87.0f)) return 0.0f;
    int32_t k = -(int32_t)(0.5f - x * 1.44269504f);
    float kf = (float)k;
    float r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;
    float p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * bnn_from_bits((uint32_t)(k + 127) << 23);
}

/* log x for a positive normal x: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1). */
static float bnn_logf(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    int32_t e = (int32_t)(u >> 23) - 127;
    float m = bnn_from_bits((u & 0x7fffffu) | 0x3f800000u);
    if (m > 1.41421356f) {
        m = m * 0.5f;
        e += 1;
    }
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float q = 1.11111111e-1f;
    q = q * z + 1.42857143e-1f;
    q = q * z + 2.0e-1f;
    q = q * z + 3.33333333e-1f;
    q = q * z + 1.0f;
    float lm = (s + s) * q;
    float ef = (float)e;
    return ef * 0.693359375f + (ef * -2.12194440e-4f + lm);
}

static float bnn_max_f32(uint32_t n, const float *in)
{
    float m = in[0];
    for (uint32_t i = 1; i < n; i++)
        if (in[i] > m) m = in[i];
    return m;
}

/* y_i = e^(x_i - m) / sum_j e^(x_j - m), the sum taken in order. in == out is allowed. */
void bnn_softmax_f32_f32(uint32_t n, const float *in, float *out)
{
    float m = bnn_max_f32(n, in);
    float s = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float e = bnn_expf(in[i] - m);
        out[i] = e;
        s += e;
    }
    for (uint32_t i = 0; i < n; i++) out[i] = out[i] / s;
}

/* y_i = (x_i - m) - log(sum_j e^(x_j - m)). in == out is allowed. */
void bnn_softmax_f32_f32_log(uint32_t n, const float *in, float *out)
{
    float m = bnn_max_f32(n, in);
    float s = 0.0f;
    for (uint32_t i = 0; i < n; i++) s += bnn_expf(in[i] - m);
    float ls = bnn_logf(s);
    for (uint32_t i = 0; i < n; i++) out[i] = (in[i] - m) - ls;
}
