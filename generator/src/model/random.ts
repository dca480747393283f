// Seeded random models: the test suite's source of odd shapes, every layer type and every padding mode.
import { Rand } from '../ir/random.ts';
import { randomThreshold } from '../ops/shared/threshold.ts';
import { samePadding, type Layer, type Model, type Padding, type Shape, type TensorInfo } from './ir.ts';
import { inferLayerOutput } from './validate.ts';

export { Rand, rng } from '../ir/random.ts';

export interface RandomModelOptions {
  /** Force the input channel count (else drawn from the odd set the tests care about). */
  channels?: number;
}

const CHANNELS = [1, 3, 17, 31, 32, 33, 65, 100];

function randomPad(r: Rand, shape: Shape, k: [number, number], s: [number, number]): Padding {
  const mode = r.pick(['same', 'valid', 'explicit'] as const);
  if (mode === 'same') return samePadding(shape[1], shape[2], k, s);
  if (mode === 'valid' || (k[0] === 1 && k[1] === 1)) return { top: 0, left: 0, bottom: 0, right: 0 };
  return { top: r.int(0, k[0] - 1), left: r.int(0, k[1] - 1), bottom: r.int(0, k[0] - 1), right: r.int(0, k[1] - 1) };
}

function fits(shape: Shape, k: [number, number], s: [number, number], p: Padding): boolean {
  return shape[1] + p.top + p.bottom >= k[0] && shape[2] + p.left + p.right >= k[1] && s[0] >= 1;
}

/** A model being built layer by layer: the tensor and shape the next layer reads. */
interface Builder {
  cur: string;
  shape: Shape;
  add(l: Layer): void;
  name(): string;
}

/** Stem: real conv (+ affine) + binarize, or an integer conv with a threshold straight to b1. */
function randomStem(r: Rand, g: Builder, C: number, integral: boolean): void {
  const k: [number, number] = r.pick([[1, 1], [3, 3], [3, 3], [2, 3]] as [number, number][]);
  const s: [number, number] = [r.int(1, 2), r.int(1, 2)];
  let pad = randomPad(r, g.shape, k, s);
  if (!fits(g.shape, k, s, pad)) pad = samePadding(g.shape[1], g.shape[2], k, s);
  const ci = g.shape[0];
  if (r.bool(0.75)) {
    g.add({ name: g.name(), op: 'conv2d', inputs: [g.cur], output: g.name(), outChannels: C, kernel: k, stride: s, pad, weights: r.floats(C * ci * k[0] * k[1], 0.5, integral), bias: r.floats(C, 0.5, integral) });
    // A real-valued max pool keeps the stem from fusing, so the float kernels run on their own too.
    if (r.bool(0.35) && g.shape[1] >= 2 && g.shape[2] >= 2) {
      g.add({ name: g.name(), op: 'maxpool', inputs: [g.cur], output: g.name(), kernel: [2, 2], stride: [r.int(1, 2), r.int(1, 2)], pad: r.bool(0.5) ? { top: 1, left: 0, bottom: 0, right: 1 } : { top: 0, left: 0, bottom: 0, right: 0 } });
    }
    if (r.bool(0.5)) g.add({ name: g.name(), op: 'affine', inputs: [g.cur], output: g.name(), scale: r.floats(C, 2, integral), bias: r.floats(C, 0.5, integral) });
    if (r.bool(0.4)) residualBlocks(r, r.int(1, 2), integral, () => ({ cur: g.cur, shape: g.shape }), g.add, g.name);
    g.add({ name: g.name(), op: 'binarize', inputs: [g.cur], output: g.name(), shift: r.bool(0.5) ? r.floats(C, 0.5, integral) : null });
  } else {
    const w = new Int8Array(C * ci * k[0] * k[1]).map(() => r.int(-128, 127));
    const bias = new Int32Array(C).map(() => r.int(-5000, 5000));
    g.add({ name: g.name(), op: 'qconv2d', inputs: [g.cur], output: g.name(), outChannels: C, kernel: k, stride: s, pad, weights: w, bias, threshold: randomThreshold(r, C, 20000) });
  }
}

/** One to three binary convolutions (codebook or plain weights), each optionally pooled; an unthresholded one goes
 * back to binary through a real-valued affine + binarize, as ReActNet-style blocks do. */
