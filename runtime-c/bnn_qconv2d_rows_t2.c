/* Thumb-2 assembly of the int8 rows conv's dot products (bnn_qconv2d_rows.c) for dual-issue cores (the M7: the
 * generator sets the params' dual_issue), built for Cortex-M cores with the DSP extension in optimised GCC builds
 * (BNN_T2_DSP_ASM, bnn_arch.h): every group of four output channels at two positions, four weight pairs a pass, two
 * passes a loop. The eight sums stay in registers and every load sits next to an SMLAD, which the M7 issues together:
 * a pass is 58 instructions and 32 multiplies. One call does all the groups, their biases, the last 1..4 pairs and the
 * stores, which the C loop around a per-group routine spent about 60 cycles a group on. GCC's code runs its loads
 * together (LDRD for the patch words), which single-issue cores such as the M4 pipeline but the M7 cannot pair with
 * the multiplies. What the routine computes is stated with its prototype in bnn_qconv2d_rows.c; other builds compile
 * this file to nothing. */
#include "bnn_runtime.h"

#if BNN_T2_DSP_ASM
#define QR_S(x) #x
/* One weight pair k (patch words at r0 + 8k, weights at r1 + 16k bytes; w1..w3 the byte offsets of channels 1..3's
 * words). On entry r2, r3 hold the two positions' pair k and r12 channel 0's weight word; on exit they hold pair
 * k + 1 and its channel-0 word, loaded at xnext and wnext bytes from the pointers as they are then (xmid may move the
 * pointers on). Sums: a0..a3 in r4-r7 (position A, r2), b0..b3 in r8-r11 (position B, r3). */
#define QR_STEP(w1, w2, w3, xmid, wnext, xnext)                                                                \
    "smlad r4, r12, r2, r4\n\tldr lr, [r1, #" QR_S(w1) "]\n\t"                                                 \
    "smlad r8, r12, r3, r8\n\tldr r12, [r1, #" QR_S(w2) "]\n\t"                                                \
    "smlad r5, lr, r2, r5\n\t" xmid                                                                             \
    "smlad r9, lr, r3, r9\n\tldr lr, [r1, #" QR_S(w3) "]\n\t"                                                  \
    "smlad r6, r12, r2, r6\n\t"                                                                                 \
    "smlad r10, r12, r3, r10\n\tldr r12, [r1, #" QR_S(wnext) "]\n\t"                                           \
    "smlad r7, lr, r2, r7\n\tldr r2, [r0, #" QR_S(xnext) "]\n\t"                                               \
    "smlad r11, lr, r3, r11\n\tldr r3, [r0, #" QR_S(xnext) " + 4]\n\t"
/* The last pair of a group: no next pair to load. */
#define QR_LAST(k)                                                                                             \
    "smlad r4, r12, r2, r4\n\tldr lr, [r1, #16 * " QR_S(k) " + 4]\n\t"                                         \
    "smlad r8, r12, r3, r8\n\tldr r12, [r1, #16 * " QR_S(k) " + 8]\n\t"                                        \
    "smlad r5, lr, r2, r5\n\t"                                                                                  \
    "smlad r9, lr, r3, r9\n\tldr lr, [r1, #16 * " QR_S(k) " + 12]\n\t"                                         \
    "smlad r6, r12, r2, r6\n\tsmlad r10, r12, r3, r10\n\t"                                                      \
    "smlad r7, lr, r2, r7\n\tsmlad r11, lr, r3, r11\n\t"
/* Pair k (< 3) of the tail, with the next one loaded. */
#define QR_TSTEP(k) QR_STEP(16 * k + 4, 16 * k + 8, 16 * k + 12, "", 16 * k + 16, 8 * k + 8)
/* A pass: pairs 0..3 from the pointers, which the last step moves on. */
#define QR_PASS                                                                                                \
    QR_STEP(4, 8, 12, "", 16, 8)                                                                               \
    QR_STEP(20, 24, 28, "", 32, 16)                                                                            \
    QR_STEP(36, 40, 44, "", 48, 24)                                                                            \
    QR_STEP(52, 56, -4, "add r1, r1, #64\n\tadd r0, r0, #32\n\t", 0, 0)

