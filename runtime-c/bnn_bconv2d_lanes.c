/* Binary 3x3 convolution, stride 1 or 2: spatially sliced, byte-lane accumulation, with the codebook's compute
 * shared across output channels.
 *
 * Stride 2 across: the input rows are kept as two words, the even and the odd columns from the tile's origin (bit j of
 * phase q = column X0 + 2j + q), so output column ox's taps kx = 0, 1, 2 are bit ox of phase 0 and 1 and bit ox + 1 of
 * phase 0: shifts again. Stride 2 down just reads rows 2 oy - pad_top + ky.
 *
 * Maps wider than 32 run in column tiles of tile_w output columns (tile_w <= 30: a tile reads tile_w + 2 input
 * columns); narrower maps are one tile. In a tile, positions are processed in units of up to 32 output positions
 * (rows_per_unit whole tile rows). The tile's input is transposed into bit rows (one uint32_t per input row and
 * channel, bit b = input column X0 + b); for a unit and an
 * input channel c, each of the 9 taps becomes a 32-position bit plane. The number of matching taps of a codeword
 * at a position (0..9) is kept in 4-bit lanes: row sums S[ky][pattern] (every 3-tap pattern of one kernel row,
 * 8 per row) are formed once per (unit, c), and any codeword's count is three adds of them.
 *   share = 1 (codebook): each of the n codewords' counts is formed once per (unit, c) and split into byte lanes;
 *             every output channel then gathers the 8 words of its codeword: 8 adds per (o, c) per 32 positions.
 *   share = 0 (any 3x3 kernel): each (o, c) forms its count from the row sums directly (3 adds per 4 lanes).
 * Byte lanes take up to 28 counts of 9; a batch of <= 28 input channels is then folded into 16-bit lanes.
 * acc = 2 * matches - valid taps * C (pad 0; 9 * C with a +-1 pad value), then the usual threshold.
 * Lane word j of 8 holds, in byte B, the position bit 8B + 4(j & 1) + (j >> 1); 16-bit word hj = 2j + part holds in
 * halfword H the position bit 16H + 8 part + 4(j & 1) + (j >> 1). */
#include "bnn_runtime.h"

#define BNN_NIB 0x11111111u
#define BNN_LO4 0x0F0F0F0Fu
#define BNN_LO8 0x00FF00FFu

#ifdef BNN_LANES_PROF
#define LN_PROF_DEFINE(name) void name(void); __attribute__((noinline, noipa, used)) void name(void) { __asm__ volatile ("" ::: "memory"); }
LN_PROF_DEFINE(bnn_lp_transpose)
LN_PROF_DEFINE(bnn_lp_rows)
LN_PROF_DEFINE(bnn_lp_sums)
LN_PROF_DEFINE(bnn_lp_resp)
LN_PROF_DEFINE(bnn_lp_gather)
LN_PROF_DEFINE(bnn_lp_epi)
LN_PROF_DEFINE(bnn_lp_end)
#define LN_PROF(name) name()
#else
#define LN_PROF(name) ((void)0)
#endif

/* Shared codebook responses (share = 1): the input channels of a batch in groups of F, one index word each (F fields
 * of index_bits); a group holds, for each codeword k, SL slots of 8 lane words (slot j: the group's channel j), SL = F
 * rounded up to a power of two >= 4, so a channel's words are at group + (k SL + j) 8. Batches are whole groups. */
static inline uint32_t bnn_lanes_fields(uint32_t bits)
{
    const uint32_t f = 32u / bits;
    return f > 16u ? 16u : f;
}

static inline uint32_t bnn_lanes_slots(uint32_t f)
{
    return f <= 4u ? 4u : (f <= 8u ? 8u : 16u);
}

#if BNN_T2_DSP_ASM
#include "bnn_bconv2d_slice.h"
/* The gather of one batch (bnn_bconv2d_lanes_t2.c), SL = 8 and 4- or 5-bit indices: for each of nout outputs (h: 16
 * words each, idx: idx_stride bytes apart), over ngroups (>= 1) groups of F channels (8 or 6), channel j of a group
 * adds the 8 words at resp + 256 * field j + 32 * j bytes (resp advancing gstride bytes a group) into byte lanes,
 * which are then folded into h as the C loop does (bytes 0 and 2 of word i into h[2i], 1 and 3 into h[2i + 1]). */
typedef struct { uint32_t *h; const uint32_t *resp; const uint32_t *idx; uint32_t idx_stride, ngroups, nout, gstride; } bnn_ln_gather_args_t;
void bnn_ln_gather4(const bnn_ln_gather_args_t *a);
void bnn_ln_gather5(const bnn_ln_gather_args_t *a);
/* The fused requant by its fast form over one output channel's lanes inside the unit, the skip map int8: lanes holds
 * [at, cnv << 5 | i] pairs up to lanes_end; out[at] = the requant of (2 h_i - cnv, skip[at]) with h_i halfword i of
 * ho (bnn_requant_fast, PReLU or not: bnn_ln_rq_s8_prelu, bnn_ln_rq_s8). */
