/* Helium (MVE) loops of the bit-sliced binary convolution (bnn_bconv2d_slice.c) for the Cortex-M55 (BNN_MVE,
 * bnn_arch.h): one (output, input channel) pair's 32 byte lanes are two 128-bit vectors, so a pair costs an address
 * load, two vector loads and two vector adds instead of the Thumb-2 routine's 11 instructions. What each routine
 * computes is stated with its prototype in bnn_bconv2d_slice.h; other builds compile this file to nothing. */
#include "bnn_bconv2d_slice.h"

#if BNN_MVE
#include <arm_mve.h>

#define SLM_Q(p) vld1q_u8((const uint8_t *)(const void *)(p))

/* Nibble lanes of a tap plane X: lane i of word w = bit 4i + w, as the four words of one vector. */
#define SLM_SPLIT(X) vandq_u32(vshlq_u32(vdupq_n_u32(X), sh), m)

/* Wide lanes: the records of bnn_sl_wide_out with the 16 start words in vector order (see bnn_slice_wide_setup):
 * lane words h[0, 2, 4, 6], h[8, 10, 12, 14], h[1, 3, 5, 7], h[9, 11, 13, 15] in q4..q7 for the whole output.
 * VMOVLB/VMOVLT widen the even/odd bytes of each word into its two halfwords, as UXTAB16 does without/with the
 * rotation. In assembly: GCC spills the eight vectors this needs. */
#define SLM_S(x) #x
/* Two channels, loads and adds interleaved so that most vector instructions follow one of the other kind. */
#define SLM_WCH2(a, b) "vldrw.u32 q2, [" a "]\n\tvldrw.u32 q3, [" a ", #16]\n\tvadd.i8 q0, q0, q2\n\t" \
    "vldrw.u32 q2, [" b "]\n\tvadd.i8 q1, q1, q3\n\tvldrw.u32 q3, [" b ", #16]\n\tvadd.i8 q0, q0, q2\n\tvadd.i8 q1, q1, q3\n\t"
#define SLM_WCH4 "ldm r0!, {r6, r7, r8, r9}\n\t" SLM_WCH2("r6", "r7") SLM_WCH2("r8", "r9")
#define SLM_WGATHER(q, o) "vand q2, " q ", q3\n\tvldrw.u32 q1, [r5, #" SLM_S(o) "]\n\tvshl.u32 q2, q2, q1\n\tvorr q0, q0, q2\n\t"
__asm__(
    "\t.pushsection .text.bnn_sl_mve_wide_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_mve_wide_out\n\t.type bnn_sl_mve_wide_out, %function\n\t.thumb_func\n"
    "bnn_sl_mve_wide_out:\n\t"
    "push {r4-r9, lr}\n\t"
    "vpush {d8-d15}\n\t"
    "ldr r1, [r0, #4]\n\tldr r2, [r0, #8]\n\tldr r3, [r0, #12]\n\tldr r0, [r0, #0]\n"
    "1:\n\t"
    "vldrw.u32 q4, [r0]\n\tvldrw.u32 q5, [r0, #16]\n\tvldrw.u32 q6, [r0, #32]\n\tvldrw.u32 q7, [r0, #48]\n\t"
    "add r0, r0, #64\n\tadd r4, r0, r3\n"
    "2:\n\t"
    /* A chunk: up to 24 channels in byte lanes (24 x 9 <= 255). */
    "sub r5, r4, r0\n\tcmp r5, #96\n\tite hi\n\taddhi r5, r0, #96\n\tmovls r5, r4\n\t"
    "vmov.i8 q0, #0\n\tvmov.i8 q1, #0\n\tvmov.i8 q3, #0\n"
    "3:\n\t"
    SLM_WCH4 SLM_WCH4
    "cmp r0, r5\n\tbne 3b\n\t"

    "vmovlb.u8 q2, q0\n\tvadd.i16 q4, q4, q2\n\tvmovlt.u8 q2, q0\n\tvadd.i16 q6, q6, q2\n\t"
    "vmovlb.u8 q2, q1\n\tvadd.i16 q5, q5, q2\n\tvmovlt.u8 q2, q1\n\tvadd.i16 q7, q7, q2\n\t"
    "cmp r0, r4\n\tbne 2b\n\t"
    /* Bit 15 (+16) of lane word hj -> bit hj (+16): AND, shift right by 15 - hj, OR; the lanes' sum is their OR. */
    "mov r5, #0x80008000\n\tvdup.32 q3, r5\n\tadr r5, 4f\n\t"
    "vand q0, q4, q3\n\tvldrw.u32 q1, [r5]\n\tvshl.u32 q0, q0, q1\n\t"
    SLM_WGATHER("q5", 16) SLM_WGATHER("q6", 32) SLM_WGATHER("q7", 48)
    "vaddv.u32 r8, q0\n\t"
    "ldrd r6, r7, [r0], #8\n\teor r8, r8, r6\n\tand r8, r8, r7\n\tstr r8, [r1], #4\n\t"
    "cmp r1, r2\n\tbne 1b\n\t"
    "vpop {d8-d15}\n\t"
    "pop {r4-r9, pc}\n\t"
    ".p2align 2\n"
    "4:\n\t"
    ".word -15, -13, -11, -9, -7, -5, -3, -1, -14, -12, -10, -8, -6, -4, -2, 0\n\t"
    ".size bnn_sl_mve_wide_out, .-bnn_sl_mve_wide_out\n\t"
    ".popsection\n");