/* bnn_qr_dots(args): r0 the args (bnn_qr_dots_args_t in bnn_qconv2d_rows.c). Frame: [sp] patch, [sp + 4] end of the
 * whole passes' patch words, [sp + 8] passes, [sp + 12] tail pairs (1..4), [sp + 16] bias, [sp + 20] acc, [sp + 24]
 * stride in bytes, [sp + 28] groups left, [sp + 32] two. */
__asm__("\t.pushsection .text.bnn_qr_dots,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
        "\t.global bnn_qr_dots\n\t.type bnn_qr_dots, %function\n\t.thumb_func\nbnn_qr_dots:\n\t"
        "push {r4-r11, lr}\n\tsub sp, sp, #36\n\t"
        "ldm r0, {r1-r7}\n\t"                      /* x, w, passes, tail, bias, acc, stride */
        "str r1, [sp, #0]\n\tadd r12, r1, r3, lsl #5\n\tstr r12, [sp, #4]\n\tstr r3, [sp, #8]\n\tstr r4, [sp, #12]\n\t"
        "str r5, [sp, #16]\n\tstr r6, [sp, #20]\n\tlsl r7, r7, #2\n\tstr r7, [sp, #24]\n\t"
        "ldr r3, [r0, #28]\n\tstr r3, [sp, #28]\n\tldr r3, [r0, #32]\n\tstr r3, [sp, #32]\n\t"
        "mov r1, r2\n"
        "10:\n\t"                                  /* a group: r1 its weights */
        "ldr r0, [sp, #0]\n\tldr lr, [sp, #16]\n\tldm lr!, {r4-r7}\n\tstr lr, [sp, #16]\n\t"
        "mov r8, r4\n\tmov r9, r5\n\tmov r10, r6\n\tmov r11, r7\n\t"
        "ldr r2, [r0, #0]\n\tldr r3, [r0, #4]\n\tldr r12, [r1, #0]\n\t"
        "ldr lr, [sp, #8]\n\ttst lr, #1\n\tbeq 2f\n\t"
        QR_PASS                                    /* an odd pass on its own */
        "2:\n\tldr lr, [sp, #4]\n\tcmp r0, lr\n\tbeq 3f\n"
        "1:\n\t"
        QR_PASS QR_PASS
        "ldr lr, [sp, #4]\n\tcmp r0, lr\n\tbne 1b\n"
        "3:\n\t"                                   /* the tail: 1..4 pairs */
        "ldr lr, [sp, #12]\n\tcmp lr, #2\n\tblo 21f\n\tbeq 22f\n\tcmp lr, #3\n\tbeq 23f\n\t"
        QR_TSTEP(0) QR_TSTEP(1) QR_TSTEP(2) QR_LAST(3) "add r1, r1, #64\n\tb 30f\n"
        "23:\n\t" QR_TSTEP(0) QR_TSTEP(1) QR_LAST(2) "add r1, r1, #48\n\tb 30f\n"
        "22:\n\t" QR_TSTEP(0) QR_LAST(1) "add r1, r1, #32\n\tb 30f\n"
        "21:\n\t" QR_LAST(0) "add r1, r1, #16\n"
        "30:\n\t"                                  /* store: A's sums at acc + o * stride, B's one element on */
        "ldr lr, [sp, #20]\n\tldr r0, [sp, #24]\n\t"
        "str r4, [lr]\n\tstr r5, [lr, r0]\n\tadd r12, lr, r0, lsl #1\n\tstr r6, [r12]\n\tstr r7, [r12, r0]\n\t"
        "ldr r2, [sp, #32]\n\tcbz r2, 31f\n\t"
        "str r8, [lr, #4]\n\tadd r12, lr, #4\n\tstr r9, [r12, r0]\n\tadd r12, r12, r0, lsl #1\n\tstr r10, [r12]\n\tstr r11, [r12, r0]\n"
        "31:\n\t"
        "add lr, lr, r0, lsl #2\n\tstr lr, [sp, #20]\n\t"
        "ldr r2, [sp, #28]\n\tsubs r2, r2, #1\n\tstr r2, [sp, #28]\n\tbne 10b\n\t"
        "add sp, sp, #36\n\tpop {r4-r11, pc}\n\t"
        ".size bnn_qr_dots, .-bnn_qr_dots\n\t.popsection\n");