typedef struct {
    const uint32_t *lanes, *lanes_end, *ho;
    const int8_t *skip;
    int8_t *out;
    uint32_t pre;
    int32_t mq_a, mq_b, cb;
    uint32_t sh;
    int32_t slope16, pz;
} bnn_ln_rq_args_t;
void bnn_ln_rq_s8(const bnn_ln_rq_args_t *a);
void bnn_ln_rq_s8_prelu(const bnn_ln_rq_args_t *a);
/* The same with an int16 skip map and int16 out (--map-bits 16): skip and out hold int16_t, and the skip element is
 * shifted by its own pre_b (bnn_requant_split). */
typedef struct {
    bnn_ln_rq_args_t a;
    uint32_t pre_b;
} bnn_ln_rq16_args_t;
void bnn_ln_rq_s16(const bnn_ln_rq16_args_t *a);
void bnn_ln_rq_s16_prelu(const bnn_ln_rq16_args_t *a);
#endif

/* Row sums of one input channel for one unit: S[(ky * 8 + pattern) * 4 + w], pattern bit kx set = codeword +1.
 * Stride 1 across: tile column ox reads bit ox + kx + sh0 of a row (sh0 = x0 - pad_left - X0); stride 2: bit
 * ox + (kx >> 1) of phase kx & 1 (sh0 = 0). The tile is tw columns wide. */
static void bnn_lanes_rowsums(const bnn_bconv2d_lanes_params_t *p, const uint32_t *rows, uint32_t oy0, uint32_t nrows,
                              const uint32_t *valid, const uint32_t *colmask, uint32_t unit_mask, uint32_t *S,
                              uint32_t tw, int32_t sh0)
{
    const bnn_window_t *g = &p->g;
    uint32_t taps[18]; /* [ky][P0, N0, P1, N1, P2, N2] */
    for (uint32_t ky = 0; ky < 3u; ky++) {
        uint32_t t[3] = { 0, 0, 0 };
        if (g->sw == 1u && g->sh == 1u) {
            /* Stride 1: each input row once, shifted for the three taps (tile column ox reads bit ox + kx + sh0);
             * sh0 is -1 (one tile, pad 1) or 0 (column tiles) but for other paddings. */
            const uint32_t cm0 = colmask[0], cm1 = colmask[1], cm2 = colmask[2];
            uint32_t t0 = 0, t1 = 0, t2 = 0;
            for (uint32_t r = 0; r < nrows; r++) {
                const int32_t iy = (int32_t)(oy0 + r + ky) - (int32_t)g->pad_top;
                if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                const uint32_t row = rows[iy], at = r * tw;
                if (sh0 == -1) {
                    t0 |= ((row << 1) & cm0) << at; t1 |= (row & cm1) << at; t2 |= ((row >> 1) & cm2) << at;
                } else if (sh0 == 0) {
                    t0 |= (row & cm0) << at; t1 |= ((row >> 1) & cm1) << at; t2 |= ((row >> 2) & cm2) << at;
                } else {
                    for (uint32_t kx = 0; kx < 3u; kx++) {
                        const int32_t sh = (int32_t)kx + sh0;
                        const uint32_t x = sh >= 0 ? row >> (uint32_t)sh : row << (uint32_t)(-sh);
                        t[kx] |= (x & colmask[kx]) << at;
                    }
                }
            }
            t[0] |= t0; t[1] |= t1; t[2] |= t2;
        } else {
            for (uint32_t kx = 0; kx < 3u; kx++) {
                const uint32_t sw = g->sw, phase = sw == 1u ? 0u : kx & 1u;
                const int32_t sh = sw == 1u ? (int32_t)kx + sh0 : (int32_t)(kx >> 1);
                for (uint32_t r = 0; r < nrows; r++) {
                    int32_t iy = (int32_t)((oy0 + r) * g->sh + ky) - (int32_t)g->pad_top;
                    if (iy < 0 || iy >= (int32_t)g->in_h) continue;
                    uint32_t row = rows[(uint32_t)iy * sw + phase];
                    uint32_t x = sh >= 0 ? row >> (uint32_t)sh : row << (uint32_t)(-sh);
                    t[kx] |= (x & colmask[kx]) << (r * tw);
                }
            }
        }
        if (p->pad_value == 0) {
            const uint32_t *v = valid + ky * 3u;
            uint32_t *tp = taps + 6u * ky;
            tp[0] = t[0]; tp[1] = v[0] & ~t[0];
            tp[2] = t[1]; tp[3] = v[1] & ~t[1];
            tp[4] = t[2]; tp[5] = v[2] & ~t[2];
        } else
            for (uint32_t kx = 0; kx < 3u; kx++) {
                /* A +-1 pad value: every tap is valid, the padded ones as +1 (P) or -1 (N). */
                uint32_t tk = t[kx];
                if (p->pad_value > 0) tk |= unit_mask & ~valid[ky * 3u + kx];
                taps[6u * ky + 2u * kx] = tk;
                taps[6u * ky + 2u * kx + 1u] = unit_mask & ~tk;
            }
    }
    LN_PROF(bnn_lp_sums);
#if BNN_T2_DSP_ASM
    bnn_sl_rows_lanes(S, taps, 3u);
#else
    for (uint32_t ky = 0; ky < 3u; ky++) {
        const uint32_t *tk = taps + 6u * ky;
        uint32_t *s = S + ky * 32u;
        for (uint32_t w = 0; w < 4u; w++) {
            uint32_t p0 = (tk[0] >> w) & BNN_NIB, n0 = (tk[1] >> w) & BNN_NIB;
            uint32_t p1 = (tk[2] >> w) & BNN_NIB, n1 = (tk[3] >> w) & BNN_NIB;
            uint32_t p2 = (tk[4] >> w) & BNN_NIB, n2 = (tk[5] >> w) & BNN_NIB;
            uint32_t q0 = n1 + n2, q1 = p1 + n2, q2 = n1 + p2, q3 = p1 + p2;
            s[0 * 4 + w] = n0 + q0;
            s[1 * 4 + w] = p0 + q0;
            s[2 * 4 + w] = n0 + q1;
            s[3 * 4 + w] = p0 + q1;
            s[4 * 4 + w] = n0 + q2;
            s[5 * 4 + w] = p0 + q2;
            s[6 * 4 + w] = n0 + q3;
            s[7 * 4 + w] = p0 + q3;
        }
    }
#endif
}

