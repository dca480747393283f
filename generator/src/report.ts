// `bnn-gen report`: what a model costs — per layer shapes, binary MACs, BOPs (dense, and with Sparks codebook
// sharing), weight bits by category — with totals, the flash the emitted C tables take and the exact arena.
//
// BOP conventions (docs/onnx.md#report, /work/shared/context/sparks.md):
// - dense: a binary conv does H_out·W_out·C_in·C_out·kh·kw binary multiply-accumulates (XNOR + popcount), one BOP
//   each; a binary dense layer K·N. This equals its binary MACs.
// - codebook sharing (Sparks): with n distinct 3x3 codewords, each input channel's responses to the n codewords
//   are computed once per output position, H_out·W_out·C_in·9·n BOPs ("responses"), then gathered per output
//   channel, H_out·W_out·C_in·C_out additions ("accumulations"). The literature counts an accumulation as about
//   half a BOP: codebook BOPs = responses + accumulations / 2. Both parts are reported separately as well.
//   Layers without a codebook (plain 1-bit weights, binary dense) count their dense BOPs in the codebook total.
// - OPs (Bi-Real / ReActNet convention): BOPs / 64 + real MACs (FLOPs).
import type { Layer, Model, TensorInfo } from './model/ir.ts';
import { inferModel } from './model/validate.ts';
import { opOf } from './ops/registry.ts';
import type { LayerBops, TableCategory, WeightBits } from './ops/types.ts';

/** BOPs of a binary layer as the report shows them. */
export type ReportBops = Omit<LayerBops, 'binaryWeights'>;
import { resolve, type ModelInfo } from './plan/resolve.ts';

export type { LayerBops, WeightBits } from './ops/types.ts';

export interface LayerReport {
  index: number;
  name: string;
  op: Layer['op'];
  /** Short description: kernel size, codebook / plain, threshold. */
  what: string;
  inputs: TensorInfo[];
  output: TensorInfo;
  binaryMacs: number;
  realMacs: number;
  bops: ReportBops | null;
  weightBits: WeightBits;
  /** Bytes of this layer's constant tables in the emitted C. */
  flashBytes: number;
  /** Arena bytes in use while it runs (maps alive and its scratch): the peak RAM per layer. */
  liveBytes: number;
}

export interface ModelReport {
  name: string;
  input: TensorInfo;
  output: TensorInfo;
  layers: LayerReport[];
  totals: {
    layers: number;
    binaryLayers: number;
    codebookLayers: number;
    binaryWeights: number;
    binaryMacs: number;
    realMacs: number;
    bopsDense: number;
    /** Codebook layers' responses / accumulations summed; layers without a codebook add nothing here. */
    responses: number;
    accumulations: number;
    /** Σ over binary layers: codebook layers responses + accumulations / 2, others their dense BOPs. */
    bopsCodebook: number;
    /** The same with every accumulation counted as a whole BOP. */
    bopsCodebookFullAccumulations: number;
    /** BOPs / 64 + real MACs, with dense and with codebook BOPs. */
    opsDense: number;
    opsCodebook: number;
    weightBits: WeightBits & { total: number };
    /** Codebook layers on which sharing costs more than the dense count (n·9 + C_out/2 > 9·C_out). */
    sharingDoesNotPay: string[];
  };
  /** Bytes of the emitted C constant tables, by category (as `bnn-gen` prints). */
  flash: Record<TableCategory, number> & { total: number };
  /** Exact activation arena of the emitted C (bytes): emitModel's default kernel choice, without a board's limit. */
  arenaBytes: number;
  /** The most bytes of maps alive at one step: no plan of these maps takes less (scratch aside). */
  arenaLowerBound: number;
  conventions: string[];
}

export const CONVENTIONS = [
  'BOPs dense: H_out·W_out·C_in·C_out·kh·kw per binary conv (K·N per binary dense) = binary MACs',
  'BOPs codebook (Sparks sharing, n distinct 3x3 codewords): responses H_out·W_out·C_in·9·n + accumulations H_out·W_out·C_in·C_out counted at ½ BOP each (literature convention); layers without a codebook count their dense BOPs',
  'OPs: BOPs / 64 + real MACs (Bi-Real / ReActNet convention)',
  'weight bits: codebook 9·n, indices τ·C_out·C_in, thresholds 33 per channel (int32 + flip), plain binary 1 per weight, real-valued 32 per float32 parameter',
];

