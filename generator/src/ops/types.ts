// What each operator contributes to the emitted C: its kernel call, its constant tables and its costs.
import type { InputSpec, Layer, TensorInfo } from '../model/ir.ts';

/** What a table of weights is, for the flash summary. */
export type TableCategory = 'codebook' | 'indices' | 'binary' | 'thresholds' | 'real' | 'int';

export interface CTable {
  name: string;
  ctype: 'float' | 'int32_t' | 'uint32_t' | 'uint16_t' | 'int8_t' | 'uint8_t';
  values: ArrayLike<number>;
  category: TableCategory;
  bytes: number;
}

/** One `.field = value` of a params struct initializer (value is C text). */
export interface Field {
  name: string;
  value: string;
}

/** Kernel arguments: params struct, first input, k-th input, output, scratch, or literal C text. */
export type Arg = 'params' | 'in' | { input: number } | 'out' | 'scratch' | { literal: string };

export interface Lowering {
  kernel: string;
  /** The `static const` params struct passed first, by address (omitted for plain-argument kernels). */
  params?: { type: string; init: string };
  args: Arg[];
  /** Scratch bytes the kernel needs while it runs. */
  scratchBytes: number;
  /** runtime-c source files this kernel lives in. */
  runtime: string[];
  /** The output is the input buffer reinterpreted (no code runs). */
  aliasInput?: boolean;
  /** Part of a fused chain whose head (this layer index) runs the whole chain; no code of its own. */
  fusedInto?: number;
  /** Why this kernel was picked (cost-model estimates), for reports. */
  why?: string;
  /** Estimated executed instructions on a Cortex-M4 (cost model), when the op has one. */
  estInstructions?: number;
  /** Element-wise with equal sizes: the kernel may write its output over its input when the input dies here. */
  inPlace?: boolean;
}

/** 'ref': portable _ref kernels only; 'auto': the cost model picks; 'fast': fast kernels wherever eligible (tests). */
export type KernelChoice = 'ref' | 'auto' | 'fast';

export interface Cost {
  binaryMacs: number;
  realMacs: number;
}

export interface LowerContext {
  index: number;
  layer: Layer;
  /** The model input's description (normalisation, zero point). */
  modelInput: InputSpec;
  inputs: TensorInfo[];
  output: TensorInfo;
  /** Kernel choice: 'ref' forces the portable reference kernels, 'auto' lets the cost model pick (default). */
  kernels?: KernelChoice;
  /** Largest scratch (bytes) a fast kernel may ask for; it picks a smaller working set or falls back to ref. */
  scratchLimit?: number;
  /** The target core has the DSP extension (M4, M7, M33, M55): plan the paths only its assembly takes. Default true. */
  dsp?: boolean;
  /** Register a constant table; returns its C symbol. */
  table(suffix: string, ctype: CTable['ctype'], values: ArrayLike<number>, category: TableCategory): string;
}

export interface OpDef<L extends Layer = Layer> {
  lower(l: L, ctx: LowerContext): Lowering;
  cost(l: L, inputs: TensorInfo[], output: TensorInfo): Cost;
}
