// Decode an .onnx file with protobufjs and the official ONNX schema (vendor/onnx/onnx.proto, copied verbatim
// from the onnx 1.12 Python package, Apache-2.0) into a small plain graph: nodes, attributes and constant tensors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { BnnError, printable, quoted } from '../../core/errors.ts';
import { VENDOR_DIR } from '../../core/paths.ts';
import { type Const, makeConst, type ConstType, wrapConst } from './tensor.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type AttrValue = number | string | number[] | string[] | Const;

export interface OnnxNode {
  /** The node's name, or `<op_type>#<index>` when the exporter left it empty (for messages). */
  name: string;
  op: string;
  domain: string;
  inputs: string[]; // '' marks an omitted optional input
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

export interface OnnxInput {
  name: string;
  elemType: number; // TensorProto.DataType
  dims: (number | string)[]; // dim_value, or dim_param for a symbolic dimension
}

export interface OnnxGraph {
  name: string;
  producer: string;
  opset: number; // version of the default ('' / 'ai.onnx') domain
  nodes: OnnxNode[];
  initializers: Map<string, Const>;
  inputs: OnnxInput[]; // graph inputs that are not initializers
  outputs: string[];
}

/** The error for anything wrong with one node: names the node, its op and why. */
export function nodeError(n: OnnxNode, why: string): BnnError {
  return new BnnError(`node ${quoted(n.name)} (${printable(n.op, 40)}): ${why}`);
}

export function attrInt(n: OnnxNode, name: string, dflt: number): number {
  const v = n.attrs.get(name);
  return typeof v === 'number' ? v : dflt;
}

export function attrFloat(n: OnnxNode, name: string): number | undefined {
  const v = n.attrs.get(name);
  return typeof v === 'number' ? v : undefined;
}

export function attrInts(n: OnnxNode, name: string): number[] | undefined {
  const v = n.attrs.get(name);
  return Array.isArray(v) ? (v as number[]) : undefined;
}

/** TensorProto.DataType codes used here. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

const SCHEMA = join(VENDOR_DIR, 'onnx', 'onnx.proto');
let modelType: protobuf.Type | undefined;

/** The onnx.ModelProto message type (tests use it to encode small models). */
export function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(readFileSync(SCHEMA, 'utf8'), { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

// protobufjs output after toObject({ longs: Number }): snake_case keys as in onnx.proto.
interface TensorMsg {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  uint64_data?: number[];
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
  segment?: unknown;
}
interface AttrMsg {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
interface NodeMsg {
  name?: string;
  op_type?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttrMsg[];
}
interface ValueInfoMsg {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}
interface ModelMsg {
  producer_name?: string;
  opset_import?: { domain?: string; version?: number }[];
  graph?: {
    name?: string;
    node?: NodeMsg[];
    initializer?: TensorMsg[];
    sparse_initializer?: unknown[];
    input?: ValueInfoMsg[];
    output?: ValueInfoMsg[];
  };
}

/** How each supported TensorProto.DataType is held as a Const. */
export const CONST_TYPE: Record<number, ConstType> = {
  [DT.FLOAT]: 'float',
  [DT.DOUBLE]: 'double',
  [DT.UINT8]: 'int',
  [DT.INT8]: 'int',
  [DT.UINT16]: 'int',
  [DT.INT16]: 'int',
  [DT.INT32]: 'int',
  [DT.INT64]: 'int',
  [DT.BOOL]: 'bool',
};

/** Element reader for raw_data (little-endian, as the ONNX spec requires). */
function rawReader(dt: number): [number, (v: DataView, o: number) => number] | undefined {
  switch (dt) {
    case DT.FLOAT:
      return [4, (v, o) => v.getFloat32(o, true)];
    case DT.DOUBLE:
      return [8, (v, o) => v.getFloat64(o, true)];
    case DT.UINT8:
    case DT.BOOL:
      return [1, (v, o) => v.getUint8(o)];
    case DT.INT8:
      return [1, (v, o) => v.getInt8(o)];
    case DT.UINT16:
      return [2, (v, o) => v.getUint16(o, true)];
    case DT.INT16:
      return [2, (v, o) => v.getInt16(o, true)];
    case DT.INT32:
      return [4, (v, o) => v.getInt32(o, true)];
    case DT.INT64:
      return [8, (v, o) => Number(v.getBigInt64(o, true))];
  }
  return undefined;
}

/** A TensorProto as a Const; `what` names it in errors ("initializer 'w'", "attribute value of node 'c'"). */
export function tensorFromProto(t: TensorMsg, what: string): Const {
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0) {
    throw new BnnError(
      `${what}: its data is stored in an external file, which this importer does not read; ` +
        `re-export with the weights inside the .onnx file (onnx.save_model(m, path, save_as_external_data=False))`,
    );
  }
  if (t.segment) throw new BnnError(`${what}: segmented tensors are not supported`);
  const dt = t.data_type ?? 0;
  const type = CONST_TYPE[dt];
  if (!type) throw new BnnError(`${what}: tensor element type ${dt} (TensorProto.DataType) is not supported`);
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float64Array;
  if (t.raw_data && t.raw_data.length > 0) {
    const [size, read] = rawReader(dt)!;
    if (t.raw_data.length !== n * size) throw new BnnError(`${what}: raw_data holds ${t.raw_data.length} bytes, shape [${dims}] needs ${n * size}`);
    if (dt === DT.FLOAT && LITTLE_ENDIAN) {
      // Bulk path for weights (tens of millions of floats): copy the bytes, view them as float32, widen. The values
      // are float32 already, so no rounding is needed.
      const f32 = new Float32Array(Uint8Array.prototype.slice.call(t.raw_data).buffer, 0, n); // a copy, even of a Buffer
      const wide = new Float64Array(n);
      wide.set(f32);
      return wrapConst('float', dims, wide);
    }
    const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
    data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = read(view, i * size);
  } else {
    // Typed fields: float_data for FLOAT, int32_data for the small integer types and BOOL, int64_data, double_data.
    const src = dt === DT.FLOAT ? t.float_data : dt === DT.DOUBLE ? t.double_data : dt === DT.INT64 ? t.int64_data : t.int32_data;
    data = Float64Array.from(src ?? []);
    if (data.length !== n) throw new BnnError(`${what}: holds ${data.length} values, shape [${dims}] needs ${n}`);
  }
  return makeConst(type, dims, data);
}

/** Attribute type; very old exporters leave `type` unset, so infer it from the field that is present. */
function attrType(a: AttrMsg): number {
  if (a.type) return a.type;
  if (a.f !== undefined) return 1;
  if (a.i !== undefined) return 2;
  if (a.s !== undefined) return 3;
  if (a.t !== undefined) return 4;
  if (a.floats?.length) return 6;
  if (a.ints?.length) return 7;
  if (a.strings?.length) return 8;
  return 0;
}

function attrValue(a: AttrMsg, where: string): AttrValue {
  const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  switch (attrType(a)) {
    case 1:
      return a.f ?? 0;
    case 2:
      return a.i ?? 0;
    case 3:
      return utf8(a.s ?? new Uint8Array());
    case 4:
      return tensorFromProto(a.t ?? {}, `${where} attribute '${a.name}'`);
    case 6:
      return a.floats ?? [];
    case 7:
      return a.ints ?? [];
    case 8:
      return (a.strings ?? []).map(utf8);
  }
  // Graphs, sparse tensors and type protos never occur in the ops we lower; keep them out of reach.
  return `<unsupported attribute type ${a.type}>`;
}

/** Parse .onnx bytes. Errors are BnnErrors naming what is wrong. */
export function parseOnnx(bytes: Uint8Array): OnnxGraph {
  let m: ModelMsg;
  try {
    const type = modelProto();
    m = type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as ModelMsg;
  } catch (e) {
    throw new BnnError(`not a readable ONNX model: ${(e as Error).message}`);
  }
  const g = m.graph;
  if (!g || !g.node) throw new BnnError('not a readable ONNX model: it has no graph');
  if ((g.sparse_initializer?.length ?? 0) > 0) throw new BnnError('sparse initializers are not supported');
  const opset = (m.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;

  const initializers = new Map<string, Const>();
  (g.initializer ?? []).forEach((t, i) => initializers.set(t.name ?? '', tensorFromProto(t, t.name ? `initializer ${quoted(t.name)}` : `initializer #${i} (unnamed)`)));

  const nodes = g.node.map((n, i): OnnxNode => {
    const name = n.name || `${n.op_type}#${i}`;
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) attrs.set(a.name ?? '', attrValue(a, `node '${name}' (${n.op_type})`));
    return { name, op: n.op_type ?? '', domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs };
  });

  // Older exporters list every initializer as a graph input too; those are weights, not model inputs.
  const inputs = (g.input ?? [])
    .filter((v) => !initializers.has(v.name ?? ''))
    .map((v): OnnxInput => {
      const tt = v.type?.tensor_type;
      return { name: v.name ?? '', elemType: tt?.elem_type ?? 0, dims: (tt?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? '?') };
    });
  return { name: g.name ?? '', producer: m.producer_name ?? '', opset, nodes, initializers, inputs, outputs: (g.output ?? []).map((o) => o.name ?? '') };
}
