/* Integer stem: qconv2d with a b1 output, bias, threshold and flip folded into one record per output channel. */
#include <string.h>

#include "bnn_runtime.h"

/* bnn_qconv2d_u8_b1_thr, bnn_qconv2d_s8_b1_thr.
 * The reference's bit is flip ? bias + S <= T : bias + S >= T with S = sum over valid taps of w * (q - zero_point),
 * all exact integers. The generator (ops/qconv2d.ts, qthrRecords) folds bias, threshold and flip into each output
 * channel's record: with w' = flip ? -w : w and T' = flip ? bias - T : T - bias the bit is S' >= T', S' = sum of
 * w' * (q - zp). It stores the negated weights u = -w' (int8 weights: in [-128, 128]; int16 weights, which the
 * generator keeps within -32767..32767: the same) as int16 and init = T' - 1 with T' clamped to [-B, B + 1],
 * B = taps * wmax * 255 >= |S'| (wmax 128, or 32768 for int16 weights; clamping keeps an always / never true compare
 * so), so that
 *   acc = init + sum u * (q - zp) = T' - 1 - S'   and   bit = acc < 0 = the sign bit of acc,
 * and |acc| <= 2B + 1 never overflows (taps <= BNN_QPATCH_MAX). The record of a channel is int32 words: the
 * weights as halfword pairs (slot 2k in the low half of word k, slot 2k+1 in the high half, a zero weight in the
 * spare slot of an odd tap count), then init. Slot order: (c, ky, kx), except for one input channel 3x3, where the
 * slots are the window's columns (ky = 0, 1) of kx = 0, 1, 2, then row ky = 2, kx = 0, 1, 2:
 *   slot: 0 (0,0)  1 (1,0)  2 (0,1)  3 (1,1)  4 (0,2)  5 (1,2)  6 (2,0)  7 (2,1)  8 (2,2)   [(ky, kx)]
 * so that, sliding by one column, the pairs (slot 2k, 2k + 1) move by whole words and the last row by one half.
 * A padded tap is a 0 in the window (the reference skips it: the same sum). (q - zp) is in [-255, 255] (int16) and
 * so every product and sum is exact in int32 and in the DSP's 16 x 16 dual multiply-accumulate (SMLAD). */
#define BNN_QPATCH_MAX 64u

/* The signed halves of a weight pair word. int16_t is two's complement by definition (C99 7.18.1.1), so the copy
 * is exact without implementation-defined conversions; compilers make it one SXTH (ASRS #16 for the high half). */
static inline int32_t bnn_lo16(uint32_t u)
{
    const uint16_t h = (uint16_t)u;
    int16_t v;
    memcpy(&v, &h, sizeof v);
    return v;
}
static inline int32_t bnn_hi16(uint32_t u) { return bnn_lo16(u >> 16); }

/* n (<= 32) channels of `taps` slots, x in slot order (a zero in the spare slot): bit o = the sign of acc_o.
 * From the last channel down, so each sign shifts in at bit 0. */
static uint32_t bnn_qthr_word_c(const int32_t *x, const int32_t *wt, uint32_t pairs, uint32_t n)
{
    uint32_t bits = 0;
    const int32_t *r = wt + (size_t)n * (pairs + 1u);
    while (n--) {
        r -= pairs + 1u;
        int32_t acc = r[pairs];
        for (uint32_t k = 0; k < pairs; k++) {
            const uint32_t u = (uint32_t)r[k];
            acc += bnn_lo16(u) * x[2u * k] + bnn_hi16(u) * x[2u * k + 1u];
        }
        bits = (bits << 1) | ((uint32_t)acc >> 31);
    }
    return bits;
}

#if !BNN_T2_DSP_ASM
/* 9 slots, written out (the portable stem, M0 and M3). */
static uint32_t bnn_qthr9_word_c(const int32_t *x, const int32_t *wt, uint32_t n)
{
    const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7], x8 = x[8];
    uint32_t bits = 0;
    const int32_t *r = wt + (size_t)n * 6u;
    while (n--) {
        r -= 6;
        const uint32_t u0 = (uint32_t)r[0], u1 = (uint32_t)r[1], u2 = (uint32_t)r[2], u3 = (uint32_t)r[3], u4 = (uint32_t)r[4];
        int32_t acc = r[5];
        acc += bnn_lo16(u0) * x0 + bnn_hi16(u0) * x1 + bnn_lo16(u1) * x2 + bnn_hi16(u1) * x3;
        acc += bnn_lo16(u2) * x4 + bnn_hi16(u2) * x5 + bnn_lo16(u3) * x6 + bnn_hi16(u3) * x7 + bnn_lo16(u4) * x8;
        bits = (bits << 1) | ((uint32_t)acc >> 31);
    }
    return bits;
}
#define BNN_QTHR9_WORD(x, w, n) bnn_qthr9_word_c((x), (w), (n))
/* The sliding window: slots 0..8 in x (int32); a new column (a, b, c) = rows 0, 1, 2 moves the others left. */
#define BNN_QSLIDE_INIT int32_t x9_[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 }; (void)x
#define BNN_QSLIDE(a, b, c) do { x9_[0] = x9_[2]; x9_[1] = x9_[3]; x9_[2] = x9_[4]; x9_[3] = x9_[5]; x9_[4] = (a); \
        x9_[5] = (b); x9_[6] = x9_[7]; x9_[7] = x9_[8]; x9_[8] = (c); } while (0)
