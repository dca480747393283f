// `bnn-gen golden`: input/expected-output vectors for users' own regression tests, as a C header and .npy files.
import { dump } from 'npyjs';
import { emitModel, hashWords } from './emit/cmodel.ts';
import { cArrayBody, cFloat, render } from './emit/templates.ts';
import type { Input } from './generate.ts';
import type { Model } from './model/ir.ts';
import { runReference } from './reference/interpreter.ts';
import { VERSION } from './version.ts';

export function argmax(s: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
  return best;
}

/** How many score vectors' argmax (first maximum) equals the label. */
export function countCorrect(scores: ArrayLike<number>[], labels: number[]): number {
  return scores.reduce((n: number, s, i) => n + (argmax(s) === labels[i] ? 1 : 0), 0);
}

export function goldenFiles(model: Model, inputs: Input[], opts: { prefix?: string; inputsFrom: string }): Record<string, string | Uint8Array> {
  const { info } = emitModel(model, { prefix: opts.prefix });
  const prefix = info.prefix;
  const scores = inputs.map((x) => runReference(model, x).scores);
  const isFloat = info.scoreType === 'f32';
  const [C, H, W] = info.inputShape;
  const flatIn = info.inputSigned ? new Int8Array(inputs.length * info.inputSize) : new Uint8Array(inputs.length * info.inputSize);
  inputs.forEach((x, i) => flatIn.set(x, i * info.inputSize));
  const flatOut = isFloat ? new Float32Array(inputs.length * info.numClasses) : new Int32Array(inputs.length * info.numClasses);
  scores.forEach((s, i) => flatOut.set(s, i * info.numClasses));
  const header = render('golden/golden.h.hbs', {
    version: VERSION,
    prefix,
    PREFIX: prefix.toUpperCase(),
    modelName: model.name,
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
      body: cArrayBody(s, 6, (v) => (isFloat ? cFloat(Number(v)) : Number(v) === -2147483648 ? '(-2147483647 - 1)' : String(v))).replace(/^/gm, '    '),
    })),
    argmaxList: scores.map(argmax).join(', '),
  });
  const manifest = {
    tool: `bnn-gen ${VERSION}`,
    model: model.name,
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
