// The golden C cases: small models, one per op family and kernel path, emitted as a user gets them (model C,
// firmware project, library folders, golden vectors). Their files are committed under test/golden/<case>/;
// scripts/golden-c.ts rewrites them and test/golden-c.test.ts fails on any difference, so every change to emitted code
// is seen in review. Runtime kernels copied into an output are listed by name in runtime.txt, not stored again.
import { standardLayerModel } from '../../generator/src/bench/standard.ts';
import { generate, generateGolden, generateLibrary, goldenInputs } from '../../generator/src/generate.ts';
import { loadBoard } from '../../generator/src/model/board.ts';
import type { Model } from '../../generator/src/model/ir.ts';
import { randomModel } from '../../generator/src/model/random.ts';
import { getTarget } from '../../generator/src/model/target.ts';
import { RUNTIME_DIR } from '../../generator/src/core/paths.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface GoldenCase {
  name: string;
  what: string;
  files: () => Record<string, string | Uint8Array>;
}

function firmware(model: Model, boardName: string, cases = 2): Record<string, string | Uint8Array> {
  const board = loadBoard(boardName);
  return generate(model, { target: getTarget(board.cpu), board, goldenCount: cases, seed: 1, optionsText: `--board ${boardName}` }).files;
}

function library(model: Model, target = 'cortex-m4'): Record<string, string | Uint8Array> {
  return generate(model, { target: getTarget(target), optionsText: `--target ${target} --no-board` }).files;
}

/** The model with a log-softmax over its f32 scores. */
function withSoftmax(m: Model): Model {
  return { ...m, layers: [...m.layers, { name: 'logprobs', op: 'softmax', inputs: [m.output], output: 'logprobs', log: true }], output: 'logprobs' };
}

export const GOLDEN_CASES: GoldenCase[] = [
  { name: 'slice-m4', what: 'codebook 3x3 convolution, bit-sliced kernel with the Thumb-2 DSP paths (M4 firmware)', files: () => firmware(standardLayerModel(16, 12, 12, 4, 2), 'mps2-an386') },
  { name: 'slice-m3', what: 'the same layer on a core without DSP (C loops of the sliced kernel)', files: () => firmware(standardLayerModel(16, 12, 12, 4, 2), 'mps2-an385') },
  { name: 'lanes-m4', what: 'dense-weight 3x3 convolution, byte-lane kernel', files: () => firmware(standardLayerModel(16, 10, 10, null, 3), 'mps2-an386') },
  { name: 'codebook-ref-microbit', what: 'portable codebook and plain kernels on a 16 KiB Cortex-M0 (microbit firmware)', files: () => firmware(randomModel(128), 'microbit') },
  { name: 'residual', what: 'ReActNet-style real-valued path: conv2d, binarize, affine, avgpool, add, prelu, clip, bdense (library only)', files: () => library(randomModel(306)) },
  { name: 'integer', what: 'int8 input: qconv2d with threshold, binary convolutions, qdense int32 scores (library only)', files: () => library(randomModel(18)) },
  { name: 'uart-stm32f4', what: 'real-board firmware: register-level USART console, DWT cycle counts, OpenOCD flash', files: () => firmware(randomModel(243), 'stm32f4-discovery') },
  { name: 'softmax', what: 'a log-softmax over dense scores (float32 exp/log polynomials, no libm), library only', files: () => library(withSoftmax(randomModel(12))) },
  { name: 'rp2040', what: 'Cortex-M0+ real board with its second-stage boot loader and SysTick cycle counts', files: () => firmware(randomModel(85), 'rpi-pico') },
  {
    name: 'lib-and-golden',
    what: '--format lib (CMake, make fragment, toolchain file, README), --format arduino, and golden vectors',
    files: () => {
      const model = randomModel(231);
      const lib = generateLibrary(model, { target: getTarget('cortex-m4'), format: 'lib', dirName: 'mylib', optionsText: '--format lib' }).files;
      const ard = generateLibrary(model, { target: getTarget('cortex-m4'), format: 'arduino', dirName: 'MyModel', optionsText: '--format arduino' }).files;
      const golden = generateGolden(model, goldenInputs(model, [], 3, 1), { inputsFrom: '3 random (seed 1)' });
      return <Record<string, string | Uint8Array>>{
        ...Object.fromEntries(Object.entries(lib).map(([k, v]) => [`lib/${k}`, v])),
        ...Object.fromEntries(Object.entries(ard).map(([k, v]) => [`arduino/${k}`, v])),
        ...Object.fromEntries(Object.entries(golden).map(([k, v]) => [`golden/${k}`, v])),
      };
    },
  },
];

/** A case's files as committed: runtime kernels (copies of runtime-c/) replaced by one list of their names. */
export function goldenCaseFiles(c: GoldenCase): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  const runtime: string[] = [];
  for (const [name, data] of Object.entries(c.files())) {
    const base = name.split('/').pop()!;
    if (existsSync(join(RUNTIME_DIR, base))) runtime.push(name);
    else out[name] = data;
  }
  out['runtime.txt'] = runtime.sort().join('\n') + '\n';
  return out;
}
