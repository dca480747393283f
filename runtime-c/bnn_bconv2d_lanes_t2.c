/* Thumb-2 assembly of the byte-lane binary convolution (bnn_bconv2d_lanes.c), for Cortex-M cores with the DSP
 * extension in optimised GCC builds (BNN_T2_DSP_ASM, bnn_arch.h): the gather, where every output channel of one
 * channel batch adds the 8 lane words of its codeword for each channel, in eight registers, and folds them into its
 * 16-bit lanes (GCC's code for the same loop spills the accumulators: about 40 instructions per channel instead of
 * 14), and the fused requant's loop over a unit's lanes (19 instructions an element, two a loop, against GCC's ~31).
 * What the routines compute is stated with their prototypes in bnn_bconv2d_lanes.c; other builds compile this file
 * to nothing. */
#include "bnn_runtime.h"

#if BNN_T2_DSP_ASM
#define LN_S(x) #x
/* One channel: field (lsb, width) of the index word in lr picks the codeword; its slot's 8 words are at
 * r1 + 256 * index + off bytes. */
#define LNG_CH(lsb, width, off) \
    "ubfx r12, lr, #" LN_S(lsb) ", #" LN_S(width) "\n\tadd r12, r1, r12, lsl #8\n\t" \
    "ldrd r0, r3, [r12, #" LN_S(off) "]\n\tadd r4, r4, r0\n\tadd r5, r5, r3\n\t" \
    "ldrd r0, r3, [r12, #" LN_S(off) " + 8]\n\tadd r6, r6, r0\n\tadd r7, r7, r3\n\t" \
    "ldrd r0, r3, [r12, #" LN_S(off) " + 16]\n\tadd r8, r8, r0\n\tadd r9, r9, r3\n\t" \
    "ldrd r0, r3, [r12, #" LN_S(off) " + 24]\n\tadd r10, r10, r0\n\tadd r11, r11, r3\n\t"
/* Byte lanes of one accumulator into the output's 16-bit lanes: bytes 0 and 2 into h[2i], 1 and 3 into h[2i + 1]. */
#define LNG_FOLD(a, o) "ldrd r0, r3, [r12, #" LN_S(o) "]\n\tuxtab16 r0, r0, " a "\n\tuxtab16 r3, r3, " a ", ror #8\n\tstrd r0, r3, [r12, #" LN_S(o) "]\n\t"
/* Frame: [sp] h of this output, [sp + 4] its index words, [sp + 8] outputs left, [sp + 12] index row stride,
 * [sp + 16] group stride of the responses, [sp + 20] end of this output's index words, [sp + 24] bytes of index
 * words per output, [sp + 28] responses. */
