/* Thumb-2 assembly of the bit-sliced binary convolution (bnn_bconv2d_slice.c), for Cortex-M cores with the DSP
 * extension (M4, M7, M33, M55) in optimised GCC builds (BNN_T2_DSP_ASM, bnn_arch.h): the hot loops of mode 1 written
 * so that the registers hold what GCC would otherwise spill (eight accumulators, two load temporaries, the index
 * word and three pointers use all 14 free registers). What each routine computes is stated with its prototype in
 * bnn_bconv2d_slice.h; this file has only the instructions. Other builds compile it to nothing. */
#include "bnn_bconv2d_slice.h"

#if BNN_T2_DSP_ASM
#define SL_S(x) #x
#define SLA_Q(o0, o1, o2, o3) \
    "ldrd r0, r3, [r12, #" SL_S(o0) "]\n\tadd r4, r4, r0\n\tadd r5, r5, r3\n\t" \
    "ldrd r0, r3, [r12, #" SL_S(o1) "]\n\tadd r6, r6, r0\n\tadd r7, r7, r3\n\t" \
    "ldrd r0, r3, [r12, #" SL_S(o2) "]\n\tadd r8, r8, r0\n\tadd r9, r9, r3\n\t" \
    "ldrd r0, r3, [r12, #" SL_S(o3) "]\n\tadd r10, r10, r0\n\tadd r11, r11, r3\n\t"
#define SLA_CH(sh, o0, o1, o2, o3) "ubfx r12, lr, #" SL_S(sh) ", #4\n\tadd r12, r1, r12, lsl #8\n\t" SLA_Q(o0, o1, o2, o3)
#define SLA_FOLD(a, o) "ldrd r0, r3, [r12, #" SL_S(o) "]\n\tuxtab16 r0, r0, " a "\n\tuxtab16 r3, r3, " a ", ror #8\n\tstrd r0, r3, [r12, #" SL_S(o) "]\n\t"
#define SLA_GATHER(a, o, s0, s1) "ldrd r0, r3, [r12, #" SL_S(o) "]\n\tuxtab16 r0, r0, " a "\n\tuxtab16 r3, r3, " a ", ror #8\n\t" \
    "and r0, r0, r1\n\tand r3, r3, r1\n\torr r2, r2, r0, lsr #" SL_S(s0) "\n\torr r2, r2, r3, lsr #" SL_S(s1) "\n\t"
#define SLA_INIT "ldmia r6!, {r8, r9, r10, r11}\n\tadd r8, r8, r7\n\tadd r9, r9, r7\n\tadd r10, r10, r7\n\tadd r11, r11, r7\n\tstmia r5!, {r8, r9, r10, r11}\n\t"
/* Frame: [sp] h, [sp + 4] groups left after this chunk, [sp + 8] gstride, [sp + 12] flags, [sp + 16] end of the
 * chunk's index words. */
