/*
 * bnn-gen runtime: the CPU features the kernels may use, resolved once from the compiler's predefined macros.
 * Kernels test only these macros (never __ARM_FEATURE_*, __thumb2__ or __OPTIMIZE__ themselves), so which code path
 * a build takes is decided here, in one place. Every path is checked bit for bit against the TS reference.
 *
 *   BNN_GNUC         GCC-style inline assembly, attributes and compiler barriers (GCC, clang)
 *   BNN_OPTIMIZED    an optimising build (-O1 and up): hand-scheduled code needs registers an -O0 frame does not have
 *   BNN_ARCH_THUMB1  ARMv6-M (Cortex-M0/M0+): Thumb-1, eight low registers, no DSP, no unaligned access
 *   BNN_ARCH_THUMB2  ARMv7-M and later (M3, M4, M7, M33, M55): Thumb-2
 *   BNN_ARCH_DSP     the DSP extension: UQADD8, UXTAB16, USADA8 (M4, M7, M33 with DSP, M55)
 *   BNN_ARCH_MVE     Helium, the M-profile Vector Extension (M55)
 *   BNN_ARCH_FP      a single-precision FPU the code may use (M4F, M7, M33, M55 built with hard or softfp float ABI)
 *   BNN_T2_DSP_ASM   Thumb-2 + DSP + an optimising GCC-style compiler: the assembly routines are built and used
 *   BNN_T1_ASM       Thumb-1 (ARMv6-M) + an optimising GCC-style compiler: its assembly routines are built and used
 *   BNN_MVE          BNN_T2_DSP_ASM + Helium: the kernels' MVE loops (intrinsics) replace some of those routines
 *   BNN_T2_FP_ASM    Thumb-2 + FPU + an optimising GCC-style compiler: the float kernels' assembly routines
 *
 * Define BNN_PORTABLE to build the portable C paths only, on any core (all of the above but BNN_GNUC are then 0).
 */
#ifndef BNN_ARCH_H
#define BNN_ARCH_H

#if defined(__GNUC__)
#define BNN_GNUC 1
#else
#define BNN_GNUC 0
#endif

#if defined(__OPTIMIZE__)
#define BNN_OPTIMIZED 1
#else
#define BNN_OPTIMIZED 0
#endif

#if defined(BNN_PORTABLE)
#define BNN_ARCH_THUMB1 0
#define BNN_ARCH_THUMB2 0
#define BNN_ARCH_DSP 0
#define BNN_ARCH_MVE 0
#define BNN_ARCH_FP 0
#else
#if defined(__ARM_ARCH_6M__) || (defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1 && !defined(__ARM_ARCH_ISA_ARM))
#define BNN_ARCH_THUMB1 1
#else
#define BNN_ARCH_THUMB1 0
#endif
#if defined(__thumb2__)
#define BNN_ARCH_THUMB2 1
#else
#define BNN_ARCH_THUMB2 0
#endif
#if defined(__ARM_FEATURE_DSP)
#define BNN_ARCH_DSP 1
#else
#define BNN_ARCH_DSP 0
#endif
#if defined(__ARM_FEATURE_MVE)
#define BNN_ARCH_MVE 1
#else
#define BNN_ARCH_MVE 0
#endif
#if defined(__ARM_FP) && (__ARM_FP & 4)
#define BNN_ARCH_FP 1
#else
#define BNN_ARCH_FP 0
#endif
#endif

/* A static function specialised at each call on constant flags (int8 or int16 output, ...): inlined even where the
 * compiler would not, so that no per-element test of a flag is left. */
#if BNN_GNUC
#define BNN_SPECIALISE static inline __attribute__((always_inline))
#else
#define BNN_SPECIALISE static inline
#endif

#define BNN_T2_DSP_ASM (BNN_GNUC && BNN_ARCH_THUMB2 && BNN_ARCH_DSP && BNN_OPTIMIZED)
#define BNN_T1_ASM (BNN_GNUC && BNN_ARCH_THUMB1 && BNN_OPTIMIZED)
#define BNN_MVE (BNN_T2_DSP_ASM && BNN_ARCH_MVE)
#define BNN_T2_FP_ASM (BNN_GNUC && BNN_ARCH_THUMB2 && BNN_ARCH_FP && BNN_OPTIMIZED)

#endif /* BNN_ARCH_H */