function randomBinaryConvs(r: Rand, g: Builder, integral: boolean): void {
  const nConv = r.int(1, 3);
  for (let i = 0; i < nConv; i++) {
    const ci = g.shape[0];
    const O = r.pick(CHANNELS);
    const codebook = r.bool(0.6);
    const k: [number, number] = codebook ? [3, 3] : r.pick([[3, 3], [1, 1], [5, 5], [1, 3]] as [number, number][]);
    const s: [number, number] = r.bool(0.3) ? [2, 2] : [1, 1];
    let pad = randomPad(r, g.shape, k, s);
    if (!fits(g.shape, k, s, pad)) pad = samePadding(g.shape[1], g.shape[2], k, s);
    const padValue = r.pick([0, 0, 1, -1] as const);
    let weights: Extract<Layer, { op: 'bconv2d' }>['weights'];
    if (codebook) {
      const bits = r.int(1, 9);
      const n = r.bool(0.7) ? 1 << bits : r.int(1, 1 << bits);
      const codewords = Uint16Array.from(r.distinct(n, 512));
      const indices = new Uint16Array(O * ci).map(() => r.int(0, n - 1));
      weights = { kind: 'codebook', bits, codewords, indices };
    } else {
      weights = { kind: 'dense', bits: r.bits(O * ci * k[0] * k[1]) };
    }
    const last = i === nConv - 1;
    const thresholded = !last || r.bool(0.7);
    g.add({ name: g.name(), op: 'bconv2d', inputs: [g.cur], output: g.name(), outChannels: O, kernel: k, stride: s, pad, padValue, weights, threshold: thresholded ? randomThreshold(r, O, ci * k[0] * k[1]) : undefined });
    if (!thresholded) {
      // Real-valued path back to binary, as ReActNet-style blocks do.
      g.add({ name: g.name(), op: 'affine', inputs: [g.cur], output: g.name(), scale: r.floats(O, 0.3, integral), bias: r.floats(O, 2, integral) });
      g.add({ name: g.name(), op: 'binarize', inputs: [g.cur], output: g.name(), shift: r.bool(0.5) ? r.floats(O, 1, integral) : null });
    }
    if (r.bool(0.3) && g.shape[1] >= 2 && g.shape[2] >= 2) {
      const pk: [number, number] = [2, 2];
      g.add({ name: g.name(), op: 'maxpool', inputs: [g.cur], output: g.name(), kernel: pk, stride: [2, 2], pad: r.bool(0.3) ? { top: 1, left: 1, bottom: 0, right: 0 } : { top: 0, left: 0, bottom: 0, right: 0 } });
    }
  }
}

/** Head: flatten or global average pool, then dense, bdense + dense, qdense or bdense to i32 scores. */
function randomHead(r: Rand, g: Builder, integral: boolean): void {
  const classes = r.int(2, 12);
  const head = r.pick(['flatten-dense', 'flatten-bdense-dense', 'gap-dense', 'flatten-qdense', 'flatten-bdense-i32'] as const);
  if (head === 'gap-dense') {
    g.add({ name: g.name(), op: 'globalavgpool', inputs: [g.cur], output: g.name() });
  } else {
    g.add({ name: g.name(), op: 'flatten', inputs: [g.cur], output: g.name() });
  }
  const K = g.shape[0];
  if (head === 'flatten-bdense-dense') {
    const N = r.int(3, 40);
    g.add({ name: g.name(), op: 'bdense', inputs: [g.cur], output: g.name(), outFeatures: N, bits: r.bits(N * K), threshold: randomThreshold(r, N, K) });
    g.add({ name: g.name(), op: 'dense', inputs: [g.cur], output: g.name(), outFeatures: classes, weights: r.floats(classes * N, 0.5, integral), bias: r.floats(classes, 0.5, integral) });
  } else if (head === 'flatten-qdense') {
    g.add({ name: g.name(), op: 'qdense', inputs: [g.cur], output: g.name(), outFeatures: classes, weights: new Int8Array(classes * K).map(() => r.int(-128, 127)), bias: new Int32Array(classes).map(() => r.int(-1000, 1000)) });
  } else if (head === 'flatten-bdense-i32') {
    g.add({ name: g.name(), op: 'bdense', inputs: [g.cur], output: g.name(), outFeatures: classes, bits: r.bits(classes * K) });
  } else {
    g.add({ name: g.name(), op: 'dense', inputs: [g.cur], output: g.name(), outFeatures: classes, weights: r.floats(classes * K, 0.5, integral), bias: r.floats(classes, 0.5, integral) });
  }
}

/**
 * A random model: real or integer stem, one to three binary convolutions (codebook with tau = 1..9, or plain
 * weights with 1x1 / 3x3 / 5x5 kernels; stride 1 or 2; every padding mode and pad value), optional pooling,
 * and a real or integer head. Shapes stay small so hundreds of models run quickly.
 */
