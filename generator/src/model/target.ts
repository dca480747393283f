// CPU targets: the arm-none-eabi-gcc flags and the features that code generation may rely on.
// Plain data (no zod): these are facts about cores, not user input. The flags were checked against
// arm-none-eabi-gcc 12.2: each set selects a newlib multilib and predefines the macros noted below.
// The features of the cores QEMU 7.2 models were read on each machine (boards/*.json) from CPUID, MVFR0/1
// (0xE000EF40/44) and ID_ISAR3 (0xE000ED6C), and exercised (qadd8 for DSP, an MVE vadd, double arithmetic):
//   microbit     M0   CPUID 410cc200  no FPU, no DSP
//   mps2-an385   M3   CPUID 410fc231  no FPU, no DSP (ARMv7E-M code faults there)
//   mps2-an386   M4   CPUID 410fc240  MVFR0 10110021 (single only), DSP (ID_ISAR3 reads 01111110 as on the M3: QEMU
//                                     does not reflect DSP there, so qadd8 running is the evidence)
//   mps2-an500   M7   CPUID 411fc272  MVFR0 10110221 (single + double), DSP
//   mps2-an505   M33  CPUID 410fd213  MVFR0 10110021 (single only), ID_ISAR3 SIMD=3 (DSP)
//   mps3-an547   M55  CPUID 410fd221  MVFR0 10110221 (single + double), MVFR1 12100211 (MVE integer + float), DSP

import { BnnError, printable } from '../core/errors.ts';

export interface Target {
  /** Table key, also the value of a board's `cpu` field. */
  readonly name: string;
  /** Architecture the flags select (informational; e.g. for reports). */
  readonly arch: 'armv6-m' | 'armv7-m' | 'armv7e-m' | 'armv8-m.main' | 'armv8.1-m.main';
  /** Flags for every compile and link step. */
  readonly cflags: readonly string[];
  readonly floatAbi: 'soft' | 'hard';
  /** Hardware FPU in use (then startup code must enable it before any FP instruction runs). */
  readonly hasFpu: boolean;
  /** Double-precision FPU (fpv5-d16); single-precision cores emulate double in software. */
  readonly hasFpuDouble: boolean;
  /** DSP extension (SIMD/saturating instructions; __ARM_FEATURE_DSP). */
  readonly hasDsp: boolean;
  /** M-profile Vector Extension (Helium; __ARM_FEATURE_MVE). */
  readonly hasMve: boolean;
  /** Unaligned word/halfword loads are legal (false on ARMv6-M: they fault). */
  readonly unalignedAccess: boolean;
  /** SCB->VTOR exists, so startup can point it at the vector table (optional on M0+, absent on M0). */
  readonly hasVtor: boolean;
  /** DWT cycle counter (DWT_CYCCNT): part of ARMv7-M/ARMv8-M Main's DWT (an implementation may still leave it out:
   *  DWT_CTRL.NOCYCCNT tells at run time); ARMv6-M's DWT has none, so M0/M0+ firmware counts cycles with SysTick. */
  readonly hasCycleCounter: boolean;
}

const thumb = (cpu: string, ...fp: string[]): readonly string[] => [`-mcpu=${cpu}`, '-mthumb', ...fp];

