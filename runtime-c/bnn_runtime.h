/*
 * bnn-gen runtime: portable C99 kernels for binary neural networks.
 *
 * Data layouts (docs/semantics.md is the authority; the TS reference implements it):
 *
 *  f32 / s32 tensors [C][H][W] are planar, row-major (PyTorch's CHW order).
 *
 *  b1 tensors (+1/-1 activations) are channel-packed per position: position p = y*W + x owns
 *  BNN_WORDS(C) consecutive 32-bit words; channel c is bit (c & 31) of word (c >> 5).
 *  Bit 1 means +1, bit 0 means -1. Spare bits of the last word are always 0.
 *  A vector [N] is the same with one position: element k is bit (k & 31) of word (k >> 5).
 *
 *  Binary weights use the same convention (bit 1 = +1). A codeword id (0..511) describes a 3x3 kernel:
 *  tap t = 3*ky + kx is +1 iff bit t of the id is 1.
 *
 *  For +1/-1 vectors a, w of K elements:  dot(a, w) = K - 2 * popcount(a XOR w).
 *
 * Thresholds: a binary layer's integer accumulator acc of output channel o becomes the bit
 *  flip[o] ? (acc <= thresh[o]) : (acc >= thresh[o]).  sign(0) = +1 is folded into these.
 *
 * Names: every kernel is bnn_<op>_<input type>_<output type>[_<variant>], with the types
 *   u8, s8 (raw model input; int8 maps, planar like s32), f32, s32, b1 (packed +1/-1), and acc: an integer
 *   accumulator that leaves through the layer's bnn_output_t (thresholded to b1 when it has thresholds, stored as
 *   s32 when it has none);
 *   variants: _ref is the portable reference kernel, other suffixes name a fast path (lanes, slice).
 *   Its parameters are a bnn_<op>[_<variant>]_params_t. A kernel that takes scratch has a companion
 *   bnn_<kernel>_scratch_words(params) returning the uint32_t words it needs (CMSIS-NN's _get_buffer_size): the
 *   generator's arena plan reserves exactly that, and a host test checks the two agree.
 *
 * CPU features (DSP, MVE, Thumb-1, optimisation) are resolved once, in bnn_arch.h.
 */
#ifndef BNN_RUNTIME_H
#define BNN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "bnn_arch.h"
#if BNN_GNUC && BNN_ARCH_THUMB2
#include <arm_acle.h>
#endif

/* Bit-exact float32 needs every multiply and add rounded on its own: never fuse them into an FMA, even when
 * a user's build (an IDE, Arduino, -std=gnu11) leaves GCC at its default -ffp-contract=fast. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define BNN_WORDS(bits) (((bits) + 31u) >> 5)

/* Population count without __builtin_popcount (a libgcc call on Cortex-M): SWAR, 12 ALU operations. */
static inline uint32_t bnn_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}

/* Entry j of an LSB-first stream of `bits`-bit values (bits <= 9; tables carry one spare byte for this 2-byte read). */
static inline uint32_t bnn_read_index(const uint8_t *s, uint32_t j, uint32_t bits)
{
    uint32_t bit = j * bits;
    uint32_t v = (uint32_t)s[bit >> 3] | ((uint32_t)s[(bit >> 3) + 1u] << 8);
    return (v >> (bit & 7u)) & ((1u << bits) - 1u);
}

/* Geometry of a windowed op (conv, pool). Output size is fixed by the generator. */
typedef struct {
    uint16_t in_c, in_h, in_w;
    uint16_t out_c, out_h, out_w;
    uint8_t kh, kw, sh, sw;
    uint8_t pad_top, pad_left;
} bnn_window_t;

/* Max pooling fused into a kernel that writes b1 (conv -> max pool): the full-resolution map is never stored. The
 * kernel clears the pooled map, then ORs the bits of each output position into every pooled position whose window
 * holds it (max of +-1 is OR with bit 1 = +1; padded window positions are never part of the max, and every window
 * holds at least one position). kh == 0: no pooling. */
typedef struct {
    uint16_t out_h, out_w;   /* the pooled map */
    uint16_t in_w;           /* width of the map being pooled (the kernel's own output) */
    uint8_t kh;              /* 0: no pooling */
    const uint16_t *span_y;  /* [in_h][2]: the pooled rows [lo, hi) whose windows hold input row y (no division at run time) */
    const uint16_t *span_x;  /* [in_w][2]: the same for columns */
} bnn_pool_t;

/* In-place transpose of a 32x32 bit matrix: bit k of A[i] <-> bit i of A[k] (bnn_bits.c). */
void bnn_transpose32(uint32_t *A);

/* Clear the pooled b1 map of out_c channels. */
void bnn_pool_clear(const bnn_pool_t *pl, uint32_t out_c, uint32_t *out);
/* OR word j (channels 32j..) of input position (y, x) into every pooled position whose window holds it. */
void bnn_pool_or(const bnn_pool_t *pl, uint32_t *out, uint32_t words, uint32_t y, uint32_t x, uint32_t j, uint32_t bits);

/* ---- integer requantisation to int8 or int16 (bnn_requant.c, docs/semantics.md §10 "requant") ----
 * Per element of channel c, with x_k the k-th input's stored int8 / int16 / int32 value:
 *   V = sum_k x_k * mult[k][c] (int64, exact); U = sat32(((V + 2^(shift-1)) >> shift) + bias[c]);
 *   slope != NULL: U < 0 -> U = sat32((U * slope[c] + 2^14) >> 15) (Q15 slope); then U = sat32(U + post[c]);
 *   out = clamp(((U + 128) >> 8) + zero_point, -128, 127), or -32768..32767 when out16.  >> is floor. */
