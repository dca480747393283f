// Human-readable summaries printed by the CLI.
import type { ModelInfo } from '../emit/model-c.ts';

const n = (v: number) => v.toLocaleString('en-US');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c <= 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

/** Why each fast kernel (or the portable one beside a fast candidate) was picked: the planner's estimates. */
function kernelReasons(info: ModelInfo): string[] {
  const why = info.layers.filter((l) => l.why);
  return why.length ? ['kernels:', ...why.map((l) => `  ${l.index} ${l.name}: ${l.why}`)] : [];
}

export function modelSummary(info: ModelInfo): string {
  const rows = [['#', 'layer', 'kernel', 'output', 'arena@', 'weights B', 'binary MACs']];
  for (const l of info.layers) {
    const wb = Object.values(l.weightBytes).reduce((a, b) => a + b, 0);
    rows.push([String(l.index), `${l.name} (${l.op})`, l.kernel, `${l.output.dtype}[${l.output.shape.join('x')}]`, String(l.outOffset ?? '-'), n(wb), n(l.cost.binaryMacs)]);
  }
  const w = info.weightBytes;
  return [
    table(rows),
    '',
    `layers: ${info.layers.length}`,
    `weight flash: ${n(info.totalWeightBytes)} B (codebook ${n(w.codebook)}, indices ${n(w.indices)}, thresholds ${n(w.thresholds)}, binary weights ${n(w.binary)}, real-valued ${n(w.real)}, integer ${n(w.int)})`,
    `arena: ${n(info.arenaSize)} B (exact, planned at generation time${info.arenaBudget !== undefined ? `; budget ${n(info.arenaBudget)} B` : ''}; lower bound ${n(info.arenaLowerBound)} B: the maps alive at once)`,
    ...kernelReasons(info),
    `binary MACs: ${n(info.binaryMacs)}; real MACs: ${n(info.realMacs)}`,
  ].join('\n');
}
