/* Binary 3x3 convolution, stride 1, "same" padding (1 on each side), codebook weights, b1 output, maps up to 32
 * wide: sliced across 32 spatial positions (see docs/kernels.md).
 *
 * A unit is rows_per_unit whole output rows (<= 32 positions); bit b of a unit word is position
 * (oy0 + b / W, b % W). The input is transposed once into bit rows (one word per input row and channel, with a zero
 * row above and below). For a unit and an input channel c, each tap (ky, kx) becomes a plane P (input bit +1) and
 * N (input bit -1, only where the tap is inside the map), so a codeword's tap matches are P or N. The three taps of
 * a kernel row give a count for each of the 8 row patterns, and each of the n codewords adds its three rows' counts
 * (0..9 matches per position). These counts are shared by all output channels; each (o, c) pair adds the count of
 * its codeword:
 *   mode 0 (bit planes): counts as 4 bit planes, added into a 7-bit ripple accumulator per group of 8 channels
 *     (widths growing with the group), each group into a (K+1)-bit accumulator;
 *   mode 1 (byte lanes): counts as 8 words of byte lanes, added with 8 ADDs, folded into 16-bit lanes every 24
 *     channels (K = 15).
 *
 * Threshold: acc = 2 * matches - nvalid * C. The generator turns (T, flip) into a start value 2^K - M so that the
 * output is bit K of start + E(position) + matches, where E folds the padded taps of border positions:
 * with D = (9 - nvalid) * C, E = D / 2 (+ D % 2 when the threshold value X = T' + 9C is odd). flip: T' = T + 1 and
 * the bit is inverted. */
#include "bnn_bconv2d_slice.h"
#if BNN_MVE
#include <arm_mve.h>
#endif

#ifdef BNN_SLICE_PROF
#define SL_PROF_DEFINE(name) void name(void); __attribute__((noinline, noipa, used)) void name(void) { __asm__ volatile ("" ::: "memory"); }
SL_PROF_DEFINE(bnn_sp_transpose)
SL_PROF_DEFINE(bnn_sp_unit)
SL_PROF_DEFINE(bnn_sp_shared)
SL_PROF_DEFINE(bnn_sp_outputs)
SL_PROF_DEFINE(bnn_sp_otrans)
#define SL_PROF(name) name()
#else
#define SL_PROF(name) ((void)0)
#endif

/* Full adder on planes: a += x with carry c (a, c updated). */
#define SL_FA(a, x, c) do { uint32_t t_ = (a) ^ (x); uint32_t n_ = (a) ^ ((((a) ^ (c))) & t_); (a) = t_ ^ (c); (c) = n_; } while (0)
#define SL_HA(a, x, c) do { (c) = (a) & (x); (a) ^= (x); } while (0)

/* Add 4 planes x0..x3 into a0..a3 with carry out c. */
#define SL_ADD4(c) do { SL_HA(a0, x0, c); SL_FA(a1, x1, c); SL_FA(a2, x2, c); SL_FA(a3, x3, c); } while (0)

/* A compiler barrier between channels keeps GCC from hoisting the next channels' loads (and spilling them). */
#if BNN_GNUC
#define SL_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define SL_BARRIER() ((void)0)
#endif

#define SL_IDX(i) (IB == 4u ? (w0 >> (4u * (i))) & 15u : (((i) < 4u ? w0 : w1) >> (8u * ((i) & 3u))) & 0xFFu)
#define SL_LOAD(i) do { SL_BARRIER(); const uint32_t *q_ = cwp + (SL_IDX(i) << 2); x0 = q_[(i) * (NW)]; x1 = q_[(i) * (NW) + 1u]; x2 = q_[(i) * (NW) + 2u]; x3 = q_[(i) * (NW) + 3u]; } while (0)

/* Add a value of nplanes planes (a[0..nplanes-1]) into the (K+1)-plane accumulator L. */
static inline void bnn_slice_flush(uint32_t *L, const uint32_t *a, uint32_t nplanes, uint32_t K)
{
    uint32_t c = 0, j;
    for (j = 0; j < nplanes; j++) {
        uint32_t l = L[j], x = a[j];
        uint32_t t = l ^ x;
        L[j] = t ^ c;
        c = l ^ ((l ^ c) & t);
    }
    for (; j <= K && c != 0u; j++) {
        uint32_t l = L[j];
        L[j] = l ^ c;
        c &= l;
    }
}

/* All output channels of one unit and one batch of nb input channels (count planes in cw, [nb][NW words]). */
static inline __attribute__((always_inline)) void bnn_slice_outputs(const bnn_bconv2d_slice_params_t *p, const uint32_t *cw,
    uint32_t c0, uint32_t nb, uint32_t first, uint32_t last, uint32_t *Lstore, uint32_t *Lone, uint32_t *obits, const uint32_t E[2][17],
    uint32_t eflag, uint32_t unit_mask, uint32_t *pend, uint32_t o0, uint32_t o1, const uint32_t NW, const uint32_t IB)
{
    const uint32_t C = p->g.in_c, K = p->acc_bits;
    const uint32_t row_words = (C * IB + 31u) >> 5;
    const uint32_t ngroups = nb >> 3;
    for (uint32_t o = o0; o < o1; o++) {
        uint32_t *L = Lstore ? Lstore + (o - o0) * (K + 1u) : Lone;
        const uint32_t sv = p->start[o];
        if (first) {
            const uint32_t iv = sv & 0xFFFFFFu;
            if (!eflag) {
                for (uint32_t j = 0; j <= K; j++) L[j] = 0u - ((iv >> j) & 1u);
            } else {
                const uint32_t *e = E[(sv >> 24) & 1u];
                uint32_t cy = 0;
                for (uint32_t j = 0; j <= K; j++) {
                    uint32_t m = 0u - ((iv >> j) & 1u), ej = e[j];
                    L[j] = ej ^ cy ^ m;
                    cy = (ej & cy) | ((ej | cy) & m);
                }
            }
        }
        const uint32_t *idx = p->indices + (size_t)o * row_words + ((c0 * IB) >> 5);
        const uint32_t *cwp = cw;
        uint32_t *pe = pend;
        for (uint32_t gi = 0; gi < ngroups; gi++, cwp += 8u * NW) {
            uint32_t w0 = idx[0], w1 = IB == 4u ? 0u : idx[1];
            idx += IB == 4u ? 1u : 2u;
            uint32_t a0, a1, a2, a3, a4, a5, a6, x0, x1, x2, x3, c;
            SL_LOAD(0);
            a0 = x0; a1 = x1; a2 = x2; a3 = x3;
            SL_LOAD(1); SL_ADD4(c); a4 = c;                                  /* <= 18 */
            SL_LOAD(2); SL_ADD4(c); a4 ^= c;                                 /* <= 27 */
            SL_LOAD(3); SL_ADD4(c); SL_HA(a4, c, a5);                        /* <= 36 */
            SL_LOAD(4); SL_ADD4(c); { uint32_t d; SL_HA(a4, c, d); a5 ^= d; } /* <= 45 */
            SL_LOAD(5); SL_ADD4(c); { uint32_t d; SL_HA(a4, c, d); a5 ^= d; } /* <= 54 */
            SL_LOAD(6); SL_ADD4(c); { uint32_t d; SL_HA(a4, c, d); a5 ^= d; } /* <= 63 */
            SL_LOAD(7); SL_ADD4(c); { uint32_t d; SL_HA(a4, c, d); SL_HA(a5, d, a6); } /* <= 72 */
            SL_BARRIER();
            /* Group sum into L[0..6]; the carry out of plane 6 (weight 128) is kept for the end. */
            {
                uint32_t l;
                l = L[0]; L[0] = l ^ a0; c = l & a0;
                l = L[1]; SL_FA(l, a1, c); L[1] = l;
                l = L[2]; SL_FA(l, a2, c); L[2] = l;
                l = L[3]; SL_FA(l, a3, c); L[3] = l;
                l = L[4]; SL_FA(l, a4, c); L[4] = l;
                l = L[5]; SL_FA(l, a5, c); L[5] = l;
                l = L[6]; SL_FA(l, a6, c); L[6] = l;
                *pe++ = c;
            }
        }
        /* Pending carries (weight 128) into L[7..K]: pairs through a full adder first. */
        {
            const uint32_t np = (uint32_t)(pe - pend);
            uint32_t i = 0;
            for (; i + 1u < np; i += 2u) {
                uint32_t l = L[7], c = pend[i], x = pend[i + 1u];
                SL_FA(l, x, c);
                L[7] = l;
                for (uint32_t j = 8; j <= K && c != 0u; j++) { l = L[j]; L[j] = l ^ c; c &= l; }
            }
            if (i < np) { uint32_t c = pend[i]; for (uint32_t j = 7; j <= K && c != 0u; j++) { uint32_t l = L[j]; L[j] = l ^ c; c &= l; } }
        }
        /* Channels past the last whole group, one at a time. */
        for (uint32_t cl = ngroups * 8u; cl < nb; cl++) {
            const uint32_t cc = c0 + cl;
            const uint32_t k = (p->indices[(size_t)o * row_words + ((cc * IB) >> 5)] >> ((cc * IB) & 31u)) & ((1u << IB) - 1u);
            bnn_slice_flush(L, cw + cl * NW + k * 4u, 4u, K);
        }
        if (last) obits[o] = (L[K] ^ (0u - ((sv >> 25) & 1u))) & unit_mask;
    }
}