typedef struct {
    uint16_t c;
    uint32_t plane;        /* h * w */
    const int32_t *mult;   /* [inputs][c], |m| <= 2^30 - 1 */
    const int32_t *bias;   /* [c] */
    const int32_t *slope;  /* [c], Q15; NULL: no PReLU */
    const int32_t *post;   /* [c], added to every element when slope != NULL */
    uint8_t shift;         /* 1..62 */
    uint8_t out16;         /* 1: int16 output */
    int32_t zero_point;    /* within the output's range */
} bnn_requant_params_t;

/* One channel's requant constants, set up once for a run of its elements (kernels that fuse a requant hoist them).
 * The first fields give the rule as written (bnn_requant_apply); bnn_requant_chan_fast adds the fast form. */
typedef struct {
    int32_t mult_a, mult_b, bias, slope, post, zero_point;
    uint32_t shift, out16;
    int prelu;
    /* The fast form (bnn_requant_fast), set when fast != 0: hi = the high word of (a << pre) * mq_a + (b << pre_b) *
     * mq_b; no PReLU: out = ssat8((hi + cb) >> sh); PReLU: U = (hi + cb) >> sh, U < 0 -> U = smmulr(2U, slope16),
     * out = ssat8((U + pz) >> 8). mq_a = mult_a * 2^(P - pre), mq_b = mult_b * 2^(P - pre_b), P the form's total
     * pre-shift: an input too wide for all of P leaves the rest to its multiplier. */
    int fast;
    uint32_t pre, pre_b, sh;
    int32_t mq_a, mq_b, cb, slope16, pz;
} bnn_requant_chan_t;

/* Its size in 32-bit words, for kernels that keep one per output channel in their scratch (the generator's figure:
 * RQ_CHAN_WORDS in generator/src/ops/bconv2d/lanes.ts). */
#define BNN_RQ_CHAN_WORDS 18u
typedef char bnn_requant_chan_words_check[sizeof(bnn_requant_chan_t) == 4u * BNN_RQ_CHAN_WORDS ? 1 : -1];

/* two: the requant has a second input (its mult row exists). */
static inline void bnn_requant_chan(const bnn_requant_params_t *p, uint32_t c, int two, bnn_requant_chan_t *k)
{
    k->shift = p->shift;
    k->mult_a = p->mult[c];
    k->mult_b = two ? p->mult[p->c + c] : 0;
    k->bias = p->bias[c];
    k->prelu = p->slope != NULL;
    k->slope = k->prelu ? p->slope[c] : 0;
    k->post = k->prelu ? p->post[c] : 0;
    k->zero_point = p->zero_point;
    k->out16 = p->out16;
    k->fast = 0;
}

static inline int64_t bnn_requant_sat32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v);
}

/* V (exact, int64: every intermediate fits, bnn_requant.c) -> the output (int8 or int16 by the params). `>>` on a
 * negative int64_t is taken to be arithmetic (floor), as gcc, clang and emcc define it. */
static inline int32_t bnn_requant_finish(const bnn_requant_chan_t *k, int64_t v)
{
    int64_t u = bnn_requant_sat32(((v + ((int64_t)1 << (k->shift - 1u))) >> k->shift) + k->bias);
    if (k->prelu) {
        if (u < 0) u = bnn_requant_sat32((u * k->slope + 16384) >> 15);
        u = bnn_requant_sat32(u + k->post);
    }
    const int64_t q = ((u + 128) >> 8) + k->zero_point, lo = k->out16 ? -32768 : -128, hi = k->out16 ? 32767 : 127;
    return (int32_t)(q < lo ? lo : (q > hi ? hi : q));
}

/* Element (a, b) of the channel (b: the second input's value, 0 without one). */
static inline int32_t bnn_requant_apply(const bnn_requant_chan_t *k, int32_t a, int32_t b)
{
    return bnn_requant_finish(k, (int64_t)a * k->mult_a + (int64_t)b * k->mult_b);
}

/* The split of the fast form's pre-shift P between an input (|x| <= xmax) and its multiplier m: the input takes the
 * largest e <= P with |x| << e inside int32 (xmax * 2^e <= 2^31 - 1; e = 0 leaves x as it is), the multiplier the
 * rest, which must keep it inside int32 (|m| * 2^(P - e) <= 2^31 - 1). Returns 0 when it cannot. */
static inline int bnn_requant_split(uint32_t xmax, int32_t m, uint32_t P, uint32_t *e, int32_t *mq)
{
    uint32_t n = P;
    while (n > 0u && ((uint64_t)xmax << n) > 0x7FFFFFFFu) n--;
    const uint32_t q = P - n, am = m < 0 ? (uint32_t)0 - (uint32_t)m : (uint32_t)m;
    if (((uint64_t)am << q) > 0x7FFFFFFFu) return 0;
    *e = n;
    *mq = (int32_t)((uint32_t)m << q);
    return 1;
}

/* The fast form's pre-shift P split for inputs wider than 2^(s-2) - 1 (bnn_requant_chan_fast): 0 when the bound
 * (amax |mult_a| + bmax |mult_b|) 2^P <= 2^62 or a split fails. */
static inline int bnn_requant_chan_split(bnn_requant_chan_t *k, uint32_t amax, uint32_t bmax, uint32_t P)
{
    const uint32_t ama = k->mult_a < 0 ? (uint32_t)0 - (uint32_t)k->mult_a : (uint32_t)k->mult_a;
    const uint32_t amb = k->mult_b < 0 ? (uint32_t)0 - (uint32_t)k->mult_b : (uint32_t)k->mult_b;
    if ((uint64_t)amax * ama + (uint64_t)bmax * amb > ((uint64_t)1 << (62u - P))) return 0;
    return bnn_requant_split(amax, k->mult_a, P, &k->pre, &k->mq_a) && bnn_requant_split(bmax, k->mult_b, P, &k->pre_b, &k->mq_b);
}

