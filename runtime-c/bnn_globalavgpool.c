/* Global average pooling: the mean of every channel's map, as float32 (docs/semantics.md fixes the order), or of an
 * int8 map as int8 (rounded half up). */
#include "bnn_runtime.h"

/* Mean per channel: acc = +0; acc = acc + v in y, x order; out = acc / (h * w). */
void bnn_globalavgpool_f32_f32(uint16_t c, uint16_t h, uint16_t w, const float *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + in[ch * plane + i];
        out[ch] = acc / (float)plane;
    }
}

void bnn_globalavgpool_s32_f32(uint16_t c, uint16_t h, uint16_t w, const int32_t *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + (float)in[ch * plane + i];
        out[ch] = acc / (float)plane;
    }
}

void bnn_globalavgpool_b1_f32(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, float *out)
{
    uint32_t plane = (uint32_t)h * w;
    uint32_t words = BNN_WORDS(c);
    for (uint32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (uint32_t i = 0; i < plane; i++) acc = acc + (((in[i * words + (ch >> 5)] >> (ch & 31u)) & 1u) ? 1.0f : -1.0f);
        out[ch] = acc / (float)plane;
    }
}

/* int8 -> int8, int16 -> int16: S = the int32 sum of the channel's q; out = floor((2S + n) / (2n)), n = h * w
 * (bnn_mean_s32; the generator keeps n small enough for 2S + n to fit int32). */
#define BNN_DEFINE_GAP(NAME, T)                                                                    \
    void NAME(uint16_t c, uint16_t h, uint16_t w, const T *in, T *out)                             \
    {                                                                                              \
        uint32_t plane = (uint32_t)h * w;                                                          \
        for (uint32_t ch = 0; ch < c; ch++) {                                                      \
            int32_t s = 0;                                                                         \
            for (uint32_t i = 0; i < plane; i++) s += in[ch * plane + i];                          \
            out[ch] = (T)bnn_mean_s32(s, (int32_t)plane);                                          \
        }                                                                                          \
    }
BNN_DEFINE_GAP(bnn_globalavgpool_s8_s8, int8_t)
BNN_DEFINE_GAP(bnn_globalavgpool_s16_s16, int16_t)