/* Byte-lane accumulation (mode 1). Count words: [channel group of 8][codeword][channel in group][8 words]; word word j = 2w + part, byte B = matches at unit
 * position 8B + 4 part + w. 16-bit accumulator word hj = 2j + half, halfword H: position 16H + 8 half + 4 part + w;
 * it starts at 2^15 - M + E, so the output is bit 15 of each halfword, gathered to bit hj + 16H of obits. */
#define SL_LO8 0x00FF00FFu
#if BNN_GNUC && BNN_ARCH_DSP
/* DSP extension (M4, M7, M33, M55): UXTAB16 adds bytes 0 and 2 (or, rotated, 1 and 3) to two 16-bit lanes. */
#define SL_FOLD1(j, a) do { uint32_t u_ = h[2u * (j)], v_ = h[2u * (j) + 1u]; \
        __asm__("uxtab16 %0, %0, %1" : "+r"(u_) : "r"(a)); __asm__("uxtab16 %0, %0, %1, ror #8" : "+r"(v_) : "r"(a)); \
        h[2u * (j)] = u_; h[2u * (j) + 1u] = v_; } while (0)
#else
#define SL_FOLD1(j, a) do { h[2u * (j)] += (a) & SL_LO8; h[2u * (j) + 1u] += ((a) >> 8) & SL_LO8; } while (0)
#endif
#define SL_FOLD() do { \
        SL_FOLD1(0, a0); SL_FOLD1(1, a1); SL_FOLD1(2, a2); SL_FOLD1(3, a3); \
        SL_FOLD1(4, a4); SL_FOLD1(5, a5); SL_FOLD1(6, a6); SL_FOLD1(7, a7); \
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0u; } while (0)
/* The asm paths need optimisation: LDRD's offset must fold to a constant ("i"), and eight pinned registers do not
 * fit an unoptimised frame. Unoptimised builds (CMake's default build type, debug builds) take the C path. */
#if BNN_GNUC && BNN_ARCH_THUMB2 && BNN_OPTIMIZED
/* Thumb-2: two LDRDs per half (GCC splits them into single loads). The "m" operand orders them after the stores. */
#define SL_LDRD(q, off, x, y) __asm__("ldrd %0, %1, [%2, %3]" : "=r"(x), "=r"(y) : "r"(q), "i"(off), "m"(*(const uint32_t (*)[2])(const void *)((q) + (off) / 4)))
#define SL_LADDO(q, i) do { uint32_t t0_, t1_; \
        SL_LDRD(q, 32 * (i), t0_, t1_); a0 += t0_; a1 += t1_; SL_LDRD(q, 32 * (i) + 8, t0_, t1_); a2 += t0_; a3 += t1_; \
        SL_LDRD(q, 32 * (i) + 16, t0_, t1_); a4 += t0_; a5 += t1_; SL_LDRD(q, 32 * (i) + 24, t0_, t1_); a6 += t0_; a7 += t1_; } while (0)
#define SL_LADD(q) SL_LADDO(q, 0)
#else
#define SL_LADDO(q, i) SL_LADD((q) + 8u * (i))
#define SL_LADD(q) do { a0 += (q)[0]; a1 += (q)[1]; a2 += (q)[2]; a3 += (q)[3]; a4 += (q)[4]; a5 += (q)[5]; a6 += (q)[6]; a7 += (q)[7]; } while (0)
#endif
/* Pin the 8 accumulators at each channel so GCC adds as it loads instead of hoisting loads and spilling them. */
#if BNN_GNUC && BNN_OPTIMIZED
#define SL_KEEP8() __asm__ __volatile__("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6), "+r"(a7))
#else
#define SL_KEEP8() ((void)0)
#endif
#define SL_LCH(i) do { SL_KEEP8(); const uint32_t *q_ = cwp + (SL_IDX(i) << 6); SL_LADDO(q_, i); } while (0)

/* The three tap planes of one kernel row ky for a unit: P = input +1 and N = input -1 at tap kx = 0, 1, 2 (bit = output
 * position). Zero padding leaves both clear outside the map; a +-1 pad value counts as that activation. `rc` points at
 * the unit's first input row for this ky (rows above/below the map are zero words). */
static inline __attribute__((always_inline)) void bnn_slice_taps(const uint32_t *rc, uint32_t nr, uint32_t W, uint32_t cm0,
    uint32_t unit_mask, uint32_t cm2, const uint32_t *v, int32_t pad_value,
    uint32_t *P0, uint32_t *P1, uint32_t *P2, uint32_t *N0, uint32_t *N1, uint32_t *N2)
{
    uint32_t U = rc[0];
    for (uint32_t r = 1; r < nr; r++) U |= rc[r] << (r * W);
    uint32_t p0 = (U << 1) & cm0, p1 = U & unit_mask, p2 = (U >> 1) & cm2;
    if (pad_value == 0) {
        *N0 = v[0] & ~p0; *N1 = v[1] & ~p1; *N2 = v[2] & ~p2;
    } else {
        if (pad_value > 0) { p0 |= unit_mask & ~v[0]; p1 |= unit_mask & ~v[1]; p2 |= unit_mask & ~v[2]; }
        *N0 = unit_mask & ~p0; *N1 = unit_mask & ~p1; *N2 = unit_mask & ~p2;
    }
    *P0 = p0; *P1 = p1; *P2 = p2;
}

#if BNN_T2_DSP_ASM
/* Tap planes of kernel rows from..2 of a unit for bnn_sl_rows_lanes: taps[6 ky ..] = P0, N0, P1, N1, P2, N2. */
static inline __attribute__((always_inline)) void bnn_slice_unit_taps(uint32_t *taps, const uint32_t *rc, uint32_t from,
    uint32_t nr, uint32_t W, uint32_t cm0, uint32_t unit_mask, uint32_t cm2, const uint32_t *valid, int32_t pad_value)
{
    if (pad_value == 0) {
        /* The kernel rows' input words of the unit in one pass; zero padding: N = valid & ~P. */
        uint32_t U[3] = { rc[0], rc[1], rc[2] };
        for (uint32_t r = 1; r < nr; r++) {
            const uint32_t sh = r * W;
            U[0] |= rc[r] << sh; U[1] |= rc[r + 1u] << sh; U[2] |= rc[r + 2u] << sh;
        }
        for (uint32_t ky = from; ky < 3u; ky++) {
            uint32_t *t = taps + 6u * ky;
            const uint32_t *v = valid + 3u * ky;
            const uint32_t p0 = (U[ky] << 1) & cm0, p1 = U[ky] & unit_mask, p2 = (U[ky] >> 1) & cm2;
            t[0] = p0; t[1] = v[0] & ~p0; t[2] = p1; t[3] = v[1] & ~p1; t[4] = p2; t[5] = v[2] & ~p2;
        }
    } else for (uint32_t ky = from; ky < 3u; ky++) {
        uint32_t *t = taps + 6u * ky;
        bnn_slice_taps(rc + ky, nr, W, cm0, unit_mask, cm2, valid + ky * 3u, pad_value, t, t + 2, t + 4, t + 1, t + 3, t + 5);
    }
}
#endif