/* The fast form of the channel, for inputs with |a| <= amax and |b| <= bmax; returns k->fast (0: the channel's
 * constants fall outside the form's range, so bnn_requant_apply must be used). It equals the rule for every such
 * input (bnn_requant.c gives the proof; a host check compares the two on random and edge cases):
 *  - shift s <= 32: V is scaled by 2^P, P = 33 - s, which makes the rounding shift floor((hi + 1) / 2); each input
 *    carries as much of 2^P as int32 holds and its multiplier the rest (bnn_requant_split: the products, and so V * 2^P,
 *    are exact whatever the split), and (amax |mult_a| + bmax |mult_b|) 2^P <= 2^62 keeps |hi| <= 2^30. Inputs within
 *    2^(s-2) - 1 take all of P (the split changes nothing there). s >= 33: no pre-shift,
 *    floor((hi + 2^(s-33)) / 2^(s-32)). Either way floor((hi + H) / 2^S).
 *  - cb = H + c * 2^S folds c = bias (without PReLU, bias + 128 + 256 zero_point, with 8 more bits of shift) into H,
 *    so U needs no saturation: |hi| <= 2^30 (s >= 33: |x| <= 2^31, |mult| < 2^30) and -2^30 <= cb < 2^30.
 *  - PReLU with -2^15 <= slope < 2^15: U * slope / 2^15 rounded half up is SMMULR(2U, slope * 2^16) and needs no
 *    saturation (|U| <= 2^30); pz = post + 128 + 256 zero_point with -2^30 <= pz < 2^30 keeps U + pz in int32.
 *    Without the final clamp's saturation at int32 the result is the same: the clamp to -128..127 (-32768..32767)
 *    saturates far inside it.
 * All in 32 bits: the bounds on c and pz are checked before cb and pz are formed. */
BNN_SPECIALISE int bnn_requant_chan_fast(bnn_requant_chan_t *k, uint32_t amax, uint32_t bmax)
{
    const uint32_t s = k->shift;
    const int32_t zk = 128 + 256 * k->zero_point; /* |zk| <= 2^23 */
    uint32_t S, H;
    k->fast = 0;
    k->pre = k->pre_b = k->sh = 0u; /* pre, pre_b: no pre-shift when s >= 33 */
    k->mq_a = k->mult_a;
    k->mq_b = k->mult_b;
    k->cb = k->slope16 = k->pz = 0;
    /* |mult| <= 2^30 - 1, 2 <= s <= 62. */
    if ((uint32_t)k->mult_a + 0x3FFFFFFFu > 0x7FFFFFFEu || (uint32_t)k->mult_b + 0x3FFFFFFFu > 0x7FFFFFFEu || s - 2u > 60u) return 0;
    if (s <= 32u) {
        const uint32_t P = 33u - s, lim = (1u << (s - 2u)) - 1u;
        k->pre = k->pre_b = P;
        if ((amax > lim || bmax > lim) && !bnn_requant_chan_split(k, amax, bmax, P)) return 0;
        S = 1u;
        H = 1u;
    } else {
        S = s - 32u;
        H = 1u << (s - 33u);
    }
    /* -2^30 <= H + c * 2^S < 2^30  <=>  -floor((2^30 + H) / 2^S) <= c <= floor((2^30 - 1 - H) / 2^S) (H <= 2^29). */
    const int32_t clo = -(int32_t)((0x40000000u + H) >> S), chi = (int32_t)((0x3FFFFFFFu - H) >> S);
    const int32_t off = k->prelu ? 0 : zk; /* c = bias + off; the bounds on bias: clo - off .. chi - off, no overflow */
    if (k->bias < clo - off || k->bias > chi - off) return 0;
    k->cb = (int32_t)(H + ((uint32_t)(k->bias + off) << S));
    if (k->prelu) {
        if ((uint32_t)k->slope + 0x8000u > 0xFFFFu || k->post < -0x40000000 - zk || k->post > 0x3FFFFFFF - zk) return 0;
        k->slope16 = (int32_t)((uint32_t)k->slope << 16);
        k->pz = k->post + zk;
        k->sh = S;
    } else {
        k->sh = S + 8u > 31u ? 31u : S + 8u;
    }
    k->fast = 1;
    return 1;
}

/* x << n as int32 (the bits shifted out must be copies of the sign: the caller's range guarantees it). */
static inline int32_t bnn_shl32(int32_t x, uint32_t n)
{
    return (int32_t)((uint32_t)x << n);
}

/* clamp(x, -128, 127): SSAT on Thumb-2. */
static inline int32_t bnn_ssat8(int32_t x)
{
#if BNN_GNUC && BNN_ARCH_THUMB2
    return __ssat(x, 8);
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

/* floor((x * y + 2^31) / 2^32): SMMULR. */
static inline int32_t bnn_smmulr(int32_t x, int32_t y)
{
#if BNN_GNUC && BNN_ARCH_DSP
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(x), "r"(y));
    return r;
#else
    return (int32_t)(((int64_t)x * y + 0x80000000LL) >> 32);
#endif
}

/* clamp(x, -32768, 32767): SSAT on Thumb-2. */
static inline int32_t bnn_ssat16(int32_t x)
{
#if BNN_GNUC && BNN_ARCH_THUMB2
    return __ssat(x, 16);
#else
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
#endif
}

/* The fast form's output from hi (the high word of the shifted inputs' products), int8 or, when wide, int16 (wide
 * must match the params' out16); prelu must equal k->prelu. Both are constants at the call, so loops specialised on
 * them carry no test. */
static inline int32_t bnn_requant_fast_hiq(const bnn_requant_chan_t *k, int32_t hi, int prelu, int wide)
{
    int32_t u = (hi + k->cb) >> k->sh;
    if (prelu) {
        if (u < 0) u = bnn_smmulr(u * 2, k->slope16);
        u = (u + k->pz) >> 8;
    }
    return wide ? bnn_ssat16(u) : bnn_ssat8(u);
}