__asm__(
    "\t.pushsection .text.bnn_sl_lanes_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_lanes_out\n\t.type bnn_sl_lanes_out, %function\n\t.thumb_func\n"
    "bnn_sl_lanes_out:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #24\n\t"
    "ldr r4, [sp, #60]\n\t"
    "str r0, [sp, #0]\n\tstr r3, [sp, #4]\n\t"
    "ldr r5, [r4, #8]\n\tstr r5, [sp, #8]\n\t"
    "ldr r5, [r4, #12]\n\tstr r5, [sp, #12]\n\t"
    "tst r5, #1\n\t"
    "beq 2f\n\t"
    "ldr r6, [r4, #0]\n\tldr r7, [r4, #4]\n\tmov r5, r0\n\t"
    SLA_INIT SLA_INIT SLA_INIT SLA_INIT
    "\n2:\n\t"
    "ldr r12, [sp, #4]\n\t"
    "cmp r12, #3\n\t"
    "ite hi\n\tmovhi r3, #3\n\tmovls r3, r12\n\t"
    "sub r12, r12, r3\n\tstr r12, [sp, #4]\n\t"
    "add r3, r2, r3, lsl #2\n\tstr r3, [sp, #16]\n\t"
    /* The chunk's first channel loads the accumulators instead of adding to zeros. */
    "ldr lr, [r2], #4\n\t"
    "and r12, lr, #15\n\tadd r12, r1, r12, lsl #8\n\t"
    "ldrd r4, r5, [r12]\n\tldrd r6, r7, [r12, #8]\n\tldrd r8, r9, [r12, #16]\n\tldrd r10, r11, [r12, #24]\n\t"
    SLA_CH(4, 32, 40, 48, 56) SLA_CH(8, 64, 72, 80, 88) SLA_CH(12, 96, 104, 112, 120)
    SLA_CH(16, 128, 136, 144, 152) SLA_CH(20, 160, 168, 176, 184) SLA_CH(24, 192, 200, 208, 216)
    SLA_CH(28, 224, 232, 240, 248)
    "b 4f\n"
    "1:\n\t"
    "ldr lr, [r2], #4\n\t"
    SLA_CH(0, 0, 8, 16, 24) SLA_CH(4, 32, 40, 48, 56) SLA_CH(8, 64, 72, 80, 88) SLA_CH(12, 96, 104, 112, 120)
    SLA_CH(16, 128, 136, 144, 152) SLA_CH(20, 160, 168, 176, 184) SLA_CH(24, 192, 200, 208, 216)
    SLA_CH(28, 224, 232, 240, 248)
    "\n4:\n\t"
    "ldr r12, [sp, #8]\n\tadd r1, r1, r12\n\t"
    "ldr r12, [sp, #16]\n\tcmp r2, r12\n\t"
    "bne 1b\n\t"
    "ldr r12, [sp, #4]\n\tcmp r12, #0\n\tbne 3f\n\t"
    "ldr r12, [sp, #12]\n\ttst r12, #2\n\tbeq 3f\n\t"
    "ldr r12, [sp, #0]\n\tmovs r2, #0\n\tmov r1, #0x80008000\n\t"
    SLA_GATHER("r4", 0, 15, 14) SLA_GATHER("r5", 8, 13, 12) SLA_GATHER("r6", 16, 11, 10) SLA_GATHER("r7", 24, 9, 8)
    SLA_GATHER("r8", 32, 7, 6) SLA_GATHER("r9", 40, 5, 4) SLA_GATHER("r10", 48, 3, 2)
    "ldrd r0, r3, [r12, #56]\n\tuxtab16 r0, r0, r11\n\tuxtab16 r3, r3, r11, ror #8\n\t"
    "and r0, r0, r1\n\tand r3, r3, r1\n\torr r2, r2, r0, lsr #1\n\torr r0, r2, r3\n\t"
    "add sp, sp, #24\n\t"
    "pop {r4-r11, pc}\n"
    "3:\n\t"
    "ldr r12, [sp, #0]\n\t"
    SLA_FOLD("r4", 0) SLA_FOLD("r5", 8) SLA_FOLD("r6", 16) SLA_FOLD("r7", 24)
    SLA_FOLD("r8", 32) SLA_FOLD("r9", 40) SLA_FOLD("r10", 48) SLA_FOLD("r11", 56)
    "ldr r12, [sp, #4]\n\tcmp r12, #0\n\tbne 2b\n\t"
    "movs r0, #0\n\t"
    "add sp, sp, #24\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_sl_lanes_out, .-bnn_sl_lanes_out\n\t"
    ".popsection\n");
__asm__(
    "\t.pushsection .text.bnn_sl_copy,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_copy\n\t.type bnn_sl_copy, %function\n\t.thumb_func\n"
    "bnn_sl_copy:\n\t"
    "push {r4-r9}\n"
    "1:\n\t"
    "ldmia r1!, {r3-r9, r12}\n\tstmia r0!, {r3-r9, r12}\n\t"
    "ldmia r1!, {r3-r9, r12}\n\tstmia r0!, {r3-r9, r12}\n\t"
    "ldmia r1!, {r3-r9, r12}\n\tstmia r0!, {r3-r9, r12}\n\t"
    "ldmia r1!, {r3-r9, r12}\n\tstmia r0!, {r3-r9, r12}\n\t"
    "subs r2, r2, #32\n\t"
    "bne 1b\n\t"
    "pop {r4-r9}\n\t"
    "bx lr\n\t"
    ".size bnn_sl_copy, .-bnn_sl_copy\n\t"
    ".popsection\n");
