// The main job: model -> C files (+ a firmware project for a board), with golden outputs from the reference.
import { emitModel, type ModelInfo } from './emit/cmodel.ts';
import { BnnError } from './errors.ts';
import { HEAP_MIN, renderFirmware } from './emit/firmware.ts';
import type { Board } from './model/board.ts';
import type { Model } from './model/ir.ts';
import { randomInput } from './model/random.ts';
import { getTarget, type Target } from './model/target.ts';
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
  /** Kernel choice (emitModel): 'auto' (default) or 'ref'. */
  kernels?: 'ref' | 'auto' | 'fast';
  /** Upper bound for one fast kernel's scratch in bytes. */
  scratchLimit?: number;
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

/**
 * RAM the golden harness and newlib take besides the arena and the scores: their .data + .bss, measured at
 * 2,924-2,936 B on every QEMU board (GCC 12.2, -O2; `bnn-gen memory` shows it as "other"), rounded up.
 */
export const HARNESS_STATIC_RAM = 3072;

/** RAM a board's firmware needs, by part; `fits` false names the first region that overflows. */
export function firmwareRam(info: ModelInfo, board: Board): { arena: number; harness: number; heap: number; stack: number; total: number; capacity: number; region: string } {
  const data = board.memory.find((m) => m.name === board.layout.data)!;
  // The stack shares the data region on most boards; where it has its own (an547's DTCM) it takes nothing here.
  const stack = board.layout.stack === board.layout.data ? board.layout.stackSize : 0;
  const harness = HARNESS_STATIC_RAM + 4 * info.numClasses;
  const total = info.arenaSize + harness + HEAP_MIN + stack;
  return { arena: info.arenaSize, harness, heap: HEAP_MIN, stack, total, capacity: data.length, region: data.name };
}

/** Refuse, before any build, a model whose weights or RAM exceed the board's memory, naming both figures. */
export function checkFits(info: ModelInfo, board: Board): void {
  const code = board.memory.find((m) => m.name === board.layout.code)!;
  const n = (v: number) => v.toLocaleString('en-US');
  if (info.totalWeightBytes > code.length) {
    throw new BnnError(`model ${info.name} does not fit ${board.name}: its weights need ${n(info.totalWeightBytes)} B of flash, ${code.name} holds ${n(code.length)} B`);
  }
  const r = firmwareRam(info, board);
  if (r.total > r.capacity) {
    throw new BnnError(`model ${info.name} does not fit ${board.name}: its firmware needs ${n(r.total)} B of RAM (arena ${n(r.arena)}, harness and C library ${n(r.harness)}, heap ${n(r.heap)}${r.stack ? `, stack ${n(r.stack)}` : ''}), ${r.region} has ${n(r.capacity)} B`);
  }
}

/**
 * Scratch a fast kernel may use on `board`: the data region minus the stack, minus the arena the model needs with
 * _ref kernels only, minus 5 KiB for the harness's data, libc and the linker's heap reserve. Fast kernels that need
 * more pick a smaller working set or step back to _ref, so a model that fits with _ref still fits.
 */
export function scratchBudget(board: Board, refArena: number): number {
  const data = board.memory.find((m) => m.name === board.layout.data)!;
  return Math.max(0, data.length - board.layout.stackSize - refArena - 5120);
}

export function generate(model: Model, opts: GenerateOptions): Generated {
  let scratchLimit = opts.scratchLimit;
  if (scratchLimit === undefined && opts.board && opts.kernels !== 'ref') {
    scratchLimit = scratchBudget(opts.board, emitModel(model, { prefix: opts.prefix, kernels: 'ref' }).info.arenaSize);
  }
  const dsp = opts.board ? getTarget(opts.board.cpu).hasDsp : undefined;
  const emitted = emitModel(model, { prefix: opts.prefix, options: opts.optionsText, kernels: opts.kernels, scratchLimit, dsp });
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
      labels: labels ?? undefined,
    }),
  );
  return { files, info: emitted.info, golden: { inputs, expected, labels } };
}