function zeroBits(): WeightBits {
  return { codebook: 0, indices: 0, thresholds: 0, binary: 0, real: 0, int: 0 };
}


/** A layer's weight bits with every category present. */
function layerBits(l: Layer): WeightBits {
  return { ...zeroBits(), ...opOf(l).bits(l) };
}

/** The report of a model; `info` (its resolution) is computed when not given. */
export function modelReport(model: Model, info: ModelInfo = resolve(model).info): ModelReport {
  const table = inferModel(model);
  const binaryWeightsOf = new Map<number, number>();
  const layers: LayerReport[] = model.layers.map((l, i) => {
    const inputs = l.inputs.map((t) => table.get(t)!);
    const output = table.get(l.output)!;
    const li = info.layers[i];
    const b = opOf(l).bops?.(l, inputs, output);
    if (b) binaryWeightsOf.set(i, b.binaryWeights);
    return {
      index: i,
      name: l.name,
      op: l.op,
      what: opOf(l).describe(l),
      inputs,
      output,
      binaryMacs: li.cost.binaryMacs,
      realMacs: li.cost.realMacs,
      bops: b ? { dense: b.dense, ...(b.codebook ? { codebook: b.codebook } : {}) } : null,
      weightBits: layerBits(l),
      flashBytes: Object.values(li.weightBytes).reduce((a, b) => a + b, 0),
      liveBytes: li.liveBytes,
    };
  });
  const bits = zeroBits();
  for (const l of layers) for (const k of Object.keys(bits) as (keyof WeightBits)[]) bits[k] += l.weightBits[k];
  const sum = (f: (l: LayerReport) => number) => layers.reduce((s, l) => s + f(l), 0);
  const bopsDense = sum((l) => l.bops?.dense ?? 0);
  const responses = sum((l) => l.bops?.codebook?.responses ?? 0);
  const accumulations = sum((l) => l.bops?.codebook?.accumulations ?? 0);
  const bopsCodebook = sum((l) => (l.bops ? l.bops.codebook?.bops ?? l.bops.dense : 0));
  const realMacs = sum((l) => l.realMacs);
  const binaryWeights = [...binaryWeightsOf.values()].reduce((a, v) => a + v, 0);
  const out = table.get(model.output)!;
  return {
    name: model.name,
    input: { dtype: model.input.dtype, shape: model.input.shape },
    output: out,
    layers,
    totals: {
      layers: layers.length,
      binaryLayers: layers.filter((l) => l.bops).length,
      codebookLayers: layers.filter((l) => l.bops?.codebook).length,
      binaryWeights,
      binaryMacs: sum((l) => l.binaryMacs),
      realMacs,
      bopsDense,
      responses,
      accumulations,
      bopsCodebook,
      bopsCodebookFullAccumulations: bopsCodebook + accumulations / 2,
      opsDense: bopsDense / 64 + realMacs,
      opsCodebook: bopsCodebook / 64 + realMacs,
      weightBits: { ...bits, total: Object.values(bits).reduce((a, b) => a + b, 0) },
      sharingDoesNotPay: layers.filter((l) => l.bops?.codebook && l.bops.codebook.bops > l.bops.dense).map((l) => l.name),
    },
    flash: { ...info.weightBytes, total: info.totalWeightBytes },
    arenaBytes: info.arenaSize,
    arenaLowerBound: info.arenaLowerBound,
    conventions: CONVENTIONS,
  };
}

// ---- text -------------------------------------------------------------------------------------------------

const num = (v: number) => (Number.isInteger(v) ? v : Math.round(v * 10) / 10).toLocaleString('en-US');

/** 1,234,567 -> "1.23 M" style figure for the totals. */
function si(v: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [d, u] of units) if (Math.abs(v) >= d) return `${(v / d).toPrecision(3)} ${u}`;
  return String(Math.round(v * 10) / 10);
}

const shape = (t: TensorInfo) => `${t.dtype}[${t.shape.join('x')}]`;