/* Saturating byte lanes: the records of bnn_sl_sat_out, the same output bits, the loop of bnn_sl_mve_wide_out with
 * VQADD.U8 and no folds (channels padded to 16: whole steps of 8). Saturated lanes -> 1 (VQSUB.U8 0xFE), word j
 * byte B -> bit 8B + j (VSHL by j, the lanes' sum is their OR). */
#define SLM_SCH2(a, b) "vldrw.u32 q2, [" a "]\n\tvldrw.u32 q3, [" a ", #16]\n\tvqadd.u8 q0, q0, q2\n\t" \
    "vldrw.u32 q2, [" b "]\n\tvqadd.u8 q1, q1, q3\n\tvldrw.u32 q3, [" b ", #16]\n\tvqadd.u8 q0, q0, q2\n\tvqadd.u8 q1, q1, q3\n\t"
#define SLM_SCH4 "ldm r0!, {r6, r7, r8, r9}\n\t" SLM_SCH2("r6", "r7") SLM_SCH2("r8", "r9")
__asm__(
    "\t.pushsection .text.bnn_sl_mve_sat_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_mve_sat_out\n\t.type bnn_sl_mve_sat_out, %function\n\t.thumb_func\n"
    "bnn_sl_mve_sat_out:\n\t"
    "push {r4-r9, lr}\n\t"
    "ldr r1, [r0, #4]\n\tldr r2, [r0, #8]\n\tldr r3, [r0, #12]\n\tldr r0, [r0, #0]\n\t"
    "adr r5, 4f\n"
    "1:\n\t"
    "vldrw.u32 q0, [r0]\n\tvldrw.u32 q1, [r0, #16]\n\t"
    "add r0, r0, #32\n\tadd r4, r0, r3\n"
    "2:\n\t"
    SLM_SCH4 SLM_SCH4
    "cmp r0, r4\n\tbne 2b\n\t"
    "vmov.i8 q2, #0xfe\n\tvqsub.u8 q0, q0, q2\n\tvqsub.u8 q1, q1, q2\n\t"
    "vldrw.u32 q2, [r5]\n\tvldrw.u32 q3, [r5, #16]\n\tvshl.u32 q0, q0, q2\n\tvshl.u32 q1, q1, q3\n\t"
    "vorr q0, q0, q1\n\tvaddv.u32 r8, q0\n\t"
    "ldrd r6, r7, [r0], #8\n\teor r8, r8, r6\n\tand r8, r8, r7\n\tstr r8, [r1], #4\n\t"
    "cmp r1, r2\n\tbne 1b\n\t"
    "pop {r4-r9, pc}\n\t"
    ".p2align 2\n"
    "4:\n\t"
    ".word 0, 1, 2, 3, 4, 5, 6, 7\n\t"
    ".size bnn_sl_mve_sat_out, .-bnn_sl_mve_sat_out\n\t"
    ".popsection\n");