#define BNN_QSLIDE_WORD(w, n) bnn_qthr9_word_c(x9_, (w), (n))
#else
/* Thumb-2 + DSP: the window's 5 halfword pairs in r3-r7 for all channels; per channel one LDMDB of its record
 * (from the end: channel 0 is read last and its bit lands in bit 0) into r8-r12, lr, five SMLAD (the first starting
 * from init), LSLS #1 (C = the sign of acc) and ADCS (shift it into the bits). n mod 4 channels first, then four
 * per loop turn: 8.5 instructions a channel. pairs: the window, 5 words; wt_end: the end of n records of 6 words. */
uint32_t bnn_qthr9_word_t2(const uint32_t *pairs, const int32_t *wt_end, uint32_t n);
#define BNN_QTHR9_CH                                                                            \
    "ldmdb r1!, {r8, r9, r10, r11, r12, lr}\n\t"                                                \
    "smlad lr, r3, r8, lr\n\tsmlad lr, r4, r9, lr\n\tsmlad lr, r5, r10, lr\n\t"                 \
    "smlad lr, r6, r11, lr\n\tsmlad lr, r7, r12, lr\n\t"                                        \
    "lsls lr, lr, #1\n\tadcs r0, r0, r0\n\t"
__asm__(
    "\t.pushsection .text.bnn_qthr9_word_t2,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_qthr9_word_t2\n\t.type bnn_qthr9_word_t2, %function\n\t.thumb_func\n"
    "bnn_qthr9_word_t2:\n\t"
    "push {r4-r11, lr}\n\t"
    "ldm r0, {r3-r7}\n\t"
    "movs r0, #0\n\t"
    "lsrs r2, r2, #1\n\t"  /* C = bit 0 of n */
    "bcc 1f\n\t"
    BNN_QTHR9_CH
    "1:\n\t"
    "lsrs r2, r2, #1\n\t"  /* C = bit 1 of n, r2 = n / 4 */
    "bcc 2f\n\t"
    BNN_QTHR9_CH
    BNN_QTHR9_CH
    "2:\n\t"
    "cbz r2, 4f\n"
    "3:\n\t"
    BNN_QTHR9_CH
    BNN_QTHR9_CH
    BNN_QTHR9_CH
    BNN_QTHR9_CH
    "subs r2, r2, #1\n\t"
    "bne 3b\n"
    "4:\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_qthr9_word_t2, .-bnn_qthr9_word_t2\n\t"
    ".popsection\n");
static inline uint32_t bnn_qthr9_word_dsp(const int32_t *x, const int32_t *wt, uint32_t n)
{
    uint32_t pairs[5];
    for (uint32_t k = 0; k < 4u; k++) pairs[k] = ((uint32_t)x[2u * k] & 0xFFFFu) | ((uint32_t)x[2u * k + 1u] << 16);
    pairs[4] = (uint32_t)x[8] & 0xFFFFu;
    return bnn_qthr9_word_t2(pairs, wt + 6u * n, n);
}
#define BNN_QTHR9_WORD(x, w, n) bnn_qthr9_word_dsp((x), (w), (n))
/* The sliding window as its halfword pairs: P0..P2 the columns' (row 0, row 1) pairs, P3 = (row 2 of the first two
 * columns), P4's low half row 2 of the third (its high half meets the zero weight of the spare slot). */
#define BNN_QSLIDE_INIT uint32_t p5_[5] = { 0, 0, 0, 0, 0 }; (void)x
#define BNN_QSLIDE(a, b, c) do { p5_[0] = p5_[1]; p5_[1] = p5_[2]; p5_[2] = ((uint32_t)(a) & 0xFFFFu) | ((uint32_t)(b) << 16); \
        p5_[3] = (p5_[3] >> 16) | (p5_[4] << 16); p5_[4] = (uint32_t)(c); } while (0)
#define BNN_QSLIDE_WORD(w, n) bnn_qthr9_word_t2(p5_, (w) + 6u * (n), (n))
#endif

/* The window of each position in `x`, slot order, 0 for a padded tap; one channel 3x3 stride 1 (the usual stem)
 * slides: the slots of columns 1, 2 move to those of 0, 1 and only the new column is read. */
