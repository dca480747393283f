// `--target wasm`: the model as a standalone .wasm plus a typed TypeScript module (.ts, .js and .d.ts) that loads
// and runs it in Node and browsers. The module text comes from a template; ts-morph type-checks it and emits
// the JavaScript and the declarations.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModuleKind, Project, ScriptTarget } from 'ts-morph';
import { BnnError } from '../core/errors.ts';
import type { Model } from '../model/ir.ts';
import { requireTool, runTool } from '../toolchain/tools.ts';
import { wasmMemoryFlags } from '../toolchain/wasm-memory.ts';
import type { Progress } from '../core/progress.ts';
import { VERSION } from '../core/version.ts';
import { emitModel, type ModelInfo } from './model-c.ts';
import { render } from './templates.ts';

export const WASM_TARGET_CFLAGS = ['-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '--no-entry', '-sSTANDALONE_WASM', '-sALLOW_MEMORY_GROWTH=1'];

async function compileWasm(files: Record<string, string>, info: ModelInfo): Promise<Uint8Array> {
  const emcc = requireTool('emcc');
  const dir = await mkdtemp(join(tmpdir(), 'bnn-wasm-target-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const sources = Object.keys(files).filter((f) => f.endsWith('.c')).sort();
    await runTool(emcc, [...WASM_TARGET_CFLAGS, ...wasmMemoryFlags(info.totalWeightBytes), `-sEXPORTED_FUNCTIONS=_${info.prefix}run,_malloc,_free`, ...sources, '-o', 'model.wasm'], { cwd: dir, timeoutMs: 600_000 });
    return new Uint8Array(await readFile(join(dir, 'model.wasm')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The TypeScript module, compiled in memory: returns its .ts source, .js and .d.ts. */
export function typescriptModule(source: string, base: string): Record<string, string> {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { target: ScriptTarget.ES2022, module: ModuleKind.ES2022, declaration: true, strict: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] },
  });
  // Minimal ambient declarations so the module type-checks without @types/node: it only touches these in Node.
  project.createSourceFile('/node-shim.d.ts', "declare const process: { versions?: { node?: string } } | undefined;\ndeclare module 'node:fs/promises' { export function readFile(p: string | URL): Promise<Uint8Array>; }\n");
  const file = project.createSourceFile(`/${base}.ts`, source);
  const diagnostics = project.getPreEmitDiagnostics();
  if (diagnostics.length) throw new BnnError(`generated ${base}.ts does not type-check: ${project.formatDiagnosticsWithColorAndContext(diagnostics).split('\n')[0]}`);
  const out: Record<string, string> = { [`${base}.ts`]: source };
  for (const f of file.getEmitOutput().getOutputFiles()) {
    const name = f.getFilePath().split('/').pop()!;
    out[name] = f.getText();
  }
  return out;
}

export async function wasmTargetFiles(model: Model, opts: { prefix?: string; optionsText?: string; progress?: Progress } = {}): Promise<{ files: Record<string, string | Uint8Array>; info: ModelInfo }> {
  const emitted = emitModel(model, { prefix: opts.prefix, options: opts.optionsText });
  const info = emitted.info;
  const base = `${info.prefix}model`;
  opts.progress?.phase('emcc: building the model for WebAssembly');
  const wasm = await compileWasm(emitted.files, info);
  opts.progress?.phase('compiling the TypeScript loader');
  const source = render('wasm/module.ts.hbs', {
    version: VERSION,
    prefix: info.prefix,
    modelName: model.name,
    modelHash: info.hash,
    inputC: info.inputShape[0],
    inputH: info.inputShape[1],
    inputW: info.inputShape[2],
    inputSize: info.inputSize,
    inputType: info.inputSigned ? 'int8' : 'uint8',
    numClasses: info.numClasses,
    arenaSize: info.arenaSize,
    labels: JSON.stringify(model.labels ?? []),
    inputArray: info.inputSigned ? 'Int8Array' : 'Uint8Array',
    scoreArray: info.scoreType === 'f32' ? 'Float32Array' : 'Int32Array',
  });
  const demo = demoPage(model, info);
  return { files: { [`${base}.wasm`]: wasm, ...typescriptModule(source, base), ...(demo ? { 'demo.html': demo } : {}) }, info };
}

/** Text for HTML (also inside a comment: no `--`). */
const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/-(?=-)/g, '&#45;');

/**
 * demo.html, for models that take one grayscale image (uint8, C = 1, H and W >= 8): draw, and the page classifies
 * live. Its preprocessing is MNIST's: the ink's bounding box scaled to 20/28 of the image, centred by centre of mass.
 */
function demoPage(model: Model, info: ModelInfo): string | undefined {
  const [c, h, w] = info.inputShape;
  if (c !== 1 || h < 8 || w < 8 || info.inputSigned) return undefined;
  const labels = model.labels ?? [];
  return render('wasm/demo.html.hbs', {
    version: VERSION,
    prefix: info.prefix,
    modelName: html(model.name),
    modelHash: info.hash,
    inputH: h,
    inputW: w,
    boxH: Math.round((20 / 28) * h),
    boxW: Math.round((20 / 28) * w),
    // The drawing canvas: 280 px on its longer side, the input's aspect ratio.
    canvasH: Math.round((280 * h) / Math.max(h, w)),
    canvasW: Math.round((280 * w) / Math.max(h, w)),
    // The model input shown at 112 px on its longer side.
    previewH: Math.round((112 * h) / Math.max(h, w)),
    previewW: Math.round((112 * w) / Math.max(h, w)),
    classes: Array.from({ length: info.numClasses }, (_, i) => ({ index: i, name: html(labels[i] ?? String(i)) })),
  });
}
