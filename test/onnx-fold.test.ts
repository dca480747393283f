// The ONNX constant folder, op by op, against an independent implementation: ONNX Runtime (onnxruntime-web, its
// WebAssembly build running in Node). Each case is a one-node model on seeded random tensors; ONNX Runtime runs it with
// the tensors as graph inputs, the folder evaluates it with the same tensors as initializers. Element-wise and
// layout ops must agree bit for bit; transcendental functions within 1 ulp; sums (reductions, MatMul) within n
// float32 roundings of the largest value (n: the length of the sum).
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { FOLDABLE, Folder } from '../generator/src/import/onnx/fold/index.ts';
import { DT, modelProto, parseOnnx } from '../generator/src/import/onnx/proto.ts';
import { Rand } from '../generator/src/ir/random.ts';

type Kind = 'float' | 'int64' | 'bool';
interface T {
  name: string;
  kind: Kind;
  dims: number[];
  data: number[];
}
type Attr = { name: string; type: number; i?: number; f?: number; ints?: number[]; t?: object };
interface Case {
  op: string;
  inputs: T[];
  attrs?: Attr[];
  /** 'exact' (default), 'ulp' (1 ulp), or the length of the float32 sums involved. */
  tol?: 'exact' | 'ulp' | number;
}

const ELEM = { float: DT.FLOAT, int64: DT.INT64, bool: DT.BOOL };
const int = (name: string, i: number): Attr => ({ name, type: 2, i });
const ints = (name: string, v: number[]): Attr => ({ name, type: 7, ints: v });

function tensorMsg(t: T) {
  const base = { name: t.name, dims: t.dims, data_type: ELEM[t.kind] };
  if (t.kind === 'float') return { ...base, float_data: t.data };
  if (t.kind === 'bool') return { ...base, int32_data: t.data };
  return { ...base, int64_data: t.data };
}

/** A one-node model; `fed` tensors are graph inputs (for ONNX Runtime), the rest initializers. */
function model(c: Case, fed: boolean): Uint8Array {
  const T = modelProto();
  const feeds = fed ? c.inputs.filter((t) => t.kind === 'float') : [];
  const inits = c.inputs.filter((t) => !feeds.includes(t));
  return T.encode(T.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: c.op,
      node: [{ name: 'n', op_type: c.op, input: c.inputs.map((t) => t.name), output: ['y'], attribute: c.attrs ?? [] }],
      initializer: inits.map(tensorMsg),
      input: feeds.map((t) => ({ name: t.name, type: { tensor_type: { elem_type: ELEM[t.kind], shape: { dim: t.dims.map((d) => ({ dim_value: d })) } } } })),
      output: [{ name: 'y' }],
    },
  })).finish();
}

async function viaOrt(c: Case): Promise<{ dims: number[]; data: number[] }> {
  const s = await ort.InferenceSession.create(model(c, true));
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of c.inputs.filter((t) => t.kind === 'float')) feeds[t.name] = new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
  const y = (await s.run(feeds)).y;
  return { dims: [...y.dims], data: Array.from(y.data as ArrayLike<number | bigint>, Number) };
}

function viaFolder(c: Case): { dims: number[]; data: number[] } {
  const g = parseOnnx(model(c, false));
  const y = new Folder(g, () => undefined).get('y');
  if (!y) throw new Error('the folder did not fold');
  return { dims: y.dims, data: Array.from(y.data) };
}

// ---- seeded cases -------------------------------------------------------------------------------------------

const r = new Rand(2026);
const f32 = (name: string, dims: number[], lo = -2, hi = 2): T => ({ name, kind: 'float', dims, data: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.fround(lo + (hi - lo) * r.next())) });
const i64 = (name: string, data: number[], dims = [data.length]): T => ({ name, kind: 'int64', dims, data });
const bool = (name: string, dims: number[]): T => ({ name, kind: 'bool', dims, data: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (r.bool() ? 1 : 0)) });
// Halves and integers so Round, Floor, Ceil and the comparisons meet their ties.
const ties = (name: string, dims: number[]): T => ({ ...f32(name, dims), data: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => r.int(-8, 8) / 2) });

