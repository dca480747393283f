// `bnn-gen inspect`: the kernel distribution of every binary 3x3 layer over the 512 codewords — histogram,
// coverage of the most frequent codewords, entropy — and what Sparks compaction at τ = 3..9 would cost.
// Size / BOP formulas: /work/shared/context/sparks.md and report.ts (codebook BOPs = responses + accumulations / 2).
import * as vega from 'vega';
import type { Model } from '../model/ir.ts';
import { inferModel } from '../model/validate.ts';
import { histogram, inChannels, isBinary3x3, kernelIds, rankCodewords } from './kernels.ts';

export interface InspectOptions {
  /** Codebook sizes for the coverage columns (default 4, 8, 16, 32, 64). */
  coverage?: number[];
  /** τ values for the cost table (default 3..9). */
  taus?: number[];
}

export interface TauCost {
  tau: number;
  n: number;
  /** τ · C_out · C_in. */
  indexBits: number;
  /** 9 · 2^τ. */
  codebookBits: number;
  totalBits: number;
  /** H_out·W_out·C_in·9·n. */
  responses: number;
  /** H_out·W_out·C_in·C_out. */
  accumulations: number;
  /** responses + accumulations / 2. */
  bops: number;
}

export interface LayerInspect {
  index: number;
  name: string;
  outChannels: number;
  inChannels: number;
  outH: number;
  outW: number;
  kernels: number;
  distinct: number;
  /** Count per codeword id 0..511. */
  histogram: number[];
  /** Codeword ids by descending count (ties: lower id), with counts; only ids that occur. */
  ranked: { codeword: number; count: number }[];
  /** Fraction of kernels the k most frequent codewords cover. */
  coverage: { k: number; fraction: number }[];
  /** Shannon entropy of the kernel distribution, bits per kernel. */
  entropy: number;
  codebook: { n: number; tau: number } | null;
  /** Plain BNN: 9 · C_out · C_in bits, H_out·W_out·C_in·C_out·9 BOPs. */
  denseBits: number;
  denseBops: number;
  costs: TauCost[];
}

export interface InspectResult {
  name: string;
  layers: LayerInspect[];
}

export function inspectModel(model: Model, opts: InspectOptions = {}): InspectResult {
  const ks = opts.coverage ?? [4, 8, 16, 32, 64];
  const taus = opts.taus ?? [3, 4, 5, 6, 7, 8, 9];
  const table = inferModel(model);
  const layers: LayerInspect[] = [];
  model.layers.forEach((l, index) => {
    if (!isBinary3x3(l)) return;
    const out = table.get(l.output)!;
    const O = l.outChannels;
    const C = inChannels(l);
    const ids = kernelIds(l);
    const h = histogram(ids);
    const order = rankCodewords(h);
    const total = ids.length;
    const ranked = order.map((codeword) => ({ codeword, count: h[codeword] }));
    const coverage = ks.map((k) => ({ k, fraction: total ? ranked.slice(0, k).reduce((s, r) => s + r.count, 0) / total : 0 }));
    let entropy = 0;
    for (const r of ranked) {
      const p = r.count / total;
      entropy -= p * Math.log2(p);
    }
    const positions = out.shape[1] * out.shape[2];
    const costs = taus.map((tau) => {
      const n = 2 ** tau;
      const indexBits = tau * O * C;
      const codebookBits = 9 * n;
      const responses = positions * C * 9 * n;
      const accumulations = positions * C * O;
      return { tau, n, indexBits, codebookBits, totalBits: indexBits + codebookBits, responses, accumulations, bops: responses + accumulations / 2 };
    });
    layers.push({
      index,
      name: l.name,
      outChannels: O,
      inChannels: C,
      outH: out.shape[1],
      outW: out.shape[2],
      kernels: total,
      distinct: order.length,
      histogram: Array.from(h),
      ranked,
      coverage,
      entropy: entropy === 0 ? 0 : entropy,
      codebook: l.weights.kind === 'codebook' ? { n: l.weights.codewords.length, tau: l.weights.bits } : null,
      denseBits: 9 * O * C,
      denseBops: positions * C * O * 9,
      costs,
    });
  });
  return { name: model.name, layers };
}