export function randomModel(seed: number, opts: RandomModelOptions = {}): Model {
  const r = new Rand(seed);
  const integral = r.bool(0.3);
  const C = opts.channels ?? r.pick(CHANNELS);
  const H = r.int(1, 9);
  const W = r.int(1, 9);
  const dtype = r.bool(0.8) ? 'u8' : 'i8';
  const input: Model['input'] = {
    shape: [r.pick([1, 2, 3]), H, W],
    dtype,
    zeroPoint: dtype === 'u8' ? r.int(0, 255) : r.int(-128, 127),
    scale: integral ? new Float32Array(3).fill(1) : r.floats(3, 0.02).map((v) => Math.abs(v) + 1e-3),
    bias: integral ? new Float32Array(3).fill(dtype === 'u8' ? -128 : 0) : r.floats(3, 1),
  };
  input.scale = input.scale.slice(0, input.shape[0]);
  input.bias = input.bias.slice(0, input.shape[0]);
  const layers: Layer[] = [];
  const shapes = new Map<string, TensorInfo>();
  const g: Builder = {
    cur: 'input',
    shape: input.shape,
    add(l) {
      const info = inferLayerOutput(layers.length, l, l.inputs.map((t) => (t === 'input' ? { dtype: input.dtype, shape: input.shape } : shapes.get(t)!)));
      layers.push(l);
      shapes.set(l.output, info);
      g.cur = l.output;
      g.shape = info.shape;
    },
    name: () => `l${layers.length}`,
  };
  randomStem(r, g, C, integral);
  randomBinaryConvs(r, g, integral);
  randomHead(r, g, integral);
  return { name: `random-${seed}`, input, layers, output: g.cur };
}

/**
 * ReActNet / Bi-Real style blocks on a real-valued tensor x: binarize (RSign) -> binary 3x3 conv (i32) -> batch norm
 * -> + shortcut (x, or avg-pooled x when the conv has stride 2) -> RPReLU (or PReLU / ReLU) -> optional clip.
 */
function residualBlocks(r: Rand, count: number, integral: boolean, state: () => { cur: string; shape: Shape }, add: (l: Layer) => void, name: () => string): void {
  for (let b = 0; b < count; b++) {
    const { cur: x, shape } = state();
    const [C, H, W] = shape;
    const stride: [number, number] = H >= 2 && W >= 2 && r.bool(0.4) ? [2, 2] : [1, 1];
    const k: [number, number] = [3, 3];
    add({ name: name(), op: 'binarize', inputs: [x], output: name(), shift: r.bool(0.7) ? r.floats(C, 0.5, integral) : null });
    const bits = r.int(1, 9);
    const n = 1 << bits;
    const weights = r.bool(0.6)
      ? { kind: 'codebook' as const, bits, codewords: Uint16Array.from(r.distinct(n, 512)), indices: new Uint16Array(C * C).map(() => r.int(0, n - 1)) }
      : { kind: 'dense' as const, bits: r.bits(C * C * 9) };
    add({ name: name(), op: 'bconv2d', inputs: [state().cur], output: name(), outChannels: C, kernel: k, stride, pad: samePadding(H, W, k, stride), padValue: r.pick([0, 0, 1, -1] as const), weights });
    add({ name: name(), op: 'affine', inputs: [state().cur], output: name(), scale: r.floats(C, 0.2, integral), bias: r.floats(C, 1, integral) });
    const main = state().cur;
    let shortcut = x;
    if (stride[0] === 2) {
      // Pad odd sizes at the end so the shortcut matches ceil(H/2) x ceil(W/2), like the "same" strided conv.
      const pool: Layer = { name: name(), op: 'avgpool', inputs: [x], output: name(), kernel: [2, 2], stride: [2, 2], pad: { top: 0, left: 0, bottom: H % 2, right: W % 2 }, countIncludePad: r.bool() };
      add(pool);
      shortcut = pool.output;
    }
    add({ name: name(), op: 'add', inputs: [main, shortcut], output: name() });
    const slope = r.bool(0.2) ? new Float32Array(C) : r.floats(C, 0.5, integral);
    add({ name: name(), op: 'prelu', inputs: [state().cur], output: name(), slope, shiftIn: r.bool(0.7) ? r.floats(C, 0.5, integral) : null, shiftOut: r.bool(0.7) ? r.floats(C, 0.5, integral) : null });
    if (r.bool(0.3)) add({ name: name(), op: 'clip', inputs: [state().cur], output: name(), min: -1, max: 1 });
  }
}

/** A random input for a model (raw bytes in CHW order). */
export function randomInput(model: Model, seed: number): Uint8Array | Int8Array {
  const r = new Rand(seed ^ 0x5bd1e995);
  const n = model.input.shape[0] * model.input.shape[1] * model.input.shape[2];
  return model.input.dtype === 'u8' ? new Uint8Array(n).map(() => r.int(0, 255)) : new Int8Array(n).map(() => r.int(-128, 127));
}