__asm__(
    "\t.pushsection .text.bnn_sl_rows_lanes,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_rows_lanes\n\t.type bnn_sl_rows_lanes, %function\n\t.thumb_func\n"
    "bnn_sl_rows_lanes:\n\t"
    "push {r4-r10}\n\t"
    "mov r10, r2\n\t"
    "mov r12, #0x11111111\n"
    "1:\n\t"
    "ldrd r2, r3, [r1, #8]\n\tldrd r4, r5, [r1, #16]\n\tand r2, r12, r2\n\tand r3, r12, r3\n\tand r4, r12, r4\n\tand r5, r12, r5\n\tadd r6, r2, r4\n\tadd r2, r2, r5\n\tadd r5, r3, r5\n\tadd r3, r3, r4\n\tldrd r7, r8, [r1]\n\tand r7, r12, r7\n\tand r8, r12, r8\n\tadd r9, r8, r5\n\tstr r9, [r0, #0]\n\tadd r9, r7, r5\n\tstr r9, [r0, #16]\n\tadd r9, r8, r2\n\tstr r9, [r0, #32]\n\tadd r9, r7, r2\n\tstr r9, [r0, #48]\n\tadd r9, r8, r3\n\tstr r9, [r0, #64]\n\tadd r9, r7, r3\n\tstr r9, [r0, #80]\n\tadd r9, r8, r6\n\tstr r9, [r0, #96]\n\tadd r9, r7, r6\n\tstr r9, [r0, #112]\n\t"
    "ldrd r2, r3, [r1, #8]\n\tldrd r4, r5, [r1, #16]\n\tand r2, r12, r2, lsr #1\n\tand r3, r12, r3, lsr #1\n\tand r4, r12, r4, lsr #1\n\tand r5, r12, r5, lsr #1\n\tadd r6, r2, r4\n\tadd r2, r2, r5\n\tadd r5, r3, r5\n\tadd r3, r3, r4\n\tldrd r7, r8, [r1]\n\tand r7, r12, r7, lsr #1\n\tand r8, r12, r8, lsr #1\n\tadd r9, r8, r5\n\tstr r9, [r0, #4]\n\tadd r9, r7, r5\n\tstr r9, [r0, #20]\n\tadd r9, r8, r2\n\tstr r9, [r0, #36]\n\tadd r9, r7, r2\n\tstr r9, [r0, #52]\n\tadd r9, r8, r3\n\tstr r9, [r0, #68]\n\tadd r9, r7, r3\n\tstr r9, [r0, #84]\n\tadd r9, r8, r6\n\tstr r9, [r0, #100]\n\tadd r9, r7, r6\n\tstr r9, [r0, #116]\n\t"
    "ldrd r2, r3, [r1, #8]\n\tldrd r4, r5, [r1, #16]\n\tand r2, r12, r2, lsr #2\n\tand r3, r12, r3, lsr #2\n\tand r4, r12, r4, lsr #2\n\tand r5, r12, r5, lsr #2\n\tadd r6, r2, r4\n\tadd r2, r2, r5\n\tadd r5, r3, r5\n\tadd r3, r3, r4\n\tldrd r7, r8, [r1]\n\tand r7, r12, r7, lsr #2\n\tand r8, r12, r8, lsr #2\n\tadd r9, r8, r5\n\tstr r9, [r0, #8]\n\tadd r9, r7, r5\n\tstr r9, [r0, #24]\n\tadd r9, r8, r2\n\tstr r9, [r0, #40]\n\tadd r9, r7, r2\n\tstr r9, [r0, #56]\n\tadd r9, r8, r3\n\tstr r9, [r0, #72]\n\tadd r9, r7, r3\n\tstr r9, [r0, #88]\n\tadd r9, r8, r6\n\tstr r9, [r0, #104]\n\tadd r9, r7, r6\n\tstr r9, [r0, #120]\n\t"
    "ldrd r2, r3, [r1, #8]\n\tldrd r4, r5, [r1, #16]\n\tand r2, r12, r2, lsr #3\n\tand r3, r12, r3, lsr #3\n\tand r4, r12, r4, lsr #3\n\tand r5, r12, r5, lsr #3\n\tadd r6, r2, r4\n\tadd r2, r2, r5\n\tadd r5, r3, r5\n\tadd r3, r3, r4\n\tldrd r7, r8, [r1]\n\tand r7, r12, r7, lsr #3\n\tand r8, r12, r8, lsr #3\n\tadd r9, r8, r5\n\tstr r9, [r0, #12]\n\tadd r9, r7, r5\n\tstr r9, [r0, #28]\n\tadd r9, r8, r2\n\tstr r9, [r0, #44]\n\tadd r9, r7, r2\n\tstr r9, [r0, #60]\n\tadd r9, r8, r3\n\tstr r9, [r0, #76]\n\tadd r9, r7, r3\n\tstr r9, [r0, #92]\n\tadd r9, r8, r6\n\tstr r9, [r0, #108]\n\tadd r9, r7, r6\n\tstr r9, [r0, #124]\n\t"
    "add r0, r0, #128\n\tadd r1, r1, #24\n\t"
    "subs r10, r10, #1\n\t"
    "bne 1b\n\t"
    "pop {r4-r10}\n\t"
    "bx lr\n\t"
    ".size bnn_sl_rows_lanes, .-bnn_sl_rows_lanes\n\t"
    ".popsection\n");
