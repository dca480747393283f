// Load a model from any supported file format, chosen by extension.
import { extname } from 'node:path';
import { BnnError } from '../core/errors.ts';
import { importOnnxFile, type ImportResult } from './onnx/index.ts';
import type { Model } from '../model/ir.ts';
import { readModel } from './native.ts';

export const MODEL_EXTENSIONS = ['.json', '.onnx'];

/** Options that apply when the model is an .onnx file (they are refused for a bnn-gen .json model). */
export interface LoadOptions {
  /** τ for every binary 3x3 conv (index bits of its codebook); default: the smallest τ that fits each layer. */
  bits?: number;
  /** For a float ONNX input: the float value of one raw byte step (default: ToTensor's 1/255, or 1 when the model divides by 255). */
  inputScale?: number;
}

/** The model, and for an .onnx file the importer's report (one line per decision). */
export function loadModelWithReport(path: string, opts: LoadOptions = {}): { model: Model; report?: ImportResult['report'] } {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') {
    const r = importOnnxFile(path, { bits: opts.bits, inputScale: opts.inputScale });
    return { model: r.model, report: r.report };
  }
  if (ext === '.json') {
    const given = [opts.bits !== undefined && '--bits', opts.inputScale !== undefined && '--input-scale'].filter(Boolean);
    if (given.length) throw new BnnError(`${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} to .onnx models only; '${path}' is a bnn-gen model`);
    return { model: readModel(path) };
  }
  throw new BnnError(`cannot read model '${path}': unknown format '${ext || '(no extension)'}'; expected one of ${MODEL_EXTENSIONS.join(', ')}`);
}

export function loadModel(path: string, opts: LoadOptions = {}): Model {
  return loadModelWithReport(path, opts).model;
}
