/*
 * bnn-gen runtime, internal: what the bit-sliced convolution (bnn_bconv2d_slice.c) shares with its Thumb-2
 * assembly routines (bnn_bconv2d_slice_t2.c). Those exist only in Thumb-2 + DSP optimised builds (BNN_T2_DSP_ASM,
 * see bnn_arch.h); every other build takes the portable C loops of bnn_bconv2d_slice.c. Both are checked bit for
 * bit against the TypeScript reference.
 */
#ifndef BNN_BCONV2D_SLICE_H
#define BNN_BCONV2D_SLICE_H

#include "bnn_runtime.h"

#if BNN_T2_DSP_ASM
/* One output channel over one batch of ngroups (>= 1) whole groups of 8 input channels, 4-bit indices.
 * a->flags bit 0 (first batch): h[j] = a->vv + a->e[j] first. Channel j of a group adds the 8 byte-lane words at
 * cw + 256 * idx_j + 32 * j bytes (idx_j: field j of the group's index word); cw advances a->gstride bytes per group.
 * Every 3 groups (24 channels x 9 matches <= 216 per byte) the bytes are folded with UXTAB16 into the 16-bit lanes
 * of h (bytes 0/2 into h[2j], 1/3 into h[2j + 1]). After the last group of the last batch (flags bit 1) the final
 * fold skips h and gathers bit 15 of every lane instead: returns the output bits (bit hj + 16 H <- bit 15 + 16 H of
 * h[hj]), else 0. */
typedef struct { const uint32_t *e; uint32_t vv, gstride, flags; } bnn_sl_out_args_t;
uint32_t bnn_sl_lanes_out(uint32_t *h, const uint32_t *cw, const uint32_t *idx, uint32_t ngroups, const bnn_sl_out_args_t *a);
/* For n codewords: dst (8 words, then +256 bytes) = the sum of the three 4-word nibble-lane row counts that ptrs
 * holds for the codeword (3 addresses each), split into byte lanes (word 2w: nibbles 0, 2, 4, 6 of word w; 2w + 1:
 * nibbles 1, 3, 5, 7). ptrs_end = ptrs + 3 n; n even (two codewords a loop). */
void bnn_sl_cw_lanes(uint32_t *dst, const uint32_t *const *ptrs, const uint32_t *const *ptrs_end);
/* nky (>= 1) kernel rows of S, 32 words each ([pattern][w], see bnn_bconv2d_b1_b1_slice), from their tap planes
 * t[row][P0, N0, P1, N1, P2, N2]: lane i of word w counts the matches of pattern (b0, b1, b2) (b = 1: P) at
 * position 4i + w. */
void bnn_sl_rows_lanes(uint32_t *S, const uint32_t *t, uint32_t nky);
/* Copy nwords (a multiple of 32) words. */
void bnn_sl_copy(uint32_t *dst, const uint32_t *src, uint32_t nwords);
/* Saturating byte lanes (p->sat): every output channel of a unit in one call. Output o's record in `rec` is
 * [8 start words][c16 count-word addresses][flip][positions]. The 8 accumulator words start at 255 - T per byte lane
 * (T = the lane's threshold on matches, 0 <= T <= 255 checked by the caller) and each channel adds its 8 count words
 * with UQADD8 (channels past in_c point at a zero block): a lane saturates at 255 exactly when its matches reach T,
 * and saturation is exact here because every term is >= 0. UQSUB8 with 0xFE leaves 1 in saturated lanes and 0
 * elsewhere; word j byte B becomes bit 8B + j of obits[o], which is then XORed with flip and ANDed with positions.
 * c16 is a multiple of 16 (the loop adds 16 channels a round; the zero block pads). */
typedef struct { const uint32_t *rec; uint32_t *obits; uint32_t *obits_end; uint32_t cbytes; uint32_t *h; } bnn_sl_sat_args_t;
void bnn_sl_sat_out(const bnn_sl_sat_args_t *a);
/* Wide lanes (p->sat == 2, thresholds above a byte): the saturating path's records and loop, 16-bit lanes instead.
 * Output o's record is [16 start words][c8 count-word addresses][flip][positions]; the start words are the 16-bit
 * lane words of bnn_slice_lanes_outputs (2^15 - M + E). Channels add their 8 count words with plain ADDs into byte
 * lanes (the first of a chunk loads them), folded with UXTAB16 into the 16 lane words at a->h every 24 channels
 * (24 x 9 <= 255); the last fold gathers bit 15 of every lane instead (bit hj + 16 H <- bit 15 + 16 H of lane word
 * hj), XORed with flip and ANDed with positions into obits[o]. c8 (cbytes / 4) is a multiple of 8. */
