// `bnn-gen compact`: 2^tau distinct codewords chosen per binary 3x3 layer, every kernel reassigned to the nearest
// (no retraining), with the accuracy before and after measured on the emitted C when labelled data is given.
import { BnnError } from '../../core/errors.ts';
import { compactModel, formatCompact } from '../../compact/index.ts';
import { countCorrect } from '../../model/scores.ts';
import { modelOutputs, writeModel } from '../../format/write.ts';
import { checkOwnedFiles } from '../../core/output-files.ts';
import { accuracyText, labelledInputs, modelFrom } from '../common.ts';
import type { Io } from '../io.ts';
import { wasmScores } from './run.ts';

export interface CompactFlags {
  bits: number;
  method: 'frequency' | 'sinkhorn';
  seed: number;
  out: string;
  eval?: string;
  labels?: string;
  force?: boolean;
}

export async function compactCommand(modelPath: string | undefined, f: CompactFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, {}, io.progress);
  if ((f.eval === undefined) !== (f.labels === undefined)) throw new BnnError('--eval and --labels go together: inputs and their true classes');
  checkOwnedFiles(modelOutputs(f.out), { force: f.force });
  // Read the evaluation data first: a bad file must fail before anything is written.
  const evalSet = f.eval ? labelledInputs(modelPath, { input: [f.eval], labels: f.labels }, model) : null;
  io.progress.phase(`choosing ${2 ** f.bits} codewords per layer (${f.method})`);
  const { model: compacted, report } = compactModel(model, { bits: f.bits, method: f.method, seed: f.seed });
  let accuracy = '';
  if (evalSet) {
    const { inputs, labels } = evalSet;
    const before = countCorrect(await wasmScores(model, inputs, io.progress), labels!);
    const after = countCorrect(await wasmScores(compacted, inputs, io.progress), labels!);
    accuracy = `accuracy on ${f.eval} (${inputs.length} inputs, emitted C as WebAssembly): before ${accuracyText(before, inputs.length)}, after ${accuracyText(after, inputs.length)}`;
  }
  const written = writeModel(compacted, f.out, { force: f.force });
  io.out(formatCompact(report));
  if (accuracy) io.out(accuracy);
  io.out(`-> ${written.manifest} + ${written.blob}`);
  return 0;
}