#endif /* BNN_T2_DSP_ASM */

#if BNN_T2_DSP_ASM
/* The Winograd stem's products (bnn_qconv2d_wino.c, bnn_qw_products) for three input channels (P = 6 pairs of
 * components a point) on dual-issue cores: for each of the 36 points and each group of four output channels, the
 * eight sums of the group's four channels at the two tiles, a load next to every multiply; the first pair by SMUAD
 * (no sums to clear), the last pair's multiplies paired with the first stores. What it computes is stated with
 * bnn_qw_gemm_args_t in bnn_qconv2d_wino.c. */
#define QW_FIRST                                                                                               \
    "smuad r4, r12, r2\n\tldr lr, [r1, #4]\n\t"                                                                \
    "smuad r8, r12, r3\n\tldr r12, [r1, #8]\n\t"                                                               \
    "smuad r5, lr, r2\n\t"                                                                                      \
    "smuad r9, lr, r3\n\tldr lr, [r1, #12]\n\t"                                                                \
    "smuad r6, r12, r2\n\t"                                                                                     \
    "smuad r10, r12, r3\n\tldr r12, [r1, #16]\n\t"                                                             \
    "smuad r7, lr, r2\n\tldr r2, [r0, #8]\n\t"                                                                 \
    "smuad r11, lr, r3\n\tldr r3, [r0, #12]\n\t"
/* Pair k (1..4), the next one loaded. */
#define QW_STEP(k) QR_STEP(16 * k + 4, 16 * k + 8, 16 * k + 12, "", 16 * k + 16, 8 * k + 8)
/* Pair k (the last: 5, or 2 for bnn_qw_gemm3), the group's sums stored (A and B side by side; 72 words a channel) at
 * the group's M pointer ([sp]). */
#define QW_LAST(k)                                                                                             \
    "smlad r4, r12, r2, r4\n\tldr lr, [r1, #16 * " QR_S(k) " + 4]\n\t"                                         \
    "smlad r8, r12, r3, r8\n\tldr r12, [r1, #16 * " QR_S(k) " + 8]\n\t"                                        \
    "smlad r5, lr, r2, r5\n\t"                                                                                  \
    "smlad r9, lr, r3, r9\n\tldr lr, [r1, #16 * " QR_S(k) " + 12]\n\t"                                        \
    "smlad r6, r12, r2, r6\n\t"                                                                                 \
    "smlad r10, r12, r3, r10\n\tldr r12, [sp, #0]\n\t"                                                         \
    "smlad r7, lr, r2, r7\n\tstr r4, [r12]\n\t"                                                                \
    "smlad r11, lr, r3, r11\n\tstr r8, [r12, #4]\n\t"                                                          \
    "strd r5, r9, [r12, #288]\n\tstrd r6, r10, [r12, #576]\n\tstrd r7, r11, [r12, #864]\n\t"

/* NAME(args): r0 the args; PAIRS the pairs of a group (QW_FIRST, QW_STEPs, QW_LAST). Frame: [sp] the group's M
 * pointer, [sp + 4] the end of this point's group weights, [sp + 8] points left, [sp + 12] group weights' bytes a
 * point, [sp + 16] the other channels' weight bytes a point, [sp + 20] this point's M pointer. On entry to a group r2,
 * r3 hold the two tiles' pair 0 and r12 the group's first weight word (loaded ahead: the table has a spare word at its
 * end). Points are 6 pairs apart in V and the weights whatever PAIRS sums. */
