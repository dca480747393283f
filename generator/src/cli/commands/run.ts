// `bnn-gen run`: scores of a model on inputs, from the TS reference, the emitted C as WebAssembly, or the firmware
// under QEMU.
import { BnnError } from '../../core/errors.ts';
import { emitModel } from '../../emit/model-c.ts';
import { argmax, countCorrect } from '../../model/scores.ts';
import type { Input } from '../../generate.ts';
import type { Model } from '../../model/ir.ts';
import { listBoards } from '../../model/board.ts';
import { runReference } from '../../reference/interpreter.ts';
import type { Progress } from '../../core/progress.ts';
import { runFirmware } from '../../verify/firmware-run.ts';
import { engineModel } from '../../verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../../verify/wasm.ts';
import { accuracyText, labelledInputs, modelFrom, targetAndBoard, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

export interface RunFlags extends ImportFlags {
  input?: string[];
  labels?: string;
  engine: 'ts' | 'wasm' | 'qemu';
  json?: boolean;
  target?: string;
  board?: string;
}

/** Scores of the emitted C built to WebAssembly (the same C as on the board, portable kernels). */
export async function wasmScores(model: Model, inputs: Input[], progress: Progress): Promise<(Float32Array | Int32Array)[]> {
  const e = emitModel(model);
  progress.phase('emcc: building the emitted C for WebAssembly');
  const engine = await WasmEngine.load(await buildWasm({ files: e.files, models: [{ prefix: e.info.prefix }], staticBytes: e.info.totalWeightBytes }));
  return inputs.map((x, i) => {
    progress.count('WebAssembly: input', i, inputs.length);
    return engine.run(engineModel(e.info), x).scores;
  });
}

async function runEngine(model: Model, inputs: Input[], f: RunFlags, io: Io): Promise<(Float32Array | Int32Array)[]> {
  if (f.engine === 'ts') {
    return inputs.map((x, i) => {
      io.progress.count('TS reference: input', i, inputs.length);
      return runReference(model, x).scores;
    });
  }
  if (f.engine === 'wasm') return wasmScores(model, inputs, io.progress);
  const { target, board } = targetAndBoard(f.target, f.board);
  if (!board?.qemu && !board?.emulation) throw new BnnError(`--engine qemu needs a QEMU board (or a real board QEMU emulates) for target ${target.name}; boards: ${listBoards().join(', ')}`);
  const r = await runFirmware(model, board, inputs, undefined, io.progress);
  if (r.emulated?.problem) throw new BnnError(`the firmware on ${board.name}: ${r.emulated.problem}`);
  if (r.scores.length !== inputs.length) throw new BnnError(`the firmware on ${board.name} printed ${r.scores.length} of ${inputs.length} results (exit ${r.exitCode}): ${r.stdout.trim().split('\n').slice(-1)[0] ?? ''}`);
  return r.scores;
}

export async function runCommand(modelPath: string | undefined, f: RunFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  const { inputs, labels } = labelledInputs(modelPath, f, model);
  if (!inputs.length) throw new BnnError('--input: give the inputs to run (raw bytes or .npy)');
  const scores = await runEngine(model, inputs, f, io);
  const correct = labels ? countCorrect(scores, labels) : null;
  if (f.json) {
    io.out(JSON.stringify({
      model: model.name, engine: f.engine,
      results: scores.map((s, i) => ({ scores: Array.from(s), argmax: argmax(s), ...(labels ? { label: labels[i] } : {}) })),
      ...(labels ? { accuracy: { correct, total: labels.length } } : {}),
    }));
  } else {
    scores.forEach((s, i) => io.out(`${i}: ${labels ? `label ${labels[i]} ` : ''}argmax ${argmax(s)}${model.labels ? ` (${model.labels[argmax(s)]})` : ''} scores ${Array.from(s).join(' ')}`));
    if (labels) io.out(`accuracy (${f.engine}): ${accuracyText(correct!, labels.length)}`);
  }
  return 0;
}