static inline __attribute__((always_inline)) void bnn_slice_lanes_outputs(const bnn_bconv2d_slice_params_t *p, const uint32_t *cw,
    uint32_t c0, uint32_t nb, uint32_t first, uint32_t last, uint32_t *hstore, uint32_t *hone, uint32_t *obits, const uint32_t El[2][16],
    uint32_t eflag, uint32_t pmask, uint32_t o0, uint32_t o1, const uint32_t NW, const uint32_t IB)
{
    const uint32_t C = p->g.in_c;
    const uint32_t row_words = (C * IB + 31u) >> 5;
    const uint32_t ngroups = nb >> 3;
    for (uint32_t o = o0; o < o1; o++) {
        uint32_t *h = hstore ? hstore + (o - o0) * 16u : hone;
        const uint32_t sv = p->start[o];
#if BNN_T2_DSP_ASM
        if (IB == 4u && ngroups > 0u && (nb & 7u) == 0u) {
            const bnn_sl_out_args_t a = { El[(sv >> 24) & 1u], (sv & 0xFFFFu) * 0x10001u, 32u * NW, first | (last << 1) };
            const uint32_t bits = bnn_sl_lanes_out(h, cw, p->indices + (size_t)o * row_words + ((c0 * IB) >> 5), ngroups, &a);
            if (last) obits[o] = (bits ^ (0u - ((sv >> 25) & 1u))) & pmask;
            continue;
        }
#endif
        if (first) {
            const uint32_t vv = (sv & 0xFFFFu) * 0x10001u;
            if (!eflag) {
                for (uint32_t j = 0; j < 16u; j++) h[j] = vv;
            } else {
                const uint32_t *e = El[(sv >> 24) & 1u];
                for (uint32_t j = 0; j < 16u; j++) h[j] = vv + e[j];
            }
        }
        const uint32_t *idx = p->indices + (size_t)o * row_words + ((c0 * IB) >> 5);
        const uint32_t *cwp = cw;
        uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        uint32_t gi = 0;
#if BNN_T1_ASM
        /* ARMv6-M: whole groups in two passes of up to 3 groups (4-bit indices); the channel tail below. */
        if (IB == 4u) {
            for (uint32_t half = 0; half < 2u; half++)
                for (uint32_t g0 = 0; g0 < ngroups; g0 += 3u)
                    bnn_sl_t1_block(h + 8u * half, cw + g0 * 8u * NW + 4u * half, idx + g0, (ngroups - g0 < 3u ? ngroups - g0 : 3u) | (32u * NW << 4));
            gi = ngroups;
            cwp += ngroups * 8u * NW;
        }
#endif
        while (gi < ngroups) {
            /* Up to 3 groups (24 channels, bytes <= 216) between folds. */
            const uint32_t gend = ngroups - gi < 3u ? ngroups : gi + 3u;
            for (; gi < gend; gi++, cwp += 8u * NW) {
                const uint32_t w0 = idx[0], w1 = IB == 4u ? 0u : idx[1];
                idx += IB == 4u ? 1u : 2u;
                SL_LCH(0); SL_LCH(1); SL_LCH(2); SL_LCH(3); SL_LCH(4); SL_LCH(5); SL_LCH(6); SL_LCH(7);
            }
            SL_BARRIER();
            SL_FOLD();
        }
        for (uint32_t cl = ngroups * 8u; cl < nb; cl++) {
            const uint32_t cc = c0 + cl;
            const uint32_t k = (p->indices[(size_t)o * row_words + ((cc * IB) >> 5)] >> ((cc * IB) & 31u)) & ((1u << IB) - 1u);
            const uint32_t *q = cw + (cl >> 3) * 8u * NW + k * 64u + (cl & 7u) * 8u;
            SL_LADD(q);
        }
        if (nb & 7u) SL_FOLD();
        if (last) {
            uint32_t bits = 0;
            for (uint32_t j = 0; j < 16u; j++) bits |= (h[j] & 0x80008000u) >> (15u - j);
            obits[o] = (bits ^ (0u - ((sv >> 25) & 1u))) & pmask;
        }
    }
}

/* Unit position of bit b of a mode-1 output word. */
static inline uint32_t bnn_slice_lane_pos(uint32_t b)
{
    const uint32_t hj = b & 15u;
    return 16u * (b >> 4) + 8u * (hj & 1u) + 4u * ((hj >> 1) & 1u) + (hj >> 2);
}

/* What a unit of nr rows needs besides its data: the masks of its positions, its valid taps (rv: which of its
 * kernel rows lie inside the map) and the border corrections (E: mode 0 planes, El: mode 1 lane words). */
typedef struct {
    uint32_t unit_mask, cm0, cm2, valid[9], eflag, pmask;
    union { uint32_t E[2][17]; uint32_t El[2][16]; } b; /* mode 0 planes / mode 1 lane words */
} bnn_slice_unit_t;

static void bnn_slice_unit_setup(bnn_slice_unit_t *u, const bnn_bconv2d_slice_params_t *p, uint32_t nr, uint32_t W,
    uint32_t row_mask, const uint32_t rv[3], uint32_t mode, uint32_t K)
{
    const uint32_t C = p->g.in_c, nbits = nr * W;
    u->unit_mask = u->cm0 = u->cm2 = 0u;
    for (uint32_t r = 0; r < nr; r++) {
        u->unit_mask |= row_mask << (r * W);
        u->cm0 |= (row_mask & ~1u) << (r * W);
        u->cm2 |= (row_mask >> 1) << (r * W);
    }
    const uint32_t cm[3] = { u->cm0, u->unit_mask, u->cm2 };
    for (uint32_t t = 0; t < 9u; t++) u->valid[t] = rv[t / 3u] & cm[t % 3u];

    /* Border correction planes E[parity][plane] (mode 0), El[parity][lane word] (mode 1). */
    u->eflag = 0u; u->pmask = 0u;
    for (uint32_t j = 0; j <= K; j++) u->b.E[0][j] = u->b.E[1][j] = 0u;
    for (uint32_t j = 0; j < 16u; j++) u->b.El[0][j] = u->b.El[1][j] = 0u;
    if (mode) {
        for (uint32_t b = 0; b < 32u; b++) {
            const uint32_t pos = bnn_slice_lane_pos(b);
            if (pos >= nbits) continue;
            u->pmask |= 1u << b;
            if (p->pad_value != 0) continue;
            uint32_t nv = 0;
            for (uint32_t t = 0; t < 9u; t++) nv += (u->valid[t] >> pos) & 1u;
            if (nv == 9u) continue;
            const uint32_t D = (9u - nv) * C;
            u->b.El[0][b & 15u] += (D >> 1) << (16u * (b >> 4));
            u->b.El[1][b & 15u] += ((D >> 1) + (D & 1u)) << (16u * (b >> 4));
            u->eflag = 1u;
        }
    } else if (p->pad_value == 0) {
        for (uint32_t b = 0; b < nbits; b++) {
            uint32_t nv = 0;
            for (uint32_t t = 0; t < 9u; t++) nv += (u->valid[t] >> b) & 1u;
            if (nv == 9u) continue;
            const uint32_t D = (9u - nv) * C;
            const uint32_t e0 = D >> 1, e1 = (D >> 1) + (D & 1u);
            for (uint32_t j = 0; j <= K; j++) {
                u->b.E[0][j] |= ((e0 >> j) & 1u) << b;
                u->b.E[1][j] |= ((e1 >> j) & 1u) << b;
            }
            u->eflag |= e1;
        }
    }
}

