// Print a resolved program (plan/resolve.ts) as C: <prefix>model.h, <prefix>model.c and the runtime kernels it calls.
// Every decision was made during resolution; this module only turns offsets into pointers and values into text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_DIR } from '../core/paths.ts';
import { VERSION } from '../core/version.ts';
import { cType, tensorBytes } from '../ir/layout.ts';
import type { Model, TensorInfo } from '../model/ir.ts';
import type { Arg } from '../ops/types.ts';
import { placeOf, resolve, type ModelInfo, type Program, type ResolveOptions } from '../plan/resolve.ts';
import { isScratch } from '../plan/buffers.ts';
import { cStruct, cValue, tableBody } from './c.ts';
import { prefixContext, render } from './templates.ts';

export type { LayerInfo, ModelInfo } from '../plan/resolve.ts';

export interface EmitOptions extends ResolveOptions {
  /** Free text recorded in the generated files' header (the CLI's options). */
  options?: string;
}

export interface EmittedModel {
  files: Record<string, string>;
  /** The .c files among `files`. */
  sources: string[];
  info: ModelInfo;
}

/** The first 64 bits of a model hash as two C literals the preprocessor can compare (MODEL_HASH_HI / _LO). */
export function hashWords(hash: string): { hashHi: string; hashLo: string } {
  return { hashHi: `0x${hash.slice(0, 8)}u`, hashLo: `0x${hash.slice(8, 16)}u` };
}

const shapeText = (t: TensorInfo) => `${t.dtype}[${t.shape.join('x')}]`;

/** A pointer to a tensor in the arena (or the input / scores argument). */
function pointer(p: Program, tensor: string, constant: boolean): string {
  const at = placeOf(p, tensor);
  if (typeof at !== 'number') return at;
  return `(${constant ? 'const ' : ''}${cType(p.tensors.get(tensor)!)} *)(a + ${at})`;
}

/** The template context of each layer: params initializer, the call, tracing and bench markers. */
function layerContexts(p: Program) {
  return p.layers.map(({ layer: l, lowering: low, writes, stored }, i) => {
    const paramsName = `L${i}_params`;
    const arg = (a: Arg): string => {
      if (a === 'params') return `&${paramsName}`;
      if (a === 'in') return pointer(p, l.inputs[0], true);
      if (a === 'out') return pointer(p, writes, false);
      if (a === 'scratch') return `(int32_t *)(a + ${p.arena.placements.get(`scratch:${i}`)!.offset})`;
      if ('input' in a) return pointer(p, l.inputs[a.input], true);
      if ('tensor' in a) return pointer(p, a.tensor, true);
      return cValue(a.value);
    };
    const output = p.tensors.get(l.output)!;
    const runs = !low.aliasInput && low.fusedInto === undefined;
    return {
      index: i,
      op: l.op,
      name: l.name,
      inShape: shapeText(p.tensors.get(l.inputs[0])!),
      outShape: shapeText(output),
      params: low.params ? { type: low.params.type, init: cStruct(low.params.value) } : null,
      paramsName,
      call: runs ? `${low.kernel}(${low.args.map(arg).join(', ')})` : '',
      scratchCall: low.scratchBytes > 0 ? `${low.kernel}_scratch_words(&${paramsName})` : '',
      mark: runs ? `${p.prefix}mark_L${i}` : '',
      // Outputs inside a fused chain never exist in memory, so they are not traced.
      trace: stored,
      outPtr: stored ? pointer(p, l.output, true) : 'NULL',
      outBytes: tensorBytes(output),
    };
  });
}

/** The C files of a resolved program. `options` is recorded in the headers. */
export function emitProgram(p: Program, options?: string): EmittedModel {
  const { info, model } = p;
  const common = {
    version: VERSION,
    ...prefixContext(p.prefix),
    modelName: model.name,
    modelHash: p.hash,
    options: options ?? `--prefix ${p.prefix}`,
  };
  const files: Record<string, string> = {};
  files[`${p.prefix}model.h`] = render('model/model.h.hbs', {
    ...common,
    inputC: model.input.shape[0],
    inputH: model.input.shape[1],
    inputW: model.input.shape[2],
    inputSize: info.inputSize,
    inputType: info.inputSigned ? 'int8_t' : 'uint8_t',
    numClasses: info.numClasses,
    arenaSize: info.arenaSize,
    scoreIsFloat: info.scoreType === 'f32' ? 1 : 0,
    scoreType: info.scoreType === 'f32' ? 'float' : 'int32_t',
    numLayers: model.layers.length,
    ...hashWords(p.hash),
  });
  const arena = [...p.arena.placements.values()]
    .filter((x) => x.bytes > 0)
    .sort((x, y) => x.offset - y.offset || x.first - y.first)
    .map((x) => ({ offset: x.offset, end: x.offset + x.bytes, first: x.first, last: x.last, what: isScratch(x) ? `scratch of layer ${x.id.slice(8)}` : `tensor '${x.id}'` }));
  files[`${p.prefix}model.c`] = render('model/model.c.hbs', {
    ...common,
    arenaSize: info.arenaSize,
    arena,
    tableBytes: info.totalWeightBytes,
    tables: p.tables.map((t) => ({ ctype: t.ctype, name: t.name, length: t.values.length, body: tableBody(t) })),
    layers: layerContexts(p),
    marks: [...info.layers.flatMap((l) => (l.marker ? [l.marker] : [])), info.markEnd],
    markEnd: info.markEnd,
  });
  const runtime = new Set<string>(['bnn_runtime.h', 'bnn_arch.h']);
  for (const l of p.layers) for (const f of l.lowering.runtime) runtime.add(f);
  for (const f of [...runtime].sort()) {
    files[f] = render('runtime/source.hbs', { file: f, version: VERSION, source: readFileSync(join(RUNTIME_DIR, f), 'utf8') });
  }
  const sources = Object.keys(files).filter((f) => f.endsWith('.c'));
  return { files, sources, info };
}

/** Resolve and print in one step. */
export function emitModel(model: Model, opts: EmitOptions = {}): EmittedModel {
  return emitProgram(resolve(model, opts), opts.options);
}
