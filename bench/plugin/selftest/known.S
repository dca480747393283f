/* known.S - a bare-metal firmware whose instruction counts are known by hand, to check the icount plugin.
 *
 * Thumb-1 instructions only, so the same source runs on ARMv6-M (microbit, Cortex-M0) and ARMv7-M (mps2-an386).
 * Build (see generator/src/bench/selftest.ts):
 *   arm-none-eabi-gcc -mcpu=... -mthumb -nostdlib -nostartfiles -T known.ld \
 *       -DSTACK_TOP=0x... -DPASSES=P -DLOOP_N=N -DCALL_N=M known.S -o known.elf
 *
 * Markers are one-instruction functions (bx lr) at distinct addresses. Per pass the program runs
 *   mark_loop,  then a loop of N iterations of 4 instructions,
 *   mark_calls, then a loop of M iterations that calls a 2-instruction leaf,
 *   mark_done,
 * and after P passes prints a line over semihosting and exits with status 0.
 *
 * Hand count (each line below is one instruction; "k x" means executed k times):
 *   start      (reset to the first mark_loop):     movs r5; ldr r4; bl mark_loop                    = 3
 *   mark_loop  per pass: bx lr; movs r1; movs r2; N x (adds, eors, subs, bne); ldr r4; bl mark_calls = 4N + 5
 *   mark_calls per pass: bx lr; M x (bl leaf, adds, bx lr, subs, bne); bl mark_done                 = 5M + 2
 *   mark_done  per pass but the last: bx lr; subs r5; bne pass; ldr r4; bl mark_loop                = 5
 *              last pass: bx lr; subs r5; bne; movs r0; adr r1; bkpt; movs r0; ldr r1; bkpt          = 9
 *   so: start 3, mark_loop P(4N+5), mark_calls P(5M+2), mark_done 5(P-1)+9, each marker visited P times.
 * (The final BKPT counts: QEMU translates and counts it before the semihosting call ends the run.)
 */
    .syntax unified
    .thumb

#ifndef STACK_TOP
#error "define STACK_TOP (initial stack pointer: end of the board's RAM)"
#endif
#ifndef PASSES
#define PASSES 3
#endif
#ifndef LOOP_N
#define LOOP_N 1000
#endif
#ifndef CALL_N
#define CALL_N 100
#endif

    /* Core vectors: initial SP, reset, then every fault to Fault_Handler (no interrupts are enabled). */
    .section .vectors, "a"
    .word STACK_TOP
    .word Reset_Handler
    .rept 14
    .word Fault_Handler
    .endr

    .text
    .global Reset_Handler, mark_loop, mark_calls, mark_done

    .thumb_func
Reset_Handler:
    movs r5, #PASSES
pass:
    ldr  r4, =LOOP_N
    bl   mark_loop
    movs r1, #0
    movs r2, #1
1:  adds r1, r1, r2
    eors r2, r1
    subs r4, r4, #1
    bne  1b
    ldr  r4, =CALL_N
    bl   mark_calls
2:  bl   leaf
    subs r4, r4, #1
    bne  2b
    bl   mark_done
    subs r5, r5, #1
    bne  pass
    movs r0, #0x04          /* SYS_WRITE0 */
    adr  r1, message
    bkpt 0xab
    movs r0, #0x18          /* SYS_EXIT, reason ADP_Stopped_ApplicationExit: QEMU exits with status 0 */
    ldr  r1, =0x20026
    bkpt 0xab
3:  b    3b

    .thumb_func
leaf:
    adds r1, r1, #1
    bx   lr

    .thumb_func
mark_loop:
    bx   lr
    .thumb_func
mark_calls:
    bx   lr
    .thumb_func
mark_done:
    bx   lr

    /* Any fault: exit with a non-zero status (SYS_EXIT with another reason gives status 1). */
    .thumb_func
Fault_Handler:
    movs r0, #0x18
    ldr  r1, =0x20024       /* ADP_Stopped_RunTimeErrorUnknown */
    bkpt 0xab
4:  b    4b

    .align 2
message:
    .asciz "known-count firmware done\n"
    .align 2
    .ltorg
