/* classes.S - a bare-metal firmware whose instruction classes are known by hand, to check the icount plugin's
 * classification (cls=FILE) on the big cores: dual-issue pairs (Cortex-M7 model) and MVE beats (Cortex-M55 model).
 * Build (test/timing-model.test.ts): arm-none-eabi-gcc <board cflags> -nostdlib -nostartfiles -T known.ld
 *     -DSTACK_TOP=0x... -DN=... classes.S
 *
 * Region mark_pairs: bx lr; movs r4, #N; adr r0, data; then N x the 10-instruction loop below; bl mark_vec.
 *   Greedy pairs (comment column): adr pairs with movs, so the first ldr pairs with nothing (after a paired adr,
 *   later after bne taken); 3 per iteration; the bl after the last (not taken) bne pairs with it: 2 + 3N in all.
 *   ldrd issues alone; two loads or two multiplies never pair.
 * Region mark_vec (MVE builds only): bx lr; enable CP10/CP11; movs r4, #N; dls lr, r4; N x (vldrw, vadd, vstrw,
 *   veor, le); bl mark_end. Overlaps: vadd after vldrw, vstrw after vadd, veor after vstrw: 3 per iteration.
 */
    .syntax unified
    .thumb

    .section .vectors, "a"
    .word STACK_TOP
    .word Reset_Handler
    .rept 14
    .word Fault_Handler
    .endr

    .text
    .global Reset_Handler, mark_pairs, mark_vec, mark_end

    .thumb_func
Reset_Handler:
    bl   mark_pairs
    movs r4, #N
    adr  r0, data
1:  ldr  r2, [r0]           /* after a paired adr, then after bne taken: no pair */
    adds r3, r3, r2         /* pair (load + ALU) */
    ldr  r2, [r0, #4]       /* previous already paired */
    ldr  r5, [r0, #8]       /* two loads: no */
    muls r5, r5, r5         /* pair (load + multiply) */
    muls r6, r6, r6         /* previous paired */
    ldrd r2, r5, [r0]       /* alone */
    adds r3, r3, #1         /* after LDRD: no */
    subs r4, r4, #1         /* pair */
    bne  1b                 /* previous paired */
    bl   mark_vec
#if defined(__ARM_FEATURE_MVE)
    ldr  r0, =0xE000ED88    /* CPACR: CP10 and CP11 full access (FPU and MVE) */
    ldr  r1, [r0]
    orr  r1, r1, #(0xF << 20)
    str  r1, [r0]
    dsb
    isb
    adr  r0, data
    sub  r1, sp, #64        /* stores go to the stack, away from the code */
    movs r4, #N
    dls  lr, r4
2:  vldrw.u32 q0, [r0]
    vadd.i32 q1, q1, q0
    vstrw.32 q1, [r1]
    veor q2, q2, q1
    le   lr, 2b
#endif
    bl   mark_end
    movs r0, #0x18          /* SYS_EXIT, ADP_Stopped_ApplicationExit: QEMU exits with status 0 */
    ldr  r1, =0x20026
    bkpt 0xab
3:  b    3b

    .thumb_func
Fault_Handler:
    movs r0, #0x18
    ldr  r1, =0x20024       /* ADP_Stopped_InternalError */
    bkpt 0xab
4:  b    4b

    .thumb_func
mark_pairs:
    bx   lr
    .thumb_func
mark_vec:
    bx   lr
    .thumb_func
mark_end:
    bx   lr

    .ltorg
    .balign 16
data:
    .word 1, 2, 3, 4, 5, 6, 7, 8