/* The fused requant of one output channel's lanes by the fast form (bnn_requant_chan_fast), specialised on the skip
 * map's kind (0: none, 1: int8, 2: int32) and PReLU: lane i's accumulator goes to out[lane_at[i]] (~0: past the
 * unit), with skip[lane_at[i]] as the second input. */
static inline void bnn_lanes_rq_fast(const bnn_requant_chan_t *k, const uint32_t *ho, const int32_t *cnv, const uint32_t *lane_at,
                                     int8_t *out, const void *skip, int kind, int prelu)
{
#define BNN_LANES_RQ(AT, ACC)                                                                                        \
    if ((AT) != 0xFFFFFFFFu) {                                                                                      \
        if (kind == 0) out[AT] = bnn_requant_fast1(k, (ACC), prelu);                                                \
        else if (kind == 1) out[AT] = bnn_requant_fast(k, (ACC), ((const int8_t *)skip)[AT], prelu);                \
        else out[AT] = bnn_requant_fast(k, (ACC), ((const int32_t *)skip)[AT], prelu);                              \
    }
    for (uint32_t j = 0; j < 16u; j++) {
        const uint32_t v = ho[j], at0 = lane_at[2u * j], at1 = lane_at[2u * j + 1u];
        BNN_LANES_RQ(at0, 2 * (int32_t)(v & 0xFFFFu) - cnv[2u * j])
        BNN_LANES_RQ(at1, 2 * (int32_t)(v >> 16) - cnv[2u * j + 1u])
    }
#undef BNN_LANES_RQ
}

/* Output channel o's lanes through the fused requant p->out.rq, its constants kc (bnn_lanes_run); out and skip (when
 * given) from the unit's origin (base: that origin in the skip map's elements). */
static void bnn_lanes_requant(const bnn_bconv2d_lanes_params_t *p, const bnn_requant_chan_t *kc, const uint32_t *ho, const int32_t *cnv,
                              const uint32_t *lane_at, const uint32_t *lanes, uint32_t nl, int8_t *out, const void *skip, size_t base)
{
    const int kind = skip == NULL ? 0 : (p->out.skip_kind == BNN_SKIP_S32 ? 2 : 1);
    const void *sk = kind == 0 ? NULL : (kind == 1 ? (const void *)((const int8_t *)skip + base) : (const void *)((const int32_t *)skip + base));
    const bnn_requant_chan_t k = *kc;
    if (k.fast) {
#if BNN_T2_DSP_ASM
        if (kind == 1 && k.pre == k.pre_b) { /* the routine shifts both inputs by one amount */
            const bnn_ln_rq_args_t a = { lanes, lanes + 2u * nl, ho, (const int8_t *)sk, out, k.pre, k.mq_a, k.mq_b, k.cb, k.sh, k.slope16, k.pz };
            if (k.prelu) bnn_ln_rq_s8_prelu(&a);
            else bnn_ln_rq_s8(&a);
            return;
        }
#else
        (void)lanes;
        (void)nl;
#endif
        if (k.prelu) {
            if (kind == 0) bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 0, 1);
            else if (kind == 1) bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 1, 1);
            else bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 2, 1);
        } else {
            if (kind == 0) bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 0, 0);
            else if (kind == 1) bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 1, 0);
            else bnn_lanes_rq_fast(&k, ho, cnv, lane_at, out, sk, 2, 0);
        }
        return;
    }
    for (uint32_t i = 0; i < 32u; i++) {
        const uint32_t at = lane_at[i];
        if (at == 0xFFFFFFFFu) continue;
        const int32_t acc = 2 * (int32_t)((ho[i >> 1] >> (16u * (i & 1u))) & 0xFFFFu) - cnv[i];
        const int32_t b = kind == 0 ? 0 : (kind == 2 ? ((const int32_t *)sk)[at] : (int32_t)((const int8_t *)sk)[at]);
        out[at] = bnn_requant_apply(&k, acc, b);
    }
}