#define QW_GEMM(NAME, PAIRS)                                                                                   \
    __asm__("\t.pushsection .text." QR_S(NAME) ",\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"  \
            "\t.global " QR_S(NAME) "\n\t.type " QR_S(NAME) ", %function\n\t.thumb_func\n" QR_S(NAME) ":\n\t"         \
            "push {r4-r11, lr}\n\tsub sp, sp, #24\n\t"                                                           \
            "ldm r0, {r1-r6}\n\t" /* x, w, M, groups, points, other channels' bytes */                             \
            "str r3, [sp, #20]\n\tmov r7, #96\n\tmul r4, r4, r7\n\tstr r4, [sp, #12]\n\tstr r5, [sp, #8]\n\tstr r6, [sp, #16]\n\t" \
            "mov r0, r1\n\tmov r1, r2\n\t"                                                                        \
            "ldr r2, [r0]\n\tldr r3, [r0, #4]\n\tldr r12, [r1]\n"                                                \
            "20:\n\t" /* a point */                                                                               \
            "ldr lr, [sp, #20]\n\tstr lr, [sp, #0]\n\tldr lr, [sp, #12]\n\tadd lr, r1, lr\n\tstr lr, [sp, #4]\n"   \
            "10:\n\t" /* a group */                                                                               \
            PAIRS                                                                                              \
            "add r1, r1, #96\n\tldr r2, [r0]\n\t"                                                                 \
            "add r12, r12, #1152\n\tldr r3, [r0, #4]\n\t"                                                         \
            "str r12, [sp, #0]\n\tldr r12, [r1]\n\t"                                                              \
            "ldr lr, [sp, #4]\n\tcmp r1, lr\n\tbne 10b\n\t"                                                       \
            /* the next point: past the other channels' weights, its V, its M column */                        \
            "ldr lr, [sp, #16]\n\tadd r1, r1, lr\n\tadd r0, r0, #48\n\t"                                          \
            "ldr r2, [r0]\n\tldr r3, [r0, #4]\n\tldr r12, [r1]\n\t"                                               \
            "ldr lr, [sp, #20]\n\tadd lr, lr, #8\n\tstr lr, [sp, #20]\n\t"                                        \
            "ldr lr, [sp, #8]\n\tsubs lr, lr, #1\n\tstr lr, [sp, #8]\n\tbne 20b\n\t"                             \
            "add sp, sp, #24\n\tpop {r4-r11, pc}\n\t"                                                            \
            ".size " QR_S(NAME) ", .-" QR_S(NAME) "\n\t.popsection\n");
QW_GEMM(bnn_qw_gemm, QW_FIRST QW_STEP(1) QW_STEP(2) QW_STEP(3) QW_STEP(4) QW_LAST(5))
QW_GEMM(bnn_qw_gemm3, QW_FIRST QW_STEP(1) QW_LAST(2))
#endif /* BNN_T2_DSP_ASM */

#if BNN_T2_DSP_ASM
/* The Winograd stem's output transform (bnn_qconv2d_wino.c, bnn_qw_out2) of two tiles inside the map, every channel,
 * one tile at a time: row u of the tile (its sums m0..m5 at r0 + 48u + 8k bytes, r0 = M + 72 o + t words) gives
 * R0 = m0 + m1 + m2 + m3 + m4, R1 = m1 - m2 + 2 (m3 - m4), R2 = m1 + m2 + 4 (m3 + m4) + 2 m5, each added into the
 * nine outputs Z[i][j] (r1 + 3i + j) by column u of A^T ([1 0 0], [1 1 1], [1 -1 1], [1 2 4], [1 -2 4], [0 0 2]) as
 * it is made. Then y = sbfx26(((Z >> 6) * 9^-1)) + bias and the stores, a row of three by STM. A load next to each
 * add where it can. What it computes is stated with bnn_qw_out_args_t. */
