// `bnn-gen golden`'s files: input/expected-output vectors for users' own regression tests, as a C header and .npy
// files. The scores come from the caller (the TS reference), so this module only lays them out.
import { dump } from 'npyjs';
import { VERSION } from '../core/version.ts';
import { argmax } from '../model/scores.ts';
import type { ModelInfo } from '../plan/resolve.ts';
import { cArrayBody, cFloat, cInt32 } from './c.ts';
import { hashWords } from './model-c.ts';
import { prefixContext, render } from './templates.ts';

type Input = Uint8Array | Int8Array;

/**
 * The golden files of a model (its resolved info), for inputs and their reference scores: a C header whose build
 * stops on any other model, the same vectors as .npy, and a JSON manifest.
 */
export function goldenFiles(info: ModelInfo, inputs: Input[], scores: (Float32Array | Int32Array)[], opts: { inputsFrom: string }): Record<string, string | Uint8Array> {
  const prefix = info.prefix;
  const isFloat = info.scoreType === 'f32';
  const [C, H, W] = info.inputShape;
  const flatIn = info.inputSigned ? new Int8Array(inputs.length * info.inputSize) : new Uint8Array(inputs.length * info.inputSize);
  inputs.forEach((x, i) => flatIn.set(x, i * info.inputSize));
  const flatOut = isFloat ? new Float32Array(inputs.length * info.numClasses) : new Int32Array(inputs.length * info.numClasses);
  scores.forEach((s, i) => flatOut.set(s, i * info.numClasses));
  const header = render('golden/golden.h.hbs', {
    version: VERSION,
    ...prefixContext(prefix),
    modelName: info.name,
    modelHash: info.hash,
    ...hashWords(info.hash),
    hashShort: info.hash.slice(0, 16),
    inputsFrom: opts.inputsFrom,
    count: inputs.length,
    inputSize: info.inputSize,
    numClasses: info.numClasses,
    inputType: info.inputSigned ? 'int8_t' : 'uint8_t',
    scoreType: isFloat ? 'float' : 'int32_t',
    isFloat,
    inputs: inputs.map((x) => cArrayBody(x, 16).replace(/^/gm, '    ')),
    scores: scores.map((s) => ({
      argmax: argmax(s),
      body: cArrayBody(s, 6, (v) => (isFloat ? cFloat(Number(v)) : cInt32(v))).replace(/^/gm, '    '),
    })),
    argmaxList: scores.map(argmax).join(', '),
  });
  const manifest = {
    tool: `bnn-gen ${VERSION}`,
    model: info.name,
    modelHash: info.hash,
    inputs: opts.inputsFrom,
    count: inputs.length,
    inputShape: [C, H, W],
    inputDtype: info.inputSigned ? 'int8' : 'uint8',
    scoreDtype: isFloat ? 'float32' : 'int32',
    argmax: scores.map(argmax),
  };
  return {
    [`${prefix}golden.h`]: header,
    'inputs.npy': new Uint8Array(dump(flatIn, [inputs.length, C, H, W])),
    'expected.npy': new Uint8Array(dump(flatOut, [inputs.length, info.numClasses])),
    'golden.json': JSON.stringify(manifest, null, 2) + '\n',
  };
}
