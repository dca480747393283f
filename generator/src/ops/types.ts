// The contract every op fulfils (OpDef): one object per op, in ops/<op>.ts, holds everything bnn-gen knows about
// it except its C kernel (runtime-c/). Validation, the reference, the model file, the planner, reports and tests loop
// over the registry (registry.ts); none of them switches over op names.
import type { z } from 'zod';
import type { BlobReader, BlobWriter } from '../ir/blob.ts';
import type { Rand } from '../ir/random.ts';
import type { Tensor } from '../ir/tensor.ts';
import type { InputSpec, LayerBase, Shape, TensorInfo } from '../ir/types.ts';

// ---- C, as data ----------------------------------------------------------------------------------------------
// Lowering describes the C it needs as typed values; emit/c.ts alone prints them (no C text is built in ops/).

/** What a table of weights is, for the flash summary. */
export type TableCategory = 'codebook' | 'indices' | 'binary' | 'thresholds' | 'real' | 'int';
export type CType = 'float' | 'int32_t' | 'uint32_t' | 'uint16_t' | 'int16_t' | 'int8_t' | 'uint8_t';

export interface CTable {
  name: string;
  ctype: CType;
  values: ArrayLike<number>;
  category: TableCategory;
  bytes: number;
}

/** A value in a params initializer or a call: an integer, a float32, a table, NULL, or a nested struct. */
export type CValue =
  | number
  | { f32: number }
  | { u32: number }
  | { table: string }
  | null
  | CStruct;

/** A designated initializer: `{ .a = 1, .b = L3_weights }`; `inline` keeps a nested struct on one line. */
export interface CStruct {
  fields: { name: string; value: CValue }[];
  inline?: boolean;
}

/** Kernel arguments: params struct, first input, k-th input, output, scratch, a value, or a tensor by name (an input
 *  of a fused chain's member). */
export type Arg = 'params' | 'in' | { input: number } | 'out' | 'scratch' | { value: CValue } | { tensor: string };

export interface Lowering {
  /** The C function, named bnn_<op>_<in>_<out>[_<variant>] (runtime-c/bnn_runtime.h). */
  kernel: string;
  /** The `static const` params struct passed first, by address (omitted for plain-argument kernels). */
  params?: { type: string; value: CStruct };
  args: Arg[];
  /** Scratch bytes the kernel needs while it runs (its C companion <kernel>_scratch_words says the same). */
  scratchBytes: number;
  /** runtime-c files this kernel needs (sources and headers). */
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
  /** The output is no larger than the input, and the kernel may write it over the start of the input's buffer: it
   *  never writes an element over an input element still to be read (a pool whose windows tile the map, in order).
   *  Done when the input dies here; the rest of the input's buffer is then free. */
  shrinksInPlace?: boolean;
  /** A fused chain's head: the chain's output may be written over this tensor (an input of its tail, read element by
   *  element just before the same element is written) when nothing reads it later. */
  inPlaceOf?: string;
}

/** 'ref': portable _ref kernels only; 'auto': the cost model picks; 'fast': fast kernels wherever eligible (tests). */
export type KernelChoice = 'ref' | 'auto' | 'fast';

export interface LowerContext {
  index: number;
  /** The model input's description (normalisation, zero point). */
  modelInput: InputSpec;
  inputs: TensorInfo[];
  output: TensorInfo;
  /** Any tensor's type (a fused chain's members read tensors the head does not). */
  typeOf(tensor: string): TensorInfo;
  /** Kernel choice: 'ref' forces the portable reference kernels, 'auto' lets the cost model pick (default). */
  kernels: KernelChoice;
  /** Largest scratch (bytes) a fast kernel may ask for; it picks a smaller working set or falls back to ref. */
  scratchLimit?: number;
  /** The target core has the DSP extension (M4, M7, M33, M55): plan the paths only its assembly takes. */
  dsp: boolean;
  /** ARMv6-M (M0, M0+): cost models use their Thumb-1 figures. */
  armv6m: boolean;
  /** Helium (M55): cost models use the MVE loops' figures where the kernel has them. */
  mve: boolean;
  /** Cortex-M7: cost models use its figures where gcc's code for it differs from the M4's. */
  m7: boolean;
  /** Register a constant table; returns the value that names it in C. */
  table(suffix: string, ctype: CType, values: ArrayLike<number>, category: TableCategory): { table: string };
}

