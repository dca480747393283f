/* Bit-matrix helpers shared by kernels (see bnn_runtime.h). */
#include "bnn_runtime.h"

#if BNN_MVE
#include <arm_mve.h>
#endif

/* In-place transpose of a 32x32 bit matrix: bit k of A[i] <-> bit i of A[k], in five stages of 16 swaps of j-bit
 * blocks (j = 16, 8, 4, 2, 1). */
#define BNN_SWAP(a, b, j, m) do { const uint32_t t_ = (((a) >> (j)) ^ (b)) & (m); (a) ^= t_ << (j); (b) ^= t_; } while (0)
/* In registers: stages 16 and 8 on the four words k, k + 8, k + 16, k + 24; then stages 4, 2, 1 on eight
 * consecutive words (about 5 instructions a swap instead of 8 through memory). */
#if BNN_MVE
/* Helium: four words a vector. Stages 16 and 8 on words k, k + 8, k + 16, k + 24 (k = 0..3, then 4..7), stage 4 on
 * words k..k+3 against k+4..k+7, stages 2 and 1 on the words de-interleaved by four (VLD4: word 4i + r in lane i of
 * vector r). */
#define BNN_VSWAP(a, b, j, m) do { const uint32x4_t t_ = vandq_u32(veorq_u32(vshrq_n_u32((a), (j)), (b)), (m)); \
        (a) = veorq_u32((a), vshlq_n_u32(t_, (j))); (b) = veorq_u32((b), t_); } while (0)
void bnn_transpose32(uint32_t *A)
{
    const uint32x4_t m16 = vdupq_n_u32(0x0000FFFFu), m8 = vdupq_n_u32(0x00FF00FFu), m4 = vdupq_n_u32(0x0F0F0F0Fu);
    const uint32x4_t m2 = vdupq_n_u32(0x33333333u), m1 = vdupq_n_u32(0x55555555u);
    for (uint32_t k = 0; k < 8u; k += 4u) {
        uint32x4_t a = vld1q_u32(A + k), b = vld1q_u32(A + k + 8u), c = vld1q_u32(A + k + 16u), d = vld1q_u32(A + k + 24u);
        BNN_VSWAP(a, c, 16, m16); BNN_VSWAP(b, d, 16, m16);
        BNN_VSWAP(a, b, 8, m8); BNN_VSWAP(c, d, 8, m8);
        vst1q_u32(A + k, a); vst1q_u32(A + k + 8u, b); vst1q_u32(A + k + 16u, c); vst1q_u32(A + k + 24u, d);
    }
    for (uint32_t k = 0; k < 32u; k += 8u) {
        uint32x4_t a = vld1q_u32(A + k), b = vld1q_u32(A + k + 4u);
        BNN_VSWAP(a, b, 4, m4);
        vst1q_u32(A + k, a); vst1q_u32(A + k + 4u, b);
    }
    for (uint32_t k = 0; k < 32u; k += 16u) {
        uint32x4x4_t v = vld4q_u32(A + k);
        BNN_VSWAP(v.val[0], v.val[2], 2, m2); BNN_VSWAP(v.val[1], v.val[3], 2, m2);
        BNN_VSWAP(v.val[0], v.val[1], 1, m1); BNN_VSWAP(v.val[2], v.val[3], 1, m1);
        vst4q_u32(A + k, v);
    }
}
#else
void bnn_transpose32(uint32_t *A)
{
    for (uint32_t k = 0; k < 8u; k++) {
        uint32_t a = A[k], b = A[k + 8u], c = A[k + 16u], d = A[k + 24u];
        BNN_SWAP(a, c, 16u, 0x0000FFFFu); BNN_SWAP(b, d, 16u, 0x0000FFFFu);
        BNN_SWAP(a, b, 8u, 0x00FF00FFu); BNN_SWAP(c, d, 8u, 0x00FF00FFu);
        A[k] = a; A[k + 8u] = b; A[k + 16u] = c; A[k + 24u] = d;
    }
    for (uint32_t k = 0; k < 32u; k += 8u) {
        uint32_t a0 = A[k], a1 = A[k + 1u], a2 = A[k + 2u], a3 = A[k + 3u];
        uint32_t a4 = A[k + 4u], a5 = A[k + 5u], a6 = A[k + 6u], a7 = A[k + 7u];
        BNN_SWAP(a0, a4, 4u, 0x0F0F0F0Fu); BNN_SWAP(a1, a5, 4u, 0x0F0F0F0Fu);
        BNN_SWAP(a2, a6, 4u, 0x0F0F0F0Fu); BNN_SWAP(a3, a7, 4u, 0x0F0F0F0Fu);
        BNN_SWAP(a0, a2, 2u, 0x33333333u); BNN_SWAP(a1, a3, 2u, 0x33333333u);
        BNN_SWAP(a4, a6, 2u, 0x33333333u); BNN_SWAP(a5, a7, 2u, 0x33333333u);
        BNN_SWAP(a0, a1, 1u, 0x55555555u); BNN_SWAP(a2, a3, 1u, 0x55555555u);
        BNN_SWAP(a4, a5, 1u, 0x55555555u); BNN_SWAP(a6, a7, 1u, 0x55555555u);
        A[k] = a0; A[k + 1u] = a1; A[k + 2u] = a2; A[k + 3u] = a3;
        A[k + 4u] = a4; A[k + 5u] = a5; A[k + 6u] = a6; A[k + 7u] = a7;
    }
}
#endif
