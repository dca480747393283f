// Load a model from any supported file format, chosen by extension.
import { extname } from 'node:path';
import { BnnError } from '../errors.ts';
import { importOnnxFile } from '../import/onnx.ts';
import type { Model } from '../model/ir.ts';
import { readModel } from './read.ts';

export const MODEL_EXTENSIONS = ['.json', '.onnx'];

export function loadModel(path: string): Model {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return readModel(path);
  if (ext === '.onnx') return importOnnxFile(path).model;
  throw new BnnError(`cannot read model '${path}': unknown format '${ext || '(no extension)'}'; expected one of ${MODEL_EXTENSIONS.join(', ')}`);
}