#if BNN_T2_DSP_ASM
/* Unit position of bit b of a saturating-path output word: word j = b % 8, byte B = b / 8. */
static inline uint32_t bnn_slice_sat_pos(uint32_t b)
{
    const uint32_t j = b & 7u;
    return 8u * (b >> 3) + 4u * (j & 1u) + (j >> 1);
}

/* The saturating and wide paths' records (see bnn_sl_sat_out, bnn_sl_wide_out): here the addresses of each (output,
 * channel)'s 8 count words after nst start words, fixed for the whole layer (the count layout does not change
 * between units); channels past in_c up to cpad point at a zero block. The start, flip and position words are
 * written per unit kind by bnn_slice_sat_setup / bnn_slice_wide_setup. */
static void bnn_slice_sat_addresses(uint32_t *rec, const bnn_bconv2d_slice_params_t *p, const uint32_t *cw, uint32_t nst, uint32_t cpad, uint32_t *zero)
{
    const uint32_t C = p->g.in_c, O = p->g.out_c, n = p->n_codewords, gstride = 64u * n;
    const uint32_t ib = n <= 16u ? 4u : 8u, row_words = (C * ib + 31u) >> 5, imask = (1u << ib) - 1u;
    for (uint32_t i = 0; i < 8u; i++) zero[i] = 0u;
    for (uint32_t o = 0; o < O; o++) {
        const uint32_t *iw = p->indices + (size_t)o * row_words;
        const uint32_t **a = (const uint32_t **)(void *)(rec + (size_t)o * (cpad + nst + 2u) + nst);
        uint32_t c = 0;
#if BNN_MVE
        /* Channel j's address: its group's base + 32 j + 256 idx_j bytes, four channels a vector; the bases advance
         * a group (gstride words) a step. */
        const uint32_t base = (uint32_t)(uintptr_t)cw;
        const uint32x4_t step = vdupq_n_u32(4u * gstride), j_lo = { 0, 32, 64, 96 }, j_hi = { 128, 160, 192, 224 };
        uint32x4_t b_lo = vaddq_u32(vdupq_n_u32(base), j_lo), b_hi = vaddq_u32(vdupq_n_u32(base), j_hi);
        if (ib == 4u) {
            const int32x4_t sh_lo = { 8, 4, 0, -4 }, sh_hi = { -8, -12, -16, -20 };
            const uint32x4_t m = vdupq_n_u32(0xF00u);
            for (; c + 8u <= C; c += 8u, a += 8, b_lo = vaddq_u32(b_lo, step), b_hi = vaddq_u32(b_hi, step)) {
                const uint32x4_t w = vdupq_n_u32(*iw++);
                vst1q_u32((uint32_t *)(void *)a, vaddq_u32(b_lo, vandq_u32(vshlq_u32(w, sh_lo), m)));
                vst1q_u32((uint32_t *)(void *)(a + 4), vaddq_u32(b_hi, vandq_u32(vshlq_u32(w, sh_hi), m)));
            }
        } else {
            /* 8-bit indices: four channels a word, offset 256 idx_j from field j moved to bits 8..15. */
            const int32x4_t sh8 = { 8, 0, -8, -16 };
            const uint32x4_t m8 = vdupq_n_u32(0xFF00u);
            for (; c + 8u <= C; c += 8u, iw += 2, a += 8, b_lo = vaddq_u32(b_lo, step), b_hi = vaddq_u32(b_hi, step)) {
                vst1q_u32((uint32_t *)(void *)a, vaddq_u32(b_lo, vandq_u32(vshlq_u32(vdupq_n_u32(iw[0]), sh8), m8)));
                vst1q_u32((uint32_t *)(void *)(a + 4), vaddq_u32(b_hi, vandq_u32(vshlq_u32(vdupq_n_u32(iw[1]), sh8), m8)));
            }
        }
#else
        const uint32_t *g = cw; /* the group's counts; a group is gstride words */
        if (ib == 4u) for (; c + 8u <= C; c += 8u, g += gstride) {
            const uint32_t w = *iw++;
            a[0] = g + (w & 15u) * 64u;              a[1] = g + 8u + ((w >> 4) & 15u) * 64u;
            a[2] = g + 16u + ((w >> 8) & 15u) * 64u;  a[3] = g + 24u + ((w >> 12) & 15u) * 64u;
            a[4] = g + 32u + ((w >> 16) & 15u) * 64u; a[5] = g + 40u + ((w >> 20) & 15u) * 64u;
            a[6] = g + 48u + ((w >> 24) & 15u) * 64u; a[7] = g + 56u + (w >> 28) * 64u;
            a += 8;
        }
        if (ib == 8u) for (; c + 8u <= C; c += 8u, iw += 2, g += gstride) {
            const uint32_t w0 = iw[0], w1 = iw[1];
            a[0] = g + (w0 & 255u) * 64u;              a[1] = g + 8u + ((w0 >> 8) & 255u) * 64u;
            a[2] = g + 16u + ((w0 >> 16) & 255u) * 64u; a[3] = g + 24u + (w0 >> 24) * 64u;
            a[4] = g + 32u + (w1 & 255u) * 64u;         a[5] = g + 40u + ((w1 >> 8) & 255u) * 64u;
            a[6] = g + 48u + ((w1 >> 16) & 255u) * 64u; a[7] = g + 56u + (w1 >> 24) * 64u;
            a += 8;
        }
#endif
        for (; c < C; c++) {
            const uint32_t k = (p->indices[(size_t)o * row_words + ((c * ib) >> 5)] >> ((c * ib) & 31u)) & imask;
            *a++ = cw + (c >> 3) * gstride + (c & 7u) * 8u + k * 64u;
        }
        for (; c < cpad; c++) *a++ = zero;
    }
}

/* Start words of the wide path for a unit (see bnn_sl_wide_out): per output the 16 lane words of
 * bnn_slice_lanes_outputs (in vector order for bnn_sl_mve_wide_out), then the flip and position masks. */
static void bnn_slice_wide_setup(uint32_t *st, uint32_t c8, const bnn_slice_unit_t *u, const bnn_bconv2d_slice_params_t *p)
{
#if BNN_MVE
    /* The border corrections in vector order once, then four vector adds an output. */
    uint32_t ev[2][16];
    for (uint32_t q = 0; q < 2u; q++)
        for (uint32_t j = 0; j < 16u; j++) ev[q][((j & 1u) << 3) | (j >> 1)] = u->b.El[q][j];
    for (uint32_t o = 0; o < p->g.out_c; o++, st += c8 + 18u) {
        const uint32_t sv = p->start[o];
        const uint32x4_t vv = vdupq_n_u32((sv & 0xFFFFu) * 0x10001u);
        const uint32_t *e = ev[(sv >> 24) & 1u];
        vst1q_u32(st, vaddq_u32(vv, vld1q_u32(e))); vst1q_u32(st + 4, vaddq_u32(vv, vld1q_u32(e + 4)));
        vst1q_u32(st + 8, vaddq_u32(vv, vld1q_u32(e + 8))); vst1q_u32(st + 12, vaddq_u32(vv, vld1q_u32(e + 12)));
        st[c8 + 16u] = 0u - ((sv >> 25) & 1u);
        st[c8 + 17u] = u->pmask;
    }
#else
    for (uint32_t o = 0; o < p->g.out_c; o++, st += c8 + 18u) {
        const uint32_t sv = p->start[o], vv = (sv & 0xFFFFu) * 0x10001u;
        const uint32_t *e = u->b.El[(sv >> 24) & 1u];
        for (uint32_t j = 0; j < 16u; j++) st[j] = vv + e[j]; /* El is zero without border corrections */
        st[c8 + 16u] = 0u - ((sv >> 25) & 1u);
        st[c8 + 17u] = u->pmask;
    }
#endif
}

/* Start table of the saturating path for a unit (see bnn_sl_sat_out): per output, 8 words of 255 - T per byte lane,
 * T = M - E(lane), saturated at 255 where T <= 0, then the flip and position masks. Returns 0 when a border
 * correction does not fit a byte (the unit then takes the 16-bit path). */
