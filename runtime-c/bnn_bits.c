/* Bit-matrix helpers shared by kernels (see bnn_runtime.h). */
#include "bnn_runtime.h"

/* In-place transpose of a 32x32 bit matrix: bit k of A[i] <-> bit i of A[k], in five stages of 16 swaps of j-bit
 * blocks (j = 16, 8, 4, 2, 1). */
#define BNN_SWAP(a, b, j, m) do { const uint32_t t_ = (((a) >> (j)) ^ (b)) & (m); (a) ^= t_ << (j); (b) ^= t_; } while (0)
/* In registers: stages 16 and 8 on the four words k, k + 8, k + 16, k + 24; then stages 4, 2, 1 on eight
 * consecutive words (about 5 instructions a swap instead of 8 through memory). */
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