const CASES: Case[] = [
  ...['Sign', 'Abs', 'Neg', 'Floor', 'Ceil', 'Round'].map((op) => ({ op, inputs: [ties('a', [3, 4, 5])] })),
  { op: 'Round', inputs: [f32('a', [4, 6], -5, 5)] },
  { op: 'Sqrt', inputs: [f32('a', [2, 3, 4], 0, 9)] },
  { op: 'Reciprocal', inputs: [f32('a', [7], 0.1, 4)] },
  { op: 'Log', inputs: [f32('a', [2, 50], 1e-3, 100)], tol: 'ulp' },
  { op: 'Exp', inputs: [f32('a', [2, 50], -10, 10)], tol: 'ulp' },
  ...['Add', 'Sub', 'Mul', 'Div', 'Min', 'Max'].map((op) => ({ op, inputs: [f32('a', [2, 3, 4]), f32('b', [3, 1])] })),
  { op: 'Sum', inputs: [f32('a', [3, 4]), f32('b', [4]), f32('c', [3, 1])] },
  { op: 'Pow', inputs: [f32('a', [3, 4], 0.1, 3), f32('b', [4], -2, 2)], tol: 'ulp' },
  ...['Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Equal'].map((op) => ({ op, inputs: [ties('a', [4, 5]), ties('b', [5])] })),
  ...['And', 'Or', 'Xor'].map((op) => ({ op, inputs: [bool('a', [3, 4]), bool('b', [4])] })),
  { op: 'Not', inputs: [bool('a', [3, 4])] },
  { op: 'Where', inputs: [bool('c', [3, 1]), f32('a', [3, 4]), f32('b', [4])] },
  { op: 'Clip', inputs: [f32('a', [3, 4]), f32('lo', [], -0.5, -0.5), f32('hi', [], 0.7, 0.7)] },
  { op: 'Cast', inputs: [ties('a', [3, 4])], attrs: [int('to', DT.INT64)] },
  { op: 'Cast', inputs: [ties('a', [3, 4])], attrs: [int('to', DT.BOOL)] },
  ...['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp'].flatMap((op) => [
    { op, inputs: [f32('a', [4, 3, 3, 3], 0.2, 1.5)], attrs: [ints('axes', [1, 2, 3])], tol: 27 },
    { op, inputs: [f32('a', [4, 6, 2], 0.2, 1.5)], attrs: [ints('axes', [-2]), int('keepdims', 0)], tol: 6 },
  ]),
  { op: 'ReduceLogSum', inputs: [f32('a', [5, 8], 0.2, 1.5)], attrs: [ints('axes', [1])], tol: 8 },
  { op: 'ReduceSum', inputs: [f32('a', [4, 3, 3, 3]), i64('axes', [1, 3])], tol: 9 },
  { op: 'ReduceSum', inputs: [f32('a', [4, 5])], attrs: [int('keepdims', 0)], tol: 20 },
  { op: 'ArgMax', inputs: [ties('a', [4, 7])], attrs: [int('axis', 1)] },
  { op: 'ArgMin', inputs: [ties('a', [4, 7])], attrs: [int('axis', 0), int('keepdims', 0)] },
  { op: 'ArgMax', inputs: [ties('a', [4, 7])], attrs: [int('axis', 1), int('select_last_index', 1)] },
  { op: 'MatMul', inputs: [f32('a', [3, 8]), f32('b', [8, 5])], tol: 8 },
  { op: 'MatMul', inputs: [f32('a', [2, 3, 8]), f32('b', [8, 4])], tol: 8 },
  { op: 'MatMul', inputs: [f32('a', [8]), f32('b', [2, 8, 3])], tol: 8 },
  { op: 'Reshape', inputs: [f32('a', [2, 3, 4]), i64('s', [0, -1, 2])] },
  { op: 'Flatten', inputs: [f32('a', [2, 3, 4])], attrs: [int('axis', 2)] },
  { op: 'Unsqueeze', inputs: [f32('a', [3, 4]), i64('axes', [0, -1])] },
  { op: 'Squeeze', inputs: [f32('a', [3, 1, 4, 1]), i64('axes', [1])] },
  { op: 'Transpose', inputs: [f32('a', [2, 3, 4])], attrs: [ints('perm', [2, 0, 1])] },
  { op: 'Concat', inputs: [f32('a', [2, 3, 2]), f32('b', [2, 1, 2]), f32('c', [2, 2, 2])], attrs: [int('axis', 1)] },
  { op: 'Gather', inputs: [f32('a', [5, 3]), i64('i', [4, 0, -1, 2, 2, 1], [2, 3])], attrs: [int('axis', 0)] },
  { op: 'Gather', inputs: [f32('a', [2, 5, 3]), i64('i', [1, -2], [2])], attrs: [int('axis', 1)] },
  { op: 'GatherElements', inputs: [f32('a', [3, 4]), i64('i', [0, 3, 1, -1, 2, 2], [3, 2])], attrs: [int('axis', 1)] },
  { op: 'Slice', inputs: [f32('a', [6, 8]), i64('s', [1, -1]), i64('e', [100, 0]), i64('ax', [0, 1]), i64('st', [2, -3])] },
  { op: 'Slice', inputs: [f32('a', [1, 4, 6, 6]), i64('s', [0, 0]), i64('e', [6, 6]), i64('ax', [2, 3]), i64('st', [2, 2])] },
  { op: 'Expand', inputs: [f32('a', [3, 1]), i64('s', [2, 1, 4])] },
  { op: 'Expand', inputs: [f32('a', [1, 4, 1, 1]), i64('s', [1, 4, 3, 5])] },
  { op: 'Tile', inputs: [f32('a', [2, 3]), i64('rep', [2, 3])] },
  { op: 'Range', inputs: [i64('s', [2], []), i64('l', [17], []), i64('d', [3], [])] },
  { op: 'Range', inputs: [f32('s', [], 1, 1), f32('l', [], -2, -2), f32('d', [], -0.75, -0.75)] },
  { op: 'Size', inputs: [f32('a', [2, 3, 4])] },
  { op: 'Shape', inputs: [f32('a', [2, 3, 4])] },
  { op: 'ConstantOfShape', inputs: [i64('s', [2, 3])], attrs: [{ name: 'value', type: 4, t: { dims: [1], data_type: DT.FLOAT, float_data: [1.5] } }] },
];

