// The command line's options, one define function per command. Each action loads its command module
// (commands/<name>.ts) only when it runs, so --version and --help start fast.
import { Command, Option } from 'commander';
import { VERSION } from '../core/version.ts';
import { listBoards } from '../model/board-names.ts';
import { TARGET_NAMES } from '../model/target.ts';
import type { Io } from './io.ts';
import { intChoice, intOption, numberAbove, positiveNumber } from './parse.ts';
import { DEFAULT_PERCENTILE } from '../quantize/percentile.ts';

const MODEL_ARG = 'model manifest (.json) or .onnx file; default: the shipped example';

/** Options every command takes. */
function common(c: Command): Command {
  return c
    .option('-q, --quiet', 'no progress display on stderr')
    .option('--debug', 'show the stack of an internal error');
}

function importOptions(c: Command): Command {
  return c
    .option('--bits <tau>', '.onnx models: index bits τ (1..9) of every binary 3x3 conv codebook (default: the smallest that fits each layer)', intOption('--bits', 1, 9))
    .option('--input-scale <s>', '.onnx models with a float input: float value of one raw byte step (default 1/255, or 1 when the model divides by 255)', positiveNumber('--input-scale'))
    .addOption(new Option('--stem <kind>', 'float: the real-valued first layer as exported (float32); int8: quantised to int8 weights with integer accumulation, for cores without an FPU (bnn-gen prints its accuracy cost)').choices(['float', 'int8']).default('float'))
    .addOption(new Option('--quantize <scheme>', 'float: real-valued layers as exported (float32); int8: every real-valued part as integer layers (int8 weights and maps, int32 accumulators, requantisation), calibrated on --calibrate; bnn-gen prints its agreement with the float model').choices(['float', 'int8']).default('float'))
    .option('--calibrate <file>', 'with --quantize int8: calibration inputs (.npy uint8/int8 or raw bytes, like --input); the ranges of the real-valued maps come from the float model on them')
    .option('--calibrate-percentile <p>', `with --calibrate: each int8 map's grid spans its values from the (100 - p)th to the pth percentile, the rarer ones clamped (default ${DEFAULT_PERCENTILE}: the full range; e.g. 99.99 clamps the rarest 0.01 % at each end)`, numberAbove('--calibrate-percentile', 50, 100))
    .option('--map-bits <bits>', "with --quantize int8: bits of the stored activation maps (the residual stream) and of the real-valued convs' weights: 8, or 16 for closer agreement with the float model at twice the maps' RAM (docs/int8.md)", intChoice('--map-bits', [8, 16]))
    .option('--stem-weight-bits <bits>', "with --quantize int8: bits of the stem conv's weights (default: --map-bits). 8 with --map-bits 16 lets a 7x7/2 stem run by Winograd, much faster than with int16 weights (docs/int8.md)", intChoice('--stem-weight-bits', [8, 16]));
}

const FORCE = 'overwrite files bnn-gen would write even where yours (or ones you edited) are; never deletes a file';

export type Flags = { json?: boolean | string; quiet?: boolean };
/** Runs a command's work with progress set up for its flags, and keeps its exit code. */
export type Run = (flags: Flags, work: (io: Io) => Promise<number> | number) => Promise<void>;

function boardsHelp(): string {
  try {
    return listBoards().join(', ');
  } catch {
    return '(none)';
  }
}