void bnn_sl_mve_rows_lanes(uint32_t *S, const uint32_t *t, uint32_t nky)
{
    const int32x4_t sh = { 0, -1, -2, -3 };
    const uint32x4_t m = vdupq_n_u32(0x11111111u);
    for (; nky != 0u; nky--, t += 6, S += 32) {
        const uint32x4_t p1 = SLM_SPLIT(t[2]), n1 = SLM_SPLIT(t[3]), p2 = SLM_SPLIT(t[4]), n2 = SLM_SPLIT(t[5]);
        const uint32x4_t q0 = vaddq_u32(n1, n2), q1 = vaddq_u32(p1, n2), q2 = vaddq_u32(n1, p2), q3 = vaddq_u32(p1, p2);
        const uint32x4_t p0 = SLM_SPLIT(t[0]), n0 = SLM_SPLIT(t[1]);
        vst1q_u32(S, vaddq_u32(n0, q0)); vst1q_u32(S + 4, vaddq_u32(p0, q0));
        vst1q_u32(S + 8, vaddq_u32(n0, q1)); vst1q_u32(S + 12, vaddq_u32(p0, q1));
        vst1q_u32(S + 16, vaddq_u32(n0, q2)); vst1q_u32(S + 20, vaddq_u32(p0, q2));
        vst1q_u32(S + 24, vaddq_u32(n0, q3)); vst1q_u32(S + 28, vaddq_u32(p0, q3));
    }
}

/* Ring rows: kernel row ky (from..2) of a block of channels, from each channel's unit word U (built by the caller),
 * the tap planes in scalar registers and each plane's four nibble-lane words as one vector (as
 * bnn_sl_mve_rows_lanes). In assembly: GCC spills here. Registers across the channel loop: r0 the next U, r3 the
 * destination, r7/r8/r9 cm0/um/cm2, r10/r11/r12 the kernel row's valid taps, lr the channels left; q6/q7 the 0x11
 * mask and the shifts 0, -1, -2, -3 (reloaded per channel: the stores need them as temporaries). */
#define SLM_SPL(q) "vshl.u32 " q ", " q ", q7\n\tvand " q ", " q ", q6\n\t"
__asm__(
    "\t.pushsection .text.bnn_sl_mve_ring_rows,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_mve_ring_rows\n\t.type bnn_sl_mve_ring_rows, %function\n\t.thumb_func\n"
    "bnn_sl_mve_ring_rows:\n\t"
    "push {r4-r11, lr}\n\t"
    "vpush {d8-d15}\n\t"
    "sub sp, sp, #16\n\t"
    /* [sp] dst, [sp + 4] U, [sp + 8] args, [sp + 12] ky */
    "str r0, [sp]\n\tstr r1, [sp, #4]\n\tstr r2, [sp, #8]\n\t"
    "ldr r3, [r2, #4]\n\tstr r3, [sp, #12]\n"
    "1:\n\t"
    "ldr r4, [sp, #12]\n\tcmp r4, #3\n\tbhs 3f\n\t"
    "ldr r5, [sp, #8]\n\t"
    "ldr r0, [sp, #4]\n\tadd r0, r0, r4, lsl #7\n\t"            /* U + 32 ky */
    "ldr r3, [sp]\n\tldr r3, [r3, r4, lsl #2]\n\t"
    "ldr r7, [r5, #8]\n\tldr r8, [r5, #12]\n\tldr r9, [r5, #16]\n\t"
    "ldr r6, [r5, #20]\n\tadd r6, r6, r4, lsl #2\n\tadd r6, r6, r4, lsl #3\n\t" /* valid + 3 ky */
    "ldr r10, [r6]\n\tldr r11, [r6, #4]\n\tldr r12, [r6, #8]\n\t"
    "ldr lr, [r5, #0]\n\t"
    "adr r6, 4f\n"
    "2:\n\t"
    "vmov.i8 q6, #0x11\n\tvldrw.u32 q7, [r6]\n\t"
    "ldr r4, [r0], #4\n\t"
    "and r5, r8, r4\n\tvdup.32 q0, r5\n\tbic r5, r11, r5\n\tvdup.32 q1, r5\n\t"
    "and r5, r9, r4, lsr #1\n\tvdup.32 q2, r5\n\tbic r5, r12, r5\n\tvdup.32 q3, r5\n\t"
    SLM_SPL("q0") SLM_SPL("q1") SLM_SPL("q2") SLM_SPL("q3")
    "vadd.i32 q4, q1, q3\n\tvadd.i32 q5, q0, q3\n\tvadd.i32 q3, q1, q2\n\tvadd.i32 q2, q0, q2\n\t"
    "and r4, r7, r4, lsl #1\n\tvdup.32 q0, r4\n\tbic r4, r10, r4\n\tvdup.32 q1, r4\n\t"
    SLM_SPL("q0") SLM_SPL("q1")
    "vadd.i32 q6, q1, q4\n\tvstrw.32 q6, [r3], #128\n\tvadd.i32 q7, q0, q4\n\tvstrw.32 q7, [r3, #-112]\n\t"
    "vadd.i32 q6, q1, q5\n\tvstrw.32 q6, [r3, #-96]\n\tvadd.i32 q7, q0, q5\n\tvstrw.32 q7, [r3, #-80]\n\t"
    "vadd.i32 q6, q1, q3\n\tvstrw.32 q6, [r3, #-64]\n\tvadd.i32 q7, q0, q3\n\tvstrw.32 q7, [r3, #-48]\n\t"
    "vadd.i32 q6, q1, q2\n\tvstrw.32 q6, [r3, #-32]\n\tvadd.i32 q7, q0, q2\n\tvstrw.32 q7, [r3, #-16]\n\t"
    "subs lr, lr, #1\n\tbne 2b\n\t"
    "ldr r4, [sp, #12]\n\tadd r4, r4, #1\n\tstr r4, [sp, #12]\n\tb 1b\n"
    "3:\n\t"
    "add sp, sp, #16\n\t"
    "vpop {d8-d15}\n\t"
    "pop {r4-r11, pc}\n\t"
    ".p2align 2\n"
    "4:\n\t"
    ".word 0, -1, -2, -3\n\t"
    ".size bnn_sl_mve_ring_rows, .-bnn_sl_mve_ring_rows\n\t"
    ".popsection\n");

