// ONNX import on small hand-built graphs (encoded with protobufjs and the same onnx.proto, no PyTorch needed):
// the patterns the importer folds, hand-computed thresholds, and every kind of error — each naming the node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../generator/src/import/load.ts';
import { importOnnx } from '../generator/src/import/onnx/index.ts';
import { modelProto } from '../generator/src/import/onnx/proto.ts';
import type { BConv2dLayer } from '../generator/src/model/ir.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';

// ---- a tiny graph builder ----------------------------------------------------------------------------------

type AttrSpec = { name: string; type: number; i?: number; f?: number; ints?: number[]; floats?: number[]; s?: Uint8Array };
const int = (name: string, i: number): AttrSpec => ({ name, type: 2, i });
const ints = (name: string, v: number[]): AttrSpec => ({ name, type: 7, ints: v });
const float = (name: string, f: number): AttrSpec => ({ name, type: 1, f });

interface NodeSpec {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute?: AttrSpec[];
}
const node = (name: string, op: string, input: string[], output: string[], attribute: AttrSpec[] = []): NodeSpec => ({ name, op_type: op, input, output, attribute });

interface TensorSpec {
  name: string;
  dims: number[];
  data_type: number;
  float_data?: number[];
  int64_data?: number[];
  data_location?: number;
  external_data?: { key: string; value: string }[];
}
const tensor = (name: string, dims: number[], values: number[]): TensorSpec => ({ name, dims, data_type: 1, float_data: values });
const int64s = (name: string, values: number[]): TensorSpec => ({ name, dims: [values.length], data_type: 7, int64_data: values });

function encode(nodes: NodeSpec[], inits: TensorSpec[], o: { elemType?: number; dims?: number[]; output?: string } = {}): Uint8Array {
  const T = modelProto();
  const dims = o.dims ?? [1, 2, 6, 6];
  const msg = T.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'hand',
    graph: {
      name: 'hand',
      node: nodes,
      initializer: inits,
      input: [{ name: 'x', type: { tensor_type: { elem_type: o.elemType ?? 2, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } }],
      output: [{ name: o.output ?? 'y' }],
    },
  });
  return T.encode(msg).finish();
}

/** Seeded values in [-1, 1). */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const bn = (p: string, C: number, g: number[], b: number[], m: number[], v: number[]): TensorSpec[] => [
  tensor(`${p}.g`, [C], g),
  tensor(`${p}.b`, [C], b),
  tensor(`${p}.m`, [C], m),
  tensor(`${p}.v`, [C], v),
];

/**
 * x (uint8 2x6x6) → /255 → stem Conv 3x3 → BN → Sign → binary Conv 3x3 (4 channels, ±0.5) → BN → Sign →
 * GlobalAveragePool → Flatten → Gemm (3 classes). The binary conv's BN is semantics §7's worked example.
 */
function base() {
  const nodes: NodeSpec[] = [
    node('cast', 'Cast', ['x'], ['xf'], [int('to', 1)]),
    node('scale', 'Div', ['xf', 'c255'], ['xn']),
    node('stem', 'Conv', ['xn', 'w0', 'b0'], ['s'], [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])]),
    node('bn0', 'BatchNormalization', ['s', 'bn0.g', 'bn0.b', 'bn0.m', 'bn0.v'], ['sb']),
    node('act0', 'Sign', ['sb'], ['a0']),
    node('conv1', 'Conv', ['a0', 'w1'], ['c1'], [ints('pads', [1, 1, 1, 1])]),
    node('bn1', 'BatchNormalization', ['c1', 'bn1.g', 'bn1.b', 'bn1.m', 'bn1.v'], ['c1b'], [float('epsilon', 0)]),
    node('act1', 'Sign', ['c1b'], ['a1']),
    node('gap', 'GlobalAveragePool', ['a1'], ['p']),
    node('flat', 'Flatten', ['p'], ['f']),
    node('fc', 'Gemm', ['f', 'fcw', 'fcb'], ['y'], [int('transB', 1)]),
  ];
  const w1 = rand(4 * 4 * 9, 2).map((v) => (v >= 0 ? 0.5 : -0.5));
  const inits: TensorSpec[] = [
    tensor('c255', [], [255]),
    tensor('w0', [4, 2, 3, 3], rand(72, 1)),
    tensor('b0', [4], [0.1, -0.2, 0.3, 0]),
    ...bn('bn0', 4, [1, 1, 1, 1], [0, 0, 0, 0], [0.5, 0, -0.5, 0], [1, 1, 1, 1]),
    tensor('w1', [4, 4, 3, 3], w1),
    // γ = ±1.5, α = 0.5, μ = 3, β = −0.75, s = 2: T = 8 (flip 0) and T = 4 (flip 1); γ = 0: constant ±1.
    ...bn('bn1', 4, [1.5, -1.5, 0, 0], [-0.75, -0.75, 0.25, -0.25], [3, 3, 0, 0], [4, 4, 1, 1]),
    tensor('fcw', [3, 4], rand(12, 3)),
    tensor('fcb', [3], [0.5, 0, -0.5]),
  ];
  return { nodes, inits, w1 };
}

