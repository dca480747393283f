// bnn-gen command line. Exit codes: 0 success, 1 verification failed, 2 bad input or usage.
import { Command, CommanderError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../emit/templates.ts';
import { BnnError } from '../errors.ts';
import { loadModel, loadModelWithReport, type LoadOptions } from '../format/load.ts';
import { writeModel } from '../format/write.ts';
import { formatReport, modelReport, reportJson } from '../report.ts';
import { formatInspect, inspectJson, inspectModel, inspectPlot } from '../inspect/index.ts';
import { compactModel, formatCompact } from '../compact/index.ts';
import { generate, goldenInputs, type Input } from '../generate.ts';
import { argmax, countCorrect, goldenFiles } from '../golden.ts';
import { listBoards, loadBoard, type Board } from '../model/board.ts';
import type { Model } from '../model/ir.ts';
import { getTarget, TARGET_NAMES, type Target } from '../model/target.ts';
import { runReference } from '../reference/interpreter.ts';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic.ts';
import { formatMemoryReport } from '../verify/memory.ts';
import { benchModel, formatBench } from '../bench/bench.ts';
import { runFirmware } from '../verify/firmware-run.ts';
import { engineModel, verifyWasm } from '../verify/verify-model.ts';
import { buildWasm, WasmEngine } from '../verify/wasm.ts';
import { emitModel, type ModelInfo } from '../emit/cmodel.ts';
import { libraryFiles } from '../emit/library.ts';
import { wasmTargetFiles } from '../emit/wasm-target.ts';
import { VERSION } from '../version.ts';
import { readInputs, readLabels } from './inputs.ts';
import { modelSummary } from './summary.ts';

/** The model compiled when none is named: the shipped example. */
export const DEFAULT_EXAMPLE = join(PROJECT_ROOT, 'examples', 'mnist-sparks');
export const DEFAULT_MODEL = join(DEFAULT_EXAMPLE, 'model.json');
/** The example's labelled held-out digits: without a model argument (and no --input), the firmware embeds them. */
export const DEFAULT_DIGITS = join(DEFAULT_EXAMPLE, 'digits.npy');
export const DEFAULT_LABELS = join(DEFAULT_EXAMPLE, 'labels.npy');

const out = (s: string) => process.stdout.write(s + '\n');

function intOption(name: string, min: number, max: number) {
  return (v: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min || x > max) throw new BnnError(`${name}: expected an integer ${min}..${max}, got '${v}'`);
    return x;
  };
}

/** The QEMU board for a target, when one exists (so `--target cortex-m4` alone yields runnable firmware). */
function defaultBoard(target: Target): Board | undefined {
  for (const name of listBoards()) {
    const b = loadBoard(name);
    if (b.qemu && b.cpu === target.name) return b;
  }
  return undefined;
}

/** --bits / --input-scale: options for loading an .onnx model, accepted by every command. */
interface ImportFlags {
  bits?: number;
  inputScale?: number;
}

function positiveNumber(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (!(Number.isFinite(x) && x > 0)) throw new BnnError(`${name}: expected a positive number, got '${v}'`);
    return x;
  };
}

function addImportOptions(c: Command): Command {
  return c
    .option('--bits <tau>', '.onnx models: index bits τ (1..9) of every binary 3x3 conv codebook (default: the smallest that fits each layer)', intOption('--bits', 1, 9))
    .option('--input-scale <s>', '.onnx models with a float input: float value of one raw byte step (default 1/255, or 1 when the model divides by 255)', positiveNumber('--input-scale'));
}

function loadOptions(f: ImportFlags): LoadOptions {
  return { bits: f.bits, inputScale: f.inputScale };
}

function resolveBoard(target: Target, board: string | boolean | undefined): Board | undefined {
  if (board === false) return undefined;
  if (typeof board === 'string') {
    if (!listBoards().includes(board)) throw new BnnError(`unknown board '${board}'; boards: ${listBoards().join(', ')}`);
    return loadBoard(board);
  }
  return defaultBoard(target);
}

