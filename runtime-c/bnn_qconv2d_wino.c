/* Winograd F(2x2, 4x4) for the rows conv of a stride-2 stem (bnn_qconv2d_rows.c; docs/kernels.md, "Winograd stem").
 *
 * A stride-2 convolution with kernels of at most 8x8 taps is the sum of four stride-1 convolutions, one per input
 * phase (py, px): P_c,py,px[i][j] = x_c[2i + py - pad_top][2j + px - pad_left] (a pad value outside the input) meets
 * the taps (2a + py, 2b + px), a, b < 4, of channel c: 4 * in_c components with 4x4 kernels (zero past the kernel).
 * Each 2x2 tile of outputs is then, in integers,
 *
 *     36 * y = A^T [ sum over components of U ⊙ V ] A,   U = G g G^T (4x4 kernel g), V = B d B^T (5x5 tile d)
 *
 *     G = [3 0 0 0; 3 3 3 3; 1 -1 1 -1; -1 -2 -4 -8; 0 0 0 6]     B = [2 -1 -2 1 0; 0 2 1 -1 0; 0 -2 3 -1 0;
 *     A^T = [1 1 1 1 0; 0 1 -1 2 1]                                     0 1 0 -1 0; 0 2 -1 -2 1]
 *
 * (Toom-Cook at 0, 1, -1, 2 and infinity, its denominators moved into G): 25 products per component and tile against
 * 64 for the direct form. The generator makes U (int8 weights: |U| <= 225 * 128 = 28800) and checks
 * 36 * in_c * kh * kw * 128 * 255 < 2^31; |d| <= 255, so |V| <= 36 * 255 = 9180: U and V are int16 and the products
 * go by SMLAD two components a word. The component sums and the output transform may wrap in 32 bits; they are
 * linear, so 36 * y comes out exact modulo 2^32, and since |36 * y| < 2^31 it is exact, and so is y (an exact division
 * by 36: a shift by 2, then the inverse of 9 modulo 2^32). Every path gives the reference's accumulator. */
#include <string.h>

#include "bnn_runtime.h"
#if BNN_ARCH_DSP
#include <arm_acle.h>
#endif

/* The components' int16 pairs of a tile: word j holds components 2j (low) and 2j + 1 (high). */
#define BNN_QW_XI 25u

/* Two int16 lanes a word: lane 0 (low) component 2j (phase column 0), lane 1 component 2j + 1 (phase column 1), the
 * two neighbouring input columns. Every value of the transform fits int16 (|V| <= 9180), so lane-wise sums are exact. */
#if BNN_ARCH_DSP
#define BNN_QW_ADD(a, b) __sadd16((a), (b))
#define BNN_QW_SUB(a, b) __ssub16((a), (b))
#else
#define BNN_QW_ADD(a, b) ((((a) + (b)) & 0xFFFFu) | (((a) & 0xFFFF0000u) + ((b) & 0xFFFF0000u)))
#define BNN_QW_SUB(a, b) ((((a) - (b)) & 0xFFFFu) | (((a) & 0xFFFF0000u) - ((b) & 0xFFFF0000u)))
#endif

/* r[k * rs] = (B d)[k] lane-wise, d[k * ds] the five words of a tile's row or column. */
static inline void bnn_qw_b5(const uint32_t *d, uint32_t ds, uint32_t *r, uint32_t rs)
{
    const uint32_t d0 = d[0], d1 = d[ds], d2 = d[2u * ds], d3 = d[3u * ds], d4 = d[4u * ds];
    const uint32_t e = BNN_QW_SUB(d1, d3), t = BNN_QW_SUB(d0, d2), s = BNN_QW_SUB(d2, d1);
    r[0] = BNN_QW_SUB(BNN_QW_ADD(t, t), e);
    r[rs] = BNN_QW_ADD(BNN_QW_ADD(d1, d2), e);
    r[2u * rs] = BNN_QW_ADD(BNN_QW_ADD(s, BNN_QW_ADD(s, s)), e);
    r[3u * rs] = e;
    r[4u * rs] = BNN_QW_ADD(BNN_QW_SUB(BNN_QW_ADD(e, e), d2), d4);
}