function bconv(bytes: Uint8Array, opts = {}): BConv2dLayer {
  return importOnnx(bytes, opts).model.layers.find((l) => l.op === 'bconv2d') as BConv2dLayer;
}

// ---- patterns ------------------------------------------------------------------------------------------

describe('ONNX import: patterns on hand-built graphs', () => {
  it('lowers the base graph: input /255 folded, real stem, thresholded codebook conv, GAP head', () => {
    const { nodes, inits } = base();
    const r = importOnnx(encode(nodes, inits));
    expect(r.model.layers.map((l) => l.op)).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'globalavgpool', 'dense']);
    expect(Array.from(r.model.input.scale)).toEqual([Math.fround(1 / 255), Math.fround(1 / 255)]);
    expect(Array.from(r.model.input.bias)).toEqual([0, 0]);
    const scores = runReference(r.model, new Uint8Array(72).fill(100)).scores;
    expect(scores.length).toBe(3);
    expect(r.report.join('\n')).toMatch(/Cast, Div folded/);
  });

  it('folds batch norm + sign into the thresholds of semantics §7 (worked example, flip, constant channels)', () => {
    const { nodes, inits } = base();
    const l = bconv(encode(nodes, inits));
    expect(l.threshold).toBeDefined();
    expect(Array.from(l.threshold!.value)).toEqual([8, 4, -2147483648, -2147483648]);
    expect(Array.from(l.threshold!.flip)).toEqual([0, 1, 0, 1]);
  });

  it('codeword ids follow tap t = 3*ky + kx, bit 1 = +1; τ is minimal unless the bits option says otherwise', () => {
    const { nodes, inits, w1 } = base();
    const l = bconv(encode(nodes, inits));
    expect(l.weights.kind).toBe('codebook');
    if (l.weights.kind !== 'codebook') return;
    const n = l.weights.codewords.length;
    expect(l.weights.bits).toBe(Math.max(1, Math.ceil(Math.log2(n))));
    for (let k = 0; k < 16; k++) {
      const id = l.weights.codewords[l.weights.indices[k]];
      for (let t = 0; t < 9; t++) expect((id >> t) & 1).toBe(w1[k * 9 + t] > 0 ? 1 : 0);
    }
    const wide = bconv(encode(nodes, inits), { bits: 6 });
    expect(wide.weights.kind === 'codebook' && wide.weights.bits).toBe(6);
    expect(() => importOnnx(encode(nodes, inits), { bits: 1 })).toThrow(/node 'conv1' \(Conv\): \d+ distinct 3x3 kernels do not fit a codebook of 2\^1 = 2/);
  });

  it('folds weight binarisation written in forward: Sign(W) * ReduceMean(Abs(W))', () => {
    const { nodes, inits } = base();
    const latent = rand(144, 9);
    const i = inits.findIndex((t) => t.name === 'w1');
    inits[i] = tensor('latent', [4, 4, 3, 3], latent);
    nodes.unshift(
      node('w/sign', 'Sign', ['latent'], ['ws']),
      node('w/abs', 'Abs', ['latent'], ['wa']),
      node('w/mean', 'ReduceMean', ['wa'], ['alpha'], [ints('axes', [1, 2, 3]), int('keepdims', 1)]),
      node('w/mul', 'Mul', ['ws', 'alpha'], ['w1']),
    );
    const l = bconv(encode(nodes, inits));
    expect(l.weights.kind).toBe('codebook');
    // The threshold now includes α_o = mean |latent| of each output channel.
    const alpha0 = latent.slice(0, 36).reduce((s, v) => s + Math.abs(Math.fround(v)), 0) / 36;
    expect(l.threshold!.value[0]).toBe(Math.ceil((1.5 * 3 + 0.75 * 2) / (1.5 * alpha0) - 1e-9));
  });

  it("folds torch's x.view(x.size(0), -1) (Shape, Gather, Unsqueeze, Concat, Reshape) into a flatten", () => {
    const { nodes, inits } = base();
    const at = nodes.findIndex((n) => n.name === 'gap');
    nodes.splice(
      at,
      3,
      node('shape', 'Shape', ['a1'], ['sh']),
      node('batch', 'Gather', ['sh', 'zero'], ['n'], [int('axis', 0)]),
      node('unsq', 'Unsqueeze', ['n', 'axes0'], ['n1']),
      node('cat', 'Concat', ['n1', 'minus1'], ['target'], [int('axis', 0)]),
      node('view', 'Reshape', ['a1', 'target'], ['f']),
      node('fc', 'Gemm', ['f', 'fcw', 'fcb'], ['y'], [int('transB', 1)]),
    );
    const fcw = inits.findIndex((t) => t.name === 'fcw');
    inits[fcw] = tensor('fcw', [3, 144], rand(3 * 144, 4));
    inits.push({ name: 'zero', dims: [], data_type: 7, int64_data: [0] }, int64s('axes0', [0]), int64s('minus1', [-1]));
    const r = importOnnx(encode(nodes, inits));
    expect(r.model.layers.map((l) => l.op)).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'flatten', 'dense']);
  });

  it('drops a Hardtanh (Clip) before Sign and turns Sign(x + b) into a binarize shift (RSign)', () => {
    const { nodes, inits } = base();
    const at = nodes.findIndex((n) => n.name === 'act0');
    nodes.splice(at, 1, node('ht', 'Clip', ['sb', 'lo', 'hi'], ['sc']), node('rs', 'Add', ['sc', 'shift'], ['sh']), node('act0', 'Sign', ['sh'], ['a0']));
    inits.push(tensor('lo', [], [-1]), tensor('hi', [], [1]), tensor('shift', [1, 4, 1, 1], [0.5, -0.5, 0.25, 0]));
    // Clip then Add: the clip is not the tail, so it is a clip layer, and the shift is the binarize's.
    const clipped = importOnnx(encode(nodes, inits)).model.layers;
    expect(clipped.map((l) => l.op)).toEqual(['conv2d', 'affine', 'clip', 'binarize', 'bconv2d', 'globalavgpool', 'dense']);
    const swapped = nodes.map((n) => (n.name === 'ht' ? node('ht', 'Clip', ['sh', 'lo', 'hi'], ['sc']) : n.name === 'rs' ? node('rs', 'Add', ['sb', 'shift'], ['sh']) : n.name === 'act0' ? node('act0', 'Sign', ['sc'], ['a0']) : n));
    const order = ['cast', 'scale', 'stem', 'bn0', 'rs', 'ht', 'act0'];
    swapped.sort((a, b) => (order.includes(a.name) && order.includes(b.name) ? order.indexOf(a.name) - order.indexOf(b.name) : 0));
    const r = importOnnx(encode(swapped, inits));
    const b = r.model.layers.find((l) => l.op === 'binarize');
    expect(b?.op === 'binarize' && Array.from(b.shift!)).toEqual([0.5, -0.5, 0.25, 0]);
  });

  it('reads a float input as byte/255 by default, as raw bytes when it divides by 255, or per inputScale', () => {
    const { nodes, inits } = base();
    const plain = nodes.filter((n) => n.name !== 'cast' && n.name !== 'scale').map((n) => (n.name === 'stem' ? { ...n, input: ['x', 'w0', 'b0'] } : n));
    const scale = (bytes: Uint8Array, o = {}) => importOnnx(bytes, o).model.input.scale[0];
    expect(scale(encode(plain, inits, { elemType: 1 }))).toBe(Math.fround(1 / 255));
    // The hint names the CLI flag a user can type.
    expect(importOnnx(encode(plain, inits, { elemType: 1 })).report.join('\n')).toMatch(/give --input-scale otherwise/);
    expect(scale(encode(plain, inits, { elemType: 1 }), { inputScale: 1 })).toBe(1);
    const divides = nodes.filter((n) => n.name !== 'cast').map((n) => (n.name === 'scale' ? { ...n, input: ['x', 'c255'] } : n));
    expect(scale(encode(divides, inits, { elemType: 1 }))).toBe(Math.fround(1 / 255));
    expect(importOnnx(encode(divides, inits, { elemType: 1 })).report.join('\n')).toMatch(/raw bytes 0..255/);
  });

  it('MatMul + Add is a dense layer with bias; ReduceMean over H, W is a global average pool', () => {
    const { nodes, inits } = base();
    const at = nodes.findIndex((n) => n.name === 'gap');
    nodes.splice(at, 3, node('mean', 'ReduceMean', ['a1'], ['f'], [ints('axes', [2, 3]), int('keepdims', 0)]), node('mm', 'MatMul', ['f', 'fcwT'], ['z']), node('bias', 'Add', ['z', 'fcb'], ['y']));
    inits.push(tensor('fcwT', [4, 3], rand(12, 7)));
    const r = importOnnx(encode(nodes, inits));
    expect(r.model.layers.map((l) => l.op)).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'globalavgpool', 'dense']);
    const dense = r.model.layers[5];
    expect(dense.op === 'dense' && Array.from(dense.bias)).toEqual([0.5, 0, -0.5]);
  });

  it('straight-through estimators in forward collapse to their forward value: ReActNet/Bi-Real and x + (sign(x) - x)', () => {
    const want = importOnnx(encode(base().nodes, base().inits)).model;
    // ReActNet/Bi-Real: out = sign(x) - p(x) + p(x), p the piecewise polynomial (masks x < -1, x < 0, x < 1).
    const poly = (x: string, out: string): NodeSpec[] => [
      node('lt1', 'Less', [x, 'm1'], ['mk1']), node('c1', 'Cast', ['mk1'], ['f1'], [int('to', 1)]),
      node('lt0', 'Less', [x, 'zero'], ['mk0']), node('c0', 'Cast', ['mk0'], ['f0'], [int('to', 1)]),
      node('sq', 'Mul', [x, x], ['x2']), node('two', 'Mul', [x, 'c2'], ['x2a']), node('q', 'Add', ['x2', 'x2a'], ['qa']),
      node('pm', 'Mul', ['qa', 'f0'], ['pa']), node('sub1', 'Sub', ['pa', 'f1'], [out]),
    ];
    const consts = [tensor('m1', [], [-1]), tensor('zero', [], [0]), tensor('c2', [], [2])];
    const reactnet = base();
    const at = reactnet.nodes.findIndex((n) => n.name === 'act0');
    reactnet.nodes.splice(at, 1, node('sgn', 'Sign', ['sb'], ['sf']), ...poly('sb', 'p3'), node('ste_sub', 'Sub', ['sf', 'p3'], ['d']), node('ste_add', 'Add', ['d', 'p3'], ['a0']));
    reactnet.inits.push(...consts);
    const r = importOnnx(encode(reactnet.nodes, reactnet.inits));
    expect(r.model.layers.map((l) => l.op)).toEqual(want.layers.map((l) => l.op));
    expect(r.report.join('\n')).toMatch(/ste_add: \(a - b\) \+ b with b = 'p3' is a straight-through estimator: its forward value a = 'sf'/);
    const x = new Uint8Array(72).map((_, i) => (i * 29) % 256);
    expect(Array.from(runReference(r.model, x).scores)).toEqual(Array.from(runReference(want, x).scores));
    // x + (sign(x) - x): the Add reads the Sub second.
    const simple = base();
    const at2 = simple.nodes.findIndex((n) => n.name === 'act0');
    simple.nodes.splice(at2, 1, node('sgn', 'Sign', ['sb'], ['sf']), node('ste_sub', 'Sub', ['sf', 'sb'], ['d']), node('ste_add', 'Add', ['sb', 'd'], ['a0']));
    expect(importOnnx(encode(simple.nodes, simple.inits)).model.layers.map((l) => l.op)).toEqual(want.layers.map((l) => l.op));
    // One that does not cancel (sign(x) - p(x) + q(x)) is named for what it is.
    const broken = base();
    const at3 = broken.nodes.findIndex((n) => n.name === 'act0');
    broken.nodes.splice(at3, 1, node('sgn', 'Sign', ['sb'], ['sf']), ...poly('sb', 'p3'), node('ste_sub', 'Sub', ['sf', 'p3'], ['d']), node('ste_add', 'Add', ['d', 'sb'], ['a0']));
    broken.inits.push(...consts);
    expect(() => importOnnx(encode(broken.nodes, broken.inits))).toThrow(/^node 'lt1' \(Less\): Less on activations read by Cast 'c1' is not supported: .*straight-through estimator.*docs\/onnx.md#ste/);
  });

  it("a zero Pad before an AveragePool (torch's AvgPool2d(3, 2, padding=1)) is the pool's padding, zeros counted", () => {
    // bn0's output sb (4x6x6, real) -> Pad 1 on H and W -> AveragePool 3x3 stride 2 without pads -> 4x3x3 -> Sign.
    const { nodes, inits } = base();
    const at = nodes.findIndex((n) => n.name === 'act0');
    nodes.splice(at, 1, node('pad', 'Pad', ['sb', 'pads'], ['sp']), node('pool', 'AveragePool', ['sp'], ['ap'], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2])]), node('act0', 'Sign', ['ap'], ['a0']));
    inits.push(int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1]));
    const m = importOnnx(encode(nodes, inits)).model;
    const pool = m.layers.find((l) => l.op === 'avgpool');
    expect(pool).toMatchObject({ kernel: [3, 3], stride: [2, 2], pad: { top: 1, left: 1, bottom: 1, right: 1 }, countIncludePad: true });
    // The pool's output from its input by the torch definition, in float64: pad with zeros, sum the 3x3 window, / 9.
    const run = runReference(m, new Uint8Array(72).map((_, i) => (i * 37) % 256));
    const i = m.layers.indexOf(pool!);
    const x = run.layers[i - 1].data;
    const y = run.layers[i].data;
    expect(run.layers[i].shape).toEqual([4, 3, 3]);
    for (let c = 0; c < 4; c++) {
      for (let oy = 0; oy < 3; oy++) {
        for (let ox = 0; ox < 3; ox++) {
          let sum = 0;
          for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
            const iy = oy * 2 - 1 + ky;
            const ix = ox * 2 - 1 + kx;
            if (iy >= 0 && iy < 6 && ix >= 0 && ix < 6) sum += x[(c * 6 + iy) * 6 + ix];
          }
          const got = y[(c * 3 + oy) * 3 + ox];
          expect(Math.abs(got - sum / 9)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum / 9)));
        }
      }
    }
  });

  it('Softmax and LogSoftmax after the classifier become the IR softmax layer (probabilities within 1 ulp of exp)', () => {
    for (const op of ['Softmax', 'LogSoftmax']) {
      const { nodes, inits } = base();
      nodes[nodes.length - 1] = { ...nodes[nodes.length - 1], output: ['z'] };
      nodes.push(node('probs', op, ['z'], ['y'], [int('axis', 1)]));
      const m = importOnnx(encode(nodes, inits)).model;
      expect(m.layers.map((l) => l.op)).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'globalavgpool', 'dense', 'softmax']);
      const run = runReference(m, new Uint8Array(72).fill(100));
      const z = Array.from(run.layers[5].data);
      const sum = z.reduce((a, v) => a + Math.exp(v), 0);
      const want = z.map((v) => (op === 'Softmax' ? Math.exp(v) / sum : v - Math.log(sum)));
      Array.from(run.scores).forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(4 * 2 ** -24 * Math.max(1, Math.abs(want[i]))));
    }
  });

  it('a binary conv whose batch norm feeds real layers stays an i32 accumulator with affine layers after it', () => {
    const { nodes, inits } = base();
    const g = nodes.filter((n) => n.name !== 'act1').map((n) => (n.name === 'gap' ? { ...n, input: ['c1b'] } : n));
    const r = importOnnx(encode(g, inits));
    expect(r.model.layers.map((l) => l.op)).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'affine', 'affine', 'globalavgpool', 'dense']);
    expect(r.model.layers[3].op === 'bconv2d' && r.model.layers[3].threshold).toBeUndefined();
  });

  it('residual Add, RPReLU (shift, PReLU, shift) and Relu become the IR add and prelu layers', () => {
    const { nodes, inits } = base();
    const at = nodes.findIndex((n) => n.name === 'act1');
    nodes.splice(
      at,
      1,
      node('res', 'Add', ['c1b', 'sb'], ['r0']),
      node('rp/in', 'Sub', ['r0', 'sIn'], ['r1']),
      node('rp/prelu', 'PRelu', ['r1', 'slope'], ['r2']),
      node('rp/out', 'Add', ['r2', 'sOut'], ['r3']),
      node('relu', 'Relu', ['r3'], ['r4']),
      node('act1', 'Sign', ['r4'], ['a1']),
    );
    inits.push(tensor('sIn', [4, 1, 1], [0.5, 0, 0, -0.5]), tensor('slope', [4, 1, 1], [0.25, -0.5, 0, 1]), tensor('sOut', [4, 1, 1], [1, 2, 3, 4]));
    const r = importOnnx(encode(nodes, inits));
    const ops = r.model.layers.map((l) => `${l.op}(${l.inputs.length})`);
    // the binary conv's accumulator is needed as real values: i32 -> α -> batch norm; the stem's BN output is shared
    expect(ops).toEqual(['conv2d(1)', 'affine(1)', 'binarize(1)', 'bconv2d(1)', 'affine(1)', 'affine(1)', 'add(2)', 'prelu(1)', 'prelu(1)', 'binarize(1)', 'globalavgpool(1)', 'dense(1)']);
    const rp = r.model.layers[7];
    expect(rp.op === 'prelu' && [Array.from(rp.shiftIn!), Array.from(rp.slope), Array.from(rp.shiftOut!)]).toEqual([[-0.5, -0, -0, 0.5], [0.25, -0.5, 0, 1], [1, 2, 3, 4]]);
    const relu = r.model.layers[8];
    expect(relu.op === 'prelu' && Array.from(relu.slope)).toEqual([0, 0, 0, 0]);
    expect(runReference(r.model, new Uint8Array(72).fill(7)).scores.length).toBe(3);
  });

  it('a PReLU with a negative slope before Sign is not monotone: binarize on real values instead of a threshold', () => {
    const { nodes, inits } = base();
    nodes.splice(nodes.findIndex((n) => n.name === 'act1'), 1, node('pr', 'PRelu', ['c1b', 'slope'], ['c1p']), node('act1', 'Sign', ['c1p'], ['a1']));
    inits.push(tensor('slope', [4, 1, 1], [0.25, -0.5, 0, 1]));
    const ops = importOnnx(encode(nodes, inits)).model.layers.map((l) => l.op);
    expect(ops).toEqual(['conv2d', 'affine', 'binarize', 'bconv2d', 'affine', 'affine', 'prelu', 'binarize', 'globalavgpool', 'dense']);
  });

  it('channels negated by a folded batch norm (γ < 0) share codewords: stored with α < 0, same kernels', () => {
    // PyTorch's exporter folds a batch norm into a conv whose weights are parameters (pre-binarised weights);
    // γ < 0 negates whole output channels. Channels 2 and 3 here are channels 0 and 1 negated.
    const { nodes, inits } = base();
    const half = rand(2 * 4 * 9, 11).map((v) => (v >= 0 ? 0.5 : -0.5));
    const w = [...half, ...half.map((v) => -v)];
    inits[inits.findIndex((t) => t.name === 'w1')] = tensor('w1', [4, 4, 3, 3], w);
    const g = nodes.filter((n) => n.name !== 'act1').map((n) => (n.name === 'gap' ? { ...n, input: ['c1b'] } : n));
    const r = importOnnx(encode(g, inits));
    const l = r.model.layers.find((x) => x.op === 'bconv2d') as BConv2dLayer;
    const own = new Set(Array.from({ length: 8 }, (_, k) => half.slice(k * 9, k * 9 + 9).reduce((id, v, t) => id | ((v > 0 ? 1 : 0) << t), 0)));
    expect(l.weights.kind === 'codebook' && l.weights.codewords.length).toBe(own.size);
    expect(r.report.join('\n')).toMatch(/conv1: bconv2d 4→4 3x3, codebook τ=\d \(\d+ distinct kernels\); 2 output channels stored negated \(α < 0\)/);
    const alpha = r.model.layers[r.model.layers.indexOf(l) + 1];
    expect(alpha.op === 'affine' && Array.from(alpha.scale)).toEqual([0.5, 0.5, -0.5, -0.5]);
    if (l.weights.kind !== 'codebook' || alpha.op !== 'affine') return;
    for (let k = 0; k < 16; k++) {
      const id = l.weights.codewords[l.weights.indices[k]];
      for (let t = 0; t < 9; t++) expect(Math.sign(alpha.scale[k >> 2]) * (((id >> t) & 1) * 2 - 1) * 0.5).toBe(w[k * 9 + t]);
    }
  });

  it('loadModel reads .onnx files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnn-onnx-'));
    try {
      const { nodes, inits } = base();
      writeFileSync(join(dir, 'tiny.onnx'), encode(nodes, inits));
      const m = loadModel(join(dir, 'tiny.onnx'));
      expect(m.name).toBe('tiny');
      expect(m.layers.length).toBe(6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- errors --------------------------------------------------------------------------------------------

describe('ONNX import: errors name the node, op and reason', () => {
  const variant = (edit: (g: ReturnType<typeof base>) => void) => {
    const g = base();
    edit(g);
    return encode(g.nodes, g.inits);
  };

  it('an unsupported op', () => {
    const bytes = variant((g) => (g.nodes[g.nodes.findIndex((n) => n.name === 'act0')] = node('act0', 'Tanh', ['sb'], ['a0'])));
    expect(() => importOnnx(bytes)).toThrow(/^node 'act0' \(Tanh\): op Tanh is not supported by the ONNX importer/);
  });

  it('a non-zero Pad read by anything but an AveragePool, of the batch, of channels and map at once, or not of zeros', () => {
    const padded = (reader: NodeSpec, pads: number[], value?: number) => {
      const g = base();
      const at = g.nodes.findIndex((n) => n.name === 'act0');
      g.nodes.splice(at, 1, node('pad', 'Pad', value === undefined ? ['sb', 'pads'] : ['sb', 'pads', 'pv'], ['sp']), reader);
      g.inits.push(int64s('pads', pads), tensor('pv', [], [value ?? 0]));
      return encode(g.nodes, g.inits);
    };
    const sign = node('act0', 'Sign', ['sp'], ['a0']);
    const pool = node('act0', 'AveragePool', ['sp'], ['a0'], [ints('kernel_shape', [3, 3]), ints('strides', [1, 1])]);
    expect(() => importOnnx(padded(sign, [0, 0, 1, 1, 0, 0, 1, 1]))).toThrow(/^node 'pad' \(Pad\): zero padding read by Sign 'act0' is not supported/);
    expect(() => importOnnx(padded(pool, [2, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/^node 'pad' \(Pad\): padding \[2,0,0,0,0,0,0,0\] is not supported: only non-negative zero padding of C, or of H and W/);
    expect(() => importOnnx(padded(pool, [0, 2, 1, 0, 0, 0, 0, 0]))).toThrow(/^node 'pad' \(Pad\): padding \[0,2,1,0,0,0,0,0\] of both the channels and the map is not supported/);
    expect(() => importOnnx(padded(pool, [0, 0, 1, 1, 0, 0, 1, 1], 1))).toThrow(/^node 'pad' \(Pad\): constant padding with value 1 is not supported/);
  });

  it('a Softmax over a map or a non-class axis', () => {
    const g = base();
    g.nodes = g.nodes.map((n) => (n.name === 'gap' ? { ...n, input: ['a1s'] } : n));
    g.nodes.splice(g.nodes.findIndex((n) => n.name === 'gap'), 0, node('sm', 'Softmax', ['a1'], ['a1s'], [int('axis', 1)]));
    expect(() => importOnnx(encode(g.nodes, g.inits))).toThrow(/^node 'sm' \(Softmax\): Softmax over a rank-4 tensor is not supported/);
    const h = base();
    h.nodes[h.nodes.length - 1] = { ...h.nodes[h.nodes.length - 1], output: ['z'] };
    h.nodes.push(node('sm', 'LogSoftmax', ['z'], ['y'], [int('axis', 0)]));
    expect(() => importOnnx(encode(h.nodes, h.inits))).toThrow(/^node 'sm' \(LogSoftmax\): axis 0: only the class axis/);
  });

  it('a Conv with non-binary weights after Sign', () => {
    const bytes = variant((g) => (g.inits[g.inits.findIndex((t) => t.name === 'w1')] = tensor('w1', [4, 4, 3, 3], rand(144, 5))));
    expect(() => importOnnx(bytes)).toThrow(/^node 'conv1' \(Conv\): a Conv on a binary \(Sign\) activation must have binary weights: weights are not ±α per output channel: output channel 0/);
  });

  it('a missing initializer', () => {
    const bytes = variant((g) => (g.inits = g.inits.filter((t) => t.name !== 'w1')));
    expect(() => importOnnx(bytes)).toThrow(/^node 'conv1' \(Conv\): weights 'w1' is not an initializer, a graph input or a node output \(missing initializer\?\)/);
  });

  it('an initializer stored as external data', () => {
    const bytes = variant((g) => {
      const w = g.inits.find((t) => t.name === 'w0')!;
      delete w.float_data;
      w.data_location = 1;
      w.external_data = [{ key: 'location', value: 'weights.bin' }];
    });
    expect(() => importOnnx(bytes)).toThrow(/^initializer 'w0': its data is stored in an external file/);
  });

  it('a product of two activations, and a binary model output', () => {
    const mul = variant((g) => g.nodes.splice(g.nodes.findIndex((n) => n.name === 'act1'), 1, node('gate', 'Mul', ['c1b', 'sb'], ['c1r']), node('act1', 'Sign', ['c1r'], ['a1'])));
    expect(() => importOnnx(mul)).toThrow(/^node 'gate' \(Mul\): Mul of two activations is not supported \(only Add/);
    const g = base();
    expect(() => importOnnx(encode(g.nodes.slice(0, 8), g.inits, { output: 'a1' }))).toThrow(/the model output 'a1' is binary/);
  });

  it('bytes that are not ONNX, and a bad option', () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/^not a readable ONNX model/);
    const { nodes, inits } = base();
    expect(() => importOnnx(encode(nodes, inits), { bits: 12 })).toThrow(/^bits: expected an integer 1..9, got 12/);
  });

  it('a Conv with strides [0, 0] or bad pads is blamed on the Conv itself', () => {
    const at = (g: ReturnType<typeof base>) => g.nodes.findIndex((n) => n.name === 'conv1');
    const zero = variant((g) => g.nodes[at(g)].attribute!.push(ints('strides', [0, 0])));
    expect(() => importOnnx(zero)).toThrow(/^node 'conv1' \(Conv\): strides \[0,0\] must be two integers 1..15$/);
    const pads = variant((g) => (g.nodes[at(g)].attribute = [ints('pads', [1, -1, 1, 1])]));
    expect(() => importOnnx(pads)).toThrow(/^node 'conv1' \(Conv\): pads \[1,-1,1,1\] must be four non-negative integers$/);
  });

  it('names with control characters are escaped; an unnamed initializer is called by its position', () => {
    const ctl = variant((g) => (g.nodes[g.nodes.findIndex((n) => n.name === 'act0')] = node('act\u001b[31m0\n', 'Tanh', ['sb'], ['a0'])));
    expect(() => importOnnx(ctl)).toThrow(/^node 'act\\x1b\[31m0\\n' \(Tanh\)/);
    const unnamed = variant((g) => {
      const w = g.inits.find((t) => t.name === 'w0')!;
      (w as { name?: string }).name = '';
      w.float_data = [1, 2];
    });
    expect(() => importOnnx(unnamed)).toThrow(/^initializer #\d+ \(unnamed\): holds 2 values/);
  });

  it('--bits too small for the distinct kernels points at bnn-gen compact', () => {
    const { nodes, inits } = base();
    expect(() => importOnnx(encode(nodes, inits), { bits: 1 })).toThrow(/distinct 3x3 kernels do not fit a codebook of 2\^1 = 2 \(--bits 1\); import with a larger --bits \(or none\), then choose 2 codewords with: bnn-gen compact MODEL.json --bits 1/);
  });

  it('loadModel prefixes errors with the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnn-onnx-'));
    try {
      const path = join(dir, 'bad.onnx');
      writeFileSync(path, variant((g) => (g.inits = g.inits.filter((t) => t.name !== 'w1'))));
      expect(() => loadModel(path)).toThrow(`${path}: node 'conv1' (Conv): weights 'w1'`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
