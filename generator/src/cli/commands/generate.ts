// `bnn-gen [MODEL]`: the main job. C for a Cortex-M target (with a firmware project for a board), a library folder,
// an Arduino library, or a WebAssembly module with its TypeScript loader.
import { basename, join, relative, resolve } from 'node:path';
import { BnnError } from '../../core/errors.ts';
import type { ModelInfo } from '../../emit/model-c.ts';
import { countCorrect } from '../../model/scores.ts';
import { generate, generateLibrary, type Input } from '../../generate.ts';
import { getTarget } from '../../model/target.ts';
import type { Board } from '../../model/board.ts';
import { checkOutputDir, describePlan, writeOutputDir, type OutputFiles } from '../../core/output-dir.ts';
import { VERSION } from '../../core/version.ts';
import { accuracyText, labelledInputs, loadedModel, safeName, targetAndBoard, type ImportFlags, type LoadedModel } from '../common.ts';
import type { Model } from '../../model/ir.ts';
import { formatAgreement } from '../../quantize/index.ts';
import { agreementOn } from './report.ts';
import type { Io } from '../io.ts';
import { modelSummary } from '../summary.ts';
import { formatStemCost, hasFloatStem, stemCost } from '../../compact/index.ts';
import { randomInput } from '../../model/random.ts';

export interface GenerateFlags extends ImportFlags {
  target?: string;
  kernels: 'ref' | 'auto';
  ramBudget?: number;
  format: 'c' | 'lib' | 'arduino';
  board?: string | boolean;
  out?: string;
  prefix: string;
  input?: string[];
  labels?: string;
  golden: number;
  seed: number;
  force?: boolean;
}

/** The next step for a firmware folder: QEMU boards run with make; real boards are flashed and monitored. */
function howToRun(board: Board, shown: string): string {
  if (board.qemu) return `build and run with: make -C ${shown} run`;
  const emulated = board.emulation ? `; emulated (QEMU ${board.emulation.machine}): make -C ${shown} run` : '';
  return `on the board: npx bnn-gen flash ${shown} && npx bnn-gen monitor ${shown} --port <serial port>${emulated}`;
}

/** What an approximate model costs, measured against the model as exported: the int8 stem on the labelled inputs (or
 *  seeded random ones), the int8 model's agreement on --input (or seeded random ones); else whether the stem is float. */
function approximationNote(modelPath: string | undefined, f: GenerateFlags, loaded: LoadedModel, model: Model): string {
  const exported = loaded.float;
  if (f.stem === 'int8') {
    const given = f.input || !modelPath ? labelledInputs(modelPath, f, exported) : undefined;
    const inputs = given?.inputs.length ? given.inputs : Array.from({ length: 16 }, (_, k) => randomInput(exported, 1 + k));
    return formatStemCost(stemCost(exported, model, inputs, given?.inputs.length ? given.labels : undefined));
  }
  if (loaded.int8) {
    const a = agreementOn(loaded, f.input);
    return `${formatAgreement(a.agreement, loaded.int8.calibration).join('\n')}\n  (agreement inputs: ${a.from})`;
  }
  return hasFloatStem(exported) ? 'stem: float32, exact to the exported model (--stem int8 quantises it for cores without an FPU)' : '';
}

