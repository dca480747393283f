/* bnn_mark.h - marker functions for the icount QEMU plugin (bench/plugin/icount.c).
 *
 *   BNN_MARK_DEFINE(bnn_mark_begin)   // at file scope, once per marker
 *   BNN_MARK_DEFINE(bnn_mark_end)
 *   ...
 *   bnn_mark_begin(); work(); bnn_mark_end();
 *
 * Then count with runWithCounts(elf, board, ['bnn_mark_begin', 'bnn_mark_end']) (generator/src/bench/icount.ts).
 *
 * Each marker compiles to a single `bx lr`. The plugin attributes instructions from a marker's first instruction up
 * to (not including) the next marker's first instruction, so the `bnn_mark_begin` region above holds work()'s
 * instructions plus 2: begin's `bx lr` and the `bl bnn_mark_end` call (markers take no arguments, so nothing else).
 *
 * Why the attributes:
 *   noinline - the marker must be a real call to a fixed address the plugin watches;
 *   noipa    - also disables identical code folding (-fipa-icf, on at -O2): two markers with the same empty body
 *              would otherwise be merged into one address, or one turned into a branch to the other;
 *   used     - keeps it (and its symbol) even if a build never calls it;
 *   the empty asm with a memory clobber keeps the compiler from moving memory accesses of the measured code across
 *   the call (the call already does that for non-local memory; this makes it explicit).
 */
#ifndef BNN_MARK_H
#define BNN_MARK_H

#define BNN_MARK_DEFINE(name) \
    __attribute__((noinline, noipa, used)) void name(void) { __asm__ volatile ("" ::: "memory"); }

#define BNN_MARK_DECLARE(name) void name(void)

#endif /* BNN_MARK_H */