static uint32_t bnn_slice_sat_setup(uint32_t *st, uint32_t c16, const bnn_slice_unit_t *u, const bnn_bconv2d_slice_params_t *p, uint32_t nbits)
{
    /* Byte B of word j is the 16-bit path's lane 2j + (B & 1), halfword B >> 1 (see bnn_slice_lanes_outputs). */
    uint32_t eb[2][8], pm = 0u;
    for (uint32_t q = 0; q < 2u; q++)
        for (uint32_t j = 0; j < 8u; j++) {
            const uint32_t lo = u->b.El[q][2u * j], hi = u->b.El[q][2u * j + 1u];
            if ((lo | hi) & 0xFF00FF00u) return 0u;
            eb[q][j] = lo | (hi << 8);
        }
    for (uint32_t b = 0; b < 32u; b++)
        if (bnn_slice_sat_pos(b) < nbits) pm |= 1u << b;
    for (uint32_t o = 0; o < p->g.out_c; o++, st += c16 + 10u) {
        const uint32_t sv = p->start[o];
        const uint32_t base = (255u - (32768u - (sv & 0xFFFFFFu))) * 0x01010101u;
        const uint32_t *e = eb[(sv >> 24) & 1u];
        for (uint32_t j = 0; j < 8u; j++) {
            uint32_t v = base;
            __asm__("uqadd8 %0, %0, %1" : "+r"(v) : "r"(e[j]));
            st[j] = v;
        }
        st[c16 + 8u] = 0u - ((sv >> 25) & 1u);
        st[c16 + 9u] = pm;
    }
    return 1u;
}
#endif

/* Unit position of bit b of an output word: mode 0 bit b; mode 1 the lanes' order, or the saturating path's. */
static inline uint32_t bnn_slice_out_pos(uint32_t b, uint32_t mode, uint32_t satbytes)
{
#if BNN_T2_DSP_ASM
    if (satbytes) return bnn_slice_sat_pos(b);
#else
    (void)satbytes;
#endif
    return mode ? bnn_slice_lane_pos(b) : b;
}

/* Its inverse: the output bit of unit position pos. */
static inline uint32_t bnn_slice_out_bit(uint32_t pos, uint32_t mode, uint32_t satbytes)
{
    if (satbytes) return 8u * (pos >> 3) + 2u * (pos & 3u) + ((pos >> 2) & 1u);
    return mode ? ((pos >> 3) & 1u) + 2u * ((pos >> 2) & 1u) + 4u * (pos & 3u) + 16u * (pos >> 4) : pos;
}

/* The pooled word index (times out_words) of each output bit's position, SL_NOPOOL for none. Returns 0 when a
 * position lies in two windows or an index does not fit 16 bits (the caller then takes bnn_pool_or). */
#define SL_NOPOOL 0xFFFFu
static uint32_t bnn_slice_pool_offsets(uint16_t *poff, const bnn_pool_t *pl, uint32_t oy0, uint32_t W, uint32_t nr,
    uint32_t out_words, uint32_t mode, uint32_t satbytes)
{
    if ((uint32_t)pl->out_h * pl->out_w * out_words >= SL_NOPOOL) return 0u;
    for (uint32_t b = 0; b < 32u; b++) poff[b] = SL_NOPOOL;
    for (uint32_t r = 0, pos = 0; r < nr; r++) {
        const uint32_t y = oy0 + r, py = pl->span_y[2u * y], ny = pl->span_y[2u * y + 1u] - py;
        if (ny > 1u) return 0u;
        for (uint32_t x = 0; x < W; x++, pos++) {
            const uint32_t px = pl->span_x[2u * x], nx = pl->span_x[2u * x + 1u] - px;
            if (nx > 1u) return 0u;
            if (ny != 0u && nx != 0u) poff[bnn_slice_out_bit(pos, mode, satbytes)] = (uint16_t)((py * pl->out_w + px) * out_words);
        }
    }
    return 1u;
}

/* Words of the working memory in scratch (see bnn_bconv2d_b1_b1_slice): the unit struct, one accumulator (with a
 * single batch: else the accumulators kept between batches serve), then
 * mode 1's kernel-row counts S (96) or mode 0's row patterns (48). */
#define SL_WORK_WORDS(mode, one) ((uint32_t)(sizeof(bnn_slice_unit_t) / 4u) + ((one) ? 17u : 0u) + ((mode) ? 96u : 48u))

static inline void bnn_slice_copy(uint32_t *dst, const uint32_t *src, uint32_t nwords)
{
    for (uint32_t i = 0; i < nwords; i += 4u) {
        const uint32_t a = src[i], b = src[i + 1u], c = src[i + 2u], d = src[i + 3u];
        dst[i] = a; dst[i + 1u] = b; dst[i + 2u] = c; dst[i + 3u] = d;
    }
}

/* Input rows y .. y + cnt - 1 (cnt * W <= 32) of every channel into band slots slot .. slot + cnt - 1 (one word per
 * row and channel), through one 32x32 transpose per channel word; rows at or past H are zero. */
static void bnn_slice_band(uint32_t *rows, uint32_t BP, const uint32_t *in, const bnn_window_t *g, uint32_t y, uint32_t cnt,
    uint32_t slot, uint32_t row_mask, uint32_t *tb)
{
    const uint32_t C = g->in_c, H = g->in_h, W = g->in_w, in_words = BNN_WORDS(C);
    const uint32_t nr = y >= H ? 0u : (H - y < cnt ? H - y : cnt);
    if (nr < cnt)
        for (uint32_t c = 0; c < C; c++)
            for (uint32_t r = nr; r < cnt; r++) rows[c * BP + slot + r] = 0u;
    if (nr == 0u) return;
    const uint32_t npos = nr * W;
    for (uint32_t j = 0; j < in_words; j++) {
        const uint32_t *src = in + (size_t)y * W * in_words + j;
        for (uint32_t x = 0; x < npos; x++) tb[x] = src[(size_t)x * in_words];
        for (uint32_t x = npos; x < 32u; x++) tb[x] = 0u;
        bnn_transpose32(tb);
        const uint32_t m = C - 32u * j < 32u ? C - 32u * j : 32u;
        uint32_t *dst = rows + 32u * j * BP + slot;
        if (nr == 1u) {
            for (uint32_t i = 0; i < m; i++, dst += BP) *dst = tb[i] & row_mask;
            continue;
        }
        for (uint32_t i = 0; i < m; i++, dst += BP) {
            const uint32_t v = tb[i];
            for (uint32_t r = 0; r < nr; r++) dst[r] = (v >> (r * W)) & row_mask;
        }
    }
}