function readAllInputs(files: string[] | undefined, model: Model): Input[] {
  return (files ?? []).flatMap((f) => readInputs(f, model));
}

/** Inputs and their labels (--labels needs --input; no model argument and no --input: the example's digits). */
function labelledInputs(modelPath: string | undefined, f: { input?: string[]; labels?: string }, model: Model): { inputs: Input[]; labels?: number[]; from: string } {
  let files = f.input;
  let labelsFile = f.labels;
  if (modelPath === undefined && files === undefined && labelsFile === undefined && existsSync(DEFAULT_DIGITS)) {
    files = [DEFAULT_DIGITS];
    labelsFile = DEFAULT_LABELS;
  }
  const inputs = readAllInputs(files, model);
  if (labelsFile === undefined) return { inputs, from: (files ?? []).join(', ') };
  if (!inputs.length) throw new BnnError('--labels: give the labelled inputs with --input');
  const classes = runReference(model, inputs[0]).scores.length;
  return { inputs, labels: readLabels(labelsFile, inputs.length, classes), from: (files ?? []).join(', ') };
}

function accuracyText(correct: number, total: number): string {
  return `${correct}/${total} correct (${((100 * correct) / total).toFixed(2)} %)`;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'model';
}

interface GenerateFlags extends ImportFlags {
  target: string;
  kernels: 'ref' | 'auto';
  format: 'c' | 'lib' | 'arduino';
  board?: string | boolean;
  out?: string;
  prefix: string;
  input?: string[];
  labels?: string;
  golden: number;
  seed: number;
}

async function cmdGenerate(modelPath: string | undefined, f: GenerateFlags): Promise<number> {
  const path = modelPath ?? DEFAULT_MODEL;
  const model = loadModel(path, loadOptions(f));
  const dir = f.out ?? join('out', safeName(model.name));
  const t0 = performance.now();
  let files: Record<string, string | Uint8Array>;
  let info: ModelInfo;
  let what: string;
  let next = '';
  if (f.target === 'wasm') {
    ({ files, info } = await wasmTargetFiles(model, { prefix: f.prefix, optionsText: `--target wasm --prefix ${f.prefix}` }));
    what = 'WebAssembly module + TypeScript loader';
    next = `use it: import { Model } from '<path to ${dir}>/${info.prefix}model.js'; const m = await Model.load(); const scores = m.run(input);`;
  } else {
    const target = getTarget(f.target);
    if (f.format === 'lib' || f.format === 'arduino') {
      const dirName = basename(resolve(dir));
      if (f.format === 'arduino' && !/^[A-Za-z][A-Za-z0-9_]*$/.test(dirName)) throw new BnnError(`-o: an Arduino library folder name must be letters, digits and _, got '${dirName}'`);
      ({ files, info } = libraryFiles(model, { target, prefix: f.prefix, format: f.format, dirName, optionsText: `--target ${target.name} --format ${f.format} --prefix ${f.prefix}` }));
      what = f.format === 'lib' ? `library for ${target.name} (CMake, make fragment)` : `Arduino library for ${target.name}`;
    } else {
      const board = resolveBoard(target, f.board);
      const given = board ? labelledInputs(modelPath, f, model) : { inputs: [] as Input[], labels: undefined, from: '' };
      const g = generate(model, {
        target,
        board,
        prefix: f.prefix,
        inputs: given.inputs,
        labels: given.labels,
        goldenCount: f.golden,
        seed: f.seed,
        kernels: f.kernels,
        optionsText: `--target ${target.name}${board ? ` --board ${board.name}` : ''} --prefix ${f.prefix} --kernels ${f.kernels}`,
      });
      files = g.files;
      info = g.info;
      what = `target ${target.name}${board ? `, board ${board.name}` : ', library only'}`;
      if (board && g.golden) {
        next = `firmware: ${g.golden.inputs.length} golden cases from the TS reference; build and run with: make -C ${relative(process.cwd(), resolve(dir)) || '.'} ${board.qemu ? 'run' : 'flash'}`;
        if (g.golden.labels) {
          const correct = countCorrect(g.golden.expected, g.golden.labels);
          next = `labelled inputs: ${given.from}; TS reference accuracy ${accuracyText(correct, g.golden.labels.length)}; the firmware prints its own and fails on any difference\n${next}`;
        }
      }
    }
  }
  writeDirAtomic(dir, files);
  const ms = performance.now() - t0;
  out(`bnn-gen ${VERSION}: ${model.name} -> ${dir} (${what}) in ${ms.toFixed(0)} ms`);
  out('');
  out(modelSummary(info));
  out('');
  out(`files: ${Object.keys(files).sort().join(' ')}`);
  if (next) out(next);
  return 0;
}