/* Element (a, b) by the fast form (k->fast set, |a| <= amax, |b| <= bmax of bnn_requant_chan_fast). */
static inline int32_t bnn_requant_fastq(const bnn_requant_chan_t *k, int32_t a, int32_t b, int prelu, int wide)
{
    const int64_t v = (int64_t)bnn_shl32(a, k->pre) * k->mq_a + (int64_t)bnn_shl32(b, k->pre_b) * k->mq_b;
    return bnn_requant_fast_hiq(k, (int32_t)(v >> 32), prelu, wide);
}

/* The same for a one-input requant. */
static inline int32_t bnn_requant_fast1q(const bnn_requant_chan_t *k, int32_t a, int prelu, int wide)
{
    const int64_t v = (int64_t)bnn_shl32(a, k->pre) * k->mq_a;
    return bnn_requant_fast_hiq(k, (int32_t)(v >> 32), prelu, wide);
}

/* The int8 forms of the two above. */
static inline int8_t bnn_requant_fast(const bnn_requant_chan_t *k, int32_t a, int32_t b, int prelu)
{
    return (int8_t)bnn_requant_fastq(k, a, b, prelu, 0);
}

static inline int8_t bnn_requant_fast1(const bnn_requant_chan_t *k, int32_t a, int prelu)
{
    return (int8_t)bnn_requant_fast1q(k, a, prelu, 0);
}

/* The output (int8 or int16 by the params) of element c of a requant whose first input is a (an accumulator) and
 * second b (0 without one). */
int32_t bnn_requant_value(const bnn_requant_params_t *p, uint32_t c, int32_t a, int32_t b);

/* Integer accumulator -> output. thresh == NULL: s32 planar output, or with rq.mult != NULL int8 or int16 (rq.out16) planar output through
 * the requant rq (a requant layer fused into the kernel: the accumulator is its first input and, for a two-input
 * requant, the kernel's skip map at the same element its second; skip_kind: that map is int8, int32 or int16);
 * else b1
 * packed output, pooled when pool.kh. */
enum { BNN_SKIP_S8 = 0, BNN_SKIP_S32 = 1, BNN_SKIP_S16 = 2 };

typedef struct {
    const int32_t *thresh;
    const uint32_t *flip; /* bit o set: the comparison is acc <= thresh[o] */
    bnn_pool_t pool;
    bnn_requant_params_t rq;
    uint8_t skip_kind;
} bnn_output_t;

/* Write the out_c accumulators of position pos (of plane positions) to a b1 or s32 output. */
void bnn_output_store(const bnn_output_t *o, const int32_t *acc, uint32_t out_c, void *out, uint32_t pos, uint32_t plane);
/* The same with the fused requant's skip map (NULL for a one-input requant or no requant). */
void bnn_output_store_skip(const bnn_output_t *o, const int32_t *acc, uint32_t out_c, void *out, const void *skip, uint32_t pos, uint32_t plane);

/* ---- real-valued convolution (float32) ---- */
typedef struct {
    bnn_window_t g;
    const float *weights; /* [out_c][in_c][kh][kw] */
    const float *bias;    /* [out_c] */
    const float *in_scale; /* raw inputs only: x = (q * in_scale[c]) + in_bias[c] */
    const float *in_bias;
    /* Fused _b1 kernels only (NULL when absent): y = (y * post_scale[o]) + post_bias[o]; bit = y + shift[o] >= 0 */
    const float *post_scale;
    const float *post_bias;
    const float *shift;
} bnn_conv2d_params_t;

void bnn_conv2d_u8_f32(const bnn_conv2d_params_t *p, const uint8_t *in, float *out);
void bnn_conv2d_s8_f32(const bnn_conv2d_params_t *p, const int8_t *in, float *out);
void bnn_conv2d_f32_f32(const bnn_conv2d_params_t *p, const float *in, float *out);
/* The same in patch form (auto/fast builds): each window normalised once into scratch (in_c * kh * kw floats),
 * then every output channel's sum down it, four channels at a time. Bit-exact with the above. */
void bnn_conv2d_u8_f32_patch(const bnn_conv2d_params_t *p, const uint8_t *in, float *out, int32_t *scratch);
void bnn_conv2d_s8_f32_patch(const bnn_conv2d_params_t *p, const int8_t *in, float *out, int32_t *scratch);
void bnn_conv2d_f32_f32_patch(const bnn_conv2d_params_t *p, const float *in, float *out, int32_t *scratch);
uint32_t bnn_conv2d_u8_f32_patch_scratch_words(const bnn_conv2d_params_t *p);
uint32_t bnn_conv2d_s8_f32_patch_scratch_words(const bnn_conv2d_params_t *p);
uint32_t bnn_conv2d_f32_f32_patch_scratch_words(const bnn_conv2d_params_t *p);
/* conv2d -> [affine] -> binarize in one pass, output b1 (the float map is never stored). */
void bnn_conv2d_u8_b1(const bnn_conv2d_params_t *p, const uint8_t *in, uint32_t *out);
void bnn_conv2d_s8_b1(const bnn_conv2d_params_t *p, const int8_t *in, uint32_t *out);
void bnn_conv2d_f32_b1(const bnn_conv2d_params_t *p, const float *in, uint32_t *out);
/* conv2d -> [affine] -> max pool in one pass, output the pooled f32 map; scratch: one conv row of every channel
 * (out_c x out_w floats), so the full-resolution map is never stored, then the patch (in_c x kh x kw floats). */
typedef struct {
    bnn_conv2d_params_t c; /* the convolution; post_scale/post_bias: the affine, NULL without one; shift unused */
    bnn_window_t pool;     /* the max pool over the convolution's output (in_* = the convolution's out_*) */
} bnn_conv2d_pool_params_t;
void bnn_conv2d_u8_f32_maxpool(const bnn_conv2d_pool_params_t *p, const uint8_t *in, float *out, int32_t *scratch);
void bnn_conv2d_s8_f32_maxpool(const bnn_conv2d_pool_params_t *p, const int8_t *in, float *out, int32_t *scratch);
void bnn_conv2d_f32_f32_maxpool(const bnn_conv2d_pool_params_t *p, const float *in, float *out, int32_t *scratch);
uint32_t bnn_conv2d_u8_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p);
uint32_t bnn_conv2d_s8_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p);
uint32_t bnn_conv2d_f32_f32_maxpool_scratch_words(const bnn_conv2d_pool_params_t *p);