void bnn_sl_wide_out(const bnn_sl_sat_args_t *a);
/* Row ring (p->row_cache == 2): codeword counts of every channel, codeword by codeword. The kernel-row counts of
 * channel c live at ring[slot][c][32 words] (slot of kernel row ky = (rotation + ky) % 3); a->tab holds for each
 * codeword the three row-count addresses of channel 0, and each channel is 128 bytes further in every slot
 * (post-indexed loads). Counts go to cw[group][codeword][channel in group][8 words] as in bnn_sl_cw_lanes. */
typedef struct { const uint32_t *const *tab, *const *tab_end; uint32_t ngroups, gskip; } bnn_sl_ring_args_t;
void bnn_sl_cw_ring(uint32_t *cw, const bnn_sl_ring_args_t *a);
#endif /* BNN_T2_DSP_ASM */

#if BNN_MVE
/* Helium versions of bnn_sl_sat_out and bnn_sl_wide_out (bnn_bconv2d_slice_mve.c): the same records and output bits;
 * the wide records' 16 start words in vector order (lane words h[0, 2, 4, 6], h[8, 10, 12, 14], h[1, 3, 5, 7],
 * h[9, 11, 13, 15]); a->h unused. */
void bnn_sl_mve_sat_out(const bnn_sl_sat_args_t *a);
void bnn_sl_mve_wide_out(const bnn_sl_sat_args_t *a);
/* Helium versions of the shared counts' routines: the same arguments and results as bnn_sl_rows_lanes,
 * bnn_sl_cw_lanes (any n) and bnn_sl_cw_ring. */
void bnn_sl_mve_rows_lanes(uint32_t *S, const uint32_t *t, uint32_t nky);
void bnn_sl_mve_cw_lanes(uint32_t *dst, const uint32_t *const *ptrs, const uint32_t *const *ptrs_end);
void bnn_sl_mve_cw_ring(uint32_t *cw, const bnn_sl_ring_args_t *a);
/* Ring mode, zero padding: kernel rows from..2 of n (1..32) channels into their ring slots, as bnn_slice_unit_taps +
 * bnn_sl_rows_lanes compute them one channel at a time; U[32 ky + c]: channel c's unit word of kernel row ky (its
 * nr input rows side by side); dst[ky]: channel 0's 32 words (channel c 32 c words further); um: the unit's positions.
 * The field order is fixed (the assembly reads it by offset). */
typedef struct { uint32_t n, from, cm0, um, cm2; const uint32_t *valid; } bnn_sl_rows_args_t;
void bnn_sl_mve_ring_rows(uint32_t *const *dst, const uint32_t *U, const bnn_sl_rows_args_t *a);
#define SL_ROWS_LANES bnn_sl_mve_rows_lanes
#define SL_CW_LANES bnn_sl_mve_cw_lanes
#define SL_CW_RING bnn_sl_mve_cw_ring
#define SL_SAT_OUT bnn_sl_mve_sat_out
#define SL_WIDE_OUT bnn_sl_mve_wide_out
#elif BNN_T2_DSP_ASM
#define SL_ROWS_LANES bnn_sl_rows_lanes
#define SL_CW_LANES bnn_sl_cw_lanes
#define SL_CW_RING bnn_sl_cw_ring
#define SL_SAT_OUT bnn_sl_sat_out
#define SL_WIDE_OUT bnn_sl_wide_out
#endif /* BNN_MVE */

#if BNN_T1_ASM
/* Mode 1 on ARMv6-M, one pass over half the positions for one output: gs & 15 (1..3) groups of 8 input channels,
 * 4-bit indices. Group gi's index word is idx[gi]; channel j of it adds the four count words at
 * g + gi * (gs >> 4) + 256 * idx_j + 32 * j bytes (g: the batch's counts + 16 bytes for the second half) into four
 * byte-lane accumulators that start at 0; at the end they fold into h[0..7] (accumulator a: h[2a] += bytes 0 and 2,
 * h[2a + 1] += bytes 1 and 3). */
void bnn_sl_t1_block(uint32_t *h, const uint32_t *g, const uint32_t *idx, uint32_t gs);
#endif /* BNN_T1_ASM */

#endif /* BNN_BCONV2D_SLICE_H */