function table(rows: string[][], left: number): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

export function formatReport(r: ModelReport): string {
  const rows = [['#', 'layer', 'op', 'what', 'input', 'output', 'binary MACs', 'BOPs dense', 'BOPs codebook', 'responses', 'accumulations', 'real MACs', 'weight bits', 'RAM in use B']];
  for (const l of r.layers) {
    const cb = l.bops?.codebook;
    const wb = Object.values(l.weightBits).reduce((a, b) => a + b, 0);
    rows.push([
      String(l.index),
      l.name,
      l.op,
      l.what,
      l.inputs.map(shape).join(' + '),
      shape(l.output),
      l.binaryMacs ? num(l.binaryMacs) : '',
      l.bops ? num(l.bops.dense) : '',
      l.bops ? num(cb ? cb.bops : l.bops.dense) : '',
      cb ? num(cb.responses) : '',
      cb ? num(cb.accumulations) : '',
      l.realMacs ? num(l.realMacs) : '',
      wb ? num(wb) : '',
      num(l.liveBytes),
    ]);
  }
  const t = r.totals;
  const b = t.weightBits;
  const f = r.flash;
  const mb = (bits: number) => `${si(bits / 8)}B`;
  const peak = r.layers.reduce((a, l) => (l.liveBytes > a.liveBytes ? l : a), r.layers[0]);
  const lines = [
    `report: ${r.name}: ${shape(r.input)} -> ${shape(r.output)}`,
    '',
    table(rows, 6),
    '',
    `totals over ${t.layers} layers (${t.binaryLayers} binary, ${t.codebookLayers} with a codebook); ${num(t.binaryWeights)} binary weights`,
    `  binary MACs:        ${num(t.binaryMacs)} (${si(t.binaryMacs)})`,
    `  real MACs (FLOPs):  ${num(t.realMacs)} (${si(t.realMacs)})`,
    `  BOPs dense:         ${num(t.bopsDense)} (${si(t.bopsDense)})  [H_out·W_out·C_in·C_out·k·k per binary conv]`,
    `  BOPs codebook:      ${num(t.bopsCodebook)} (${si(t.bopsCodebook)})  [responses H_out·W_out·C_in·9·n = ${num(t.responses)} + ½ × accumulations H_out·W_out·C_in·C_out = ${num(t.accumulations)}: the literature's ½-BOP convention; layers without a codebook count dense]`,
    `                      ${num(t.bopsCodebookFullAccumulations)} (${si(t.bopsCodebookFullAccumulations)}) counting each accumulation as 1 BOP`,
    `  OPs (BOPs/64 + FLOPs, Bi-Real/ReActNet convention): ${si(t.opsDense)} dense, ${si(t.opsCodebook)} codebook`,
    ...(t.sharingDoesNotPay.length ? [`  codebook sharing costs more than dense on: ${t.sharingDoesNotPay.join(', ')} (n·9 + C_out/2 > 9·C_out)`] : []),
    `  weight bits:        ${num(b.total)} (${mb(b.total)}): codebook ${num(b.codebook)}, indices ${num(b.indices)}, thresholds ${num(b.thresholds)}, plain binary ${num(b.binary)}, real-valued ${num(b.real)}${b.int ? `, integer ${num(b.int)}` : ''}`,
    `  weight flash (emitted C tables): ${num(f.total)} B: codebook ${num(f.codebook)}, indices ${num(f.indices)}, thresholds ${num(f.thresholds)}, binary weights ${num(f.binary)}, real-valued ${num(f.real)}, integer ${num(f.int)}`,
    `  arena:              ${num(r.arenaBytes)} B (exact, as \`bnn-gen --no-board\` plans it: kernels chosen by the cost model, no board RAM limit); lower bound ${num(r.arenaLowerBound)} B (the maps alive at once)`,
    `  RAM in use:         at most ${num(peak.liveBytes)} B, at layer ${peak.index} (${peak.name}): its maps alive and its scratch (column "RAM in use B"; the arena adds alignment and placement)`,
  ];
  return lines.join('\n');
}

/** JSON-friendly report (plain numbers and strings). */
export function reportJson(r: ModelReport): string {
  return JSON.stringify(r, null, 2);
}
