/* Winograd F(3x3, 4x4) for the rows conv of a stride-2 stem (bnn_qconv2d_rows.c; docs/kernels.md, "Winograd stem").
 *
 * A stride-2 convolution with kernels of at most 8x8 taps is the sum of four stride-1 convolutions, one per input
 * phase (py, px): P_c,py,px[i][j] = x_c[2i + py - pad_top][2j + px - pad_left] (a pad value outside the input) meets
 * the taps (2a + py, 2b + px), a, b < 4, of channel c: 4 * in_c components with 4x4 kernels (zero past the kernel).
 * Each 3x3 tile of outputs is then, in integers,
 *
 *     576 * y = A^T [ sum over components of U ⊙ V ] A,   U = G g G^T (4x4 kernel g), V = B d B^T (6x6 tile d)
 *
 *     G = [6 0 0 0; 4 4 4 4; 4 -4 4 -4; 1 2 4 8; 1 -2 4 -8; 0 0 0 12]
 *     B = [4 0 -5 0 1 0; 0 4 4 -1 -1 0; 0 -4 4 1 -1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *     A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 2]
 *
 * (Toom-Cook at 0, 1, -1, 2, -2 and infinity, B's rows made integers, their denominators moved into G and A, whose
 * common factor is 24 = 576^(1/2)): 36 products per component and tile against 144 for the direct form. With int8
 * weights every U lies in [-32768, 32640] (G's rows sum to at most 16 in magnitude; int16 weights only run here when
 * theirs fit int16 too, ops/shared/winograd.ts), and |d| <= 255 gives
 * |V| <= 100 * 255 = 25500: U and V are int16 and the products go by SMLAD, two components a word. The sums and the
 * output transform may wrap in 32 bits; they are linear, so v = 576 y comes out exact modulo 2^32. v >> 6 is then
 * 9 y modulo 2^26, its product with 9^-1 is y modulo 2^26, and y is that sign-extended from 26 bits, since the
 * generator checks |y - bias| <= 255 * sum |w| < 2^25 for every channel (int8: in_c * kh * kw * 128 * 255 < 2^25).
 * Every path gives the reference's accumulator. */
#include <string.h>

#include "bnn_runtime.h"
#if BNN_ARCH_DSP
#include <arm_acle.h>
#endif

/* A tile: 6x6 phase positions in, 3x3 outputs, 36 points. */
#define BNN_QW_N 6u
#define BNN_QW_XI 36u

/* Two int16 lanes a word: lane 0 (low) component 2j (phase column 0), lane 1 component 2j + 1 (phase column 1), the
 * two neighbouring input columns. Every value of the transform fits int16 (|V| <= 25500), so lane-wise sums are exact. */
#if BNN_ARCH_DSP
#define BNN_QW_ADD(a, b) __sadd16((a), (b))
#define BNN_QW_SUB(a, b) __ssub16((a), (b))
#else
#define BNN_QW_ADD(a, b) ((((a) + (b)) & 0xFFFFu) | (((a) & 0xFFFF0000u) + ((b) & 0xFFFF0000u)))
#define BNN_QW_SUB(a, b) ((((a) - (b)) & 0xFFFFu) | (((a) & 0xFFFF0000u) - ((b) & 0xFFFF0000u)))
#endif