/* One codeword: the three row counts added, split into byte lanes, stored; dst advances to the next codeword. */
#define SLC_ONE \
    "ldmia r1!, {r3, r4, r5}\n\t" \
    "ldrd r6, r7, [r3]\n\tldrd r8, r9, [r3, #8]\n\t" \
    "ldrd r10, r11, [r4]\n\tadd r6, r6, r10\n\tadd r7, r7, r11\n\t" \
    "ldrd r10, r11, [r4, #8]\n\tadd r8, r8, r10\n\tadd r9, r9, r11\n\t" \
    "ldrd r10, r11, [r5]\n\tadd r6, r6, r10\n\tadd r7, r7, r11\n\t" \
    "ldrd r10, r11, [r5, #8]\n\tadd r8, r8, r10\n\tadd r9, r9, r11\n\t" \
    "and r3, r6, r12\n\tand r4, r12, r6, lsr #4\n\tand r5, r7, r12\n\tand r6, r12, r7, lsr #4\n\t" \
    "and r7, r8, r12\n\tand r8, r12, r8, lsr #4\n\tand r10, r12, r9, lsr #4\n\tand r9, r9, r12\n\t" \
    "stmia r0, {r3-r10}\n\t" \
    "add r0, r0, #256\n\t"
__asm__(
    "\t.pushsection .text.bnn_sl_cw_lanes,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_cw_lanes\n\t.type bnn_sl_cw_lanes, %function\n\t.thumb_func\n"
    "bnn_sl_cw_lanes:\n\t"
    "push {r4-r11, lr}\n\t"
    "mov r12, #0x0F0F0F0F\n"
    "1:\n\t"
    SLC_ONE SLC_ONE
    "cmp r1, r2\n\t"
    "bne 1b\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_sl_cw_lanes, .-bnn_sl_cw_lanes\n\t"
    ".popsection\n");
#define SLS_CH "ldr r12, [r2], #4\n\tldmia r12!, {r0, r1, r3, lr}\n\t" \
    "uqadd8 r4, r4, r0\n\tuqadd8 r5, r5, r1\n\tuqadd8 r6, r6, r3\n\tuqadd8 r7, r7, lr\n\t" \
    "ldmia r12, {r0, r1, r3, lr}\n\t" \
    "uqadd8 r8, r8, r0\n\tuqadd8 r9, r9, r1\n\tuqadd8 r10, r10, r3\n\tuqadd8 r11, r11, lr\n\t"
#define SLS_CH4 SLS_CH SLS_CH SLS_CH SLS_CH
/* Frame: [sp] obits, [sp + 4] obits end, [sp + 8] bytes of addresses per record, [sp + 12] end of this output's
 * addresses. */
__asm__(
    "\t.pushsection .text.bnn_sl_sat_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_sat_out\n\t.type bnn_sl_sat_out, %function\n\t.thumb_func\n"
    "bnn_sl_sat_out:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #16\n\t"
    "ldr r2, [r0, #0]\n\t"
    "ldr r1, [r0, #4]\n\tstr r1, [sp, #0]\n\t"
    "ldr r1, [r0, #8]\n\tstr r1, [sp, #4]\n\t"
    "ldr r1, [r0, #12]\n\tstr r1, [sp, #8]\n"
    "1:\n\t"
    "ldmia r2!, {r4-r11}\n\t"
    "ldr r12, [sp, #8]\n\tadd r12, r2, r12\n\tstr r12, [sp, #12]\n"
    "2:\n\t"
    SLS_CH4 SLS_CH4 SLS_CH4 SLS_CH4
    "ldr r12, [sp, #12]\n\tcmp r2, r12\n\tbne 2b\n\t"
    "mov r0, #0xFEFEFEFE\n\t"
    "uqsub8 r4, r4, r0\n\tuqsub8 r5, r5, r0\n\tuqsub8 r6, r6, r0\n\tuqsub8 r7, r7, r0\n\t"
    "uqsub8 r8, r8, r0\n\tuqsub8 r9, r9, r0\n\tuqsub8 r10, r10, r0\n\tuqsub8 r11, r11, r0\n\t"
    "orr r4, r4, r5, lsl #1\n\torr r4, r4, r6, lsl #2\n\torr r4, r4, r7, lsl #3\n\torr r4, r4, r8, lsl #4\n\t"
    "orr r4, r4, r9, lsl #5\n\torr r4, r4, r10, lsl #6\n\torr r4, r4, r11, lsl #7\n\t"
    "ldrd r0, r1, [r2], #8\n\t"
    "eor r4, r4, r0\n\tand r4, r4, r1\n\t"
    "ldrd r12, r0, [sp]\n\tstr r4, [r12], #4\n\tstr r12, [sp]\n\t"
    "cmp r12, r0\n\t"
    "bne 1b\n\t"
    "add sp, sp, #16\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_sl_sat_out, .-bnn_sl_sat_out\n\t"
    ".popsection\n");
