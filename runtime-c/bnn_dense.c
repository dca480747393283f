/* Real-valued fully connected, float32: acc = +0; acc = acc + w * x for k = 0..K-1; out = acc + bias.
 * On a b1 input the product is +w or -w exactly. */
#include "bnn_runtime.h"

void bnn_dense_f32_f32(const bnn_dense_params_t *p, const float *in, float *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const float *w = p->weights + (size_t)n * p->in_n;
        float acc = 0.0f;
        for (uint32_t k = 0; k < p->in_n; k++) {
            float prod = w[k] * in[k];
            acc = acc + prod;
        }
        out[n] = acc + p->bias[n];
    }
}

void bnn_dense_b1_f32(const bnn_dense_params_t *p, const uint32_t *in, float *out)
{
    for (uint32_t n = 0; n < p->out_n; n++) {
        const float *w = p->weights + (size_t)n * p->in_n;
        float acc = 0.0f;
        for (uint32_t k = 0; k < p->in_n; k++) {
            float v = ((in[k >> 5] >> (k & 31u)) & 1u) ? w[k] : -w[k];
            acc = acc + v;
        }
        out[n] = acc + p->bias[n];
    }
}

/* bnn_dense_b1_f32 with each term an add (bit 1: +w) or a subtract (bit 0: acc - w, which IEEE 754 defines as
 * acc + (-w): the same float), in the same order k = 0..K-1. */
#if BNN_T2_FP_ASM
/* Thumb-2 + FPU: 32 terms per input word, acc in s0, the word's weights in two VLDMs of 16 (s16-s31). LSLS by
 * 31 - 2i puts bit 2i in N and bit 2i + 1 in C; each term is then an IT pair VADD/VSUB (either instruction counts as
 * executed): 3.5 instructions a term. acc is read from and written back to *acc; nwords >= 1. */
void bnn_dense_addsub_t2(const float *w, const uint32_t *in, uint32_t nwords, float *acc);
#define BNN_AS_PAIR(sh, a, b) "lsls r4, r12, #" #sh "\n\t" \
    "ite mi\n\tvaddmi.f32 s0, s0, " a "\n\tvsubpl.f32 s0, s0, " a "\n\t" \
    "ite cs\n\tvaddcs.f32 s0, s0, " b "\n\tvsubcc.f32 s0, s0, " b "\n\t"
#define BNN_AS_HALF(s0_, s1_, s2_, s3_, s4_, s5_, s6_, s7_) \
    BNN_AS_PAIR(s0_, "s16", "s17") BNN_AS_PAIR(s1_, "s18", "s19") BNN_AS_PAIR(s2_, "s20", "s21") BNN_AS_PAIR(s3_, "s22", "s23") \
    BNN_AS_PAIR(s4_, "s24", "s25") BNN_AS_PAIR(s5_, "s26", "s27") BNN_AS_PAIR(s6_, "s28", "s29") BNN_AS_PAIR(s7_, "s30", "s31")
__asm__(
    "\t.pushsection .text.bnn_dense_addsub_t2,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_dense_addsub_t2\n\t.type bnn_dense_addsub_t2, %function\n\t.thumb_func\n"
    "bnn_dense_addsub_t2:\n\t"
    "push {r4, lr}\n\t"
    "vpush {s16-s31}\n\t"
    "vldr s0, [r3]\n"
    "1:\n\t"
    "ldr r12, [r1], #4\n\t"
    "vldmia r0!, {s16-s31}\n\t"
    BNN_AS_HALF(31, 29, 27, 25, 23, 21, 19, 17)
    "vldmia r0!, {s16-s31}\n\t"
    BNN_AS_HALF(15, 13, 11, 9, 7, 5, 3, 1)
    "subs r2, r2, #1\n\t"
    "bne 1b\n\t"
    "vstr s0, [r3]\n\t"
    "vpop {s16-s31}\n\t"
    "pop {r4, pc}\n\t"
    ".size bnn_dense_addsub_t2, .-bnn_dense_addsub_t2\n\t"
    ".popsection\n");
#endif

void bnn_dense_b1_f32_addsub(const bnn_dense_params_t *p, const uint32_t *in, float *out)
{
    const uint32_t K = p->in_n, full = K >> 5;
    for (uint32_t n = 0; n < p->out_n; n++) {
        const float *w = p->weights + (size_t)n * K;
        float acc = 0.0f;
#if BNN_T2_FP_ASM
        if (full) bnn_dense_addsub_t2(w, in, full, &acc);
#else
        for (uint32_t j = 0; j < full; j++) {
            uint32_t b = in[j];
            const float *wj = w + 32u * j;
            for (uint32_t t = 0; t < 32u; t++, b >>= 1) acc = (b & 1u) ? acc + wj[t] : acc - wj[t];
        }
#endif
        for (uint32_t k = full * 32u; k < K; k++) acc = ((in[k >> 5] >> (k & 31u)) & 1u) ? acc + w[k] : acc - w[k];
        out[n] = acc + p->bias[n];
    }
}
