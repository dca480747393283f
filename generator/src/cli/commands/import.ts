// `bnn-gen import`: an .onnx export to the bnn-gen format (model.json + model.bin), with the importer's report.
import { extname } from 'node:path';
import { BnnError } from '../../core/errors.ts';
import { loadModelWithReport } from '../../import/load.ts';
import { modelOutputs, writeModel } from '../../format/write.ts';
import { checkOwnedFiles } from '../../core/output-files.ts';
import { VERSION } from '../../core/version.ts';
import { modelReport } from '../../report.ts';
import { loadOptions, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

export interface ImportCmdFlags extends ImportFlags {
  out: string;
  name?: string;
  force?: boolean;
}

export function importCommand(onnxPath: string, f: ImportCmdFlags, io: Io): number {
  if (extname(onnxPath).toLowerCase() !== '.onnx') throw new BnnError(`import: expected an .onnx file, got '${onnxPath}'`);
  if (extname(f.out).toLowerCase() !== '.json') throw new BnnError(`-o: the manifest name must end in .json (the weights go beside it as .bin), got '${f.out}'`);
  if (f.name !== undefined && !f.name.trim()) throw new BnnError('--name: must not be empty');
  // Refuse to replace someone else's files before the (possibly long) import.
  checkOwnedFiles(modelOutputs(f.out), { force: f.force });
  const t0 = performance.now();
  io.progress.phase(`importing ${onnxPath}`);
  const { model, report } = loadModelWithReport(onnxPath, loadOptions(f));
  if (f.name !== undefined) model.name = f.name;
  const ms = performance.now() - t0;
  const written = writeModel(model, f.out, { force: f.force });
  io.out(`bnn-gen ${VERSION}: imported ${onnxPath} in ${ms.toFixed(0)} ms`);
  for (const line of report ?? []) io.out(`  ${line}`);
  const { totals } = modelReport(model);
  const binary = totals.binaryLayers;
  const codebooks = totals.codebookLayers;
  const thresholds = model.layers.filter((l) => 'threshold' in l && l.threshold).length;
  io.out(`${model.name}: ${model.layers.length} layers (${binary} binary: ${codebooks} with a codebook, ${binary - codebooks} plain; ${thresholds} with thresholds) -> ${written.manifest} + ${written.blob}`);
  io.out(`next: npx bnn-gen verify ${written.manifest}; npx bnn-gen report ${written.manifest}; npx bnn-gen --target cortex-m4 ${written.manifest}`);
  return 0;
}