// ---- figures for reports ----------------------------------------------------------------------------------------

export interface Cost {
  binaryMacs: number;
  realMacs: number;
}

/** Weight bits by what they are (information content, before C table padding). */
export interface WeightBits {
  /** 9 bits per distinct codeword of a codebook layer. */
  codebook: number;
  /** τ bits per (output, input) channel pair of a codebook layer. */
  indices: number;
  /** 32-bit integer threshold + 1 flip bit per output channel of a thresholded binary layer. */
  thresholds: number;
  /** 1 bit per weight of a plain binary conv or binary dense layer. */
  binary: number;
  /** 32 bits per float32 parameter (real convs, dense, batch norm / affine, shifts, PReLU slopes). */
  real: number;
  /** int8 weights and int32 biases of integer layers. */
  int: number;
}

export interface LayerBops {
  /** H_out·W_out·C_in·C_out·kh·kw (binary conv) or K·N (binary dense). */
  dense: number;
  /** ±1 weights the layer stands for (codebook layers: 9 per (output, input) pair). */
  binaryWeights: number;
  /** Codebook layers only: n distinct codewords, τ bits per index. */
  codebook?: { n: number; tau: number; responses: number; accumulations: number; bops: number };
}

// ---- the op -----------------------------------------------------------------------------------------------------

/** What the reference may need besides the layer's inputs. */
export interface RunContext {
  input: InputSpec;
}

/** One step of a fused chain: the op of the next layer; an optional step may be absent; `when` (given the chain's
 *  head and this member) declines a layer of that op the kernel cannot run (plan/fusion.ts). */
export interface FuseStep {
  op: string;
  optional?: boolean;
  when?: (head: LayerBase & { op: string }, member: LayerBase & { op: string }) => boolean;
}

export interface OpDef<L extends LayerBase & { op: string }, S extends z.ZodObject = z.ZodObject> {
  readonly op: L['op'];
  /** Number of inputs (add, concat: 2; where: 3; most ops: 1), or the range [min, max] (requant: [1, 2]). */
  readonly arity: number | readonly [number, number];
  /** The op only changes the shape and computes no value (flatten): it cannot make a model's scores. */
  readonly reshapesOnly?: boolean;
  /** Model file: the zod schema of a layer entry (its `op` literal, the base fields and its own). */
  readonly schema: S;
  /** Model file -> IR. `x` is the first input (for "same" padding); `at` is the entry's JSON path. */
  read(spec: z.infer<S>, blob: BlobReader, x: TensorInfo, at: string): L;
  /** IR -> model file: the entry's own fields (the base fields are added by the writer), tensors into the blob. */
  write(l: L, blob: BlobWriter, ins: TensorInfo[]): Record<string, unknown>;
  /** Shape and type of the output; a BnnError naming `at` and the field on any inconsistency. */
  infer(l: L, ins: TensorInfo[], at: string): TensorInfo;
  /** The reference: the exact output (docs/semantics.md); the C kernels match it bit for bit. */
  run(l: L, ins: Tensor[], ctx: RunContext): Tensor;
  /** The C call: kernel, typed params, scratch, runtime files. */
  lower(l: L, ctx: LowerContext): Lowering;
  cost(l: L, ins: TensorInfo[], out: TensorInfo): Cost;
  /** Weight bits by category (zero categories may be left out). */
  bits(l: L): Partial<WeightBits>;
  /** A few words for reports: kernel size, codebook τ, ... ('' when there is nothing to say). */
  describe(l: L): string;
  /** Binary layers: dense BOPs and, with a codebook, the shared-response BOPs. */
  bops?(l: L, ins: TensorInfo[], out: TensorInfo): LayerBops;
  /** A random valid layer reading `x` (for test/ops.test.ts), or null when this op cannot take such an input. */
  random(r: Rand, x: TensorInfo, names: LayerBase): L | null;
  /**
   * Layers this op runs itself when each is the only reader of the one before (conv2d -> [affine] -> binarize: one
   * kernel that writes bits, so the float map is never stored). `chains`: the patterns it runs, tried in order (the
   * first that matches is fused). plan/fusion.ts finds the chains; `lower` gets the members.
   */
  readonly fuses?: { chains: FuseStep[][]; lower(l: L, members: (LayerBase & { op: string })[], ctx: LowerContext): Lowering };
  /** Its fused chain on the model input as one integer layer (`--stem int8`), approximately (compact/stem.ts), for
   *  the chains `accepts` says it can make one of. */
  readonly int8?: {
    accepts(members: (LayerBase & { op: string })[]): boolean;
    make(l: L, members: (LayerBase & { op: string })[], input: InputSpec): LayerBase & { op: string };
  };
  /** The int8 path (`--quantize int8`, quantize/int8.ts): the layer, reading real-valued maps, as integer layers
   *  and forms (Int8Context). Ops without it cannot be on that path. */
  readonly quantize?: (l: L, q: Int8Context, at: string) => void;
}