/* The fused requant of one output channel's lanes by the fast form (bnn_requant_chan_fast), specialised on the skip
 * map's kind (0: none, 1: int8, 2: int32, 3: int16), PReLU and the output's width (wide: int16, else int8): lane i's
 * accumulator goes to out[lane_at[i]] (~0: past the unit), with skip[lane_at[i]] as the second input. */
BNN_SPECIALISE void bnn_lanes_rq_fastw(const bnn_requant_chan_t *k, const uint32_t *ho, const int32_t *cnv, const uint32_t *lane_at,
                                     void *out, const void *skip, int kind, int prelu, int wide)
{
#define BNN_LANES_RQ(AT, ACC)                                                                                        \
    if ((AT) != 0xFFFFFFFFu) {                                                                                      \
        int32_t q;                                                                                                  \
        if (kind == 0) q = bnn_requant_fast1q(k, (ACC), prelu, wide);                                               \
        else if (kind == 1) q = bnn_requant_fastq(k, (ACC), ((const int8_t *)skip)[AT], prelu, wide);               \
        else if (kind == 2) q = bnn_requant_fastq(k, (ACC), ((const int32_t *)skip)[AT], prelu, wide);              \
        else q = bnn_requant_fastq(k, (ACC), ((const int16_t *)skip)[AT], prelu, wide);                             \
        if (wide) ((int16_t *)out)[AT] = (int16_t)q;                                                                \
        else ((int8_t *)out)[AT] = (int8_t)q;                                                                       \
    }
    for (uint32_t j = 0; j < 16u; j++) {
        const uint32_t v = ho[j], at0 = lane_at[2u * j], at1 = lane_at[2u * j + 1u];
        BNN_LANES_RQ(at0, 2 * (int32_t)(v & 0xFFFFu) - cnv[2u * j])
        BNN_LANES_RQ(at1, 2 * (int32_t)(v >> 16) - cnv[2u * j + 1u])
    }
#undef BNN_LANES_RQ
}

/* bnn_lanes_rq_fast with the skip kind as a constant (a switch of calls, so each call is specialised). */
BNN_SPECIALISE void bnn_lanes_rq_kindw(const bnn_requant_chan_t *k, const uint32_t *ho, const int32_t *cnv, const uint32_t *lane_at,
                                     void *out, const void *skip, int kind, int prelu, int wide)
{
    switch (kind) {
    case 0: bnn_lanes_rq_fastw(k, ho, cnv, lane_at, out, skip, 0, prelu, wide); break;
    case 1: bnn_lanes_rq_fastw(k, ho, cnv, lane_at, out, skip, 1, prelu, wide); break;
    case 2: bnn_lanes_rq_fastw(k, ho, cnv, lane_at, out, skip, 2, prelu, wide); break;
    default: bnn_lanes_rq_fastw(k, ho, cnv, lane_at, out, skip, 3, prelu, wide); break;
    }
}

/* bnn_lanes_requant for int16 maps (rq.out16 or an int16 skip map), out and skip from the maps' origins (base: the
 * unit's origin in their elements). Apart from bnn_lanes_requant, so that the int8 path's calls stay as they were. */
static void bnn_lanes_requant_wide(const bnn_bconv2d_lanes_params_t *p, const bnn_requant_chan_t *kc, const uint32_t *ho, const int32_t *cnv,
                                   const uint32_t *lane_at, const uint32_t *lanes, uint32_t nl, void *out, const void *skip, size_t base)
{
    const uint32_t sk_kind = p->out.skip_kind, wide = p->out.rq.out16;
    const int kind = skip == NULL ? 0 : (sk_kind == BNN_SKIP_S8 ? 1 : (sk_kind == BNN_SKIP_S32 ? 2 : 3));
    const void *sk = kind == 1 ? (const void *)((const int8_t *)skip + base)
                   : kind == 0 ? NULL
                   : kind == 2 ? (const void *)((const int32_t *)skip + base) : (const void *)((const int16_t *)skip + base);
    void *ob = wide ? (void *)((int16_t *)out + base) : (void *)((int8_t *)out + base);
    const bnn_requant_chan_t k = *kc;
    if (k.fast) {
#if BNN_T2_DSP_ASM
        if (wide && kind == 3) {
            const bnn_ln_rq16_args_t a = { { lanes, lanes + 2u * nl, ho, (const int8_t *)sk, (int8_t *)ob, k.pre, k.mq_a, k.mq_b, k.cb, k.sh, k.slope16, k.pz }, k.pre_b };
            if (k.prelu) bnn_ln_rq_s16_prelu(&a);
            else bnn_ln_rq_s16(&a);
            return;
        }
#else
        (void)lanes;
        (void)nl;
#endif
        if (wide) {
            if (k.prelu) bnn_lanes_rq_kindw(&k, ho, cnv, lane_at, ob, sk, kind, 1, 1);
            else bnn_lanes_rq_kindw(&k, ho, cnv, lane_at, ob, sk, kind, 0, 1);
        } else {
            if (k.prelu) bnn_lanes_rq_kindw(&k, ho, cnv, lane_at, ob, sk, kind, 1, 0);
            else bnn_lanes_rq_kindw(&k, ho, cnv, lane_at, ob, sk, kind, 0, 0);
        }
        return;
    }
    for (uint32_t i = 0; i < 32u; i++) {
        const uint32_t at = lane_at[i];
        if (at == 0xFFFFFFFFu) continue;
        const int32_t acc = 2 * (int32_t)((ho[i >> 1] >> (16u * (i & 1u))) & 0xFFFFu) - cnv[i];
        const int32_t b = kind == 0 ? 0 : kind == 2 ? ((const int32_t *)sk)[at] : kind == 3 ? ((const int16_t *)sk)[at] : ((const int8_t *)sk)[at];
        const int32_t q = bnn_requant_apply(&k, acc, b);
        if (wide) ((int16_t *)ob)[at] = (int16_t)q;
        else ((int8_t *)ob)[at] = (int8_t)q;
    }
}