#define BNN_DEFINE_QCONV2D_B1_THR(NAME, IN_T)                                                   \
    void NAME(const bnn_qconv2d_thr_params_t *p, const IN_T *in, uint32_t *out)                 \
    {                                                                                           \
        const bnn_window_t *g = &p->g;                                                          \
        const uint32_t words = BNN_WORDS(g->out_c), kh = g->kh, kw = g->kw, taps = (uint32_t)g->in_c * kh * kw; \
        const uint32_t pairs = (taps + 1u) >> 1, rec = pairs + 1u;                              \
        const int32_t zp = p->zero_point, H = (int32_t)g->in_h, W = (int32_t)g->in_w;           \
        const int one33 = g->in_c == 1u && kh == 3u && kw == 3u;                                \
        int32_t x[BNN_QPATCH_MAX];                                                              \
        if (taps > BNN_QPATCH_MAX) return; /* the generator never emits such a layer */         \
        if (one33 && g->sw == 1u) {                                                             \
            for (uint32_t oy = 0; oy < g->out_h; oy++) {                                        \
                const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top;                         \
                /* a padded row reads row 0 and masks it to 0 */                               \
                const int v0 = iy0 >= 0 && iy0 < H, v1 = iy0 + 1 >= 0 && iy0 + 1 < H, v2 = iy0 + 2 >= 0 && iy0 + 2 < H; \
                const int32_t m0 = v0 ? -1 : 0, m1 = v1 ? -1 : 0, m2 = v2 ? -1 : 0;             \
                const IN_T *r0 = in + (v0 ? iy0 : 0) * W, *r1 = in + (v1 ? iy0 + 1 : 0) * W, *r2 = in + (v2 ? iy0 + 2 : 0) * W; \
                int32_t col = -(int32_t)g->pad_left; /* the window's first column */           \
                BNN_QSLIDE_INIT;                                                                \
                for (uint32_t k = 0; k < 3u; k++, col++) {                                      \
                    int32_t a = 0, b = 0, c = 0;                                                \
                    if ((uint32_t)col < (uint32_t)W) {                                          \
                        a = ((int32_t)r0[col] - zp) & m0; b = ((int32_t)r1[col] - zp) & m1; c = ((int32_t)r2[col] - zp) & m2; \
                    }                                                                           \
                    BNN_QSLIDE(a, b, c);                                                        \
                }                                                                               \
                uint32_t *dst = out + (size_t)oy * g->out_w * words;                            \
                for (uint32_t ox = 0;;) {                                                       \
                    if (words == 1u) dst[0] = BNN_QSLIDE_WORD(p->wt, g->out_c);                 \
                    else for (uint32_t j = 0; j < words; j++) {                                 \
                        const uint32_t o0 = j * 32u, n = g->out_c - o0 < 32u ? g->out_c - o0 : 32u; \
                        dst[j] = BNN_QSLIDE_WORD(p->wt + (size_t)o0 * 6u, n);                   \
                    }                                                                           \
                    if (++ox == g->out_w) break;                                                \
                    dst += words;                                                               \
                    int32_t a = 0, b = 0, c = 0;                                                \
                    if ((uint32_t)col < (uint32_t)W) {                                          \
                        a = ((int32_t)r0[col] - zp) & m0; b = ((int32_t)r1[col] - zp) & m1; c = ((int32_t)r2[col] - zp) & m2; \
                    }                                                                           \
                    BNN_QSLIDE(a, b, c);                                                        \
                    col++;                                                                      \
                }                                                                               \
            }                                                                                   \
            return;                                                                             \
        }                                                                                       \
        for (uint32_t oy = 0; oy < g->out_h; oy++) {                                            \
            const int32_t iy0 = (int32_t)(oy * g->sh) - g->pad_top;                             \
            for (uint32_t ox = 0; ox < g->out_w; ox++) {                                        \
                const int32_t ix0 = (int32_t)(ox * g->sw) - g->pad_left;                        \
                uint32_t t = 0;                                                                 \
                for (uint32_t c = 0; c < g->in_c; c++) {                                        \
                    for (uint32_t ky = 0; ky < kh; ky++) {                                      \
                        const int32_t iy = iy0 + (int32_t)ky;                                   \
                        const int row_ok = iy >= 0 && iy < H;                                   \
                        const IN_T *r = in + ((size_t)c * g->in_h + (uint32_t)(row_ok ? iy : 0)) * g->in_w; \
                        for (uint32_t kx = 0; kx < kw; kx++, t++) {                             \
                            const int32_t ix = ix0 + (int32_t)kx;                               \
                            const int32_t v = row_ok && ix >= 0 && ix < W ? (int32_t)r[ix] - zp : 0; \
                            /* slot of (ky, kx) in the one-channel 3x3 order, else t */       \
                            x[one33 ? (ky == 2u ? 6u + kx : 2u * kx + ky) : t] = v;             \
                        }                                                                       \
                    }                                                                           \
                }                                                                               \
                if (taps & 1u) x[taps] = 0;                                                     \
                uint32_t *dst = out + ((size_t)oy * g->out_w + ox) * words;                     \
                for (uint32_t j = 0; j < words; j++) {                                          \
                    const uint32_t o0 = j * 32u, n = g->out_c - o0 < 32u ? g->out_c - o0 : 32u;  \
                    const int32_t *w = p->wt + (size_t)o0 * rec;                                \
                    dst[j] = taps == 9u ? BNN_QTHR9_WORD(x, w, n) : bnn_qthr_word_c(x, w, pairs, n); \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

BNN_DEFINE_QCONV2D_B1_THR(bnn_qconv2d_u8_b1_thr, uint8_t)
BNN_DEFINE_QCONV2D_B1_THR(bnn_qconv2d_s8_b1_thr, int8_t)
