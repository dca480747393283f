/* Thumb-1 assembly of the bit-sliced binary convolution (bnn_bconv2d_slice.c) for ARMv6-M (Cortex-M0/M0+) in
 * optimised GCC builds (BNN_T1_ASM, bnn_arch.h): mode 1's per-output accumulation in two passes over half the
 * positions each, so that four byte-lane accumulators (r0-r3), the loaded count words and the address (r4-r7) fit the
 * eight low registers; the index word (r8), the group base (r9), h (r10), the group stride (r11), the groups left
 * (r12) and the index pointer (lr) live where Thumb-1 reaches only with MOV and ADD. Per (output, channel, pass): the
 * 4-bit index (MOV, LSL, LSR, LSL), the record's address (two ADDs), one LDM of its four count words and four ADDs:
 * 11 instructions. What it computes is stated with its prototype in bnn_bconv2d_slice.h; other builds compile this
 * file to nothing. */
#include "bnn_bconv2d_slice.h"

#if BNN_T1_ASM
#define T1_S(x) #x
/* Add the record's four count words (its address in r4) to the accumulators. */
#define T1_ADD4 "ldmia r4, {r4, r5, r6, r7}\n\tadds r0, r0, r4\n\tadds r1, r1, r5\n\tadds r2, r2, r6\n\tadds r3, r3, r7\n\t"
/* Channel i >= 1 of the group: index = nibble i of r8; record at r9 + 256 index + 32 i. */
#define T1_CH(lsl, off) "mov r4, r8\n\tlsls r4, r4, #" T1_S(lsl) "\n\tlsrs r4, r4, #28\n\tlsls r4, r4, #8\n\tadd r4, r4, r9\n\tadds r4, #" T1_S(off) "\n\t" T1_ADD4
/* h[2j] += bytes 0 and 2 of accumulator a, h[2j + 1] += bytes 1 and 3 (r7 = 0x00FF00FF, r4 = h). */
#define T1_FOLD(a, o0, o1) "ldr r5, [r4, #" T1_S(o0) "]\n\tmovs r6, " a "\n\tands r6, r7\n\tadds r5, r5, r6\n\tstr r5, [r4, #" T1_S(o0) "]\n\t" \
    "lsrs " a ", " a ", #8\n\tands " a ", r7\n\tldr r5, [r4, #" T1_S(o1) "]\n\tadds r5, r5, " a "\n\tstr r5, [r4, #" T1_S(o1) "]\n\t"
__asm__(
    "\t.pushsection .text.bnn_sl_t1_block,\"ax\",%progbits\n\t.syntax unified\n\t.thumb\n\t.p2align 2\n"
    "\t.global bnn_sl_t1_block\n\t.type bnn_sl_t1_block, %function\n\t.thumb_func\n"
    "bnn_sl_t1_block:\n\t"
    "push {r4-r7, lr}\n\tmov r4, r8\n\tmov r5, r9\n\tmov r6, r10\n\tmov r7, r11\n\tpush {r4-r7}\n\t"
    "mov r10, r0\n\tmov r9, r1\n\tmov lr, r2\n\t"
    "lsrs r4, r3, #4\n\tmov r11, r4\n\tlsls r3, r3, #28\n\tlsrs r3, r3, #28\n\tmov r12, r3\n\t"
    "movs r0, #0\n\tmovs r1, #0\n\tmovs r2, #0\n\tmovs r3, #0\n"
    "1:\n\t"
    "mov r4, lr\n\tldmia r4!, {r5}\n\tmov lr, r4\n\tmov r8, r5\n\t"
    "lsls r4, r5, #28\n\tlsrs r4, r4, #20\n\tadd r4, r4, r9\n\t" T1_ADD4
    T1_CH(24, 32) T1_CH(20, 64) T1_CH(16, 96) T1_CH(12, 128) T1_CH(8, 160) T1_CH(4, 192) T1_CH(0, 224)
    "mov r4, r9\n\tadd r4, r4, r11\n\tmov r9, r4\n\t"
    "mov r4, r12\n\tsubs r4, #1\n\tmov r12, r4\n\tbne 1b\n\t"
    "movs r7, #255\n\tlsls r6, r7, #16\n\torrs r7, r6\n\tmov r4, r10\n\t"
    T1_FOLD("r0", 0, 4) T1_FOLD("r1", 8, 12) T1_FOLD("r2", 16, 20) T1_FOLD("r3", 24, 28)
    "pop {r4-r7}\n\tmov r8, r4\n\tmov r9, r5\n\tmov r10, r6\n\tmov r11, r7\n\tpop {r4-r7, pc}\n\t"
    ".size bnn_sl_t1_block, .-bnn_sl_t1_block\n\t"
    ".popsection\n");
#else
typedef int bnn_bconv2d_slice_t1_unused; /* ISO C wants at least one declaration in a file */
#endif /* BNN_T1_ASM */