#define SLW_CH "ldr r12, [r2], #4\n\tldmia r12!, {r0, r1, r3, lr}\n\t" \
    "add r4, r4, r0\n\tadd r5, r5, r1\n\tadd r6, r6, r3\n\tadd r7, r7, lr\n\t" \
    "ldmia r12, {r0, r1, r3, lr}\n\t" \
    "add r8, r8, r0\n\tadd r9, r9, r1\n\tadd r10, r10, r3\n\tadd r11, r11, lr\n\t"
#define SLW_FOLD(a, o) "ldrd r0, r3, [r12, #" SL_S(o) "]\n\tuxtab16 r0, r0, " a "\n\tuxtab16 r3, r3, " a ", ror #8\n\tstrd r0, r3, [lr, #" SL_S(o) "]\n\t"
#define SLW_GATHER(a, o, s0, s1) "ldrd r0, r3, [r12, #" SL_S(o) "]\n\tuxtab16 r0, r0, " a "\n\tuxtab16 r3, r3, " a ", ror #8\n\t" \
    "and r0, r0, r1\n\tand r3, r3, r1\n\torr lr, lr, r0, lsr #" SL_S(s0) "\n\torr lr, lr, r3, lsr #" SL_S(s1) "\n\t"
/* Frame: [sp] obits, [sp + 4] obits end, [sp + 8] bytes of addresses per record, [sp + 12] end of this output's
 * addresses, [sp + 16] what the next fold adds to (the record's start words, then h), [sp + 20] h, [sp + 24] end of
 * the chunk's addresses. */
__asm__(
    "\t.pushsection .text.bnn_sl_wide_out,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_wide_out\n\t.type bnn_sl_wide_out, %function\n\t.thumb_func\n"
    "bnn_sl_wide_out:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #28\n\t"
    "ldr r2, [r0, #0]\n\t"
    "ldr r1, [r0, #4]\n\tstr r1, [sp, #0]\n\t"
    "ldr r1, [r0, #8]\n\tstr r1, [sp, #4]\n\t"
    "ldr r1, [r0, #12]\n\tstr r1, [sp, #8]\n\t"
    "ldr r1, [r0, #16]\n\tstr r1, [sp, #20]\n"
    "1:\n\t"
    "str r2, [sp, #16]\n\t"
    "add r2, r2, #64\n\t"
    "ldr r12, [sp, #8]\n\tadd r12, r2, r12\n\tstr r12, [sp, #12]\n"
    "2:\n\t"
    /* A chunk: up to 24 channels in byte lanes, its first channel loaded. */
    "sub r0, r12, r2\n\tcmp r0, #96\n\tit hi\n\taddhi r12, r2, #96\n\tstr r12, [sp, #24]\n\t"
    "ldr r12, [r2], #4\n\tldmia r12, {r4-r11}\n\t"
    SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH
    "b 4f\n"
    "3:\n\t"
    SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH SLW_CH
    "\n4:\n\t"
    "ldr r12, [sp, #24]\n\tcmp r2, r12\n\tbne 3b\n\t"
    "ldr r12, [sp, #12]\n\tcmp r2, r12\n\tbeq 5f\n\t"
    "ldr r12, [sp, #16]\n\tldr lr, [sp, #20]\n\tstr lr, [sp, #16]\n\t"
    SLW_FOLD("r4", 0) SLW_FOLD("r5", 8) SLW_FOLD("r6", 16) SLW_FOLD("r7", 24)
    SLW_FOLD("r8", 32) SLW_FOLD("r9", 40) SLW_FOLD("r10", 48) SLW_FOLD("r11", 56)
    "ldr r12, [sp, #12]\n\t"
    "b 2b\n"
    "5:\n\t"
    "ldr r12, [sp, #16]\n\tmov r1, #0x80008000\n\tmov lr, #0\n\t"
    SLW_GATHER("r4", 0, 15, 14) SLW_GATHER("r5", 8, 13, 12) SLW_GATHER("r6", 16, 11, 10) SLW_GATHER("r7", 24, 9, 8)
    SLW_GATHER("r8", 32, 7, 6) SLW_GATHER("r9", 40, 5, 4) SLW_GATHER("r10", 48, 3, 2)
    "ldrd r0, r3, [r12, #56]\n\tuxtab16 r0, r0, r11\n\tuxtab16 r3, r3, r11, ror #8\n\t"
    "and r0, r0, r1\n\tand r3, r3, r1\n\torr lr, lr, r0, lsr #1\n\torr lr, lr, r3\n\t"
    "ldrd r0, r1, [r2], #8\n\t"
    "eor lr, lr, r0\n\tand lr, lr, r1\n\t"
    "ldrd r12, r0, [sp]\n\tstr lr, [r12], #4\n\tstr r12, [sp]\n\t"
    "cmp r12, r0\n\t"
    "bne 1b\n\t"
    "add sp, sp, #28\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_sl_wide_out, .-bnn_sl_wide_out\n\t"
    ".popsection\n");