/* conv2d -> [affine] -> binarize on the raw input with the chain after the accumulator folded into one float
 * threshold per output channel (docs/kernels.md, "Float stem"): bit o = acc_o >= thr_o, where acc_o is the
 * accumulator of the sign-folded weights (negated when the chain decreases in acc). in_c * kh * kw <= 64. */
typedef struct {
    bnn_window_t g;
    const float *wt;       /* [out_c][in_c * kh * kw + 1]: weights in (c, ky, kx) order, then the threshold */
    const float *in_scale; /* x = (q * in_scale[c]) + in_bias[c] */
    const float *in_bias;
} bnn_conv2d_thr_params_t;

void bnn_conv2d_u8_b1_thr(const bnn_conv2d_thr_params_t *p, const uint8_t *in, uint32_t *out);
void bnn_conv2d_s8_b1_thr(const bnn_conv2d_thr_params_t *p, const int8_t *in, uint32_t *out);

/* ---- integer convolution on the raw input or an int8 map (int8 or int16 weights) ---- */

/* qconv2d's padFix (docs/semantics.md §10): v[(o * ny + cy) * nx + cx] joins the accumulator of output (oy, ox) of
 * channel o. cy is oy's row class: oy itself below top, top + 1 + oy - bottom from bottom on, top between (the
 * interior, whose entries are 0); cx likewise with left and right. v == NULL: no table. */
typedef struct {
    const int32_t *v;
    uint16_t top, bottom, left, right, ny, nx;
} bnn_pad_fix_t;

static inline uint32_t bnn_pad_fix_class(uint32_t i, uint32_t top, uint32_t bottom)
{
    return i < top ? i : i < bottom ? top : top + 1u + i - bottom;
}

typedef struct {
    bnn_window_t g;
    const void *weights;   /* [out_c][in_c][kh][kw], int8_t, or int16_t when w16 */
    uint8_t w16;
    const int32_t *bias;
    int32_t zero_point;
    bnn_output_t out;
    const int32_t *pad_q;  /* [in_c]: the raw value a padded tap of channel c takes; NULL: the zero point (adds 0) */
    bnn_pad_fix_t fix;
} bnn_qconv2d_params_t;

/* qconv2d -> requant [-> maxpool] streamed by rows (bnn_qconv2d_rows.c): int8 output, or int16 (rq.out16). */
typedef struct {
    bnn_window_t g;
    const uint32_t *wt;    /* int16 pairs (tap 2k low, 2k + 1 high; a 0 past the last), 4 channels interleaved (_rows.c) */
    const int32_t *bias;
    int32_t zero_point;
    uint16_t pairs;        /* (in_c * kh * kw + 1) / 2 */
    uint32_t span;         /* |acc - bias| <= span: 255 times the largest sum of |w| of a channel, plus padFix's max */
    uint8_t dual_issue;    /* 1: the dot products scheduled for a dual-issue core (the M7), where built (_rows_t2.c) */
    bnn_requant_params_t rq;   /* one input, every mult > 0, no PReLU when pooled */
    bnn_window_t pool;     /* kh == 0: no pool; in = the conv's output, out = the pooled map */
    const int32_t *pad_q;  /* [in_c] (at most 16 channels) or NULL, as in bnn_qconv2d_params_t */
    const uint32_t *wino;  /* NULL, or stride 2, kernel <= 8x8: the Winograd weights (_wino.c; wt unused) */
    uint8_t wino_half;     /* 1: a 7x7 kernel, U laid out halved at the points of G's last row and column (_wino.c) */
    bnn_pad_fix_t fix;     /* added to each conv row as it is made, before the requant and the pool */
} bnn_qconv2d_rows_params_t;

/* Conv output rows 3ty .. 3ty + 2 of a rows conv with Winograd weights (bnn_qconv2d_wino.c), biases added. */
void bnn_qconv2d_wino_rows(const bnn_qconv2d_rows_params_t *p, const void *in, int is_u8, uint32_t ty, int32_t *const acc[3], int32_t *scratch);
/* Its own scratch in words: V of two tiles and M, 2 words a point (36) for each pair of components (in_c * 2) and each
 * output channel; the rows it fills follow it. */
#define BNN_QW_SCRATCH_WORDS(in_c, out_c) (72u * (2u * (uint32_t)(in_c) + (uint32_t)(out_c)))

void bnn_qconv2d_u8_s8_rows(const bnn_qconv2d_rows_params_t *p, const uint8_t *in, int8_t *out, int32_t *scratch);
void bnn_qconv2d_s8_s8_rows(const bnn_qconv2d_rows_params_t *p, const int8_t *in, int8_t *out, int32_t *scratch);
uint32_t bnn_qconv2d_u8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);
uint32_t bnn_qconv2d_s8_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);
void bnn_qconv2d_u8_s16_rows(const bnn_qconv2d_rows_params_t *p, const uint8_t *in, int16_t *out, int32_t *scratch);
void bnn_qconv2d_s8_s16_rows(const bnn_qconv2d_rows_params_t *p, const int8_t *in, int16_t *out, int32_t *scratch);
uint32_t bnn_qconv2d_u8_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);
uint32_t bnn_qconv2d_s8_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);
void bnn_qconv2d_s16_s8_rows(const bnn_qconv2d_rows_params_t *p, const int16_t *in, int8_t *out, int32_t *scratch);
void bnn_qconv2d_s16_s16_rows(const bnn_qconv2d_rows_params_t *p, const int16_t *in, int16_t *out, int32_t *scratch);
uint32_t bnn_qconv2d_s16_s8_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);
uint32_t bnn_qconv2d_s16_s16_rows_scratch_words(const bnn_qconv2d_rows_params_t *p);