const TARGETS: Record<string, Target> = {
  'cortex-m0': {
    name: 'cortex-m0', arch: 'armv6-m', cflags: thumb('cortex-m0', '-mfloat-abi=soft'), floatAbi: 'soft',
    hasFpu: false, hasFpuDouble: false, hasDsp: false, hasMve: false, unalignedAccess: false, hasVtor: false, hasCycleCounter: false,
  },
  'cortex-m0plus': {
    name: 'cortex-m0plus', arch: 'armv6-m', cflags: thumb('cortex-m0plus', '-mfloat-abi=soft'), floatAbi: 'soft',
    hasFpu: false, hasFpuDouble: false, hasDsp: false, hasMve: false, unalignedAccess: false, hasVtor: false, hasCycleCounter: false,
  },
  'cortex-m3': {
    name: 'cortex-m3', arch: 'armv7-m', cflags: thumb('cortex-m3', '-mfloat-abi=soft'), floatAbi: 'soft',
    hasFpu: false, hasFpuDouble: false, hasDsp: false, hasMve: false, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
  'cortex-m4': {
    name: 'cortex-m4', arch: 'armv7e-m', cflags: thumb('cortex-m4', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'), floatAbi: 'hard',
    hasFpu: true, hasFpuDouble: false, hasDsp: true, hasMve: false, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
  // M7 parts ship with either FPU: double precision (STM32F76x/H7, QEMU's mps2-an500) or single (STM32F74x/F75x).
  'cortex-m7': {
    name: 'cortex-m7', arch: 'armv7e-m', cflags: thumb('cortex-m7', '-mfloat-abi=hard', '-mfpu=fpv5-d16'), floatAbi: 'hard',
    hasFpu: true, hasFpuDouble: true, hasDsp: true, hasMve: false, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
  'cortex-m7-sp': {
    name: 'cortex-m7-sp', arch: 'armv7e-m', cflags: thumb('cortex-m7', '-mfloat-abi=hard', '-mfpu=fpv5-sp-d16'), floatAbi: 'hard',
    hasFpu: true, hasFpuDouble: false, hasDsp: true, hasMve: false, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
  // FPU and DSP are optional on M33; gcc's cortex-m33 includes DSP, and this entry assumes the FPU (nRF5340, STM32L5/U5,
  // QEMU's mps2-an505: single-precision FPv5 and DSP, both present there).
  'cortex-m33': {
    name: 'cortex-m33', arch: 'armv8-m.main', cflags: thumb('cortex-m33', '-mfloat-abi=hard', '-mfpu=fpv5-sp-d16'), floatAbi: 'hard',
    hasFpu: true, hasFpuDouble: false, hasDsp: true, hasMve: false, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
  // -mfpu left at its default (auto): gcc then takes the FPU and MVE (integer + float) from -mcpu, which is what
  // QEMU's mps3-an547 core has (double-precision FPU, MVE-F).
  'cortex-m55': {
    name: 'cortex-m55', arch: 'armv8.1-m.main', cflags: thumb('cortex-m55', '-mfloat-abi=hard'), floatAbi: 'hard',
    hasFpu: true, hasFpuDouble: true, hasDsp: true, hasMve: true, unalignedAccess: true, hasVtor: true, hasCycleCounter: true,
  },
};

/** Names accepted by getTarget, in table order. */
export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);

export function getTarget(name: string): Target {
  const t = Object.prototype.hasOwnProperty.call(TARGETS, name) ? TARGETS[name] : undefined;
  if (!t) throw new BnnError(`unknown target '${printable(name)}'; valid targets: ${TARGET_NAMES.join(', ')}`);
  return t;
}

/** Code built for the Cortex-M7 (either FPU): gcc tunes it apart from the M4's, so the cost models have its figures. */
export const isM7 = (t: Target): boolean => t.cflags.includes('-mcpu=cortex-m7');

/** Instruction-set levels, each running the code of the ones below it (DSP, FPU and MVE are checked apart). */
const ARCH_LEVEL: Record<Target['arch'], number> = { 'armv6-m': 0, 'armv7-m': 1, 'armv7e-m': 1, 'armv8-m.main': 2, 'armv8.1-m.main': 3 };

/** Why code built for `target` cannot run on the core `cpu` (a target name), or null when it can. */
export function canRun(cpu: string, target: Target): string | null {
  const core = getTarget(cpu);
  if (ARCH_LEVEL[target.arch] > ARCH_LEVEL[core.arch]) return `${target.arch} code does not run on ${core.arch}`;
  if (target.hasFpu && !core.hasFpu) return 'it uses a hardware FPU the core lacks';
  if (target.hasFpuDouble && !core.hasFpuDouble) return 'it uses a double-precision FPU the core lacks';
  if (target.hasDsp && !core.hasDsp) return 'it uses DSP instructions the core lacks';
  if (target.hasMve && !core.hasMve) return 'it uses Helium (MVE) instructions the core lacks';
  return null;
}