interface VerifyFlags extends ImportFlags {
  input?: string[];
  labels?: string;
  board?: string[];
  count: number;
  seed: number;
}

async function cmdVerify(modelPath: string | undefined, f: VerifyFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const { inputs: given, labels } = labelledInputs(modelPath, f, model);
  const inputs = goldenInputs(model, given, given.length + f.count, f.seed);
  const r = await verifyWasm(model, inputs);
  if (r.mismatch) {
    const m = r.mismatch;
    out(`FAIL ${model.name}: input ${m.input}: ${m.message}`);
    return 1;
  }
  out(`PASS ${model.name}: ${r.inputs} inputs x ${r.info.layers.length} layers bit-exact (WebAssembly build of the emitted C vs TS reference)`);
  if (labels) out(`accuracy on ${labels.length} labelled inputs (TS reference = WebAssembly): ${accuracyText(countCorrect(given.map((x) => runReference(model, x).scores), labels), labels.length)}`);
  for (const name of f.board ?? []) {
    const board = resolveBoard(getTarget('cortex-m4'), name)!;
    // With labels the firmware runs the labelled inputs only (its accuracy is then comparable).
    const fw = labels ? await runFirmware(model, board, given, labels) : await runFirmware(model, board, inputs);
    if (!fw.passed) {
      out(`FAIL ${model.name} on ${board.name} (${board.cpu}, QEMU): firmware exit ${fw.exitCode}`);
      out(fw.stdout.split('\n').filter((l) => /MISMATCH|score\[|FAIL|fault|returned/.test(l)).slice(0, 10).join('\n'));
      return 1;
    }
    out(`PASS ${model.name} on ${board.name} (${board.cpu}, QEMU): ${labels ? given.length : inputs.length} inputs, scores bit-identical to the TS reference`);
    if (fw.accuracy) out(`accuracy on ${board.name}: ${accuracyText(fw.accuracy.correct, fw.accuracy.total)}; TS reference ${accuracyText(fw.accuracy.reference, fw.accuracy.total)}`);
    out(formatMemoryReport(fw.memory));
  }
  return 0;
}

interface BenchFlags extends ImportFlags {
  board: string;
  json?: string | boolean;
}

async function cmdBench(modelPath: string | undefined, f: BenchFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const board = resolveBoard(getTarget('cortex-m4'), f.board)!;
  if (!board.qemu) throw new BnnError(`bench needs a QEMU board; ${board.name} is real hardware (its firmware prints DWT cycles instead)`);
  const r = await benchModel(model, board);
  const json = JSON.stringify(r, null, 2);
  if (f.json === true) out(json);
  else {
    out(formatBench(r));
    if (typeof f.json === 'string') {
      writeFileAtomic(f.json, json + '\n');
      out(`written to ${f.json}`);
    }
  }
  return 0;
}

interface MemoryFlags extends ImportFlags {
  board: string;
  json?: string | boolean;
}

async function cmdMemory(modelPath: string | undefined, f: MemoryFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const board = resolveBoard(getTarget('cortex-m4'), f.board)!;
  const r = await runFirmware(model, board, goldenInputs(model, [], 2, 1));
  if (f.json === true) out(JSON.stringify(r.memory, null, 2));
  else {
    out(formatMemoryReport(r.memory));
    if (typeof f.json === 'string') {
      writeFileAtomic(f.json, JSON.stringify(r.memory, null, 2) + '\n');
      out(`  written to ${f.json}`);
    }
  }
  return r.passed ? 0 : 1;
}

interface GoldenFlags extends ImportFlags {
  out: string;
  input?: string[];
  count: number;
  seed: number;
  prefix: string;
}

async function cmdGolden(modelPath: string | undefined, f: GoldenFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const given = readAllInputs(f.input, model);
  const inputs = goldenInputs(model, given, Math.max(f.count, given.length), f.seed);
  const from = `${given.length ? `${given.length} from ${f.input!.join(', ')}` : ''}${given.length && inputs.length > given.length ? ' + ' : ''}${inputs.length > given.length ? `${inputs.length - given.length} random (seed ${f.seed})` : ''}`;
  const files = goldenFiles(model, inputs, { prefix: f.prefix, inputsFrom: from });
  writeDirAtomic(f.out, files);
  out(`golden: ${inputs.length} cases of ${model.name} -> ${f.out} (${Object.keys(files).join(', ')})`);
  return 0;
}

interface RunFlags extends ImportFlags {
  input: string[];
  labels?: string;
  engine: 'ts' | 'wasm' | 'qemu';
  json?: boolean;
  target: string;
  board?: string;
}

/** Scores of the emitted C built to WebAssembly (the same C as on the board, portable kernels). */
async function wasmScores(model: Model, inputs: Input[]): Promise<(Float32Array | Int32Array)[]> {
  const e = emitModel(model);
  const engine = await WasmEngine.load(await buildWasm({ files: e.files, models: [{ prefix: e.info.prefix }] }));
  return inputs.map((x) => engine.run(engineModel(e.info), x).scores);
}

async function runEngine(model: Model, inputs: Input[], f: RunFlags): Promise<(Float32Array | Int32Array)[]> {
  if (f.engine === 'ts') return inputs.map((x) => runReference(model, x).scores);
  if (f.engine === 'wasm') return wasmScores(model, inputs);
  const target = getTarget(f.target);
  const board = resolveBoard(target, f.board);
  if (!board?.qemu) throw new BnnError(`--engine qemu needs a QEMU board for target ${target.name}; boards: ${listBoards().join(', ')}`);
  const r = await runFirmware(model, board, inputs);
  if (r.scores.length !== inputs.length) throw new BnnError(`QEMU run printed ${r.scores.length} of ${inputs.length} results (exit ${r.exitCode}): ${r.stdout.slice(-300)}`);
  return r.scores;
}

async function cmdRun(modelPath: string | undefined, f: RunFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const { inputs, labels } = labelledInputs(modelPath, f, model);
  const scores = await runEngine(model, inputs, f);
  const correct = labels ? countCorrect(scores, labels) : null;
  if (f.json) {
    out(JSON.stringify({
      model: model.name, engine: f.engine,
      results: scores.map((s, i) => ({ scores: Array.from(s), argmax: argmax(s), ...(labels ? { label: labels[i] } : {}) })),
      ...(labels ? { accuracy: { correct, total: labels.length } } : {}),
    }));
  } else {
    scores.forEach((s, i) => out(`${i}: ${labels ? `label ${labels[i]} ` : ''}argmax ${argmax(s)}${model.labels ? ` (${model.labels[argmax(s)]})` : ''} scores ${Array.from(s).join(' ')}`));
    if (labels) out(`accuracy (${f.engine}): ${accuracyText(correct!, labels.length)}`);
  }
  return 0;
}

interface ImportCmdFlags extends ImportFlags {
  out: string;
  name?: string;
}

/** ONNX -> model.json + model.bin, printing the importer's per-layer report. Nothing is written on error. */
function cmdImport(onnxPath: string, f: ImportCmdFlags): number {
  if (extname(onnxPath).toLowerCase() !== '.onnx') throw new BnnError(`import: expected an .onnx file, got '${onnxPath}'`);
  if (extname(f.out).toLowerCase() !== '.json') throw new BnnError(`-o: the manifest name must end in .json (the weights go beside it as .bin), got '${f.out}'`);
  const t0 = performance.now();
  const { model, report } = loadModelWithReport(onnxPath, loadOptions(f));
  if (f.name !== undefined) {
    if (!f.name.trim()) throw new BnnError('--name: must not be empty');
    model.name = f.name;
  }
  const ms = performance.now() - t0;
  const written = writeModel(model, f.out);
  out(`bnn-gen ${VERSION}: imported ${onnxPath} in ${ms.toFixed(0)} ms`);
  for (const line of report ?? []) out(`  ${line}`);
  const binary = model.layers.filter((l) => l.op === 'bconv2d' || l.op === 'bdense').length;
  const codebooks = model.layers.filter((l) => l.op === 'bconv2d' && l.weights.kind === 'codebook').length;
  const thresholds = model.layers.filter((l) => (l.op === 'bconv2d' || l.op === 'bdense' || l.op === 'qconv2d') && l.threshold).length;
  out(`${model.name}: ${model.layers.length} layers (${binary} binary: ${codebooks} with a codebook, ${binary - codebooks} plain; ${thresholds} with thresholds) -> ${written.manifest} + ${written.blob}`);
  out(`next: npx bnn-gen verify ${written.manifest}; npx bnn-gen report ${written.manifest}; npx bnn-gen --target cortex-m4 ${written.manifest}`);
  return 0;
}

interface ReportFlags extends ImportFlags {
  json?: boolean;
}

interface InspectFlags extends ImportFlags {
  json?: boolean;
  plot?: string;
}

async function cmdInspect(modelPath: string | undefined, f: InspectFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const r = inspectModel(model);
  out(f.json ? inspectJson(r) : formatInspect(r));
  if (f.plot) {
    writeFileAtomic(f.plot, await inspectPlot(r));
    if (!f.json) out(`plot: ${f.plot}`);
  }
  return 0;
}

interface CompactFlags {
  bits: number;
  method: 'frequency' | 'sinkhorn';
  seed: number;
  out: string;
  eval?: string;
  labels?: string;
}

async function cmdCompact(modelPath: string | undefined, f: CompactFlags): Promise<number> {
  const model = loadModel(modelPath ?? DEFAULT_MODEL);
  if ((f.eval === undefined) !== (f.labels === undefined)) throw new BnnError('--eval and --labels go together: inputs and their true classes');
  // Read the evaluation data first: a bad file must fail before anything is written.
  const evalSet = f.eval ? labelledInputs(modelPath, { input: [f.eval], labels: f.labels }, model) : null;
  const { model: compacted, report } = compactModel(model, { bits: f.bits, method: f.method, seed: f.seed });
  let accuracy = '';
  if (evalSet) {
    const { inputs, labels } = evalSet;
    const before = countCorrect(await wasmScores(model, inputs), labels!);
    const after = countCorrect(await wasmScores(compacted, inputs), labels!);
    accuracy = `accuracy on ${f.eval} (${inputs.length} inputs, emitted C as WebAssembly): before ${accuracyText(before, inputs.length)}, after ${accuracyText(after, inputs.length)}`;
  }
  const written = writeModel(compacted, f.out);
  out(formatCompact(report));
  if (accuracy) out(accuracy);
  out(`-> ${written.manifest} + ${written.blob}`);
  return 0;
}

function cmdReport(modelPath: string | undefined, f: ReportFlags): number {
  const model = loadModel(modelPath ?? DEFAULT_MODEL, loadOptions(f));
  const r = modelReport(model);
  out(f.json ? reportJson(r) : formatReport(r));
  return 0;
}

function program(setCode: (c: number) => void): Command {
  const boardsHelp = () => {
    try {
      return listBoards().join(', ');
    } catch {
      return '(none)';
    }
  };
  const p = new Command('bnn-gen')
    .description('Compile sparse-kernel binary neural networks into verified, bit-exact C for Arm Cortex-M')
    .version(VERSION)
    .enablePositionalOptions()
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .addOption(new Option('-t, --target <cpu>', 'CPU target, or wasm for a WebAssembly module with a TypeScript loader').choices([...TARGET_NAMES, 'wasm']).default('cortex-m4'))
    .addOption(new Option('-f, --format <format>', 'c: model + firmware project; lib: library folder (CMake, make); arduino: Arduino library').choices(['c', 'lib', 'arduino']).default('c'))
    .option('-b, --board <name>', "board to emit a firmware project for (default: the target's QEMU board)")
    .option('--no-board', 'emit the model library only')
    .option('-o, --out <dir>', 'output directory (default: out/<model name>)')
    .option('--prefix <prefix>', 'C symbol prefix (bnn_ gives bnn_run, BNN_ARENA_SIZE, bnn_model.h)', 'bnn_')
    .option('--input <file...>', 'inputs (raw bytes or .npy uint8/int8) embedded as golden cases (default without a model: the example\'s 100 test digits)')
    .option('--labels <file>', 'true classes of the --input cases (.npy integers): the firmware prints its accuracy next to the reference\'s')
    .option('--golden <n>', 'number of golden cases in the firmware (random seeded inputs fill up)', intOption('--golden', 1, 1000), 4)
    .option('--seed <n>', 'seed of the random golden inputs', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .addOption(new Option('--kernels <choice>', "auto: the generator picks the fastest kernel that fits the board's RAM; ref: portable kernels only (smallest arena)").choices(['auto', 'ref']).default('auto'));
  addImportOptions(p).action(async (model: string | undefined, flags: GenerateFlags) => setCode(await cmdGenerate(model, flags)));
  let c = p.command('verify')
    .description('build the emitted C to WebAssembly and compare every layer with the TS reference, bit for bit')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .option('--input <file...>', 'inputs to check (raw bytes or .npy), besides the random ones')
    .option('--labels <file>', 'true classes of the --input cases (.npy integers): prints accuracy, also from the firmware')
    .option('--count <n>', 'number of seeded random inputs', intOption('--count', 0, 100000), 16)
    .option('-b, --board <name...>', 'also build the golden firmware for these QEMU boards and run it')
    .option('--seed <n>', 'seed of the random inputs', intOption('--seed', 0, 2 ** 31 - 1), 1);
  addImportOptions(c).action(async (model: string | undefined, flags: VerifyFlags) => setCode(await cmdVerify(model, flags)));
  c = p.command('memory')
    .description("build the golden firmware for a board, run it in QEMU when possible, and report flash and RAM use from the linked ELF")
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .requiredOption('-b, --board <name>', 'board')
    .option('--json [file]', 'print JSON (or write it to a file)');
  addImportOptions(c).action(async (model: string | undefined, flags: MemoryFlags) => setCode(await cmdMemory(model, flags)));
  c = p.command('bench')
    .description('count executed instructions per layer under QEMU (exact, TCG plugin), side by side with the portable _ref kernels')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .requiredOption('-b, --board <name>', 'QEMU board (e.g. mps2-an386 for Cortex-M4, microbit for Cortex-M0)')
    .option('--json [file]', 'print JSON (or write it to a file)');
  addImportOptions(c).action(async (model: string | undefined, flags: BenchFlags) => setCode(await cmdBench(model, flags)));
  c = p.command('golden')
    .description('write golden input/expected-output vectors (C header + .npy) for your own regression tests')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--input <file...>', 'inputs (raw bytes or .npy); random seeded inputs fill up to --count')
    .option('--count <n>', 'number of cases', intOption('--count', 1, 100000), 8)
    .option('--seed <n>', 'seed of the random inputs', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .option('--prefix <prefix>', 'C symbol prefix, as for the model', 'bnn_');
  addImportOptions(c).action(async (model: string | undefined, flags: GoldenFlags) => setCode(await cmdGolden(model, flags)));
  c = p.command('run')
    .description('print the scores of a model for one input or a batch')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .option('--input <file...>', 'inputs: raw bytes (one or more inputs back to back) or .npy uint8/int8 (default without a model: the example\'s test digits)')
    .option('--labels <file>', 'true classes of the inputs (.npy integers): prints the accuracy')
    .addOption(new Option('--engine <engine>', 'ts: reference; wasm: emitted C as WebAssembly; qemu: firmware under QEMU').choices(['ts', 'wasm', 'qemu']).default('ts'))
    .addOption(new Option('-t, --target <cpu>', 'CPU target (engine qemu)').choices([...TARGET_NAMES]).default('cortex-m4'))
    .option('-b, --board <name>', 'QEMU board (engine qemu)')
    .option('--json', 'print JSON');
  addImportOptions(c).action(async (model: string | undefined, flags: RunFlags) => setCode(await cmdRun(model, flags)));
  c = p
    .command('import')
    .description("convert an .onnx model (PyTorch export) to the bnn-gen format (model.json + model.bin) and print the importer's per-layer report")
    .argument('<model>', '.onnx file')
    .requiredOption('-o, --out <file>', 'manifest to write (.json); the weights blob goes beside it (.bin)')
    .option('--name <name>', 'model name (default: the .onnx file name)');
  addImportOptions(c).action((model: string, flags: ImportCmdFlags) => setCode(cmdImport(model, flags)));
  c = p
    .command('report')
    .description('per layer: shapes, binary MACs, BOPs (dense and with codebook sharing), weight bits by category; totals, weight flash and the exact arena')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .option('--json', 'print JSON');
  addImportOptions(c).action((model: string | undefined, flags: ReportFlags) => setCode(cmdReport(model, flags)));
  c = p
    .command('inspect')
    .description('per binary 3x3 layer: kernel histogram over the 512 codewords, top-n coverage, entropy, size and BOPs at tau = 3..9')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .option('--json', 'print JSON')
    .option('--plot <file.svg>', 'write the rank-frequency plot (log-log, one line per layer)');
  addImportOptions(c).action(async (model: string | undefined, flags: InspectFlags) => setCode(await cmdInspect(model, flags)));
  c = p
    .command('compact')
    .description('choose 2^tau distinct codewords per binary 3x3 layer and reassign every kernel to the nearest one (no retraining)')
    .argument('[model]', 'model manifest (.json) or .onnx file; default: the shipped example')
    .requiredOption('--bits <tau>', 'index bits per kernel (codebook of 2^tau codewords)', intOption('--bits', 1, 9))
    .addOption(new Option('--method <method>', 'frequency: the most frequent codewords; sinkhorn: Gumbel-Sinkhorn selection (never worse than frequency)').choices(['frequency', 'sinkhorn']).default('frequency'))
    .option('--seed <n>', 'seed of the sinkhorn method', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .requiredOption('-o, --out <file>', 'manifest to write (.json); the weights blob goes beside it')
    .option('--eval <data.npy>', 'inputs (.npy uint8/int8) to measure accuracy on, before and after, with the WebAssembly build')
    .option('--labels <labels.npy>', 'true classes of the --eval inputs (.npy integers)');
  // No import options here: --bits is the target tau (an .onnx model is read with its minimal tau, then compacted).
  c.action(async (model: string | undefined, flags: CompactFlags) => setCode(await cmdCompact(model, flags)));
  p.addHelpText('after', () => `\nTargets: ${TARGET_NAMES.join(', ')}\nBoards:  ${boardsHelp()}\n\nExamples:\n  npx bnn-gen --target cortex-m4                 compile the example; make -C out/<name> run runs it in QEMU
  npx bnn-gen model.json --format lib -o mylib   a library folder for CMake / make / IDE projects
  npx bnn-gen model.json --target wasm -o web    a .wasm plus a typed TypeScript loader\n  npx bnn-gen verify model.json                  bit-exact check of the emitted C\n  npx bnn-gen run model.json --input x.npy --engine wasm --json\n  npx bnn-gen import model.onnx -o model.json    convert a PyTorch ONNX export (see docs/onnx.md)\n  npx bnn-gen report model.onnx                  BOPs, weight bits, arena per layer\n`);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const p = program((c) => {
    code = c;
  });
  const writeErr = (s: string) => process.stderr.write(s.startsWith('error:') ? `bnn-gen: ${s}` : s);
  for (const c of [p, ...p.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr });
  }
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof BnnError) {
      process.stderr.write(`bnn-gen: error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}
