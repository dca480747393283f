// Library exports: a self-contained folder to drop into CMake, Zephyr, pico-sdk, make or IDE projects
// (`--format lib`), or an Arduino library (`--format arduino`).
import type { Model } from '../model/ir.ts';
import { isM7, type Target } from '../model/target.ts';
import { VERSION } from '../core/version.ts';
import { emitModel, type ModelInfo } from './model-c.ts';
import { cArrayBody } from './c.ts';
import { prefixContext, render } from './templates.ts';

export type LibraryFormat = 'lib' | 'arduino';

function common(model: Model, info: ModelInfo, target: Target, dirName: string) {
  return {
    version: VERSION,
    ...prefixContext(info.prefix),
    modelName: model.name,
    modelHash: info.hash,
    target: target.name,
    dirName,
    inputC: info.inputShape[0],
    inputH: info.inputShape[1],
    inputW: info.inputShape[2],
    inputType: info.inputSigned ? 'int8' : 'uint8',
    numClasses: info.numClasses,
    scoreType: info.scoreType === 'f32' ? 'float32' : 'int32',
    arenaSize: info.arenaSize,
    weightBytes: info.totalWeightBytes,
  };
}

export interface LibraryOptions {
  target: Target;
  prefix?: string;
  format: LibraryFormat;
  dirName: string;
  optionsText?: string;
  /** Most bytes the arena may take (`--ram-budget`); without it fast kernels take the scratch they like. */
  ramBudget?: number;
  /** Arduino: an input for the example sketch and the class the reference gives it (the sketch checks it). */
  sample?: { input: Uint8Array | Int8Array; expectedClass: number };
}

export function libraryFiles(model: Model, opts: LibraryOptions): { files: Record<string, string>; info: ModelInfo } {
  const emitted = emitModel(model, { prefix: opts.prefix, options: opts.optionsText, ramBudget: opts.ramBudget, armv6m: opts.target.arch === 'armv6-m', dsp: opts.target.hasDsp, mve: opts.target.hasMve, m7: isM7(opts.target) });
  const info = emitted.info;
  const ctx = common(model, info, opts.target, opts.dirName);
  const files: Record<string, string> = {};
  if (opts.format === 'lib') {
    const header = `${info.prefix}model.h`;
    for (const [name, text] of Object.entries(emitted.files)) files[name === header ? `include/${name}` : `src/${name}`] = text;
    const sources = emitted.sources.slice().sort();
    files['CMakeLists.txt'] = render('lib/CMakeLists.txt.hbs', { ...ctx, sources });
    files[`${info.prefix}model.mk`] = render('lib/model.mk.hbs', { ...ctx, sources });
    files[`${opts.target.name}.cmake`] = render('lib/toolchain.cmake.hbs', { ...ctx, cflags: opts.target.cflags.join(' ') });
    files['README.md'] = render('lib/README.md.hbs', ctx);
    return { files, info };
  }
  // Arduino: library.properties, src/ with every source, and one example sketch.
  const libName = opts.dirName;
  for (const [name, text] of Object.entries(emitted.files)) files[`src/${name}`] = text;
  files['library.properties'] = render('arduino/library.properties.hbs', { ...ctx, libName });
  if (!opts.sample) throw new Error('libraryFiles: the Arduino example needs a sample input and its expected class');
  files[`examples/${libName}_demo/${libName}_demo.ino`] = render('arduino/example.ino.hbs', {
    ...ctx,
    libName,
    sample: cArrayBody(opts.sample.input, 16),
    expectedClass: opts.sample.expectedClass,
  });
  return { files, info };
}
