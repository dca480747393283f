/* Thumb-2 assembly of the int8 rows conv's dot products (bnn_qconv2d_rows.c) for dual-issue cores (the M7: the
 * generator sets the params' dual_issue), built for Cortex-M cores with the DSP extension in optimised GCC builds
 * (BNN_T2_DSP_ASM, bnn_arch.h): four output channels at two positions, four weight pairs a pass. The eight sums stay
 * in registers and every load sits next to an SMLAD, which the M7 issues together: a pass is 61 instructions and
 * about 35 cycles. GCC's code runs its loads together (LDRD for the patch words), which single-issue cores such as
 * the M4 pipeline but the M7 cannot pair with the multiplies. On the full ReActNet-ResNet-18's 7x7 stem at 224x224
 * (M7 model, bench/results/reactnet18-m7.txt) this takes 92.8 M est. cycles to 86.8 M. What the routine computes is
 * stated with its prototype in bnn_qconv2d_rows.c; other builds compile this file to nothing. */
#include "bnn_runtime.h"

#if BNN_T2_DSP_ASM
#define QR_S(x) #x
/* One weight pair k of the pass (patch words at r0 + 8k, weights at r1 + 16k bytes; w1..w3 the byte offsets of
 * channels 1..3's words). On entry r2, r3 hold the two positions' pair k and r12 channel 0's weight word; on exit
 * they hold pair k + 1 and its channel-0 word, loaded at xnext and wnext bytes from the pointers as they are then
 * (the last step moves the pointers on in xmid). Sums: a0..a3 in r4-r7 (position A, r2), b0..b3 in r8-r11
 * (position B, r3). */
#define QR_STEP(w1, w2, w3, xmid, wnext, xnext)                                                                \
    "smlad r4, r12, r2, r4\n\tldr lr, [r1, #" QR_S(w1) "]\n\t"                                                 \
    "smlad r8, r12, r3, r8\n\tldr r12, [r1, #" QR_S(w2) "]\n\t"                                                \
    "smlad r5, lr, r2, r5\n\t" xmid                                                                             \
    "smlad r9, lr, r3, r9\n\tldr lr, [r1, #" QR_S(w3) "]\n\t"                                                  \
    "smlad r6, r12, r2, r6\n\t"                                                                                 \
    "smlad r10, r12, r3, r10\n\tldr r12, [r1, #" QR_S(wnext) "]\n\t"                                           \
    "smlad r7, lr, r2, r7\n\tldr r2, [r0, #" QR_S(xnext) "]\n\t"                                               \
    "smlad r11, lr, r3, r11\n\tldr r3, [r0, #" QR_S(xnext) " + 4]\n\t"

/* bnn_qr_dots4(x, w, passes, acc): r0 x, r1 w, r2 passes (>= 1), r3 acc (a0..a3, b0..b3, in and out).
 * [sp] the end of the patch words. */
__asm__("\t.pushsection .text.bnn_qr_dots4,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
        "\t.global bnn_qr_dots4\n\t.type bnn_qr_dots4, %function\n\t.thumb_func\nbnn_qr_dots4:\n\t"
        "push {r4-r11, lr}\n\tsub sp, sp, #8\n\t"
        "add r2, r0, r2, lsl #5\n\tstr r2, [sp, #0]\n\tstr r3, [sp, #4]\n\t"
        "ldm r3, {r4-r11}\n\t"
        "ldr r2, [r0, #0]\n\tldr r3, [r0, #4]\n\tldr r12, [r1, #0]\n"
        "1:\n\t"
        QR_STEP(4, 8, 12, "", 16, 8)
        QR_STEP(20, 24, 28, "", 32, 16)
        QR_STEP(36, 40, 44, "", 48, 24)
        /* The last step moves both pointers on a pass: its later offsets are relative to the moved ones. */
        QR_STEP(52, 56, -4, "add r1, r1, #64\n\tadd r0, r0, #32\n\t", 0, 0)
        "ldr lr, [sp, #0]\n\tcmp r0, lr\n\tbne 1b\n\t"
        "ldr r2, [sp, #4]\n\tstm r2, {r4-r11}\n\t"
        "add sp, sp, #8\n\tpop {r4-r11, pc}\n\t"
        ".size bnn_qr_dots4, .-bnn_qr_dots4\n\t.popsection\n");
#endif /* BNN_T2_DSP_ASM */