void bnn_bconv2d_b1_b1_slice(const bnn_bconv2d_slice_params_t *p, const uint32_t *in, uint32_t *out, int32_t *scratch_words)
{
    const bnn_window_t *g = &p->g;
    const uint32_t C = g->in_c, O = g->out_c, H = g->in_h, W = g->in_w, R = p->rows_per_unit;
    const uint32_t n = p->n_codewords, K = p->acc_bits, batch = p->batch;
    const uint32_t out_words = BNN_WORDS(O), BP = R + 2u;
    /* Output channels per pass over the input channels: all, or groups of a multiple of 32 (counts recomputed). */
    const uint32_t G = p->out_group != 0u && p->out_group < O ? p->out_group : O;
    uint32_t *rows = (uint32_t *)scratch_words;                 /* [C][R+2] the unit's input rows oy0 - 1 .. oy0 + R */
    const uint32_t mode = p->mode, accw = mode ? 16u : K + 1u;
    const uint32_t cwsize = mode ? ((batch + 7u) & ~7u) * n * 8u : batch * n * 4u;
    uint32_t *cw = rows + C * BP;                               /* count planes [batch][n][4] / byte lanes (see above) */
    uint32_t *Lstore = batch < C ? cw + cwsize : NULL;          /* [G][accw] accumulators across batches */
    uint32_t *obits = cw + cwsize + (batch < C ? G * accw : 0u); /* [32 * out_words] */
    uint32_t *tb = obits + 32u * out_words;                     /* [32] */
    uint32_t *cwo = tb + 32u;                                   /* [n] byte offsets of each codeword's row counts (+ [3n] addresses in mode 1) */
    uint32_t *pend = cwo + (mode ? 4u * n : n);                 /* [batch / 8] pending carries of one output */
    /* Mode 1 with row_cache (R <= 2): the row counts of kernel rows R..2 of every channel, kept for the next unit,
     * whose kernel rows 0..2-R they are. */
    const uint32_t cslots = mode && p->row_cache && G == O && R < 3u ? 3u - R : 0u; /* a ring with R > 2 reuses no row */
    /* Working memory kept off the stack (16 KiB parts have little of it): the unit's masks and border corrections, one
     * output's accumulator when there is a single batch, and mode 1's kernel-row counts S ([ky][pattern][w]:
     * a kernel row's match count in 4-bit lanes, lane i = position 4i + w), or mode 0's row patterns. */
    bnn_slice_unit_t *const up = (bnn_slice_unit_t *)(void *)(pend + batch / 8u);
    uint32_t *const lone = (uint32_t *)(up + 1);
    uint32_t *const S = lone + (batch < C ? 0u : 17u);
    uint32_t *const lh = S;  /* mode 0: [ky * 8 + pattern]: low plane of the row's match count; +24: high plane */
    uint32_t *cache = pend + batch / 8u + SL_WORK_WORDS(mode, batch >= C); /* [C][cslots * 32], or the ring [3][C][32] */

    for (uint32_t k = 0; k < n; k++) {
        const uint32_t id = p->codewords[k];
        if (mode) cwo[k] = ((id & 7u) << 4) | ((((id >> 3) & 7u) + 8u) << 14) | ((((id >> 6) & 7u) + 16u) << 24);
        else cwo[k] = ((id & 7u) << 2) | ((((id >> 3) & 7u) + 8u) << 10) | ((((id >> 6) & 7u) + 16u) << 18);
    }
#if BNN_T2_DSP_ASM
    /* Mode 1 on Thumb-2: the three row-count addresses of every codeword, in place after the offsets. */
    const uint32_t *const *cwptr = (const uint32_t *const *)(const void *)(cwo + n);
    if (mode) for (uint32_t k = 0; k < n; k++) {
        const uint32_t id = p->codewords[k];
        const uint32_t **q = (const uint32_t **)(void *)(cwo + n + 3u * k);
        q[0] = S + 4u * (id & 7u);
        q[1] = S + 32u + 4u * ((id >> 3) & 7u);
        q[2] = S + 64u + 4u * ((id >> 6) & 7u);
    }
#endif
#if BNN_T2_DSP_ASM
    /* row_cache == 2 (one batch, whole groups of 8 channels): the Thumb-2 build keeps every channel's kernel-row
     * counts in a ring of three slots, then 9n row addresses (three rotations); other builds use the plain cache. */
    const uint32_t ring_words = p->row_cache == 2u ? C * 96u + 9u * n : C * cslots * 32u;
    /* Saturating byte lanes (sat 1): one batch, every output's match threshold M <= 255 (start = 2^15 - M);
     * wide lanes (sat 2): the same records and loop for any threshold, 16-bit lanes. */
    const uint32_t wide = p->sat == 2u;
    /* Channels padded (zero block) to the records' loop step: 16 (sat 1) or 8 (sat 2); start words before them. */
    const uint32_t cpad = wide ? (C + 7u) & ~7u : (C + 15u) & ~15u, nst = wide ? 16u : 8u;
    const bnn_sl_sat_args_t *sat_args = NULL;
    bnn_sl_sat_args_t sa;
    uint32_t *st = NULL;
    if (p->sat && mode && batch >= C && G == O) {
        uint32_t ok = 1u;
        if (!wide) for (uint32_t o = 0; o < O; o++) ok &= 32768u - (p->start[o] & 0xFFFFFFu) <= 255u;
        if (ok) {
            st = cache + ring_words;
            bnn_slice_sat_addresses(st, p, cw, nst, cpad, st + (cpad + nst + 2u) * O);
            sa.rec = st; sa.obits = obits; sa.obits_end = obits + O; sa.cbytes = 4u * cpad; sa.h = lone;
        }
    }
    uint32_t ring_rot = 0;
    bnn_sl_ring_args_t ring_args[3];
    const uint32_t ring = mode && p->row_cache == 2u && batch >= C && (C & 7u) == 0u && G == O;
    if (ring) {
        const uint32_t **tab = (const uint32_t **)(void *)(cache + C * 96u);
        for (uint32_t rot = 0; rot < 3u; rot++) {
            for (uint32_t k = 0; k < n; k++) {
                const uint32_t id = p->codewords[k];
                for (uint32_t ky = 0; ky < 3u; ky++)
                    tab[3u * (rot * n + k) + ky] = cache + ((rot + ky) % 3u) * C * 32u + 4u * ((id >> (3u * ky)) & 7u);
            }
            ring_args[rot].tab = tab + 3u * rot * n; ring_args[rot].tab_end = tab + 3u * (rot + 1u) * n;
            ring_args[rot].ngroups = C / 8u; ring_args[rot].gskip = 256u * n - 256u;
        }
    }
#endif

    const uint32_t row_mask = W >= 32u ? 0xFFFFFFFFu : (1u << W) - 1u;
    for (uint32_t i = 0; i < 32u * out_words; i++) obits[i] = 0u;
    if (p->pool.kh) bnn_pool_clear(&p->pool, O, out);

    /* Masks, valid taps and border corrections of a unit depend only on its rows and which of its kernel rows lie
     * inside the map: computed again only when that changes (the interior units share one set). */
    uint32_t key_nr = 0, key_rv[3] = { 0, 0, 0 };
    for (uint32_t oy0 = 0; oy0 < H; oy0 += R) {
        /* The band: slots 0 .. R + 1 hold input rows oy0 - 1 .. oy0 + R; the next unit keeps the last two. */
        SL_PROF(bnn_sp_transpose);
        if (oy0 == 0u) {
            for (uint32_t c = 0; c < C; c++) rows[c * BP] = 0u;
            bnn_slice_band(rows, BP, in, g, 0u, R, 1u, row_mask, tb);
            bnn_slice_band(rows, BP, in, g, R, 1u, R + 1u, row_mask, tb);
        } else {
            for (uint32_t c = 0; c < C; c++) { rows[c * BP] = rows[c * BP + R]; rows[c * BP + 1u] = rows[c * BP + R + 1u]; }
            bnn_slice_band(rows, BP, in, g, oy0 + 1u, R, 2u, row_mask, tb);
        }
        SL_PROF(bnn_sp_unit);
        const uint32_t nr = H - oy0 < R ? H - oy0 : R;
        const uint32_t nbits = nr * W;
        uint32_t rv[3] = { 0, 0, 0 };
        for (uint32_t r = 0; r < nr; r++)
            for (uint32_t ky = 0; ky < 3u; ky++) {
                uint32_t iy = oy0 + r + ky; /* +1 offset: 1..H are inside */
                if (iy >= 1u && iy <= H) rv[ky] |= row_mask << (r * W);
            }
        if (nr != key_nr || rv[0] != key_rv[0] || rv[1] != key_rv[1] || rv[2] != key_rv[2]) {
            key_nr = nr; key_rv[0] = rv[0]; key_rv[1] = rv[1]; key_rv[2] = rv[2];
            bnn_slice_unit_setup(up, p, nr, W, row_mask, rv, mode, K);
#if BNN_T2_DSP_ASM
            if (st && wide) { bnn_slice_wide_setup(st, cpad, up, p); sat_args = &sa; }
            else if (st) sat_args = bnn_slice_sat_setup(st, cpad, up, p, nr * W) ? &sa : NULL;
#endif
        }
        const uint32_t unit_mask = up->unit_mask, cm0 = up->cm0, cm2 = up->cm2, eflag = up->eflag, pmask = up->pmask;
        const uint32_t *valid = up->valid;

        /* Full units share kernel rows with their full neighbours (only the last unit can be partial). */
        const uint32_t reuse = cslots && oy0 > 0u && nr == R ? cslots : 0u;
        const uint32_t keep = cslots && oy0 + 2u * R <= H;
        for (uint32_t og = 0; og < O; og += G) {
        const uint32_t oend = O - og < G ? O : og + G;
        for (uint32_t c0 = 0; c0 < C; c0 += batch) {
            const uint32_t nb = C - c0 < batch ? C - c0 : batch;
            /* Count planes of every codeword for each channel of the batch. */
            SL_PROF(bnn_sp_shared);
#if BNN_T2_DSP_ASM
            if (ring) {
                /* New kernel rows of every channel into their ring slots (all three after the first and partial units),
                 * then every codeword's counts. */
                const uint32_t ru = oy0 > 0u && nr == R && R < 3u ? 3u - R : 0u;
#if BNN_MVE
                if (p->pad_value == 0) {
                    /* Blocks of 32 channels: their unit words in S (unused in ring mode), then their rows. */
                    for (uint32_t c0 = 0; c0 < C; c0 += 32u) {
                        const uint32_t cnt = C - c0 < 32u ? C - c0 : 32u;
                        for (uint32_t ky = ru; ky < 3u; ky++) {
                            const uint32_t *rc = rows + c0 * BP + ky, *const rend = rc + cnt * BP;
                            uint32_t *u = S + 32u * ky;
                            if (nr == 1u) for (; rc != rend; rc += BP) *u++ = rc[0];
                            else if (nr == 2u) for (; rc != rend; rc += BP) *u++ = rc[0] | rc[1] << W;
                            else for (; rc != rend; rc += BP) {
                                uint32_t U = rc[0];
                                for (uint32_t r = 1; r < nr; r++) U |= rc[r] << (r * W);
                                *u++ = U;
                            }
                        }
                        uint32_t *const dst[3] = { cache + ((ring_rot % 3u) * C + c0) * 32u, cache + (((ring_rot + 1u) % 3u) * C + c0) * 32u,
                                                   cache + (((ring_rot + 2u) % 3u) * C + c0) * 32u };
                        const bnn_sl_rows_args_t ra = { cnt, ru, cm0, unit_mask, cm2, valid };
                        bnn_sl_mve_ring_rows(dst, S, &ra);
                    }
                } else
#endif
                for (uint32_t c = 0; c < C; c++) {
                    uint32_t taps[18];
                    bnn_slice_unit_taps(taps, rows + c * BP, ru, nr, W, cm0, unit_mask, cm2, valid, p->pad_value);
                    for (uint32_t ky = ru; ky < 3u; ky++)
                        SL_ROWS_LANES(cache + (((ring_rot + ky) % 3u) * C + c) * 32u, taps + 6u * ky, 1u);
                }
                SL_CW_RING(cw, &ring_args[ring_rot]);
                ring_rot = (ring_rot + R) % 3u;
            } else
#endif
            if (mode) for (uint32_t cl = 0; cl < nb; cl++) {
                const uint32_t c = c0 + cl;
                const uint32_t *rc = rows + c * BP;
                /* Kernel rows 0 .. reuse - 1 of this unit are rows R .. 2 of the previous (full) unit. */
#if BNN_T2_DSP_ASM
                if (reuse) bnn_sl_copy(S, cache + c * cslots * 32u, reuse * 32u);
                {
                    uint32_t taps[18];
                    bnn_slice_unit_taps(taps, rc, reuse, nr, W, cm0, unit_mask, cm2, valid, p->pad_value);
                    SL_ROWS_LANES(S + 32u * reuse, taps + 6u * reuse, 3u - reuse);
                }
                if (keep) bnn_sl_copy(cache + c * cslots * 32u, S + 32u * R, cslots * 32u);
#else
                if (reuse) bnn_slice_copy(S, cache + c * cslots * 32u, reuse * 32u);
                for (uint32_t ky = reuse; ky < 3u; ky++) {
                    uint32_t P0, P1, P2, N0, N1, N2;
                    bnn_slice_taps(rc + ky, nr, W, cm0, unit_mask, cm2, valid + ky * 3u, p->pad_value, &P0, &P1, &P2, &N0, &N1, &N2);
                    uint32_t *sk = S + ky * 32u;
#define SL_ROWSUM(w) do { \
        const uint32_t p0 = (P0 >> (w)) & 0x11111111u, n0 = (N0 >> (w)) & 0x11111111u; \
        const uint32_t p1 = (P1 >> (w)) & 0x11111111u, n1 = (N1 >> (w)) & 0x11111111u; \
        const uint32_t p2 = (P2 >> (w)) & 0x11111111u, n2 = (N2 >> (w)) & 0x11111111u; \
        const uint32_t q0 = n1 + n2, q1 = p1 + n2, q2 = n1 + p2, q3 = p1 + p2; \
        sk[0u + (w)] = n0 + q0; sk[4u + (w)] = p0 + q0; sk[8u + (w)] = n0 + q1; sk[12u + (w)] = p0 + q1; \
        sk[16u + (w)] = n0 + q2; sk[20u + (w)] = p0 + q2; sk[24u + (w)] = n0 + q3; sk[28u + (w)] = p0 + q3; \
        SL_BARRIER(); } while (0)
                    SL_ROWSUM(0u); SL_ROWSUM(1u); SL_ROWSUM(2u); SL_ROWSUM(3u);
#undef SL_ROWSUM
                }
                if (keep) bnn_slice_copy(cache + c * cslots * 32u, S + 32u * R, cslots * 32u);
#endif
                uint32_t *dst = cw + (cl >> 3) * 64u * n + (cl & 7u) * 8u;
#if BNN_T2_DSP_ASM
                if (BNN_MVE || (n & 1u) == 0u) { /* the Thumb-2 routine takes two codewords a loop */
                    SL_CW_LANES(dst, cwptr, cwptr + 3u * n);
                    continue;
                }
#endif
                const uint8_t *sb = (const uint8_t *)S;
                for (uint32_t k = 0; k < n; k++, dst += 64) {
                    const uint32_t off = cwo[k];
                    const uint32_t *s0 = (const uint32_t *)(const void *)(sb + (off & 1023u));
                    const uint32_t *s1 = (const uint32_t *)(const void *)(sb + ((off >> 10) & 1023u));
                    const uint32_t *s2 = (const uint32_t *)(const void *)(sb + (off >> 20));
#if BNN_GNUC && BNN_ARCH_THUMB2 && BNN_OPTIMIZED
                    uint32_t x0, x1, x2, x3, y0, y1;
                    SL_LDRD(s0, 0, x0, x1); SL_LDRD(s0, 8, x2, x3);
                    SL_LDRD(s1, 0, y0, y1); x0 += y0; x1 += y1; SL_LDRD(s1, 8, y0, y1); x2 += y0; x3 += y1;
                    SL_LDRD(s2, 0, y0, y1); x0 += y0; x1 += y1; SL_LDRD(s2, 8, y0, y1); x2 += y0; x3 += y1;
#else
                    const uint32_t x0 = s0[0] + s1[0] + s2[0], x1 = s0[1] + s1[1] + s2[1];
                    const uint32_t x2 = s0[2] + s1[2] + s2[2], x3 = s0[3] + s1[3] + s2[3];
#endif
                    dst[0] = x0 & 0x0F0F0F0Fu; dst[1] = (x0 >> 4) & 0x0F0F0F0Fu;
                    dst[2] = x1 & 0x0F0F0F0Fu; dst[3] = (x1 >> 4) & 0x0F0F0F0Fu;
                    dst[4] = x2 & 0x0F0F0F0Fu; dst[5] = (x2 >> 4) & 0x0F0F0F0Fu;
                    dst[6] = x3 & 0x0F0F0F0Fu; dst[7] = (x3 >> 4) & 0x0F0F0F0Fu;
                }
            }
            else for (uint32_t cl = 0; cl < nb; cl++) {
                const uint32_t *rc = rows + (c0 + cl) * BP;
                for (uint32_t ky = 0; ky < 3u; ky++) {
                    uint32_t P0, P1, P2, N0, N1, N2;
                    bnn_slice_taps(rc + ky, nr, W, cm0, unit_mask, cm2, valid + ky * 3u, p->pad_value, &P0, &P1, &P2, &N0, &N1, &N2);
                    uint32_t *o_ = lh + ky * 8u;
#define SL_PAT(q, A0, A1) do { const uint32_t t_ = (A0) ^ (A1), a_ = (A0) & (A1); \
        o_[q] = t_ ^ N2; o_[(q) + 24u] = a_ | (t_ & N2); o_[(q) + 4u] = t_ ^ P2; o_[(q) + 28u] = a_ | (t_ & P2); SL_BARRIER(); } while (0)
                    SL_PAT(0u, N0, N1);
                    SL_PAT(1u, P0, N1);
                    SL_PAT(2u, N0, P1);
                    SL_PAT(3u, P0, P1);
#undef SL_PAT
                }
                uint32_t *dst = cw + cl * n * 4u;
                const uint8_t *lb = (const uint8_t *)lh, *hb = (const uint8_t *)(lh + 24);
                for (uint32_t k = 0; k < n; k++, dst += 4) {
                    const uint32_t off = cwo[k], o0 = off & 0xFFu, o1 = (off >> 8) & 0xFFu, o2 = off >> 16;
                    const uint32_t l0 = *(const uint32_t *)(const void *)(lb + o0), l1 = *(const uint32_t *)(const void *)(lb + o1);
                    const uint32_t l2 = *(const uint32_t *)(const void *)(lb + o2);
                    const uint32_t h0 = *(const uint32_t *)(const void *)(hb + o0), h1 = *(const uint32_t *)(const void *)(hb + o1);
                    const uint32_t h2 = *(const uint32_t *)(const void *)(hb + o2);
                    uint32_t t = l0 ^ l1;
                    const uint32_t s0 = t ^ l2, k1 = (l0 & l1) | (t & l2);
                    t = h0 ^ h1;
                    const uint32_t u = t ^ h2, k2 = (h0 & h1) | (t & h2);
                    const uint32_t m = u & k1;
                    dst[0] = s0;
                    dst[1] = u ^ k1;
                    dst[2] = k2 ^ m;
                    dst[3] = k2 & m;
                }
            }
            const uint32_t first = c0 == 0u, last = c0 + nb >= C;
            SL_PROF(bnn_sp_outputs);
#if BNN_T2_DSP_ASM
            if (sat_args) (wide ? SL_WIDE_OUT : SL_SAT_OUT)(sat_args);
            else
#endif
            if (mode) {
                switch (n) {
                case 8: bnn_slice_lanes_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[16])up->b.El, eflag, pmask, og, oend, 64u, 4u); break;
                case 16: bnn_slice_lanes_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[16])up->b.El, eflag, pmask, og, oend, 128u, 4u); break;
                case 32: bnn_slice_lanes_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[16])up->b.El, eflag, pmask, og, oend, 256u, 8u); break;
                default: bnn_slice_lanes_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[16])up->b.El, eflag, pmask, og, oend, n * 8u, n <= 16u ? 4u : 8u); break;
                }
            } else switch (n) {
            case 8: bnn_slice_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[17])up->b.E, eflag, unit_mask, pend, og, oend, 32u, 4u); break;
            case 16: bnn_slice_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[17])up->b.E, eflag, unit_mask, pend, og, oend, 64u, 4u); break;
            case 32: bnn_slice_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[17])up->b.E, eflag, unit_mask, pend, og, oend, 128u, 8u); break;
            default: bnn_slice_outputs(p, cw, c0, nb, first, last, Lstore, lone, obits, (const uint32_t (*)[17])up->b.E, eflag, unit_mask, pend, og, oend, n * 4u, n <= 16u ? 4u : 8u); break;
            }
        }
        }

        /* Output bits of the unit -> channel-packed positions. */
        SL_PROF(bnn_sp_otrans);
        const uint32_t pos0 = oy0 * W;