/* R0..R2 (registers) of row u; r12 the scratch. */
#define QW_ROW(u, R0, R1, R2)                                                                                  \
    "ldr " R1 ", [r0, #48 * " QR_S(u) " + 8]\n\t"                                                              \
    "ldr r12, [r0, #48 * " QR_S(u) " + 16]\n\t"                                                                \
    "add " R0 ", " R1 ", r12\n\t"                                                                               \
    "sub " R1 ", " R1 ", r12\n\tldr r12, [r0, #48 * " QR_S(u) " + 24]\n\t"                                     \
    "mov " R2 ", " R0 "\n\t"                                                                                     \
    "add " R0 ", " R0 ", r12\n\t"                                                                               \
    "add " R1 ", " R1 ", r12, lsl #1\n\t"                                                                       \
    "add " R2 ", " R2 ", r12, lsl #2\n\tldr r12, [r0, #48 * " QR_S(u) " + 32]\n\t"                              \
    "add " R0 ", " R0 ", r12\n\t"                                                                               \
    "sub " R1 ", " R1 ", r12, lsl #1\n\t"                                                                       \
    "add " R2 ", " R2 ", r12, lsl #2\n\tldr r12, [r0, #48 * " QR_S(u) "]\n\t"                                   \
    "add " R0 ", " R0 ", r12\n\tldr r12, [r0, #48 * " QR_S(u) " + 40]\n\t"                                      \
    "add " R2 ", " R2 ", r12, lsl #1\n\t"
/* bnn_qw_out(args): r0 the args. Frame: [sp] the row offset (bytes), [sp + 4] a channel's row bytes, [sp + 8]
 * channels left, [sp + 12] 9^-1 modulo 2^32, [sp + 16] the biases, [sp + 20] the channel's output (row 0, tile 0),
 * [sp + 24] the channel's M, [sp + 28] the tile (0, 1). */