function addExamples(p: Command): void {
  p.addHelpText('after', () => `\nTargets: ${TARGET_NAMES.join(', ')}\nBoards:  ${boardsHelp()}\n\nExamples:\n  npx bnn-gen --target cortex-m4                 compile the example; make -C out/<name> run runs it in QEMU
  npx bnn-gen model.json --board microbit        firmware for a board, built for its core
  npx bnn-gen model.json --format lib -o mylib   a library folder for CMake / make / IDE projects
  npx bnn-gen model.json --target wasm -o web    a .wasm plus a typed TypeScript loader and a demo page\n  npx bnn-gen verify model.json                  bit-exact check of the emitted C\n  npx bnn-gen run model.json --input x.npy --engine wasm --json\n  npx bnn-gen import model.onnx -o model.json    convert a PyTorch ONNX export (see docs/onnx.md)\n  npx bnn-gen report model.onnx                  BOPs, weight bits, arena per layer
  npx bnn-gen verify --board nucleo-f446re --emulate   a real board's own firmware under QEMU
  npx bnn-gen flash out/model                    write a real board's firmware (OpenOCD, ...)
  npx bnn-gen monitor out/model --port /dev/ttyACM0   read its verdict back: exit 0 PASS, 1 FAIL\n\nExit status: 0 success, 1 a check failed, 2 bad input or usage, 3 internal error.\n`);
}