/* One column tile: output columns x0 .. x0 + TW - 1 of every row (row bit b = input column X0 + b). */
static void bnn_lanes_tile(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, void *out, const void *skip,
                           uint32_t *scratch, const bnn_requant_chan_t *chans, uint32_t x0, uint32_t TW, int32_t X0, int32_t sh0)
{
    const bnn_window_t *g = &p->g;
    const uint32_t C = g->in_c, O = g->out_c, OW = g->out_w, n = p->n_codewords;
    const uint32_t in_words = BNN_WORDS(C), out_words = BNN_WORDS(O);
    const uint32_t plane = (uint32_t)g->out_h * OW;
    const uint32_t sw = g->sw, rw = g->in_h * sw;                    /* words of one channel's rows */
    const uint32_t bits = p->index_bits, F = p->share ? bnn_lanes_fields(bits) : 1u, SL = bnn_lanes_slots(F);
    const int wide = p->out.rq.out16 || (skip != NULL && p->out.skip_kind == BNN_SKIP_S16); /* int16 maps */
    const uint32_t gwords = n * SL * 8u;                            /* share: words of one group's responses */
    const uint32_t iwords = (C + F - 1u) / F;                       /* share: index words of one output */
    uint32_t *rows = scratch;                                       /* [C][in_h][sw] input bit rows */
    uint32_t *S = rows + C * rw;                                    /* share: [96]; else [batch][96] */
    uint32_t *resp = S + 96u * (p->share ? 1u : p->batch);          /* share: [batch / F][n][SL][8] */
    uint32_t *cwp = resp + (p->share ? (uint32_t)p->batch / F * gwords : 0u); /* share: [n][3] row-sum addresses */
    uint32_t *h = cwp + (p->share ? 3u * n : 0u);                   /* [O][16] 16-bit lanes */
    uint32_t *obits = h + O * 16u;                                  /* [O] output bits of the unit */
    uint32_t *nv = obits + O;                                       /* [32] valid taps per position */
#if BNN_T2_DSP_ASM
    /* The codeword counts' routine reads each codeword's three row sums through addresses (32-bit here). */
    const uint32_t **cwa = (const uint32_t **)(void *)cwp;
    if (p->share)
        for (uint32_t k = 0; k < n; k++)
            for (uint32_t ky = 0; ky < 3u; ky++) cwa[3u * k + ky] = S + 32u * ky + 4u * ((p->codewords[k] >> (3u * ky)) & 7u);
    const int cw_asm = p->share && SL == 8u && (n & 1u) == 0u;
#endif

    LN_PROF(bnn_lp_transpose);
    /* Transpose the channel-packed input into bit rows. */
    /* The tile's input columns: X0 .. X0 + sw (TW - 1) + 2 (inside the map). */
    const int32_t xend = X0 + (int32_t)(sw * (TW - 1u) + 3u);
    const uint32_t xlo = X0 < 0 ? 0u : (uint32_t)X0;
    const uint32_t xhi = xend < (int32_t)g->in_w ? (uint32_t)xend : g->in_w;
    /* 32 columns (one phase of them at stride 2 across) by 32 channels at a time: column b's channel word into A[b],
     * transposed, channel c's row word is A[c]. Columns outside xlo .. xhi - 1 read as 0. */
    uint32_t A[32];
    for (uint32_t y = 0; y < g->in_h; y++)
        for (uint32_t j = 0; j < in_words; j++) {
            const uint32_t cn = C - 32u * j < 32u ? C - 32u * j : 32u;
            const uint32_t *a = in + (size_t)y * g->in_w * in_words + j;
            for (uint32_t q = 0; q < sw; q++) {
                for (uint32_t b = 0; b < 32u; b++) {
                    const int32_t x = X0 + (int32_t)(sw * b + q);
                    A[b] = x >= (int32_t)xlo && x < (int32_t)xhi ? a[(uint32_t)x * in_words] : 0u;
                }
                bnn_transpose32(A);
                uint32_t *r = rows + 32u * j * rw + y * sw + q;
                for (uint32_t c = 0; c < cn; c++) r[c * rw] = A[c];
            }
        }

    /* Columns each kx can read: tile column ox reads input column (x0 + ox) * sw - pad_left + kx. */
    uint32_t colmask[3];
    for (uint32_t kx = 0; kx < 3u; kx++) {
        colmask[kx] = 0;
        for (uint32_t ox = 0; ox < TW; ox++) {
            int32_t ix = (int32_t)((x0 + ox) * sw + kx) - (int32_t)g->pad_left;
            if (ix >= 0 && ix < (int32_t)g->in_w) colmask[kx] |= 1u << ox;
        }
    }
    const uint32_t row_mask = TW >= 32u ? 0xFFFFFFFFu : (1u << TW) - 1u;

    for (uint32_t oy0 = 0; oy0 < g->out_h; oy0 += p->rows_per_unit) {
        const uint32_t nrows = g->out_h - oy0 < p->rows_per_unit ? g->out_h - oy0 : p->rows_per_unit;
        const uint32_t nbits = nrows * TW;
        uint32_t unit_mask = 0, valid[9];
        for (uint32_t r = 0; r < nrows; r++) unit_mask |= row_mask << (r * TW);
        for (uint32_t t = 0; t < 9u; t++) {
            valid[t] = 0;
            for (uint32_t r = 0; r < nrows; r++) {
                int32_t iy = (int32_t)((oy0 + r) * g->sh + t / 3u) - (int32_t)g->pad_top;
                if (iy >= 0 && iy < (int32_t)g->in_h) valid[t] |= colmask[t % 3u] << (r * TW);
            }
        }
        for (uint32_t b = 0; b < 32u; b++) {
            uint32_t k = 0;
            for (uint32_t t = 0; t < 9u; t++) k += (valid[t] >> b) & 1u;
            nv[b] = p->pad_value != 0 ? 9u : k;
        }
        for (uint32_t i = 0; i < O * 16u; i++) h[i] = 0;

        for (uint32_t c0 = 0; c0 < C; c0 += p->batch) {
            const uint32_t nb = C - c0 < p->batch ? C - c0 : p->batch;
            for (uint32_t cl = 0; cl < nb; cl++) {
                uint32_t *s = p->share ? S : S + 96u * cl;
                LN_PROF(bnn_lp_rows);
                bnn_lanes_rowsums(p, rows + (c0 + cl) * rw, oy0, nrows, valid, colmask, unit_mask, s, TW, sh0);
                if (!p->share) continue;
                LN_PROF(bnn_lp_resp);
                uint32_t *rk = resp + cl / F * gwords + cl % F * 8u;
#if BNN_T2_DSP_ASM
                if (cw_asm) {
                    bnn_sl_cw_lanes(rk, cwa, cwa + 3u * n);
                    continue;
                }
#endif
                for (uint32_t k = 0; k < n; k++, rk += SL * 8u) {
                    uint32_t id = p->codewords[k];
                    const uint32_t *s0 = s + (id & 7u) * 4u, *s1 = s + 32u + ((id >> 3) & 7u) * 4u, *s2 = s + 64u + (id >> 6) * 4u;
                    for (uint32_t w = 0; w < 4u; w++) {
                        uint32_t x = s0[w] + s1[w] + s2[w];
                        rk[2u * w] = x & BNN_LO4;
                        rk[2u * w + 1u] = (x >> 4) & BNN_LO4;
                    }
                }
            }
            LN_PROF(bnn_lp_gather);
            const uint32_t ng = (nb + F - 1u) / F;
            if (p->share && nb % F != 0u) {
                /* The last group's channels past in_c have index 0: codeword 0's slots for them count nothing. */
                uint32_t *z = resp + (ng - 1u) * gwords;
                for (uint32_t j = nb % F; j < F; j++)
                    for (uint32_t w = 0; w < 8u; w++) z[8u * j + w] = 0u;
            }
#if BNN_T2_DSP_ASM
            if (p->share && SL == 8u && (bits == 4u || bits == 5u)) {
                const bnn_ln_gather_args_t ga = { h, resp, p->index_words + c0 / F, 4u * iwords, ng, O, 4u * gwords };
                if (bits == 4u) bnn_ln_gather4(&ga);
                else bnn_ln_gather5(&ga);
                continue;
            }
#endif
            for (uint32_t o = 0; o < O; o++) {
                uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
                if (p->share) {
                    const uint32_t *iw = p->index_words + (size_t)o * iwords + c0 / F, mask = (1u << bits) - 1u;
                    const uint32_t *base = resp;
                    for (uint32_t gi = 0; gi < ng; gi++, base += gwords) {
                        uint32_t word = iw[gi];
                        for (uint32_t j = 0; j < F; j++, word >>= bits) {
                            const uint32_t *r = base + ((word & mask) * SL + j) * 8u;
                            a0 += r[0]; a1 += r[1]; a2 += r[2]; a3 += r[3];
                            a4 += r[4]; a5 += r[5]; a6 += r[6]; a7 += r[7];
                        }
                    }
                } else {
                    const uint32_t j0 = o * C + c0;
                    const uint32_t *s = S;
                    for (uint32_t cl = 0; cl < nb; cl++, s += 96u) {
                        uint32_t k = bnn_read_index(p->indices, j0 + cl, p->index_bits);
                        uint32_t id = p->codewords ? p->codewords[k] : k;
                        const uint32_t *s0 = s + (id & 7u) * 4u, *s1 = s + 32u + ((id >> 3) & 7u) * 4u, *s2 = s + 64u + (id >> 6) * 4u;
                        uint32_t x;
                        x = s0[0] + s1[0] + s2[0]; a0 += x & BNN_LO4; a1 += (x >> 4) & BNN_LO4;
                        x = s0[1] + s1[1] + s2[1]; a2 += x & BNN_LO4; a3 += (x >> 4) & BNN_LO4;
                        x = s0[2] + s1[2] + s2[2]; a4 += x & BNN_LO4; a5 += (x >> 4) & BNN_LO4;
                        x = s0[3] + s1[3] + s2[3]; a6 += x & BNN_LO4; a7 += (x >> 4) & BNN_LO4;
                    }
                }
                uint32_t *ho = h + o * 16u;
                ho[0] += a0 & BNN_LO8;  ho[1] += (a0 >> 8) & BNN_LO8;
                ho[2] += a1 & BNN_LO8;  ho[3] += (a1 >> 8) & BNN_LO8;
                ho[4] += a2 & BNN_LO8;  ho[5] += (a2 >> 8) & BNN_LO8;
                ho[6] += a3 & BNN_LO8;  ho[7] += (a3 >> 8) & BNN_LO8;
                ho[8] += a4 & BNN_LO8;  ho[9] += (a4 >> 8) & BNN_LO8;
                ho[10] += a5 & BNN_LO8; ho[11] += (a5 >> 8) & BNN_LO8;
                ho[12] += a6 & BNN_LO8; ho[13] += (a6 >> 8) & BNN_LO8;
                ho[14] += a7 & BNN_LO8; ho[15] += (a7 >> 8) & BNN_LO8;
            }
        }

        /* acc per (o, position) -> output. Lane i of the 16-bit words (word i >> 1, halfword i & 1) holds the
         * position bit lane_bit[i]; cnv[i] = valid taps * C there (a lane past the unit gets a bound no acc meets). */
        LN_PROF(bnn_lp_epi);
        int32_t cnv[32];
        uint8_t lane_bit[32];
        uint32_t lane_at[32]; /* i32 output: the lane's offset in the output plane from (oy0, x0); past the unit: ~0 */
        uint32_t lanes[64], nl = 0; /* fused requant: the lanes inside the unit, [offset, valid taps * C << 5 | lane] */
        for (uint32_t i = 0; i < 32u; i++) {
            uint32_t hj = i >> 1, H = i & 1u;
            uint32_t b = 16u * H + 8u * (hj & 1u) + 4u * ((hj >> 1) & 1u) + (hj >> 2);
            lane_bit[i] = (uint8_t)b;
            lane_at[i] = b < nbits ? (b / TW) * OW + b % TW : 0xFFFFFFFFu;
            cnv[i] = (int32_t)(nv[b] * C);
            if (p->out.rq.mult != NULL && b < nbits) {
                lanes[2u * nl] = lane_at[i];
                lanes[2u * nl++ + 1u] = (uint32_t)cnv[i] << 5 | i;
            }
        }
        for (uint32_t o = 0; o < O; o++) {
            const uint32_t *ho = h + o * 16u;
            uint32_t bits = 0;
            if (p->out.rq.mult != NULL) {
                /* A fused requant: int8 (int16) out, the skip map's element as its second input (docs/semantics.md §10). */
                const size_t base = (size_t)o * plane + (size_t)oy0 * OW + x0;
                if (wide) bnn_lanes_requant_wide(p, chans + o, ho, cnv, lane_at, lanes, nl, out, skip, base);
                else bnn_lanes_requant(p, chans + o, ho, cnv, lane_at, lanes, nl, (int8_t *)out + base, skip, base);
            } else if (p->out.thresh == NULL) {
                int32_t *yo = (int32_t *)out + (size_t)o * plane + (size_t)oy0 * OW + x0;
                for (uint32_t i = 0; i < 32u; i++) {
                    const uint32_t at = lane_at[i];
                    if (at != 0xFFFFFFFFu) yo[at] = 2 * (int32_t)((ho[i >> 1] >> (16u * (i & 1u))) & 0xFFFFu) - cnv[i];
                }
            } else {
                const int32_t T = p->out.thresh[o];
                const uint32_t flip = (p->out.flip[o >> 5] >> (o & 31u)) & 1u;
                for (uint32_t i = 0; i < 32u; i += 2u) {
                    uint32_t v = ho[i >> 1];
                    int32_t acc0 = 2 * (int32_t)(v & 0xFFFFu) - cnv[i];
                    int32_t acc1 = 2 * (int32_t)(v >> 16) - cnv[i + 1u];
                    uint32_t b0 = flip ? acc0 <= T : acc0 >= T;
                    uint32_t b1 = flip ? acc1 <= T : acc1 >= T;
                    bits |= (b0 << lane_bit[i]) | (b1 << lane_bit[i + 1u]);
                }
                bits &= nbits >= 32u ? 0xFFFFFFFFu : (1u << nbits) - 1u;
            }
            obits[o] = bits;
        }
        if (p->out.thresh != NULL) {
            for (uint32_t b = 0; b < nbits; b++) {
                const uint32_t oy = oy0 + b / TW, ox = x0 + b % TW;
                uint32_t *y = (uint32_t *)out + ((size_t)oy * OW + ox) * out_words;
                for (uint32_t j = 0; j < out_words; j++) {
                    uint32_t word = 0;
                    uint32_t oe = O - 32u * j < 32u ? O - 32u * j : 32u;
                    for (uint32_t k = 0; k < oe; k++) word |= ((obits[32u * j + k] >> b) & 1u) << k;
                    if (p->out.pool.kh) bnn_pool_or(&p->out.pool, (uint32_t *)out, out_words, oy, ox, j, word);
                    else y[j] = word;
                }
            }
        }
    }
}