/** Units in the last place between two float32 values. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat32(0, a);
  v.setFloat32(4, b);
  const key = (i: number) => (v.getInt32(i) < 0 ? -(v.getInt32(i) & 0x7fffffff) : v.getInt32(i));
  return Math.abs(key(0) - key(4));
}

describe('ONNX constant folder == ONNX Runtime, op by op', () => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';

  it('every op the folder claims has a case here (Identity, Dropout, Constant excepted: no computation)', () => {
    const tested = new Set(CASES.map((c) => c.op));
    expect(FOLDABLE.filter((op) => !tested.has(op) && !['Identity', 'Dropout', 'Constant'].includes(op))).toEqual([]);
  });

  for (const [k, c] of CASES.entries()) {
    it(`${c.op} #${k}: ${c.inputs.map((t) => `[${t.dims}]`).join(' ')}${c.attrs ? ' ' + c.attrs.map((a) => a.name).join(',') : ''}`, async () => {
      const want = await viaOrt(c);
      const got = viaFolder(c);
      expect(got.dims).toEqual(want.dims);
      const tol = c.tol ?? 'exact';
      if (tol === 'exact') expect(got.data).toEqual(want.data);
      else if (tol === 'ulp') expect(Math.max(...got.data.map((g, i) => ulps(g, want.data[i])))).toBeLessThanOrEqual(1);
      else {
        // A float32 sum of n terms in any order: within n roundings of the largest magnitude involved.
        const scale = Math.max(...want.data.map(Math.abs), 1e-30);
        const worst = Math.max(...got.data.map((g, i) => Math.abs(g - want.data[i])));
        expect(worst).toBeLessThanOrEqual(tol * 2 ** -23 * scale);
      }
    });
  }
});