void bnn_qconv2d_u8_acc(const bnn_qconv2d_params_t *p, const uint8_t *in, void *out, int32_t *scratch);
void bnn_qconv2d_s8_acc(const bnn_qconv2d_params_t *p, const int8_t *in, void *out, int32_t *scratch);
uint32_t bnn_qconv2d_u8_acc_scratch_words(const bnn_qconv2d_params_t *p);
uint32_t bnn_qconv2d_s8_acc_scratch_words(const bnn_qconv2d_params_t *p);
void bnn_qconv2d_s16_acc(const bnn_qconv2d_params_t *p, const int16_t *in, void *out, int32_t *scratch);
uint32_t bnn_qconv2d_s16_acc_scratch_words(const bnn_qconv2d_params_t *p);

/* qconv2d -> threshold (b1 output) with bias, threshold and flip folded into one record per output channel
 * (runtime-c/bnn_qconv2d_thr.c, docs/kernels.md "Integer stem"): int32 words, the negated sign-folded weights as int16
 * pairs in slot order, then init; bit o = (init + sum of weight * (q - zero_point)) < 0. in_c * kh * kw <= 64. */
typedef struct {
    bnn_window_t g;
    const int32_t *wt; /* [out_c][(in_c * kh * kw + 1) / 2 + 1] */
    int32_t zero_point;
} bnn_qconv2d_thr_params_t;

void bnn_qconv2d_u8_b1_thr(const bnn_qconv2d_thr_params_t *p, const uint8_t *in, uint32_t *out);
void bnn_qconv2d_s8_b1_thr(const bnn_qconv2d_thr_params_t *p, const int8_t *in, uint32_t *out);

/* ---- binary convolution ---- */
typedef struct {
    bnn_window_t g;
    int8_t pad_value;        /* 0: padded taps contribute nothing; +1 / -1: constant activation */
    const uint32_t *weights; /* plain: [out_c][kh][kw][BNN_WORDS(in_c)] */
    const uint16_t *codewords; /* codebook (3x3 only): n codeword ids */
    const uint8_t *indices;  /* codebook: (out_c * in_c) indices of index_bits bits, LSB-first stream, +1 spare byte */
    uint16_t n_codewords;
    uint8_t index_bits;
    uint8_t share;           /* codebook: 1 = compute each input channel's n codeword responses once per position */
    bnn_output_t out;
} bnn_bconv2d_params_t;

void bnn_bconv2d_b1_acc_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, int32_t *scratch);
void bnn_bconv2d_b1_acc_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, void *out, int32_t *scratch);
uint32_t bnn_bconv2d_b1_acc_plain_ref_scratch_words(const bnn_bconv2d_params_t *p);
uint32_t bnn_bconv2d_b1_acc_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p);
/* With a requant fused into the output (out.rq): int8 output, skip the requant's second input (or NULL). */
void bnn_bconv2d_b1_s8_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch);
void bnn_bconv2d_b1_s16_plain_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch);
void bnn_bconv2d_b1_s8_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch);
void bnn_bconv2d_b1_s16_codebook_ref(const bnn_bconv2d_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch);
uint32_t bnn_bconv2d_b1_s8_plain_ref_scratch_words(const bnn_bconv2d_params_t *p);
uint32_t bnn_bconv2d_b1_s16_plain_ref_scratch_words(const bnn_bconv2d_params_t *p);
uint32_t bnn_bconv2d_b1_s8_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p);
uint32_t bnn_bconv2d_b1_s16_codebook_ref_scratch_words(const bnn_bconv2d_params_t *p);

/* Fast path for 3x3, stride 1 (see bnn_bconv2d_lanes.c): spatially sliced, byte lanes; maps wider than 32 in
 * column tiles. */
typedef struct {
    bnn_window_t g;
    int8_t pad_value;
    uint8_t tile_w;          /* output columns per tile: out_w when the map is at most 32 wide, else <= 30 */
    uint8_t rows_per_unit;   /* whole tile rows per unit of <= 32 positions */
    uint8_t share;           /* 1: codebook responses computed once per input channel and gathered; 0: per (o, c) */
    uint8_t batch;           /* input channels per byte-lane batch, 1..28 */
    uint16_t n_codewords;    /* codebook: n */
    uint8_t index_bits;      /* bits per entry of `indices` */
    const uint16_t *codewords; /* codebook: n codeword ids; NULL: `indices` hold 9-bit kernel ids (tap t = bit t) */
    const uint8_t *indices;  /* share = 0: [out_c][in_c] entries, LSB-first stream + 1 spare byte (the same table as _ref) */
    const uint32_t *index_words; /* share = 1: [out_c][ceil(in_c / F)] words of F = min(32 / index_bits, 16) fields:
                              * channel F g + j's index in bits [j index_bits, (j + 1) index_bits) of word g */
    bnn_output_t out;
} bnn_bconv2d_lanes_params_t;

void bnn_bconv2d_b1_acc_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, void *out, int32_t *scratch);
uint32_t bnn_bconv2d_b1_acc_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p);
void bnn_bconv2d_b1_s8_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, const void *skip, int8_t *out, int32_t *scratch);
void bnn_bconv2d_b1_s16_lanes(const bnn_bconv2d_lanes_params_t *p, const uint32_t *in, const void *skip, int16_t *out, int32_t *scratch);
uint32_t bnn_bconv2d_b1_s8_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p);
uint32_t bnn_bconv2d_b1_s16_lanes_scratch_words(const bnn_bconv2d_lanes_params_t *p);

/* Fast path for 3x3, stride 1, "same" (pad 1) codebook convolutions with a b1 output, maps up to 32 wide (see
 * bnn_bconv2d_slice.c, docs/kernels.md): sliced over 32 positions, per-channel codeword match counts shared by all
 * output channels, accumulated as bit planes (mode 0) or byte lanes (mode 1), the threshold folded into the start value. */