#define LNG_ROUTINE(name, channels)                                                                                  \
    __asm__(                                                                                                          \
        "\t.pushsection .text." #name ",\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"                \
        "\t.global " #name "\n\t.type " #name ", %function\n\t.thumb_func\n" #name ":\n\t"                             \
        "push {r4-r11, lr}\n\tsub sp, sp, #32\n\t"                                                                    \
        "ldr r1, [r0, #0]\n\tstr r1, [sp, #0]\n\t"                                                                    \
        "ldr r1, [r0, #8]\n\tstr r1, [sp, #4]\n\t"                                                                    \
        "ldr r1, [r0, #20]\n\tstr r1, [sp, #8]\n\t"                                                                   \
        "ldr r1, [r0, #12]\n\tstr r1, [sp, #12]\n\t"                                                                  \
        "ldr r1, [r0, #24]\n\tstr r1, [sp, #16]\n\t"                                                                  \
        "ldr r1, [r0, #16]\n\tlsl r1, r1, #2\n\tstr r1, [sp, #24]\n\t"                                                \
        "ldr r1, [r0, #4]\n\tstr r1, [sp, #28]\n"                                                                     \
        "1:\n\t"                                                                                                      \
        "ldr r2, [sp, #4]\n\tldr r12, [sp, #24]\n\tadd r12, r2, r12\n\tstr r12, [sp, #20]\n\t"                        \
        "ldr r1, [sp, #28]\n\t"                                                                                       \
        "movs r4, #0\n\tmovs r5, #0\n\tmovs r6, #0\n\tmovs r7, #0\n\t"                                                \
        "movs r8, #0\n\tmovs r9, #0\n\tmovs r10, #0\n\tmovs r11, #0\n"                                                \
        "2:\n\t"                                                                                                      \
        "ldr lr, [r2], #4\n\t" channels                                                                               \
        "ldr r12, [sp, #16]\n\tadd r1, r1, r12\n\t"                                                                   \
        "ldr r12, [sp, #20]\n\tcmp r2, r12\n\tbne 2b\n\t"                                                             \
        "ldr r12, [sp, #0]\n\t"                                                                                       \
        LNG_FOLD("r4", 0) LNG_FOLD("r5", 8) LNG_FOLD("r6", 16) LNG_FOLD("r7", 24)                                    \
        LNG_FOLD("r8", 32) LNG_FOLD("r9", 40) LNG_FOLD("r10", 48) LNG_FOLD("r11", 56)                                \
        "add r12, r12, #64\n\tstr r12, [sp, #0]\n\t"                                                                  \
        "ldr r2, [sp, #4]\n\tldr r0, [sp, #12]\n\tadd r2, r2, r0\n\tstr r2, [sp, #4]\n\t"                             \
        "ldr r0, [sp, #8]\n\tsubs r0, r0, #1\n\tstr r0, [sp, #8]\n\tbne 1b\n\t"                                       \
        "add sp, sp, #32\n\tpop {r4-r11, pc}\n\t"                                                                     \
        ".size " #name ", .-" #name "\n\t.popsection\n")

/* 4-bit indices, 8 channels a word. */
LNG_ROUTINE(bnn_ln_gather4, LNG_CH(0, 4, 0) LNG_CH(4, 4, 32) LNG_CH(8, 4, 64) LNG_CH(12, 4, 96)
                            LNG_CH(16, 4, 128) LNG_CH(20, 4, 160) LNG_CH(24, 4, 192) LNG_CH(28, 4, 224));
/* 5-bit indices, 6 channels a word (bits 30 and 31 unused). */
LNG_ROUTINE(bnn_ln_gather5, LNG_CH(0, 5, 0) LNG_CH(5, 5, 32) LNG_CH(10, 5, 64) LNG_CH(15, 5, 96)
                            LNG_CH(20, 5, 128) LNG_CH(25, 5, 160));

/* The fused requant of one output channel's lanes, int8 skip map (bnn_ln_rq_args_t in bnn_bconv2d_lanes.c): per lane
 * [at, cnv << 5 | i]: acc = 2 h[i] - cnv, then bnn_requant_fast's arithmetic (the fast form: pre-shifted inputs, the
 * high word of SMULL/SMLAL, cb, the shift sh; PReLU: SMMULR by slope16 below 0, + pz, then >> 8; SSAT). Registers:
 * r0 lanes, r1 their end, r2 h, r3 skip, r4 out, r5 pre, r6 mq_a, r7 mq_b, r8 cb, r9 sh; [sp] slope16,
 * [sp + 4] pz. Two lanes a loop (an odd count enters at the second). */
#define LNR_ROUTINE(name, setup, skip, out, store)                                                                    \
    "\t.pushsection .text." #name ",\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"                   \
    "\t.global " #name "\n\t.type " #name ", %function\n\t.thumb_func\n" #name ":\n\t"                               \
    "push {r4-r11, lr}\n\tsub sp, sp, #16\n\t"                                                                        \
    "ldr r1, [r0, #40]\n\tstr r1, [sp, #0]\n\tldr r1, [r0, #44]\n\tstr r1, [sp, #4]\n\t"                                 \
    setup                                                                                                              \
    "ldr r5, [r0, #20]\n\tldr r6, [r0, #24]\n\tldr r7, [r0, #28]\n\tldr r8, [r0, #32]\n\tldr r9, [r0, #36]\n\t"          \
    "ldr r1, [r0, #4]\n\tldr r2, [r0, #8]\n\tldr r3, [r0, #12]\n\tldr r4, [r0, #16]\n\tldr r0, [r0, #0]\n\t"             \
    "subs r12, r1, r0\n\tbeq 9f\n\ttst r12, #8\n\tbne 3f\n"                                                             \
    "1:\n\t" LNR_ELEMENT(skip, out, store) "3:\n\t" LNR_ELEMENT(skip, out, store)                                      \
    "cmp r0, r1\n\tbne 1b\n"                                                                                          \
    "9:\n\tadd sp, sp, #16\n\tpop {r4-r11, pc}\n\t"                                                                    \
    ".size " #name ", .-" #name "\n\t.popsection\n"
/* One lane: the accumulator, the skip element (skip: its load and shift into r11), the products, the output stage
 * (out) and the store. */
#define LNR_ELEMENT(skip, out, store)                                                                                 \
    "ldrd r10, r11, [r0], #8\n\tand r12, r11, #31\n\tldrh r12, [r2, r12, lsl #1]\n\t"                                   \
    "lsl r12, r12, #1\n\tsub r12, r12, r11, lsr #5\n\tlsl r12, r12, r5\n\t"                                             \
    skip                                                                                                               \
    "smull lr, r12, r12, r6\n\tsmlal lr, r12, r11, r7\n\tadd r12, r12, r8\n\t"                                         \
    out store
/* The output stages: without PReLU (asr, SSAT to bits) and with it (the local label 2 is per element). */
#define LNR_OUT(bits) "asr r12, r12, r9\n\tssat r12, #" #bits ", r12\n\t"
#define LNR_OUT_PRELU(bits)                                                                                           \
    "asrs r12, r12, r9\n\tbpl 2f\n\tlsl r12, r12, #1\n\tldr r11, [sp, #0]\n\tsmmulr r12, r12, r11\n"                      \
    "2:\n\tldr r11, [sp, #4]\n\tadd r12, r12, r11\n\tssat r12, #" #bits ", r12, asr #8\n\t"
#define LNR_S8_SKIP "ldrsb r11, [r3, r10]\n\tlsl r11, r11, r5\n\t"
#define LNR_S8_STORE "strb r12, [r4, r10]\n\t"
__asm__(LNR_ROUTINE(bnn_ln_rq_s8, "", LNR_S8_SKIP, LNR_OUT(8), LNR_S8_STORE));
__asm__(LNR_ROUTINE(bnn_ln_rq_s8_prelu, "", LNR_S8_SKIP, LNR_OUT_PRELU(8), LNR_S8_STORE));
/* int16 skip map and int16 out (--map-bits 16, bnn_ln_rq16_args_t): the skip element at [r3 + 2 at], shifted by its
 * own pre_b ([sp + 8]: bnn_requant_split gives an int16 input less of the pre-shift than the accumulator), SSAT to 16
 * bits, STRH. */
#define LNR_S16_SETUP "ldr r1, [r0, #48]\n\tstr r1, [sp, #8]\n\t"
#define LNR_S16_SKIP "ldrsh r11, [r3, r10, lsl #1]\n\tldr lr, [sp, #8]\n\tlsl r11, r11, lr\n\t"
#define LNR_S16_STORE "strh r12, [r4, r10, lsl #1]\n\t"
__asm__(LNR_ROUTINE(bnn_ln_rq_s16, LNR_S16_SETUP, LNR_S16_SKIP, LNR_OUT(16), LNR_S16_STORE));
__asm__(LNR_ROUTINE(bnn_ln_rq_s16_prelu, LNR_S16_SETUP, LNR_S16_SKIP, LNR_OUT_PRELU(16), LNR_S16_STORE));
#endif /* BNN_T2_DSP_ASM */