#if BNN_T2_DSP_ASM
        const uint32_t satbytes = sat_args && !wide;
#else
        const uint32_t satbytes = 0u;
#endif
        /* Fused max pool: where every position lies in at most one window (no overlap), the pooled word of each
         * output bit once per unit instead of its window spans per bit and output word. */
        uint16_t poff[32];
        const uint32_t pool1 = p->pool.kh && bnn_slice_pool_offsets(poff, &p->pool, oy0, W, nr, out_words, mode, satbytes);
        for (uint32_t j = 0; j < out_words; j++) {
            for (uint32_t k = 0; k < 32u; k++) tb[k] = obits[32u * j + k];
            bnn_transpose32(tb);
            uint32_t *y = out + (size_t)pos0 * out_words + j;
            if (pool1) {
                for (uint32_t b = 0; b < 32u; b++)
                    if (poff[b] != SL_NOPOOL) out[poff[b] + j] |= tb[b];
                continue;
            }
            if (p->pool.kh) {
                /* OR each position's word into the pooled positions that cover it. */
                for (uint32_t b = 0; b < 32u; b++) {
                    const uint32_t pos = bnn_slice_out_pos(b, mode, satbytes);
                    if (pos >= nbits) continue;
                    uint32_t r = 0, x = pos;
                    while (x >= W) { x -= W; r++; } /* pos < 32: a few subtractions, no division */
                    bnn_pool_or(&p->pool, out, out_words, oy0 + r, x, j, tb[b]);
                }
                continue;
            }
#if BNN_T2_DSP_ASM
            if (sat_args && !wide) {
                for (uint32_t b = 0; b < 32u; b++) {
                    const uint32_t pos = bnn_slice_sat_pos(b);
                    if (pos < nbits) y[(size_t)pos * out_words] = tb[b];
                }
            } else
#endif
            if (mode) {
            for (uint32_t b = 0; b < 32u; b++) {
                const uint32_t pos = bnn_slice_lane_pos(b);
                if (pos < nbits) y[(size_t)pos * out_words] = tb[b];
            }
        } else {
            for (uint32_t b = 0; b < nbits; b++) y[(size_t)b * out_words] = tb[b];
        }
        }
    }
}