function defineMain(run: Run): Command {
  const p = new Command('bnn-gen')
    .description('Compile sparse-kernel binary neural networks into verified, bit-exact C for Arm Cortex-M')
    .version(VERSION)
    .enablePositionalOptions()
    .argument('[model]', MODEL_ARG)
    .addOption(new Option('-t, --target <cpu>', "CPU target (default: the board's core, else cortex-m4), or wasm for a WebAssembly module with a TypeScript loader").choices([...TARGET_NAMES, 'wasm']))
    .addOption(new Option('-f, --format <format>', 'c: model + firmware project; lib: library folder (CMake, make); arduino: Arduino library').choices(['c', 'lib', 'arduino']).default('c'))
    .option('-b, --board <name>', "board to emit a firmware project for (default: the target's QEMU board)")
    .option('--no-board', 'emit the model library only')
    .option('-o, --out <dir>', 'output folder (default: out/<model name>); bnn-gen writes only into an empty folder or one it wrote before')
    .option('--force', FORCE)
    .option('--prefix <prefix>', 'C symbol prefix (bnn_ gives bnn_run, BNN_ARENA_SIZE, bnn_model.h)', 'bnn_')
    .option('--input <file...>', 'inputs (raw bytes or .npy uint8/int8) embedded as golden cases (default without a model: the example\'s 100 test digits)')
    .option('--labels <file>', 'true classes of the --input cases (.npy integers): the firmware prints its accuracy next to the reference\'s')
    .option('--golden <n>', 'number of golden cases in the firmware (random seeded inputs fill up)', intOption('--golden', 1, 1000), 4)
    .option('--seed <n>', 'seed of the random golden inputs', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .addOption(new Option('--kernels <choice>', "auto: the generator picks the fastest kernel that fits the board's RAM; ref: portable kernels only (smallest arena)").choices(['auto', 'ref']).default('auto'))
    .option('--ram-budget <bytes>', "most RAM the model's arena may take; the fastest kernels that fit are picked (default: what the board's RAM leaves beside the stack, harness and C library)", intOption('--ram-budget', 1, 2 ** 31 - 1));
  common(importOptions(p)).action((model, flags) => run(flags, async (io) => (await import('./commands/generate.ts')).generateCommand(model, flags, io)));
  return p;
}

function defineVerify(p: Command, run: Run): void {
  const c = p.command('verify')
    .description('build the emitted C to WebAssembly and compare every layer with the TS reference, bit for bit')
    .argument('[model]', MODEL_ARG)
    .option('--input <file...>', 'inputs to check (raw bytes or .npy), besides the random ones')
    .option('--labels <file>', 'true classes of the --input cases (.npy integers): prints accuracy, also from the firmware')
    .option('--count <n>', 'number of seeded random inputs', intOption('--count', 0, 100000), 16)
    .option('-b, --board <name...>', 'also build the golden firmware for these QEMU boards and run it')
    .option('--emulate', "real boards among --board: run the board's own firmware (startup, linker script, UART driver) on a QEMU machine with a compatible chip, reading the verdict from its UART")
    .option('--seed <n>', 'seed of the random inputs', intOption('--seed', 0, 2 ** 31 - 1), 1);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/verify.ts')).verifyCommand(model, flags, io)));
}

function defineMemory(p: Command, run: Run): void {
  const c = p.command('memory')
    .description('build the golden firmware for a board, run it in QEMU when possible, and report flash and RAM use from the linked ELF')
    .argument('[model]', MODEL_ARG)
    .requiredOption('-b, --board <name>', 'board')
    .option('--json [file]', 'print JSON (or write it to a file)')
    .option('--force', FORCE);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/memory.ts')).memoryCommand(model, flags, io)));
}

function defineBench(p: Command, run: Run): void {
  const c = p.command('bench')
    .description('count executed instructions per layer under QEMU (exact, TCG plugin), side by side with the portable _ref kernels')
    .argument('[model]', MODEL_ARG)
    .requiredOption('-b, --board <name>', 'QEMU board (e.g. mps2-an386 for Cortex-M4, microbit for Cortex-M0)')
    .option('--json [file]', 'print JSON (or write it to a file)')
    .option('--force', FORCE);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/bench.ts')).benchCommand(model, flags, io)));
}

function defineGolden(p: Command, run: Run): void {
  const c = p.command('golden')
    .description('write golden input/expected-output vectors (C header + .npy) for your own regression tests')
    .argument('[model]', MODEL_ARG)
    .requiredOption('-o, --out <dir>', 'output folder (empty, or one bnn-gen wrote before)')
    .option('--input <file...>', 'inputs (raw bytes or .npy); random seeded inputs fill up to --count')
    .option('--count <n>', 'number of cases', intOption('--count', 1, 100000), 8)
    .option('--seed <n>', 'seed of the random inputs', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .option('--prefix <prefix>', 'C symbol prefix, as for the model', 'bnn_')
    .option('--force', FORCE);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/golden.ts')).goldenCommand(model, flags, io)));
}

function defineRun(p: Command, run: Run): void {
  const c = p.command('run')
    .description('print the scores of a model for one input or a batch')
    .argument('[model]', MODEL_ARG)
    .option('--input <file...>', 'inputs: raw bytes (one or more inputs back to back) or .npy uint8/int8 (default without a model: the example\'s test digits)')
    .option('--labels <file>', 'true classes of the inputs (.npy integers): prints the accuracy')
    .addOption(new Option('--engine <engine>', 'ts: reference; wasm: emitted C as WebAssembly; qemu: firmware under QEMU').choices(['ts', 'wasm', 'qemu']).default('ts'))
    .addOption(new Option('-t, --target <cpu>', "CPU target (engine qemu; default: the board's core, else cortex-m4)").choices([...TARGET_NAMES]))
    .option('-b, --board <name>', 'QEMU board (engine qemu)')
    .option('--json', 'print JSON');
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/run.ts')).runCommand(model, flags, io)));
}

function defineImport(p: Command, run: Run): void {
  const c = p.command('import')
    .description("convert an .onnx model (PyTorch export) to the bnn-gen format (model.json + model.bin) and print the importer's per-layer report")
    .argument('<model>', '.onnx file')
    .requiredOption('-o, --out <file>', 'manifest to write (.json); the weights blob goes beside it (.bin)')
    .option('--name <name>', 'model name (default: the .onnx file name)')
    .option('--force', FORCE);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/import.ts')).importCommand(model, flags, io)));
}

function defineReport(p: Command, run: Run): void {
  const c = p.command('report')
    .description('per layer: shapes, binary MACs, BOPs (dense and with codebook sharing), weight bits by category; totals, weight flash and the exact arena')
    .argument('[model]', MODEL_ARG)
    .option('--json', 'print JSON')
    .option('--input <file...>', 'with --quantize int8: inputs (raw bytes or .npy) to measure its agreement with the float model on (default: 32 seeded random inputs)');
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/report.ts')).reportCommand(model, flags, io)));
}

function defineInspect(p: Command, run: Run): void {
  const c = p.command('inspect')
    .description('per binary 3x3 layer: kernel histogram over the 512 codewords, top-n coverage, entropy, size and BOPs at tau = 3..9')
    .argument('[model]', MODEL_ARG)
    .option('--json', 'print JSON')
    .option('--plot <file.svg>', 'write the rank-frequency plot (log-log, one line per layer)')
    .option('--force', FORCE);
  common(importOptions(c)).action((model, flags) => run(flags, async (io) => (await import('./commands/inspect.ts')).inspectCommand(model, flags, io)));
}

function defineCompact(p: Command, run: Run): void {
  const c = p.command('compact')
    .description('choose 2^tau distinct codewords per binary 3x3 layer and reassign every kernel to the nearest one (no retraining)')
    .argument('[model]', MODEL_ARG)
    .requiredOption('--bits <tau>', 'index bits per kernel (codebook of 2^tau codewords)', intOption('--bits', 1, 9))
    .addOption(new Option('--method <method>', 'frequency: the most frequent codewords; sinkhorn: Gumbel-Sinkhorn selection of distinct codewords (lower kernel error than frequency, which does not always mean higher accuracy: measure with --eval)').choices(['frequency', 'sinkhorn']).default('frequency'))
    .option('--seed <n>', 'seed of the sinkhorn method', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .requiredOption('-o, --out <file>', 'manifest to write (.json); the weights blob goes beside it')
    .option('--eval <data.npy>', 'inputs (.npy uint8/int8) to measure accuracy on, before and after, with the WebAssembly build')
    .option('--labels <labels.npy>', 'true classes of the --eval inputs (.npy integers)')
    .option('--force', FORCE);
  // No import options here: --bits is the target tau (an .onnx model is read with its minimal tau, then compacted).
  common(c).action((model, flags) => run(flags, async (io) => (await import('./commands/compact.ts')).compactCommand(model, flags, io)));

}

function defineFlash(p: Command, run: Run): void {
  const c = p.command('flash')
    .description("build a real board's golden firmware folder and write it to the board with the board's flash tool (OpenOCD, pyOCD, picotool)")
    .argument('[dir]', 'firmware folder bnn-gen wrote with --board (default: the current folder)')
    .option('-b, --board <name>', 'board (default: the one the folder was generated for; must agree)');
  common(c).action((dir, flags) => run(flags, async (io) => (await import('./commands/flash.ts')).flashCommandMain(dir, flags, io)));
}

function defineMonitor(p: Command, run: Run): void {
  const c = p.command('monitor')
    .description("read a golden run from a board's serial port (asking the firmware for one), check every case against the TS reference's scores, print PASS/FAIL, accuracy and cycles; exit 0/1")
    .argument('[dir]', 'firmware folder bnn-gen wrote with --board, for its golden.json (default: the current folder)')
    .requiredOption('-p, --port <device>', 'serial port, e.g. /dev/ttyACM0 (ST-LINK, J-Link, DAPLink) or /dev/ttyUSB0 (USB-UART adapter)')
    .option('-b, --board <name>', 'board (default: the one the folder was generated for; must agree)')
    .option('--timeout <s>', 'seconds to wait for the run to begin, and for each next line', positiveNumber('--timeout'), 30)
    .option('--json', 'print JSON');
  common(c).action((dir, flags) => run(flags, async (io) => (await import('./commands/monitor.ts')).monitorCommand(dir, flags, io)));
}

/** The whole command line: the main job, then one subcommand per task. Actions load their command module lazily. */
export function program(run: Run): Command {
  const p = defineMain(run);
  for (const define of [defineVerify, defineMemory, defineBench, defineGolden, defineRun, defineImport, defineReport, defineInspect, defineCompact, defineFlash, defineMonitor]) define(p, run);
  addExamples(p);
  return p;
}