// ---- text ------------------------------------------------------------------------------------------------

const pct = (f: number) => `${(100 * f).toFixed(1)}%`;
const num = (v: number) => (Number.isInteger(v) ? v : Math.round(v * 10) / 10).toLocaleString('en-US');

function table(rows: string[][], left: number): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

export function formatInspect(r: InspectResult): string {
  if (!r.layers.length) return `inspect: ${r.name}: no binary 3x3 layers`;
  const ks = r.layers[0].coverage.map((c) => c.k);
  const head = ['#', 'layer', 'O x C', 'out', 'kernels', 'distinct', 'entropy', 'codebook', ...ks.map((k) => `top${k}`)];
  const rows = [head];
  for (const l of r.layers) {
    rows.push([
      String(l.index),
      l.name,
      `${l.outChannels}x${l.inChannels}`,
      `${l.outH}x${l.outW}`,
      num(l.kernels),
      num(l.distinct),
      l.entropy.toFixed(3),
      l.codebook ? `τ=${l.codebook.tau} n=${l.codebook.n}` : 'plain',
      ...l.coverage.map((c) => pct(c.fraction)),
    ]);
  }
  const taus = r.layers[0].costs.map((c) => c.tau);
  const cost = [['#', 'layer', 'dense bits', ...taus.map((t) => `bits τ=${t}`), 'dense BOPs', ...taus.map((t) => `BOPs τ=${t}`)]];
  for (const l of r.layers) cost.push([String(l.index), l.name, num(l.denseBits), ...l.costs.map((c) => num(c.totalBits)), num(l.denseBops), ...l.costs.map((c) => num(c.bops))]);
  return [
    `inspect: ${r.name}: ${r.layers.length} binary 3x3 layer(s); kernel tap t = 3·ky + kx is +1 iff bit t of the codeword id is set`,
    '',
    table(rows, 2),
    '',
    'size (index bits τ·C_out·C_in + codebook bits 9·2^τ) and BOPs (responses H·W·C_in·9·2^τ + ½ × accumulations H·W·C_in·C_out) per τ:',
    '',
    table(cost, 2),
  ].join('\n');
}

/** JSON without the 512-entry histograms' zeros dominating: the full result, pretty-printed. */
export function inspectJson(r: InspectResult): string {
  return JSON.stringify(r, null, 2);
}

// ---- plot ------------------------------------------------------------------------------------------------

/** SVG rank–frequency plot (log–log), one line per layer, rendered by Vega (headless, no canvas). */
export async function inspectPlot(r: InspectResult, opts: { width?: number; height?: number } = {}): Promise<string> {
  const values = r.layers.flatMap((l) => l.ranked.map((e, i) => ({ layer: `${l.index}: ${l.name}`, rank: i + 1, frequency: e.count / l.kernels })));
  const spec: vega.Spec = {
    width: opts.width ?? 560,
    height: opts.height ?? 360,
    padding: 8,
    title: { text: `${r.name}: kernel rank–frequency per binary 3x3 layer` },
    data: [{ name: 'points', values }],
    scales: [
      { name: 'x', type: 'log', domain: { data: 'points', field: 'rank' }, range: 'width', nice: true },
      { name: 'y', type: 'log', domain: { data: 'points', field: 'frequency' }, range: 'height', nice: true },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'layer' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'codeword rank', grid: true },
      { orient: 'left', scale: 'y', title: 'fraction of kernels', grid: true },
    ],
    legends: [{ stroke: 'color', title: 'layer', symbolType: 'stroke' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'points', groupby: 'layer' } },
        marks: [
          {
            type: 'line',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'rank' },
                y: { scale: 'y', field: 'frequency' },
                stroke: { scale: 'color', field: 'layer' },
                strokeWidth: { value: 1.5 },
              },
            },
          },
        ],
      },
    ],
  };
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