/* Words of the scratch's part that every variant uses (bnn_bconv2d_b1_acc_lanes_scratch_words). */
static uint32_t bnn_lanes_base_words(const bnn_bconv2d_lanes_params_t *p)
{
    const uint32_t C = p->g.in_c, H = p->g.in_h * p->g.sw, O = p->g.out_c, n = p->n_codewords, b = p->batch;
    const uint32_t F = p->share ? bnn_lanes_fields(p->index_bits) : 1u;
    return C * H + 96u * (p->share ? 1u : b) + (p->share ? b / F * n * bnn_lanes_slots(F) * 8u + 3u * n : 0u) + 17u * O + 32u;
}

static void bnn_lanes_run(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, void *out, const void *skip, int32_t *scratch_words)
{
    const bnn_window_t *g = &p->g;
    const uint32_t OW = g->out_w;
    uint32_t *scratch = (uint32_t *)scratch_words;
    /* A fused requant's constants, once per output channel for every unit (after the base scratch): the fast form where
     * it applies, |acc| <= 9 * in_c (2 * matches - valid taps * in_c) and the skip map's range. */
    bnn_requant_chan_t *chans = NULL;
    if (p->out.rq.mult != NULL) {
        const int kind = skip == NULL ? 0 : p->out.skip_kind;
        const uint32_t bmax = skip == NULL ? 0u : (kind == BNN_SKIP_S8 ? 128u : (kind == BNN_SKIP_S16 ? 32768u : 0x80000000u));
        chans = (bnn_requant_chan_t *)(void *)(scratch + bnn_lanes_base_words(p));
        for (uint32_t o = 0; o < g->out_c; o++) {
            bnn_requant_chan(&p->out.rq, o, skip != NULL, chans + o);
            (void)bnn_requant_chan_fast(chans + o, 9u * g->in_c, bmax);
        }
    }
    if (p->out.thresh != NULL && p->out.pool.kh) bnn_pool_clear(&p->out.pool, g->out_c, (uint32_t *)out);
    for (uint32_t x0 = 0; x0 < OW; x0 += p->tile_w) {
        const uint32_t TW = OW - x0 < p->tile_w ? OW - x0 : p->tile_w;
        /* Bit b of a row (stride 1; phase b & 1, bit b >> 1 for stride 2) is input column X0 + b: the map itself
         * when it is one tile at stride 1, else the tile's columns from its first one's left tap on. */
        const int32_t X0 = g->sw == 1u && p->tile_w >= OW && g->in_w <= 32u ? 0 : (int32_t)(x0 * g->sw) - (int32_t)g->pad_left;
        const int32_t sh0 = (int32_t)(x0 * g->sw) - (int32_t)g->pad_left - X0;
        bnn_lanes_tile(p, in, out, skip, scratch, chans, x0, TW, X0, sh0);
    }
    LN_PROF(bnn_lp_end);
}