/* A codeword's count (the sum of its three nibble-lane row counts, <= 9 a lane) split into byte lanes and stored
 * interleaved: word 2w = the low nibbles of word w, 2w + 1 = its high nibbles (VST20/VST21). */
static inline void bnn_slm_cw_store(uint32_t *dst, const uint32_t *r0, const uint32_t *r1, const uint32_t *r2)
{
    const uint8x16_t x = vaddq_u8(vaddq_u8(SLM_Q(r0), SLM_Q(r1)), SLM_Q(r2));
    uint32x4x2_t v;
    v.val[0] = vreinterpretq_u32_u8(vandq_u8(x, vdupq_n_u8(0x0Fu)));
    v.val[1] = vreinterpretq_u32_u8(vshrq_n_u8(x, 4));
    vst2q_u32(dst, v);
}

void bnn_sl_mve_cw_lanes(uint32_t *dst, const uint32_t *const *ptrs, const uint32_t *const *ptrs_end)
{
    for (; ptrs != ptrs_end; ptrs += 3, dst += 64) bnn_slm_cw_store(dst, ptrs[0], ptrs[1], ptrs[2]);
}

/* The ring in assembly: GCC does not fold the row pointers' steps into post-indexed vector loads (9 instructions a
 * channel here, 13 from C). q0-q3 only (q4-q7 are callee-saved). */
#define SLM_RING_CH "vldrw.u32 q0, [r1], #128\n\tvldrw.u32 q1, [r2], #128\n\tvadd.i8 q0, q0, q1\n\t" \
    "vldrw.u32 q2, [r3], #128\n\tvadd.i8 q0, q0, q2\n\tvand q1, q0, q3\n\tvshr.u8 q2, q0, #4\n\t" \
    "vst20.32 {q1, q2}, [r8]\n\tvst21.32 {q1, q2}, [r8]!\n\t"
__asm__(
    "\t.pushsection .text.bnn_sl_mve_cw_ring,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_mve_cw_ring\n\t.type bnn_sl_mve_cw_ring, %function\n\t.thumb_func\n"
    "bnn_sl_mve_cw_ring:\n\t"
    "push {r4-r9, lr}\n\t"
    "ldrd r4, r5, [r1]\n\tldrd r6, r7, [r1, #8]\n\t"
    "vmov.i8 q3, #15\n"
    "1:\n\t"
    "ldmia r4!, {r1, r2, r3}\n\tmov r8, r0\n\tmov r9, r6\n"
    "2:\n\t"
    SLM_RING_CH SLM_RING_CH SLM_RING_CH SLM_RING_CH SLM_RING_CH SLM_RING_CH SLM_RING_CH SLM_RING_CH
    "add r8, r8, r7\n\tsubs r9, r9, #1\n\tbne 2b\n\t"
    "add r0, r0, #256\n\tcmp r4, r5\n\tbne 1b\n\t"
    "pop {r4-r9, pc}\n\t"
    ".size bnn_sl_mve_cw_ring, .-bnn_sl_mve_cw_ring\n\t"
    ".popsection\n");
#else
typedef int bnn_bconv2d_slice_mve_unused; /* ISO C wants at least one declaration in a file */
#endif /* BNN_MVE */