typedef struct {
    bnn_window_t g;
    int8_t pad_value;
    uint8_t rows_per_unit;   /* whole output rows per unit of <= 32 positions */
    uint8_t acc_bits;        /* mode 0: K, 2^K > 9 * in_c, the output is bit K of the accumulator; mode 1: 15 */
    uint8_t mode;            /* 0: bit-plane accumulation; 1: byte lanes folded into 16-bit lanes (9 * in_c < 2^15) */
    uint8_t row_cache;       /* mode 1, rows_per_unit <= 2: keep kernel-row counts for the next unit (see the scratch size);
                              * 2: as a ring of three slots per channel (one batch, in_c % 8 == 0, Thumb-2 DSP builds) */
    uint8_t sat;             /* mode 1, one batch, Thumb-2 DSP builds: 1: saturating byte lanes when every threshold fits
                              * a byte; 2: wide lanes (the same per-output address records, 16-bit lanes, any threshold);
                              * see the scratch size; other builds ignore it */
    uint16_t n_codewords;    /* n <= 256; indices are 4 bits wide for n <= 16, else 8 */
    uint16_t batch;          /* input channels per batch of shared count planes (multiple of 8, or in_c) */
    bnn_pool_t pool;         /* fused max pool (pool.kh != 0) */
    uint16_t out_group;      /* output channels per pass over the input channels (any number <= out_c; 0: out_c): with fewer
                              * than out_c the counts are computed once per group and only a group's accumulators are
                              * kept (no row cache, ring or saturating path then) */
    const uint16_t *codewords; /* n codeword ids (tap t = bit t) */
    const uint32_t *indices; /* [out_c][row words]: index of (o, c) at bit (c * ibits) & 31 of word (c * ibits) >> 5 */
    const uint32_t *start;   /* [out_c]: start value (bits 0..23), odd-threshold bit 24, flip bit 25 */
} bnn_bconv2d_slice_params_t;

void bnn_bconv2d_b1_b1_slice(const bnn_bconv2d_slice_params_t *p, const uint32_t *in, uint32_t *out, int32_t *scratch);
uint32_t bnn_bconv2d_b1_b1_slice_scratch_words(const bnn_bconv2d_slice_params_t *p);

/* ---- binary fully connected ---- */
typedef struct {
    uint16_t in_n, out_n;
    const uint32_t *weights; /* [out_n][BNN_WORDS(in_n)] */
    bnn_output_t out;
} bnn_bdense_params_t;

void bnn_bdense_b1_acc_ref(const bnn_bdense_params_t *p, const uint32_t *in, void *out, int32_t *scratch);
uint32_t bnn_bdense_b1_acc_ref_scratch_words(const bnn_bdense_params_t *p);

/* ---- real-valued and integer fully connected ---- */
typedef struct {
    uint16_t in_n, out_n;
    const float *weights; /* [out_n][in_n] */
    const float *bias;
} bnn_dense_params_t;

void bnn_dense_f32_f32(const bnn_dense_params_t *p, const float *in, float *out);
void bnn_dense_b1_f32(const bnn_dense_params_t *p, const uint32_t *in, float *out);
/* The same sums, each term an add (input +1) or a subtract (input -1) of the weight (bit-driven; FPU: Thumb-2 assembly). */
void bnn_dense_b1_f32_addsub(const bnn_dense_params_t *p, const uint32_t *in, float *out);

typedef struct {
    uint16_t in_n, out_n;
    const int8_t *weights; /* [out_n][in_n] */
    const int32_t *bias;
    int32_t zero_point; /* int8 input only */
} bnn_qdense_params_t;

void bnn_qdense_b1_s32(const bnn_qdense_params_t *p, const uint32_t *in, int32_t *out);
void bnn_qdense_s8_s32(const bnn_qdense_params_t *p, const int8_t *in, int32_t *out);

/* bnn_requant_<inputs>_<output>: one or two inputs, each s8, s16 or s32 (int8_t, int16_t, int32_t), output s8 or
 * s16 (the params' out16 says which); bnn_requant.c defines them all with the same list. */
#define BNN_REQUANT_KINDS(X1, X2, O, TO) \
    X1(s8, int8_t, O, TO) X1(s16, int16_t, O, TO) X1(s32, int32_t, O, TO) \
    X2(s8, int8_t, s8, int8_t, O, TO) X2(s8, int8_t, s16, int16_t, O, TO) X2(s8, int8_t, s32, int32_t, O, TO) \
    X2(s16, int16_t, s8, int8_t, O, TO) X2(s16, int16_t, s16, int16_t, O, TO) X2(s16, int16_t, s32, int32_t, O, TO) \
    X2(s32, int32_t, s8, int8_t, O, TO) X2(s32, int32_t, s16, int16_t, O, TO) X2(s32, int32_t, s32, int32_t, O, TO)
#define BNN_REQUANT_DECL1(A, TA, O, TO) void bnn_requant_##A##_##O(const bnn_requant_params_t *p, const TA *in, TO *out);
#define BNN_REQUANT_DECL2(A, TA, B, TB, O, TO) \
    void bnn_requant_##A##B##_##O(const bnn_requant_params_t *p, const TA *a, const TB *b, TO *out);
BNN_REQUANT_KINDS(BNN_REQUANT_DECL1, BNN_REQUANT_DECL2, s8, int8_t)
BNN_REQUANT_KINDS(BNN_REQUANT_DECL1, BNN_REQUANT_DECL2, s16, int16_t)

/* ---- element-wise and pooling ---- */
typedef struct {
    uint16_t c, h, w;
    const float *shift; /* NULL: no shift */
} bnn_binarize_params_t;

void bnn_binarize_f32_b1(const bnn_binarize_params_t *p, const float *in, uint32_t *out);

