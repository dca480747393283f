// `bnn-gen verify`: build the emitted C for WebAssembly and compare every layer of every input with the reference.
import { emitModel, type ModelInfo } from '../emit/model-c.ts';
import type { Model } from '../model/ir.ts';
import { runReference } from '../reference/interpreter.ts';
import { compareRun, type Mismatch } from './compare.ts';
import { silent, type Progress } from '../core/progress.ts';
import { buildWasm, WasmEngine } from './wasm.ts';

export interface VerifyResult {
  info: ModelInfo;
  inputs: number;
  /** First mismatch, with the input index; null when everything is bit-exact. */
  mismatch: (Mismatch & { input: number }) | null;
}

export function engineModel(info: ModelInfo) {
  return { prefix: info.prefix, inputSize: info.inputSize, numClasses: info.numClasses, arenaSize: info.arenaSize, scoreType: info.scoreType };
}

export async function verifyWasm(model: Model, inputs: (Uint8Array | Int8Array)[], progress: Progress = silent): Promise<VerifyResult> {
  progress.phase('emitting C');
  const emitted = emitModel(model);
  progress.phase('emcc: building the emitted C for WebAssembly');
  const engine = await WasmEngine.load(await buildWasm({ files: emitted.files, models: [{ prefix: emitted.info.prefix }], staticBytes: emitted.info.totalWeightBytes }));
  for (let i = 0; i < inputs.length; i++) {
    progress.count('comparing every layer, WebAssembly vs TS reference: input', i, inputs.length);
    const ref = runReference(model, inputs[i]);
    const run = engine.run(engineModel(emitted.info), inputs[i], { trace: true });
    const m = compareRun(model, emitted.info, ref, run);
    if (m) return { info: emitted.info, inputs: i + 1, mismatch: { ...m, input: i } };
  }
  return { info: emitted.info, inputs: inputs.length, mismatch: null };
}