/* Scratch, in the order bnn_bconv2d_b1_b1_slice lays it out: the unit's band of input bit rows [in_c][rows_per_unit + 2];
 * the codeword counts of a batch ([batch][n][4] bit planes in mode 0, [batch rounded up to 8][n][8] byte lanes in mode 1);
 * with several batches the accumulators kept between them (G x (acc_bits + 1) planes, or 16 lane words, for the
 * G = out_group (or out_c) outputs of a pass); the output
 * bits (32 per 32 outputs), a 32-word transpose, the codeword offsets (n, or 4n in mode 1) and the pending carries
 * (batch / 8); the working memory (SL_WORK_WORDS); the row cache (in_c x 32 x (3 - rows_per_unit)) or the ring (in_c x 96 + 9n); with sat, per output
 * its start words, count addresses, flip and positions (sat 1: in_c rounded up to 16, + 10; sat 2: in_c rounded up to
 * 8, + 18), and an 8-word zero block. */
uint32_t bnn_bconv2d_b1_b1_slice_scratch_words(const bnn_bconv2d_slice_params_t *p)
{
    const uint32_t C = p->g.in_c, O = p->g.out_c, n = p->n_codewords, b = p->batch, mode = p->mode;
    const uint32_t G = p->out_group != 0u && p->out_group < O ? p->out_group : O;
    uint32_t w = C * (p->rows_per_unit + 2u);
    w += mode ? ((b + 7u) & ~7u) * n * 8u : b * n * 4u;
    w += b < C ? G * (mode ? 16u : p->acc_bits + 1u) : 0u;
    w += 32u * BNN_WORDS(O) + 32u + (mode ? 4u * n : n) + b / 8u + SL_WORK_WORDS(mode, b >= C);
    if (G == O && mode && p->row_cache) w += p->row_cache == 2u ? C * 96u + 9u * n : C * 32u * (3u - p->rows_per_unit);
    if (G == O && p->sat == 1u) w += O * (((C + 15u) & ~15u) + 10u) + 8u;
    if (G == O && p->sat == 2u) w += O * (((C + 7u) & ~7u) + 18u) + 8u;
    return w;
}