__asm__("\t.pushsection .text.bnn_qw_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
        "\t.global bnn_qw_out\n\t.type bnn_qw_out, %function\n\t.thumb_func\nbnn_qw_out:\n\t"
        "push {r4-r11, lr}\n\tsub sp, sp, #32\n\t"
        "ldm r0, {r0-r5}\n\t"                      /* M, bias, out0, row offset, row bytes, channels */
        "str r3, [sp, #0]\n\tstr r4, [sp, #4]\n\tstr r5, [sp, #8]\n\tstr r1, [sp, #16]\n\tstr r2, [sp, #20]\n\t"
        "movw r12, #0x8E39\n\tmovt r12, #0x38E3\n\tstr r12, [sp, #12]\n\t"
        "1:\n\t"                                   /* a channel: r0 its M */
        "str r0, [sp, #24]\n\tmov r12, #0\n\tstr r12, [sp, #28]\n"
        "2:\n\t"                                   /* a tile: r0 its M (+ 4 bytes for the second) */
        QW_ROW(0, "r1", "r2", "r3")
        QW_ROW(1, "r4", "r5", "r6")
        "mov r7, r4\n\tmov r8, r5\n\tmov r9, r6\n\t"
        "add r1, r1, r4\n\tadd r2, r2, r5\n\tadd r3, r3, r6\n\t"
        QW_ROW(2, "r10", "r11", "lr")
        "add r1, r1, r10\n\tadd r2, r2, r11\n\tadd r3, r3, lr\n\t"
        "sub r4, r4, r10\n\tsub r5, r5, r11\n\tsub r6, r6, lr\n\t"
        "add r7, r7, r10\n\tadd r8, r8, r11\n\tadd r9, r9, lr\n\t"
        QW_ROW(3, "r10", "r11", "lr")
        "add r1, r1, r10\n\tadd r2, r2, r11\n\tadd r3, r3, lr\n\t"
        "add r4, r4, r10, lsl #1\n\tadd r5, r5, r11, lsl #1\n\tadd r6, r6, lr, lsl #1\n\t"
        "add r7, r7, r10, lsl #2\n\tadd r8, r8, r11, lsl #2\n\tadd r9, r9, lr, lsl #2\n\t"
        QW_ROW(4, "r10", "r11", "lr")
        "add r1, r1, r10\n\tadd r2, r2, r11\n\tadd r3, r3, lr\n\t"
        "sub r4, r4, r10, lsl #1\n\tsub r5, r5, r11, lsl #1\n\tsub r6, r6, lr, lsl #1\n\t"
        "add r7, r7, r10, lsl #2\n\tadd r8, r8, r11, lsl #2\n\tadd r9, r9, lr, lsl #2\n\t"
        QW_ROW(5, "r10", "r11", "lr")
        "add r7, r7, r10, lsl #1\n\tadd r8, r8, r11, lsl #1\n\tadd r9, r9, lr, lsl #1\n\t"
        /* y = sbfx26((Z >> 6) * 9^-1) + bias: r10 9^-1, r11 the bias, lr the output row */
        "ldr r10, [sp, #12]\n\tldr r12, [sp, #16]\n\tldr r11, [r12]\n\t"
        "lsr r1, r1, #6\n\tlsr r2, r2, #6\n\tlsr r3, r3, #6\n\tlsr r4, r4, #6\n\tlsr r5, r5, #6\n\t"
        "lsr r6, r6, #6\n\tlsr r7, r7, #6\n\tlsr r8, r8, #6\n\tlsr r9, r9, #6\n\t"
        "mul r1, r1, r10\n\tmul r2, r2, r10\n\tsbfx r1, r1, #0, #26\n\t"
        "mul r3, r3, r10\n\tsbfx r2, r2, #0, #26\n\tmul r4, r4, r10\n\tsbfx r3, r3, #0, #26\n\t"
        "mul r5, r5, r10\n\tsbfx r4, r4, #0, #26\n\tmul r6, r6, r10\n\tsbfx r5, r5, #0, #26\n\t"
        "mul r7, r7, r10\n\tsbfx r6, r6, #0, #26\n\tmul r8, r8, r10\n\tsbfx r7, r7, #0, #26\n\t"
        "mul r9, r9, r10\n\tsbfx r8, r8, #0, #26\n\tadd r1, r1, r11\n\tsbfx r9, r9, #0, #26\n\t"
        "add r2, r2, r11\n\tadd r3, r3, r11\n\tadd r4, r4, r11\n\tadd r5, r5, r11\n\t"
        "add r6, r6, r11\n\tadd r7, r7, r11\n\tadd r8, r8, r11\n\tadd r9, r9, r11\n\t"
        "ldr lr, [sp, #20]\n\tldr r12, [sp, #28]\n\tadd lr, lr, r12\n\tldr r12, [sp, #0]\n\t"
        "stm lr, {r1-r3}\n\tadd lr, lr, r12\n\tstm lr, {r4-r6}\n\tadd lr, lr, r12\n\tstm lr, {r7-r9}\n\t"
        /* the second tile: M + 4 bytes, outputs 12 bytes on */
        "ldr r12, [sp, #28]\n\tadds r12, r12, #12\n\tstr r12, [sp, #28]\n\t"
        "ldr r0, [sp, #24]\n\tadd r0, r0, #4\n\tcmp r12, #12\n\tbeq 2b\n\t"
        /* the next channel */
        "ldr r12, [sp, #16]\n\tadd r12, r12, #4\n\tstr r12, [sp, #16]\n\t"
        "ldr r12, [sp, #20]\n\tldr r1, [sp, #4]\n\tadd r12, r12, r1\n\tstr r12, [sp, #20]\n\t"
        "ldr r0, [sp, #24]\n\tadd r0, r0, #288\n\t"
        "ldr r12, [sp, #8]\n\tsubs r12, r12, #1\n\tstr r12, [sp, #8]\n\tbne 1b\n\t"
        "add sp, sp, #32\n\tpop {r4-r11, pc}\n\t"
        ".size bnn_qw_out, .-bnn_qw_out\n\t.popsection\n");
#endif /* BNN_T2_DSP_ASM */