/* The pair of raw values at (iy, ix), (iy, ix + 1) minus the zero point, lanes 0 and 1. */
#if BNN_ARCH_DSP
#define BNN_QW_PAIR_uint8_t(r, zz) (__ssub16(__uxtb16(bnn_qw_h16(r)), (zz)))
#define BNN_QW_PAIR_int8_t(r, zz) (__ssub16(__sxtb16(bnn_qw_h16(r)), (zz)))
/* The two bytes at r, as bytes 0 and 2 of a word (where UXTB16 and SXTB16 take theirs). */
static inline uint32_t bnn_qw_h16(const void *r)
{
    uint16_t h;
    memcpy(&h, r, 2);
    return (uint32_t)h | ((uint32_t)h << 8);
}
#else
#define BNN_QW_PAIR_uint8_t(r, zz) BNN_QW_SUB((uint32_t)(r)[0] | ((uint32_t)(r)[1] << 16), (zz))
#define BNN_QW_PAIR_int8_t(r, zz) BNN_QW_SUB((uint32_t)(uint16_t)(r)[0] | ((uint32_t)(r)[1] << 16), (zz))
#endif

/* V = B d B^T of components 2j, 2j + 1 (channel c = j / 2, phase row py = j % 2, phase columns 0 and 1) for the tile
 * at (ty, tx), into v[xi * vs]: d[u][v] = x_c[iy0 + 2u][ix0 + 2v + px] - zero_point, or the channel's pad value
 * outside the input. */