export async function generateCommand(modelPath: string | undefined, f: GenerateFlags, io: Io): Promise<number> {
  const t0 = performance.now();
  // --stem int8: the integer stem replaces the float one; --quantize int8: the whole integer model.
  const loaded = loadedModel(modelPath, f, io.progress);
  const model = loaded.model;
  const quantFlags = loaded.int8 ? ` --quantize int8 --calibrate ${f.calibrate}${f.calibratePercentile !== undefined ? ` --calibrate-percentile ${f.calibratePercentile}` : ''}${f.mapBits !== undefined ? ` --map-bits ${f.mapBits}` : ''}${f.stemWeightBits !== undefined ? ` --stem-weight-bits ${f.stemWeightBits}` : ''}` : '';
  const dir = f.out ?? join('out', safeName(model.name));
  // Refuse an unusable output folder before any work.
  checkOutputDir(dir, [], { force: f.force });
  let files: OutputFiles;
  let info: ModelInfo;
  let what: string;
  let options: string;
  let next = '';
  if (f.target === 'wasm') {
    if (typeof f.board === 'string') throw new BnnError('--board: the wasm target has no board');
    if (f.format !== 'c') throw new BnnError(`--format ${f.format}: the wasm target writes a WebAssembly module and its loader`);
    options = `--target wasm --prefix ${f.prefix}${quantFlags}`;
    // ts-morph (the TypeScript compiler) loads only for this target.
    const { wasmTargetFiles } = await import('../../emit/wasm-target.ts');
    ({ files, info } = await wasmTargetFiles(model, { prefix: f.prefix, optionsText: options, progress: io.progress }));
    what = 'WebAssembly module + TypeScript loader';
    next = `use it: import { Model } from '<path to ${dir}>/${info.prefix}model.js'; const m = await Model.load(); const scores = m.run(input);`;
    if ('demo.html' in files) next += `\ndemo: serve the folder (e.g. python3 -m http.server -d ${dir}) and open demo.html to draw inputs and see the scores live`;
  } else if (f.format === 'lib' || f.format === 'arduino') {
    if (typeof f.board === 'string') throw new BnnError(`--board: --format ${f.format} writes a library, not a firmware project`);
    const target = getTarget(f.target ?? 'cortex-m4');
    const dirName = basename(resolve(dir));
    if (f.format === 'arduino' && !/^[A-Za-z][A-Za-z0-9_]*$/.test(dirName)) throw new BnnError(`-o: an Arduino library folder name must be letters, digits and _, got '${dirName}'`);
    options = `--target ${target.name} --format ${f.format} --prefix ${f.prefix}${f.ramBudget !== undefined ? ` --ram-budget ${f.ramBudget}` : ''}${quantFlags}`;
    ({ files, info } = generateLibrary(model, { target, prefix: f.prefix, format: f.format, dirName, optionsText: options, ramBudget: f.ramBudget }));
    what = f.format === 'lib' ? `library for ${target.name} (CMake, make fragment)` : `Arduino library for ${target.name}`;
  } else {
    const { target, board } = targetAndBoard(f.target, f.board);
    const given = board ? labelledInputs(modelPath, f, model) : { inputs: [] as Input[], labels: undefined, from: '' };
    options = `--target ${target.name}${board ? ` --board ${board.name}` : ''} --prefix ${f.prefix} --kernels ${f.kernels}${f.ramBudget !== undefined ? ` --ram-budget ${f.ramBudget}` : ''}${f.stem === 'int8' ? ' --stem int8' : ''}${quantFlags}`;
    io.progress.phase('planning and emitting C');
    const g = generate(model, {
      target,
      board,
      prefix: f.prefix,
      inputs: given.inputs,
      labels: given.labels,
      goldenCount: f.golden,
      seed: f.seed,
      kernels: f.kernels,
      ramBudget: f.ramBudget,
      optionsText: options,
    });
    files = g.files;
    info = g.info;
    what = `target ${target.name}${board ? `, board ${board.name}` : ', library only'}`;
    if (board && g.golden) {
      next = `firmware: ${g.golden.inputs.length} golden cases from the TS reference; ${howToRun(board, relative(process.cwd(), resolve(dir)) || '.')}`;
      if (g.golden.labels) {
        const correct = countCorrect(g.golden.expected, g.golden.labels);
        next = `labelled inputs: ${given.from}; TS reference accuracy ${accuracyText(correct, g.golden.labels.length)}; the firmware prints its own and fails on any difference\n${next}`;
      }
    }
  }
  const plan = writeOutputDir(dir, files, { force: f.force, model: { name: model.name, sha256: info.hash }, command: `bnn-gen ${options}` });
  const note = describePlan(plan);
  const ms = performance.now() - t0;
  io.out(`bnn-gen ${VERSION}: ${model.name} -> ${dir} (${what}) in ${ms.toFixed(0)} ms${note ? `; ${note}` : ''}`);
  io.out('');
  io.out(modelSummary(info));
  io.out('');
  const approx = approximationNote(modelPath, f, loaded, model);
  if (approx) io.out(approx);
  io.out(`files: ${Object.keys(files).sort().join(' ')}`);
  if (next) io.out(next);
  return 0;
}
