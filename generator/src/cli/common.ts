// What several commands share: option parsers, the model and its inputs, target and board resolution.
import { existsSync } from 'node:fs';
import { BnnError } from '../core/errors.ts';
import { loadModel, type LoadOptions } from '../import/load.ts';
import type { Input } from '../generate.ts';
import { listBoards, loadBoard, type Board } from '../model/board.ts';
import type { Model } from '../model/ir.ts';
import { canRun, getTarget, type Target } from '../model/target.ts';
import { DEFAULT_DIGITS, DEFAULT_LABELS, DEFAULT_MODEL } from '../core/paths.ts';
import { runReference } from '../reference/interpreter.ts';
import type { Progress } from '../core/progress.ts';
import { readInputs, readLabels } from '../import/inputs.ts';
import { integerStem, type StemKind } from '../compact/index.ts';
import { calibrate, quantizeInt8, type Calibration, type QuantizeScheme, type StoredTensor } from '../quantize/index.ts';

/** --bits / --input-scale: options for loading an .onnx model, accepted by every command that reads one. */
export interface ImportFlags {
  bits?: number;
  inputScale?: number;
  /** --stem int8: the model's float stem as an int8 layer (compact/stem.ts). */
  stem?: StemKind;
  /** --quantize int8: every real-valued part as integer layers (quantize/int8.ts), calibrated on --calibrate. */
  quantize?: QuantizeScheme;
  calibrate?: string;
  /** --calibrate-percentile: what the int8 grids span (quantize/calibrate.ts); default DEFAULT_PERCENTILE. */
  calibratePercentile?: number;
  /** --map-bits: 8 or 16, the bits of the int8 path's stored maps (quantize/int8.ts); default 8. */
  mapBits?: number;
  /** --stem-weight-bits: 8 or 16, the bits of the int8 path's stem weights; default --map-bits. */
  stemWeightBits?: number;
}

export function loadOptions(f: ImportFlags): LoadOptions {
  return { bits: f.bits, inputScale: f.inputScale };
}

/** The model as loaded and, with --quantize int8, its integer version with what calibration found. */
export interface LoadedModel {
  model: Model;
  float: Model;
  int8?: { calibration: Calibration; stored: Map<string, StoredTensor>; inputs: Input[] };
}

/** The named model, or the shipped example; --stem int8 / --quantize int8 applied. */
export function loadedModel(path: string | undefined, f: ImportFlags, progress?: Progress): LoadedModel {
  if (f.calibrate !== undefined && f.quantize !== 'int8') throw new BnnError('--calibrate: only with --quantize int8');
  if (f.calibratePercentile !== undefined && f.calibrate === undefined) throw new BnnError('--calibrate-percentile: only with --quantize int8 --calibrate FILE');
  if (f.mapBits !== undefined && f.quantize !== 'int8') throw new BnnError('--map-bits: only with --quantize int8');
  if (f.stemWeightBits !== undefined && f.quantize !== 'int8') throw new BnnError('--stem-weight-bits: only with --quantize int8');
  if (f.quantize === 'int8' && f.calibrate === undefined) throw new BnnError('--quantize int8: give the calibration inputs with --calibrate FILE (.npy or raw bytes, like --input)');
  if (f.quantize === 'int8' && f.stem === 'int8') throw new BnnError('--stem int8: --quantize int8 already makes the stem integer; leave out --stem');
  progress?.phase(`reading ${path ?? 'the example model'}`);
  const float = loadModel(path ?? DEFAULT_MODEL, loadOptions(f));
  if (f.quantize === 'int8') {
    const inputs = calibrationInputs(f.calibrate!, float);
    progress?.phase(`calibrating on ${inputs.length} input${inputs.length === 1 ? '' : 's'}`);
    const calibration = calibrate(float, inputs, f.calibratePercentile);
    const mapBits = f.mapBits === 16 ? 16 : 8;
    const q = quantizeInt8(float, calibration, mapBits, f.stemWeightBits === undefined ? mapBits : f.stemWeightBits === 16 ? 16 : 8);
    return { model: q.model, float, int8: { calibration, stored: q.stored, inputs } };
  }
  return { model: f.stem === 'int8' ? integerStem(float) : float, float };
}

/** --calibrate's inputs; a bad file is named as the calibration file. */
function calibrationInputs(path: string, model: Model): Input[] {
  try {
    return readInputs(path, model);
  } catch (e) {
    if (e instanceof BnnError) throw new BnnError(`--calibrate: ${e.message}`);
    throw e;
  }
}

/** The named model, or the shipped example, as the flags make it. */
export function modelFrom(path: string | undefined, f: ImportFlags, progress?: Progress): Model {
  return loadedModel(path, f, progress).model;
}

export function boardByName(name: string): Board {
  if (!listBoards().includes(name)) throw new BnnError(`unknown board '${name}'; boards: ${listBoards().join(', ')}`);
  return loadBoard(name);
}

/** The QEMU board of a target, when one exists (so `--target cortex-m4` alone yields runnable firmware): the board
 *  named after its machine (mps2-an500), not a stand-in that runs on the same machine with a smaller budget
 *  (mps2-an500-h743), whatever their names' order. */
export function qemuBoardFor(target: Target): Board | undefined {
  const boards = listBoards().map((name) => loadBoard(name)).filter((b) => b.qemu && b.cpu === target.name);
  return boards.find((b) => b.name === b.qemu?.machine) ?? boards[0];
}

/**
 * Target and board together: a board alone builds for its own core; a target alone gets its QEMU board (unless
 * --no-board); both must agree (the target's code must run on the board's core).
 */
export function targetAndBoard(targetName: string | undefined, board: string | boolean | undefined): { target: Target; board: Board | undefined } {
  const b = typeof board === 'string' ? boardByName(board) : undefined;
  const target = getTarget(targetName ?? b?.cpu ?? 'cortex-m4');
  if (b) {
    const why = canRun(b.cpu, target);
    if (why) throw new BnnError(`--target ${target.name} does not run on board ${b.name} (${b.cpu}): ${why}; leave out --target to build for the board's core`);
    return { target, board: b };
  }
  return { target, board: board === false ? undefined : qemuBoardFor(target) };
}

export function accuracyText(correct: number, total: number): string {
  return `${correct}/${total} correct (${((100 * correct) / total).toFixed(2)} %)`;
}

export function readAllInputs(files: string[] | undefined, model: Model): Input[] {
  return (files ?? []).flatMap((f) => readInputs(f, model));
}

/** Inputs and their labels (--labels needs --input; no model argument and no --input: the example's digits). */
export function labelledInputs(modelPath: string | undefined, f: { input?: string[]; labels?: string }, model: Model): { inputs: Input[]; labels?: number[]; from: string } {
  let files = f.input;
  let labelsFile = f.labels;
  if (modelPath === undefined && files === undefined && labelsFile === undefined && existsSync(DEFAULT_DIGITS)) {
    files = [DEFAULT_DIGITS];
    labelsFile = DEFAULT_LABELS;
  }
  const inputs = readAllInputs(files, model);
  if (labelsFile === undefined) return { inputs, from: (files ?? []).join(', ') };
  if (!inputs.length) throw new BnnError('--labels: give the labelled inputs with --input');
  const classes = runReference(model, inputs[0]).scores.length;
  return { inputs, labels: readLabels(labelsFile, inputs.length, classes), from: (files ?? []).join(', ') };
}

/** A folder name from a model name (the default output folder out/<name>). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'model';
}
