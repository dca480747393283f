// Import a binary neural network exported from PyTorch as ONNX into the IR.
// parse (proto.ts) -> collapse straight-through estimators (ste.ts) and mask arithmetic (masks.ts) -> fold weight
// subgraphs (fold/) -> recognise and lower patterns (lowerer.ts, handlers/) -> validate.
// Anything the importer does not recognise is a BnnError naming the node; nothing is returned half-done.
import { basename, extname } from 'node:path';
import { readFileSync } from 'node:fs';
import { BnnError, fsReason, printable } from '../../core/errors.ts';
import type { Model } from '../../model/ir.ts';
import { inferModel } from '../../model/validate.ts';
import { Lowerer, type LowerOptions } from './lowerer.ts';
import { parseOnnx } from './proto.ts';
import { maskSelects } from './masks.ts';
import { eliminateSte } from './ste.ts';

export interface ImportOptions extends LowerOptions {
  /** Model name; default: the ONNX graph name, else 'model'. */
  name?: string;
}

export interface ImportResult {
  model: Model;
  /** One line per decision worth knowing: input normalisation, each layer's weights, thresholds, moved pools. */
  report: string[];
  /** ONNX value name -> IR tensor holding exactly that value (every Sign output, materialised real values). */
  tensors: Map<string, string>;
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): ImportResult {
  if (opts.bits !== undefined && !(Number.isInteger(opts.bits) && opts.bits >= 1 && opts.bits <= 9)) {
    throw new BnnError(`bits: expected an integer 1..9, got ${opts.bits}`);
  }
  if (opts.inputScale !== undefined && !(opts.inputScale > 0 && Number.isFinite(opts.inputScale))) {
    throw new BnnError(`inputScale: expected a positive number, got ${opts.inputScale}`);
  }
  const graph = parseOnnx(bytes);
  const ste = [...eliminateSte(graph), ...maskSelects(graph)];
  const lowered = new Lowerer(graph, opts).lower();
  lowered.report.unshift(...ste);
  const model: Model = {
    name: opts.name ?? (graph.name || 'model'),
    input: lowered.input,
    layers: lowered.layers,
    output: lowered.output,
    metadata: { source: 'onnx', producer: graph.producer, opset: graph.opset, import: lowered.report },
  };
  inferModel(model);
  return { model, report: lowered.report, tensors: lowered.tensors };
}

/** Read and import an .onnx file; errors name the file. */
export function importOnnxFile(path: string, opts: ImportOptions = {}): ImportResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new BnnError(`cannot read model '${printable(path)}': ${fsReason(e)}`);
  }
  try {
    return importOnnx(bytes, { ...opts, name: opts.name ?? basename(path, extname(path)) });
  } catch (e) {
    if (e instanceof BnnError) throw new BnnError(`${path}: ${e.message}`);
    throw e;
  }
}
