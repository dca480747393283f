// Builds examples/mnist-untrained: an MNIST-shaped Sparks model with RANDOM (untrained) weights.
// It exists so that `npx bnn-gen` has something to compile until a trained model ships; its scores mean nothing.
// Run: npx tsx examples/make-example.ts
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeModel } from '../generator/src/format/write.ts';
import { samePadding, type Layer, type Model } from '../generator/src/model/ir.ts';
import { Rand } from '../generator/src/model/random.ts';

const r = new Rand(2023);
const codebook = (tau: number, O: number, C: number) => ({
  kind: 'codebook' as const,
  bits: tau,
  codewords: Uint16Array.from(r.distinct(1 << tau, 512)),
  indices: new Uint16Array(O * C).map(() => r.int(0, (1 << tau) - 1)),
});
const threshold = (O: number) => ({ value: new Int32Array(O).map(() => r.int(-12, 12)), flip: new Uint8Array(O) });
const k3: [number, number] = [3, 3];
const s1: [number, number] = [1, 1];

const layers: Layer[] = [
  { name: 'stem', op: 'conv2d', inputs: ['input'], output: 'stem', outChannels: 16, kernel: k3, stride: s1, pad: samePadding(28, 28, k3, s1), weights: r.floats(16 * 9, 0.5), bias: r.floats(16, 0.1) },
  { name: 'stem_bn', op: 'affine', inputs: ['stem'], output: 'stem_bn', scale: r.floats(16, 1).map((v) => Math.abs(v) + 0.5), bias: r.floats(16, 0.2) },
  { name: 'sign0', op: 'binarize', inputs: ['stem_bn'], output: 'a0', shift: null },
  { name: 'conv1', op: 'bconv2d', inputs: ['a0'], output: 'a1', outChannels: 32, kernel: k3, stride: s1, pad: samePadding(28, 28, k3, s1), padValue: 0, weights: codebook(4, 32, 16), threshold: threshold(32) },
  { name: 'pool1', op: 'maxpool', inputs: ['a1'], output: 'p1', kernel: [2, 2], stride: [2, 2], pad: { top: 0, left: 0, bottom: 0, right: 0 } },
  { name: 'conv2', op: 'bconv2d', inputs: ['p1'], output: 'a2', outChannels: 32, kernel: k3, stride: s1, pad: samePadding(14, 14, k3, s1), padValue: 0, weights: codebook(4, 32, 32), threshold: threshold(32) },
  { name: 'pool2', op: 'maxpool', inputs: ['a2'], output: 'p2', kernel: [2, 2], stride: [2, 2], pad: { top: 0, left: 0, bottom: 0, right: 0 } },
  { name: 'flatten', op: 'flatten', inputs: ['p2'], output: 'flat' },
  { name: 'fc', op: 'dense', inputs: ['flat'], output: 'scores', outFeatures: 10, weights: r.floats(10 * 32 * 49, 0.05), bias: r.floats(10, 0.1) },
];

const model: Model = {
  name: 'mnist-untrained',
  input: { shape: [1, 28, 28], dtype: 'u8', zeroPoint: 0, scale: Float32Array.of(1 / 255), bias: Float32Array.of(0) },
  layers,
  output: 'scores',
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  metadata: { trained: false, note: 'Random weights, built by examples/make-example.ts; a placeholder until a trained Sparks model ships.' },
};

const dir = join(dirname(fileURLToPath(import.meta.url)), 'mnist-untrained');
mkdirSync(dir, { recursive: true });
const files = writeModel(model, join(dir, 'model.json'));
console.log(`wrote ${files.manifest} and ${files.blob}`);