/* r[k * rs] = (B d)[k] lane-wise, d[k * ds] the six words of a tile's row or column. */
static inline void bnn_qw_b6(const uint32_t *d, uint32_t ds, uint32_t *r, uint32_t rs)
{
    const uint32_t d0 = d[0], d1 = d[ds], d2 = d[2u * ds], d3 = d[3u * ds], d4 = d[4u * ds], d5 = d[5u * ds];
    const uint32_t s12 = BNN_QW_ADD(d1, d2), s34 = BNN_QW_ADD(d3, d4), e12 = BNN_QW_SUB(d2, d1), e34 = BNN_QW_SUB(d3, d4);
    const uint32_t f13 = BNN_QW_SUB(d3, d1), f42 = BNN_QW_SUB(d4, d2), f13x2 = BNN_QW_ADD(f13, f13);
    const uint32_t s12x2 = BNN_QW_ADD(s12, s12), e12x2 = BNN_QW_ADD(e12, e12), d02 = BNN_QW_SUB(d0, d2), d02x2 = BNN_QW_ADD(d02, d02);
    r[0] = BNN_QW_ADD(BNN_QW_ADD(d02x2, d02x2), f42);                          /* 4 d0 - 5 d2 + d4 */
    r[rs] = BNN_QW_SUB(BNN_QW_ADD(s12x2, s12x2), s34);                          /* 4 d1 + 4 d2 - d3 - d4 */
    r[2u * rs] = BNN_QW_ADD(BNN_QW_ADD(e12x2, e12x2), e34);                     /* -4 d1 + 4 d2 + d3 - d4 */
    r[3u * rs] = BNN_QW_ADD(f13x2, f42);                                        /* -2 d1 - d2 + 2 d3 + d4 */
    r[4u * rs] = BNN_QW_SUB(f42, f13x2);                                        /* 2 d1 - d2 - 2 d3 + d4 */
    r[5u * rs] = BNN_QW_SUB(BNN_QW_SUB(d5, d3), BNN_QW_ADD(f13x2, f13x2));       /* 4 d1 - 5 d3 + d5 */
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
        const int32_t iy0 = (int32_t)(6u * ty + (j & 1u)) - g->pad_top, ix0 = (int32_t)(6u * tx) - g->pad_left; \
        const IN_T *plane = in + (size_t)c * H * W;                                                             \
        uint32_t d[BNN_QW_XI], t[BNN_QW_XI];                                                                    \
        if (iy0 >= 0 && ix0 >= 0 && iy0 + 10 < (int32_t)H && ix0 + 11 < (int32_t)W) {                           \
            const IN_T *r = plane + (size_t)iy0 * W + (uint32_t)ix0;                                            \
            for (uint32_t u = 0; u < BNN_QW_N; u++, r += 2u * W) {                                              \
                uint32_t *du = d + BNN_QW_N * u;                                                                \
                du[0] = BNN_QW_PAIR_##IN_T(r, zz);                                                              \
                du[1] = BNN_QW_PAIR_##IN_T(r + 2, zz);                                                          \
                du[2] = BNN_QW_PAIR_##IN_T(r + 4, zz);                                                          \
                du[3] = BNN_QW_PAIR_##IN_T(r + 6, zz);                                                          \
                du[4] = BNN_QW_PAIR_##IN_T(r + 8, zz);                                                          \
                du[5] = BNN_QW_PAIR_##IN_T(r + 10, zz);                                                         \
            }                                                                                                   \
        } else {                                                                                                \
            const int32_t pad = p->pad_q != NULL ? p->pad_q[c] - zp : 0;                                        \
            for (uint32_t u = 0; u < BNN_QW_N; u++) {                                                           \
                const int32_t iy = iy0 + 2 * (int32_t)u;                                                        \
                const int row = iy >= 0 && iy < (int32_t)H;                                                     \
                for (uint32_t k = 0; k < 2u * BNN_QW_N; k++) {                                                  \
                    const int32_t ix = ix0 + (int32_t)k;                                                        \
                    const int32_t q = row && ix >= 0 && ix < (int32_t)W ? (int32_t)plane[(size_t)iy * W + (uint32_t)ix] - zp : pad; \
                    if (k & 1u) d[BNN_QW_N * u + k / 2u] |= (uint32_t)q << 16;                                  \
                    else d[BNN_QW_N * u + k / 2u] = (uint16_t)q;                                                \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        for (uint32_t u = 0; u < BNN_QW_N; u++) bnn_qw_b6(d + BNN_QW_N * u, 1u, t + BNN_QW_N * u, 1u); /* rows */ \
        for (uint32_t k = 0; k < BNN_QW_N; k++) bnn_qw_b6(t + k, BNN_QW_N, v + k * vs, BNN_QW_N * vs); /* columns */ \
    }
BNN_QW_GATHER(uint8_t)
BNN_QW_GATHER(int8_t)

/* The two tiles' V, interleaved: v2[(xi * P + py * C + c) * 2 + slot] = components (c, py, 0) low, (c, py, 1) high at
 * point xi of tile `slot` (the generator's pair order, ops/shared/winograd.ts). */
static void bnn_qw_input(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, uint32_t tx, uint32_t slot, uint32_t *v2)
{
    const uint32_t C = p->g.in_c, P = 2u * C;
    for (uint32_t j = 0; j < P; j++) {
        uint32_t *v = v2 + 2u * ((j & 1u) * C + (j >> 1)) + slot;
        if (is_u8) bnn_qw_gather_uint8_t(p, (const uint8_t *)in, j, ty, tx, v, 2u * P);
        else bnn_qw_gather_int8_t(p, (const int8_t *)in, j, ty, tx, v, 2u * P);
    }
}

/* The halved layout (p->wino_half: a 7x7 kernel): at the points of B = 5 only phase column 0 is nonzero in U, so V's
 * pair c becomes (c, 0, 0) low and (c, 1, 0) high, as U's is there (the generator's winogradWeights). */
static void bnn_qw_pack_half(uint32_t C, uint32_t *v2)
{
    const uint32_t P = 2u * C;
    for (uint32_t xi = BNN_QW_N - 1u; xi < BNN_QW_XI; xi += BNN_QW_N)
        for (uint32_t k = 0; k < 2u * C; k++) {
            uint32_t *v = v2 + 2u * xi * P + k; /* pair k / 2 of tile k % 2 */
            v[0] = (v[0] & 0xFFFFu) | (v[2u * C] << 16); /* PKHBT */
        }
}

/* Pairs summed at point xi: all P, or C at the halved points (A = 5 or B = 5). */
static inline uint32_t bnn_qw_pairs(const bnn_qconv2d_rows_params_t *p, uint32_t xi)
{
    const uint32_t C = p->g.in_c;
    return p->wino_half && (xi >= BNN_QW_XI - BNN_QW_N || xi % BNN_QW_N == BNN_QW_N - 1u) ? C : 2u * C;
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
/* The same summing only pairs 0..2 of each point (the halved points, bnn_qw_pairs), their strides unchanged. */
void bnn_qw_gemm3(const bnn_qw_gemm_args_t *a);

/* Thumb-2 assembly (bnn_qconv2d_rows_t2.c) of bnn_qw_out2's two tiles inside the map: for each of `channels` channels
 * o, the outputs of both tiles (M + 72 o) plus bias[o]: output row i of tile t at out0 + o * row_bytes / 4 + 3 t,
 * plus i * row_off bytes. */
typedef struct {
    const int32_t *M, *bias;
    int32_t *out0;
    int32_t row_off; /* bytes from one output row to the next */
    uint32_t row_bytes, channels;
} bnn_qw_out_args_t;
void bnn_qw_out(const bnn_qw_out_args_t *a);
#endif

#if BNN_ARCH_DSP
typedef int32_t bnn_qw_acc_t; /* SMLAD wraps in 32 bits */
#define BNN_QW_MAC(acc, w, x) ((acc) = __smlad((w), (x), (acc)))
#else
typedef uint32_t bnn_qw_acc_t; /* the sums may wrap: unsigned, where that is defined */
#define BNN_QW_MAC(acc, w, x) ((acc) += (uint32_t)((int32_t)(int16_t)((w) & 0xFFFFu) * (int16_t)((x) & 0xFFFFu)) + (uint32_t)((int32_t)(int16_t)((w) >> 16) * (int16_t)((x) >> 16)))
#endif

/* M[(o * 36 + xi) * 2 + slot] = sum over components of U ⊙ V at point xi, for every output channel o and both tiles.
 * U: point-major, wino[xi * O * P + (g * P + j) * 4 + i] = pair j of channel 4g + i (g < O / 4), then the O % 4
 * last channels, wino[xi * O * P + o * P + j]. */
static void bnn_qw_products(const bnn_qconv2d_rows_params_t *p, const uint32_t *v2, int32_t *M)
{
    const uint32_t O = p->g.out_c, P = 2u * p->g.in_c, O4 = O & ~3u, MS = 2u * BNN_QW_XI;
#if BNN_T2_DSP_ASM
    if (p->dual_issue && P == 6u && O4 > 0u) {
        /* Runs of points with as many pairs: all 36, or by rows of the halved layout (5 full, then B = 5; row 5). */
        for (uint32_t xi = 0; xi < BNN_QW_XI;) {
            const uint32_t full = bnn_qw_pairs(p, xi) == P;
            const uint32_t n = !p->wino_half ? BNN_QW_XI : xi == BNN_QW_XI - BNN_QW_N ? BNN_QW_N : full ? BNN_QW_N - 1u : 1u;
            const bnn_qw_gemm_args_t a = { v2 + (size_t)xi * 2u * P, p->wino + (size_t)xi * O * P, M + 2u * xi, O4 / 4u, n, (O - O4) * P * 4u };
            if (full) bnn_qw_gemm(&a);
            else bnn_qw_gemm3(&a);
            xi += n;
        }
    } else
#endif
    for (uint32_t xi = 0; xi < BNN_QW_XI; xi++) {
        const uint32_t *w = p->wino + (size_t)xi * O * P, *const x = v2 + (size_t)xi * 2u * P;
        const uint32_t pairs = bnn_qw_pairs(p, xi);
        for (uint32_t o = 0; o < O4; o += 4u, w += 4u * P) {
            bnn_qw_acc_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            for (uint32_t j = 0; j < pairs; j++) {
                const uint32_t xa = x[2u * j], xb = x[2u * j + 1u];
                const uint32_t *wj = w + 4u * j;
                BNN_QW_MAC(a0, wj[0], xa); BNN_QW_MAC(b0, wj[0], xb);
                BNN_QW_MAC(a1, wj[1], xa); BNN_QW_MAC(b1, wj[1], xb);
                BNN_QW_MAC(a2, wj[2], xa); BNN_QW_MAC(b2, wj[2], xb);
                BNN_QW_MAC(a3, wj[3], xa); BNN_QW_MAC(b3, wj[3], xb);
            }
            int32_t *m = M + (size_t)o * MS + 2u * xi;
            m[0] = (int32_t)a0; m[1] = (int32_t)b0;
            m[MS] = (int32_t)a1; m[MS + 1u] = (int32_t)b1;
            m[2u * MS] = (int32_t)a2; m[2u * MS + 1u] = (int32_t)b2;
            m[3u * MS] = (int32_t)a3; m[3u * MS + 1u] = (int32_t)b3;
        }
    }
    for (uint32_t xi = 0; xi < BNN_QW_XI; xi++) {
        const uint32_t *w = p->wino + (size_t)xi * O * P + (size_t)O4 * P, *const x = v2 + (size_t)xi * 2u * P;
        const uint32_t pairs = bnn_qw_pairs(p, xi);
        for (uint32_t o = O4; o < O; o++, w += P) {
            bnn_qw_acc_t a = 0, b = 0;
            for (uint32_t j = 0; j < pairs; j++) {
                BNN_QW_MAC(a, w[j], x[2u * j]);
                BNN_QW_MAC(b, w[j], x[2u * j + 1u]);
            }
            M[(size_t)o * MS + 2u * xi] = (int32_t)a;
            M[(size_t)o * MS + 2u * xi + 1u] = (int32_t)b;
        }
    }
}

/* y from v = 576 y modulo 2^32 (|y| < 2^25): v >> 6 = 9 y modulo 2^26, times 9^-1, sign-extended from 26 bits. */
static inline int32_t bnn_qw_y(uint32_t v)
{
    const uint32_t t = (v >> 6) * 0x38E38E39u;
    return (int32_t)(t << 6) >> 6;
}

/* The output transform of one channel's tile (its 36 sums m[2 * xi]): 576 * y for the 3x3 outputs, y[3 i + j]. */
static inline void bnn_qw_output(const int32_t *m, uint32_t y[9])
{
    uint32_t r[BNN_QW_N][3];
    for (uint32_t u = 0; u < BNN_QW_N; u++) {
        const uint32_t *s = (const uint32_t *)(const void *)(m + 2u * BNN_QW_N * u);
        const uint32_t s12 = s[2] + s[4], s34 = s[6] + s[8];
        r[u][0] = s[0] + s12 + s34;
        r[u][1] = s[2] - s[4] + 2u * (s[6] - s[8]);
        r[u][2] = s12 + 4u * s34 + 2u * s[10];
    }
    for (uint32_t j = 0; j < 3u; j++) {
        const uint32_t s12 = r[1][j] + r[2][j], s34 = r[3][j] + r[4][j];
        y[j] = r[0][j] + s12 + s34;
        y[3u + j] = r[1][j] - r[2][j] + 2u * (r[3][j] - r[4][j]);
        y[6u + j] = s12 + 4u * s34 + 2u * r[5][j];
    }
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
    if (p->wino_half) bnn_qw_pack_half(p->g.in_c, v2);
}

/* Output transform of `ntiles` tiles (1, 2) from column 3tx on: every channel's outputs, biases added, into the
 * `rows` (1..3) rows acc[0..rows-1]. */
static BNN_QW_STEP void bnn_qw_out2(const bnn_qconv2d_rows_params_t *p, const int32_t *M, uint32_t tx, uint32_t ntiles, uint32_t rows, int32_t *const acc[3])
{
    const uint32_t O = p->g.out_c, OW = p->g.out_w;
#if BNN_T2_DSP_ASM
    if (ntiles == 2u && rows == 3u && 3u * tx + 6u <= OW) {
        const bnn_qw_out_args_t a = { M, p->bias, acc[0] + 3u * tx, (int32_t)((acc[1] - acc[0]) * 4), OW * 4u, O };
        bnn_qw_out(&a);
        return;
    }
#endif
    for (uint32_t o = 0; o < O; o++) {
        const int32_t b = p->bias[o];
        for (uint32_t t = 0; t < ntiles; t++) {
            uint32_t y[9];
            bnn_qw_output(M + (size_t)o * 2u * BNN_QW_XI + t, y);
            const uint32_t x = 3u * (tx + t);
            for (uint32_t i = 0; i < rows; i++)
                for (uint32_t k = 0; k < 3u && x + k < OW; k++) acc[i][(size_t)o * OW + x + k] = bnn_qw_y(y[3u * i + k]) + b;
        }
    }
}

/* Conv output rows 3ty .. 3ty + 2 (those inside the output) with their biases: acc[i][o * out_w + x]. Tiles go two at
 * a time along the row (the last alone when their count is odd: it fills both slots). Scratch: the interleaved V of
 * the two tiles (72 * P words), then M (72 * out_c words). */
void bnn_qconv2d_wino_rows(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, int32_t *const acc[3], int32_t *scratch)
{
    const bnn_window_t *g = &p->g;
    const uint32_t P = 2u * g->in_c, TX = (g->out_w + 2u) / 3u;
    const uint32_t rows = g->out_h - 3u * ty < 3u ? g->out_h - 3u * ty : 3u;
    uint32_t *v2 = (uint32_t *)scratch;
    int32_t *M = scratch + BNN_QW_XI * 2u * P;
    for (uint32_t tx = 0; tx < TX; tx += 2u) {
        const uint32_t txb = tx + 1u < TX ? tx + 1u : tx;
        bnn_qw_in2(p, in, is_u8, ty, tx, txb, v2);
        bnn_qw_products(p, v2, M);
        bnn_qw_out2(p, M, tx, txb != tx ? 2u : 1u, rows, acc);
    }
}