#define SLR_CH \
    "ldrd r8, r9, [r3, #8]\n\tldrd r6, r7, [r3], #128\n\t" \
    "ldrd r10, r11, [r4, #8]\n\tadd r8, r8, r10\n\tadd r9, r9, r11\n\t" \
    "ldrd r10, r11, [r4], #128\n\tadd r6, r6, r10\n\tadd r7, r7, r11\n\t" \
    "ldrd r10, r11, [r5, #8]\n\tadd r8, r8, r10\n\tadd r9, r9, r11\n\t" \
    "ldrd r10, r11, [r5], #128\n\tadd r6, r6, r10\n\tadd r7, r7, r11\n\t" \
    "and r1, r6, r12\n\tand r2, r12, r6, lsr #4\n\tand r6, r7, r12\n\tand r7, r12, r7, lsr #4\n\t" \
    "and r10, r9, r12\n\tand r11, r12, r9, lsr #4\n\tand r9, r12, r8, lsr #4\n\tand r8, r8, r12\n\t" \
    "stmia r0!, {r1, r2, r6-r11}\n\t"
/* Frame: [sp] table position, [sp + 4] table end, [sp + 8] groups, [sp + 12] bytes from a group's last channel
 * to the next group, [sp + 16] cw of the next codeword. */
__asm__(
    "\t.pushsection .text.bnn_sl_cw_ring,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_cw_ring\n\t.type bnn_sl_cw_ring, %function\n\t.thumb_func\n"
    "bnn_sl_cw_ring:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #24\n\t"
    "ldr r2, [r1, #0]\n\tstr r2, [sp, #0]\n\t"
    "ldr r2, [r1, #4]\n\tstr r2, [sp, #4]\n\t"
    "ldr r2, [r1, #8]\n\tstr r2, [sp, #8]\n\t"
    "ldr r2, [r1, #12]\n\tstr r2, [sp, #12]\n\t"
    "str r0, [sp, #16]\n"
    "1:\n\t"
    "ldr r12, [sp, #0]\n\tldmia r12!, {r3, r4, r5}\n\tstr r12, [sp, #0]\n\t"
    "ldr r0, [sp, #16]\n\tadd r12, r0, #256\n\tstr r12, [sp, #16]\n\t"
    "ldr lr, [sp, #8]\n\t"
    "mov r12, #0x0F0F0F0F\n"
    "2:\n\t"
    SLR_CH SLR_CH SLR_CH SLR_CH SLR_CH SLR_CH SLR_CH SLR_CH
    "ldr r1, [sp, #12]\n\tadd r0, r0, r1\n\t"
    "subs lr, lr, #1\n\t"
    "bne 2b\n\t"
    "ldrd r1, r2, [sp]\n\tcmp r1, r2\n\t"
    "bne 1b\n\t"
    "add sp, sp, #24\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size bnn_sl_cw_ring, .-bnn_sl_cw_ring\n\t"
    ".popsection\n");
#else
typedef int bnn_bconv2d_slice_t2_unused; /* ISO C wants at least one declaration in a file */
#endif /* BNN_T2_DSP_ASM */