// ---- the int8 path ------------------------------------------------------------------------------------------

/** A real-valued tensor of the float model on the int8 path: real ≈ sum over terms of a[c] * x + b[c], each x an
 *  integer tensor of the new model (an int32 accumulator, or an int8 map with its zero point folded into b). */
export interface Int8Form {
  terms: { src: string; a: Float64Array }[];
  b: Float64Array;
  shape: Shape;
}

/** A stored map's grid: real = scale * (q - zeroPoint), q an int8 (bits 8) or int16 (bits 16). */
export interface Int8Grid {
  scale: number;
  zeroPoint: number;
  bits: 8 | 16;
}

/** What quantize/int8.ts offers an op converting its layer (docs/int8.md). */
export interface Int8Context {
  /** The float model's type of a tensor. */
  type(tensor: string): TensorInfo;
  modelInput: InputSpec;
  /** --map-bits: the stored maps' bits (8 or 16); 16 also gives the convs int16 weights where their sums allow. */
  mapBits: 8 | 16;
  /** --stem-weight-bits: the bits of the stem conv's weights (default mapBits; 8 keeps a 7x7/2 stem on Winograd). */
  stemWeightBits: 8 | 16;
  /** The form of a real tensor (an int32 tensor read as real: the identity over itself). */
  form(tensor: string): Int8Form;
  setForm(tensor: string, f: Int8Form): void;
  /** The tensor as an int8 map on its calibrated grid (a requant layer named after `reader` unless already stored);
   *  with `prelu`, the form of its input with RPReLU folded in is stored under the tensor's name. */
  int8(tensor: string, reader: string, prelu?: { slope: Float32Array; shiftIn: Float32Array | null; shiftOut: Float32Array | null; input: string }): { name: string; grid: Int8Grid };
  /** The tensor as an int8 map even where stored maps are int16 (--map-bits 16), for kernels whose int32 sums need
   *  8-bit inputs (qconv2d, qdense): the int16 map requantised onto the int8 grid of its range. */
  int8Only(tensor: string, reader: string): { name: string; grid: Int8Grid };
  /** Record that `tensor` is an int8 map on `grid` (a pool of a stored map keeps its grid). */
  setStored(tensor: string, grid: Int8Grid, shape: Shape): void;
  /** Whether the tensor is a stored int8 map. */
  isStored(tensor: string): boolean;
  /** The op of the new model's layer that makes the tensor (undefined: the model input or a float tensor). */
  producerOf(tensor: string): string | undefined;
  /** Append a layer to the integer model. */
  push(l: LayerBase & { op: string }): void;
  /** Append an accumulating layer; its int32 output acc stands for the real tensor `real` = delta[o] acc + bias[o]. */
  accumulator(l: LayerBase & { op: string }, real: string, delta: Float64Array, bias: Float64Array, shape: Shape): void;
}