#define BNN_QW_GATHER(IN_T)                                                                                     \
    static void bnn_qw_gather_##IN_T(const bnn_qconv2d_rows_params_t *p, const IN_T *in, uint32_t j, uint32_t ty, uint32_t tx, uint32_t *v, uint32_t vs) \
    {                                                                                                           \
        const bnn_window_t *g = &p->g;                                                                          \
        const uint32_t c = j >> 1, H = g->in_h, W = g->in_w;                                                    \
        const int32_t zp = p->zero_point;                                                                       \
        const uint32_t zz = (uint32_t)(uint16_t)zp * 0x10001u;                                                  \
        const int32_t iy0 = (int32_t)(4u * ty + (j & 1u)) - g->pad_top, ix0 = (int32_t)(4u * tx) - g->pad_left; \
        const IN_T *plane = in + (size_t)c * H * W;                                                             \
        uint32_t d[BNN_QW_XI], t[BNN_QW_XI];                                                                    \
        if (iy0 >= 0 && ix0 >= 0 && iy0 + 8 < (int32_t)H && ix0 + 9 < (int32_t)W) {                             \
            const IN_T *r = plane + (size_t)iy0 * W + (uint32_t)ix0;                                            \
            for (uint32_t u = 0; u < 5u; u++, r += 2u * W) {                                                    \
                d[5u * u] = BNN_QW_PAIR_##IN_T(r, zz);                                                          \
                d[5u * u + 1u] = BNN_QW_PAIR_##IN_T(r + 2, zz);                                                 \
                d[5u * u + 2u] = BNN_QW_PAIR_##IN_T(r + 4, zz);                                                 \
                d[5u * u + 3u] = BNN_QW_PAIR_##IN_T(r + 6, zz);                                                 \
                d[5u * u + 4u] = BNN_QW_PAIR_##IN_T(r + 8, zz);                                                 \
            }                                                                                                   \
        } else {                                                                                                \
            const int32_t pad = p->pad_q != NULL ? p->pad_q[c] - zp : 0;                                        \
            for (uint32_t u = 0; u < 5u; u++) {                                                                 \
                const int32_t iy = iy0 + 2 * (int32_t)u;                                                        \
                const int row = iy >= 0 && iy < (int32_t)H;                                                     \
                for (uint32_t k = 0; k < 10u; k++) {                                                            \
                    const int32_t ix = ix0 + (int32_t)k;                                                        \
                    const int32_t q = row && ix >= 0 && ix < (int32_t)W ? (int32_t)plane[(size_t)iy * W + (uint32_t)ix] - zp : pad; \
                    if (k & 1u) d[5u * u + k / 2u] |= (uint32_t)q << 16;                                        \
                    else d[5u * u + k / 2u] = (uint16_t)q;                                                      \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        for (uint32_t u = 0; u < 5u; u++) bnn_qw_b5(d + 5u * u, 1u, t + 5u * u, 1u);  /* along rows */          \
        for (uint32_t k = 0; k < 5u; k++) bnn_qw_b5(t + k, 5u, v + k * vs, 5u * vs);  /* along columns */       \
    }
BNN_QW_GATHER(uint8_t)
BNN_QW_GATHER(int8_t)

/* The two tiles' V, interleaved: v2[(xi * P + j) * 2 + slot] = components 2j, 2j + 1 at point xi of tile `slot`. */
static void bnn_qw_input(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, uint32_t tx, uint32_t slot, uint32_t *v2)
{
    const uint32_t P = 2u * p->g.in_c;
    for (uint32_t j = 0; j < P; j++) {
        if (is_u8) bnn_qw_gather_uint8_t(p, (const uint8_t *)in, j, ty, tx, v2 + 2u * j + slot, 2u * P);
        else bnn_qw_gather_int8_t(p, (const int8_t *)in, j, ty, tx, v2 + 2u * j + slot, 2u * P);
    }
}

#if BNN_T2_DSP_ASM
/* Thumb-2 assembly (bnn_qconv2d_rows_t2.c) for three input channels (P = 6) on dual-issue cores: for each of `points`
 * points, M's sums of every group of four channels (bnn_qw_products' first loop); w then skips other_bytes (the
 * O % 4 last channels' weights) to the next point. */
typedef struct {
    const uint32_t *x, *w;
    int32_t *M;
    uint32_t groups, points, other_bytes;
} bnn_qw_gemm_args_t;
void bnn_qw_gemm(const bnn_qw_gemm_args_t *a);
#endif

#if BNN_ARCH_DSP
typedef int32_t bnn_qw_acc_t; /* SMLAD wraps in 32 bits */
#define BNN_QW_MAC(acc, w, x) ((acc) = __smlad((w), (x), (acc)))
#else
typedef uint32_t bnn_qw_acc_t; /* the sums may wrap: unsigned, where that is defined */
#define BNN_QW_MAC(acc, w, x) ((acc) += (uint32_t)((int32_t)(int16_t)((w) & 0xFFFFu) * (int16_t)((x) & 0xFFFFu)) + (uint32_t)((int32_t)(int16_t)((w) >> 16) * (int16_t)((x) >> 16)))
#endif

/* M[(o * 25 + xi) * 2 + slot] = sum over components of U ⊙ V at point xi, for every output channel o and both tiles.
 * U: point-major, wino[xi * O * P + (g * P + j) * 4 + i] = pair j of channel 4g + i (g < O / 4), then the O % 4
 * last channels, wino[xi * O * P + o * P + j]. */
static void bnn_qw_products(const bnn_qconv2d_rows_params_t *p, const uint32_t *v2, int32_t *M)
{
    const uint32_t O = p->g.out_c, P = 2u * p->g.in_c, O4 = O & ~3u;
#if BNN_T2_DSP_ASM
    if (p->dual_issue && P == 6u && O4 > 0u) {
        const bnn_qw_gemm_args_t a = { v2, p->wino, M, O4 / 4u, BNN_QW_XI, (O - O4) * P * 4u };
        bnn_qw_gemm(&a);
    } else
#endif
    for (uint32_t xi = 0; xi < BNN_QW_XI; xi++) {
        const uint32_t *w = p->wino + (size_t)xi * O * P, *const x = v2 + (size_t)xi * 2u * P;
        for (uint32_t o = 0; o < O4; o += 4u, w += 4u * P) {
            bnn_qw_acc_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            for (uint32_t j = 0; j < P; j++) {
                const uint32_t xa = x[2u * j], xb = x[2u * j + 1u];
                const uint32_t *wj = w + 4u * j;
                BNN_QW_MAC(a0, wj[0], xa); BNN_QW_MAC(b0, wj[0], xb);
                BNN_QW_MAC(a1, wj[1], xa); BNN_QW_MAC(b1, wj[1], xb);
                BNN_QW_MAC(a2, wj[2], xa); BNN_QW_MAC(b2, wj[2], xb);
                BNN_QW_MAC(a3, wj[3], xa); BNN_QW_MAC(b3, wj[3], xb);
            }
            int32_t *m = M + (size_t)o * 50u + 2u * xi;
            m[0] = (int32_t)a0; m[1] = (int32_t)b0;
            m[50] = (int32_t)a1; m[51] = (int32_t)b1;
            m[100] = (int32_t)a2; m[101] = (int32_t)b2;
            m[150] = (int32_t)a3; m[151] = (int32_t)b3;
        }
    }
    for (uint32_t xi = 0; xi < BNN_QW_XI; xi++) {
        const uint32_t *w = p->wino + (size_t)xi * O * P + (size_t)O4 * P, *const x = v2 + (size_t)xi * 2u * P;
        for (uint32_t o = O4; o < O; o++, w += P) {
            bnn_qw_acc_t a = 0, b = 0;
            for (uint32_t j = 0; j < P; j++) {
                BNN_QW_MAC(a, w[j], x[2u * j]);
                BNN_QW_MAC(b, w[j], x[2u * j + 1u]);
            }
            M[(size_t)o * 50u + 2u * xi] = (int32_t)a;
            M[(size_t)o * 50u + 2u * xi + 1u] = (int32_t)b;
        }
    }
}

/* y = 36 * y / 36 when 36 * y (|36 * y| < 2^31) is exact: 4 * (9 * y) shifted by 2, then times 9^-1 modulo 2^32. */
static inline int32_t bnn_qw_div36(uint32_t z)
{
    return (int32_t)((uint32_t)((int32_t)z >> 2) * 0x38E38E39u);
}

/* The output transform of one channel's tile (its 25 sums m[2 * xi]): 36 * y for the 2x2 outputs, y[i * 2 + j]. */
static inline void bnn_qw_output(const int32_t *m, uint32_t y[4])
{
    uint32_t r0[5], r1[5];
    for (uint32_t u = 0; u < 5u; u++) {
        const uint32_t *s = (const uint32_t *)(const void *)(m + 10u * u);
        r0[u] = s[0] + s[2] + s[4] + s[6];
        r1[u] = s[2] - s[4] + 2u * s[6] + s[8];
    }
    y[0] = r0[0] + r0[1] + r0[2] + r0[3];
    y[1] = r1[0] + r1[1] + r1[2] + r1[3];
    y[2] = r0[1] - r0[2] + 2u * r0[3] + r0[4];
    y[3] = r1[1] - r1[2] + 2u * r1[3] + r1[4];
}

/* Profiling builds (-DBNN_QW_PROF) keep the steps apart, so that the bench's icount markers can split them. */
#ifdef BNN_QW_PROF
#define BNN_QW_STEP __attribute__((noinline))
#else
#define BNN_QW_STEP
#endif

/* Input transform of the tile pair at (ty, tx), (ty, txb): their interleaved V. */
static BNN_QW_STEP void bnn_qw_in2(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, uint32_t tx, uint32_t txb, uint32_t *v2)
{
    bnn_qw_input(p, in, is_u8, ty, tx, 0u, v2);
    bnn_qw_input(p, in, is_u8, ty, txb, 1u, v2);
}

/* Output transform of `ntiles` tiles (1, 2) from column 2tx on: every channel's outputs, biases added, into the two
 * rows (the second when two_rows). */
static BNN_QW_STEP void bnn_qw_out2(const bnn_qconv2d_rows_params_t *p, const int32_t *M, uint32_t tx, uint32_t ntiles, int two_rows, int32_t *acc0, int32_t *acc1)
{
    const uint32_t O = p->g.out_c, OW = p->g.out_w;
    if (ntiles == 2u && two_rows && 2u * tx + 4u <= OW) {
        /* Both tiles inside: each row of the two tiles' sums (side by side in M) transformed together. */
        for (uint32_t o = 0; o < O; o++) {
            const int32_t b = p->bias[o];
            const uint32_t *m = (const uint32_t *)(const void *)(M + (size_t)o * 50u);
            uint32_t a0[5], a1[5], b0[5], b1[5];
            for (uint32_t u = 0; u < 5u; u++, m += 10) {
                a0[u] = m[0] + m[2] + m[4] + m[6];
                a1[u] = m[2] - m[4] + 2u * m[6] + m[8];
                b0[u] = m[1] + m[3] + m[5] + m[7];
                b1[u] = m[3] - m[5] + 2u * m[7] + m[9];
            }
            int32_t *r0 = acc0 + (size_t)o * OW + 2u * tx, *r1 = acc1 + (size_t)o * OW + 2u * tx;
            r0[0] = bnn_qw_div36(a0[0] + a0[1] + a0[2] + a0[3]) + b;
            r0[1] = bnn_qw_div36(a1[0] + a1[1] + a1[2] + a1[3]) + b;
            r0[2] = bnn_qw_div36(b0[0] + b0[1] + b0[2] + b0[3]) + b;
            r0[3] = bnn_qw_div36(b1[0] + b1[1] + b1[2] + b1[3]) + b;
            r1[0] = bnn_qw_div36(a0[1] - a0[2] + 2u * a0[3] + a0[4]) + b;
            r1[1] = bnn_qw_div36(a1[1] - a1[2] + 2u * a1[3] + a1[4]) + b;
            r1[2] = bnn_qw_div36(b0[1] - b0[2] + 2u * b0[3] + b0[4]) + b;
            r1[3] = bnn_qw_div36(b1[1] - b1[2] + 2u * b1[3] + b1[4]) + b;
        }
        return;
    }
    for (uint32_t o = 0; o < O; o++) {
        const int32_t b = p->bias[o];
        int32_t *r0 = acc0 + (size_t)o * OW, *r1 = acc1 + (size_t)o * OW;
        for (uint32_t t = 0; t < ntiles; t++) {
            uint32_t y[4];
            bnn_qw_output(M + (size_t)o * 50u + t, y);
            const uint32_t x = 2u * (tx + t);
            r0[x] = bnn_qw_div36(y[0]) + b;
            if (x + 1u < OW) r0[x + 1u] = bnn_qw_div36(y[1]) + b;
            if (two_rows) {
                r1[x] = bnn_qw_div36(y[2]) + b;
                if (x + 1u < OW) r1[x + 1u] = bnn_qw_div36(y[3]) + b;
            }
        }
    }
}

/* Conv output rows 2ty and 2ty + 1 (the second when inside the output) with their biases: acc0[o * out_w + x] and
 * acc1[o * out_w + x]. Tiles go two at a time along the row (the last alone when their count is odd: it fills both
 * slots). Scratch: the interleaved V of the two tiles (50 * P words), then M (50 * out_c words). */
void bnn_qconv2d_wino_rows(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, int32_t *acc0, int32_t *acc1, int32_t *scratch)
{
    const bnn_window_t *g = &p->g;
    const uint32_t P = 2u * g->in_c, TX = (g->out_w + 1u) / 2u;
    const int two_rows = 2u * ty + 1u < g->out_h;
    uint32_t *v2 = (uint32_t *)scratch;
    int32_t *M = scratch + BNN_QW_XI * 2u * P;
    for (uint32_t tx = 0; tx < TX; tx += 2u) {
        const uint32_t txb = tx + 1u < TX ? tx + 1u : tx;
        bnn_qw_in2(p, in, is_u8, ty, tx, txb, v2);
        bnn_qw_products(p, v2, M);
        bnn_qw_out2(p, M, tx, txb != tx ? 2u : 1u, two_rows, acc0, acc1);
    }
}
