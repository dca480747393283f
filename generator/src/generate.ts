// The jobs that turn a model into files: its C (and a firmware project for a board, with golden outputs from the
// reference), and golden vectors for the user's own tests. Each resolves the model once (plan/resolve.ts), runs
// the reference where expected scores are needed, and hands both to the printers in emit/.
import { BnnError } from './core/errors.ts';
import { renderFirmware } from './emit/firmware.ts';
import { goldenFiles } from './emit/golden.ts';
import { libraryFiles, type LibraryOptions } from './emit/library.ts';
import { emitProgram, type ModelInfo } from './emit/model-c.ts';
import type { Board } from './model/board.ts';
import type { Model } from './model/ir.ts';
import { randomInput } from './model/random.ts';
import { argmax } from './model/scores.ts';
import { isM7, type Target } from './model/target.ts';
import type { KernelChoice } from './ops/types.ts';
import { checkFits } from './plan/fit.ts';
import { resolve } from './plan/resolve.ts';
import { runReference } from './reference/interpreter.ts';

export type Input = Uint8Array | Int8Array;

export interface GenerateOptions {
  target: Target;
  /** Emit a firmware project for this board (harness, startup, linker script, Makefile). */
  board?: Board;
  prefix?: string;
  /** Inputs embedded as golden cases in the firmware; random seeded inputs are added up to goldenCount. */
  inputs?: Input[];
  /** True classes of the given inputs (one each): the firmware then reports its accuracy on them. */
  labels?: number[];
  goldenCount?: number;
  seed?: number;
  /** Recorded in the generated files' header. */
  optionsText?: string;
  /** Kernel choice: 'auto' (default), 'ref' (portable kernels only) or 'fast' (tests). */
  kernels?: KernelChoice;
  /** Upper bound for one fast kernel's scratch in bytes (default: what the board's RAM leaves). */
  scratchLimit?: number;
  /** Most bytes the arena may take (`--ram-budget`; default: what the board's RAM leaves). */
  ramBudget?: number;
  /** Plan for an ARMv6-M core (default: the board's core; profiling runs M0 code on the M3 board). */
  armv6m?: boolean;
}

export interface Generated {
  files: Record<string, string>;
  info: ModelInfo;
  golden: { inputs: Input[]; expected: (Float32Array | Int32Array)[]; labels: number[] | null } | null;
}

/** Inputs for golden cases: the given ones first, then seeded random inputs. */
export function goldenInputs(model: Model, given: Input[], count: number, seed: number): Input[] {
  const out = [...given];
  for (let k = 0; out.length < count; k++) out.push(randomInput(model, seed + k));
  return out;
}

export function generate(model: Model, opts: GenerateOptions): Generated {
  const program = resolve(model, { prefix: opts.prefix, kernels: opts.kernels, board: opts.board, scratchLimit: opts.scratchLimit, ramBudget: opts.ramBudget, armv6m: opts.armv6m, mve: opts.target.hasMve, m7: isM7(opts.target) });
  const emitted = emitProgram(program, opts.optionsText);
  const files = { ...emitted.files };
  if (!opts.board) return { files, info: emitted.info, golden: null };
  checkFits(emitted.info, opts.board);
  const labels = opts.labels ?? null;
  if (labels && labels.length !== (opts.inputs ?? []).length) {
    throw new BnnError(`${labels.length} labels for ${(opts.inputs ?? []).length} inputs: give one label per input`);
  }
  // Random filler inputs have no labels: with labels, the golden cases are exactly the labelled inputs.
  const inputs = labels ? [...opts.inputs!] : goldenInputs(model, opts.inputs ?? [], opts.goldenCount ?? 4, opts.seed ?? 1);
  const expected = inputs.map((x) => runReference(model, x).scores);
  Object.assign(
    files,
    renderFirmware({
      board: opts.board,
      target: opts.target,
      prefix: emitted.info.prefix,
      modelSources: emitted.sources,
      inputs,
      expected,
      inputSigned: emitted.info.inputSigned,
      scoreIsFloat: emitted.info.scoreType === 'f32',
      modelHash: emitted.info.hash.slice(0, 16),
      modelName: model.name,
      labels: labels ?? undefined,
    }),
  );
  return { files, info: emitted.info, golden: { inputs, expected, labels } };
}

/** A library folder (--format lib) or an Arduino library, whose example sketch classifies a seeded input. */
export function generateLibrary(model: Model, opts: Omit<LibraryOptions, 'sample'>): { files: Record<string, string>; info: ModelInfo } {
  const input = randomInput(model, 1);
  return libraryFiles(model, { ...opts, sample: { input, expectedClass: argmax(runReference(model, input).scores) } });
}

/** Golden vectors (C header, .npy, manifest) of `inputs` with the reference's scores. */
export function generateGolden(model: Model, inputs: Input[], opts: { prefix?: string; inputsFrom: string }): Record<string, string | Uint8Array> {
  const { info } = resolve(model, { prefix: opts.prefix });
  return goldenFiles(info, inputs, inputs.map((x) => runReference(model, x).scores), { inputsFrom: opts.inputsFrom });
}