/* Integer map (int8 or int32, planar CHW) -> b1: bit c = flip[c] ? x <= thresh[c] : x >= thresh[c]. */
typedef struct {
    uint16_t c, h, w;
    const int32_t *thresh;
    const uint32_t *flip; /* bit c set: the comparison is x <= thresh[c] */
} bnn_threshold_params_t;

void bnn_threshold_s8_b1(const bnn_threshold_params_t *p, const int8_t *in, uint32_t *out);
void bnn_threshold_s16_b1(const bnn_threshold_params_t *p, const int16_t *in, uint32_t *out);
void bnn_threshold_s32_b1(const bnn_threshold_params_t *p, const int32_t *in, uint32_t *out);

typedef struct {
    uint16_t c, h, w;
    const float *scale;
    const float *bias;
} bnn_affine_params_t;

void bnn_affine_f32_f32(const bnn_affine_params_t *p, const float *in, float *out);
void bnn_affine_s32_f32(const bnn_affine_params_t *p, const int32_t *in, float *out);

typedef struct {
    uint16_t c, h, w;
    const float *slope;
    const float *shift_in;  /* NULL: none */
    const float *shift_out; /* NULL: none */
} bnn_prelu_params_t;

void bnn_add_f32_f32(uint32_t n, const float *a, const float *b, float *out);
void bnn_prelu_f32_f32(const bnn_prelu_params_t *p, const float *in, float *out);
void bnn_clip_f32_f32(uint32_t n, float lo, float hi, const float *in, float *out);
void bnn_softmax_f32_f32(uint32_t n, const float *in, float *out);

typedef struct {
    uint32_t hw;
    uint16_t ca, cb;
} bnn_concat_params_t;

void bnn_concat_f32_f32(uint32_t na, uint32_t nb, const float *a, const float *b, float *out);
void bnn_concat_b1_b1(const bnn_concat_params_t *p, const uint32_t *a, const uint32_t *b, uint32_t *out);

typedef struct {
    uint32_t hw;
    uint16_t c, before, after;
} bnn_padchannels_params_t;

void bnn_padchannels_f32_f32(const bnn_padchannels_params_t *p, const float *in, float *out);

typedef struct {
    uint32_t n;
    uint8_t cmp; /* 0: <, 1: <=, 2: >, 3: >= */
    float value;
} bnn_where_params_t;

void bnn_where_f32_f32(const bnn_where_params_t *p, const float *x, const float *a, const float *b, float *out);
void bnn_softmax_f32_f32_log(uint32_t n, const float *in, float *out);

typedef struct {
    bnn_window_t g;
    uint8_t count_include_pad;
} bnn_avgpool_params_t;

void bnn_avgpool_f32_f32(const bnn_avgpool_params_t *p, const float *in, float *out);
/* int8, int16: the mean of the valid taps' q (divisor as above) rounded half up, bnn_mean_s32. */
void bnn_avgpool_s8_s8(const bnn_avgpool_params_t *p, const int8_t *in, int8_t *out);
void bnn_avgpool_s16_s16(const bnn_avgpool_params_t *p, const int16_t *in, int16_t *out);

/* avgpool -> requant (one input) as one kernel: each mean (as bnn_avgpool_<in>_<in>) goes through rq straight away,
 * so the pooled map is never stored: bnn_avgpool_<in>_rq_<out> (the int8 copy of an int16 map's pool, --map-bits 16). */
typedef struct {
    bnn_avgpool_params_t pool;
    bnn_requant_params_t rq;
} bnn_avgpool_rq_params_t;

void bnn_avgpool_s8_rq_s8(const bnn_avgpool_rq_params_t *p, const int8_t *in, int8_t *out);
void bnn_avgpool_s8_rq_s16(const bnn_avgpool_rq_params_t *p, const int8_t *in, int16_t *out);
void bnn_avgpool_s16_rq_s8(const bnn_avgpool_rq_params_t *p, const int16_t *in, int8_t *out);
void bnn_avgpool_s16_rq_s16(const bnn_avgpool_rq_params_t *p, const int16_t *in, int16_t *out);

/* The mean of n >= 1 integers summing to s, rounded half up: floor((2s + n) / (2n)), a floor also for a negative
 * numerator (C's / truncates toward 0, so one less when there is a remainder). 2s + n must fit int32. */
static inline int32_t bnn_mean_s32(int32_t s, int32_t n)
{
    int32_t num = 2 * s + n, den = 2 * n;
    int32_t q = num / den;
    if (num % den != 0 && num < 0) q--;
    return q;
}

void bnn_maxpool_b1_b1(const bnn_window_t *g, const uint32_t *in, uint32_t *out);
void bnn_maxpool_f32_f32(const bnn_window_t *g, const float *in, float *out);
void bnn_maxpool_s8_s8(const bnn_window_t *g, const int8_t *in, int8_t *out);
void bnn_maxpool_s16_s16(const bnn_window_t *g, const int16_t *in, int16_t *out);
void bnn_maxpool_s32_s32(const bnn_window_t *g, const int32_t *in, int32_t *out);

void bnn_globalavgpool_f32_f32(uint16_t c, uint16_t h, uint16_t w, const float *in, float *out);
void bnn_globalavgpool_s32_f32(uint16_t c, uint16_t h, uint16_t w, const int32_t *in, float *out);
void bnn_globalavgpool_b1_f32(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, float *out);
/* int8 -> int8, int16 -> int16: the mean of each channel's q rounded half up (bnn_mean_s32, n = h * w). */
void bnn_globalavgpool_s8_s8(uint16_t c, uint16_t h, uint16_t w, const int8_t *in, int8_t *out);
void bnn_globalavgpool_s16_s16(uint16_t c, uint16_t h, uint16_t w, const int16_t *in, int16_t *out);

/* b1 [C][H][W] (channel-packed per position) -> b1 vector in (c, y, x) order. */
void bnn_flatten_b1_b1(uint16_t c, uint16_t h, uint16_t w, const uint32_t *in, uint32_t *out);

#endif /* BNN_RUNTIME_H */