void bnn_bconv2d_b1_acc_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, void *out, int32_t *scratch)
{
    bnn_lanes_run(p, in, out, NULL, scratch);
}

/* A requant fused into the output (p->out.rq): int8 out; skip is its second input, or NULL. In place (out == skip) is
 * safe: each element's skip value is read just before the element is written, and nothing else reads it. */
void bnn_bconv2d_b1_s8_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch)
{
    bnn_lanes_run(p, in, out, skip, scratch);
}

/* The same with int16 out (rq.out16). */
void bnn_bconv2d_b1_s16_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch)
{
    bnn_lanes_run(p, in, out, skip, scratch);
}

/* Scratch: the input's bit rows [in_c][in_h][sw], the tap planes (96 words per channel of a batch, or 96 shared), the
 * shared codeword counts [batch / F][n][SL][8] and their row-sum addresses [n][3], 17 words per output (accumulator
 * lanes and bits) and 32 valid-tap counts. */
uint32_t bnn_bconv2d_b1_acc_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p)
{
    return bnn_lanes_base_words(p);
}

/* With a fused requant, also its constants: BNN_RQ_CHAN_WORDS per output channel. */
uint32_t bnn_bconv2d_b1_s8_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p)
{
    return bnn_lanes_base_words(p) + BNN_RQ_CHAN_WORDS * p->g.out_c;
}

uint32_t bnn_bconv2d_b1_s16_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p)
{
    return bnn_bconv2d_b1_s8_lanes_scratch_words(p);
}
