// What limits the int8 path's agreement with the float model (docs/int8.md): the float model is run with only the
// maps the int8 model stores rounded onto their grids (8 bits as --quantize int8 stores them, or the same range with
// 2^(b-8) times finer steps: b = 10, 12, 16), everything else in float32. Its argmax agreement with the plain float
// model says how much of the int8 model's disagreement comes from storing maps at 8 bits, and how much a wider
// residual stream would win back; the rest of the gap to the int8 model is weight and fixed-point rounding.
//   npx tsx bench/int8-storage-bits.ts DIR [N] [--each-first-stage-map] [--percentile P]
// DIR holds model.onnx, calib.npy and heldout.npy as bench/int8-trained.py writes them; N: held-out inputs (all).
// --each-first-stage-map adds one variant per map of the largest size: 16 bits everywhere but that map, at 8 (which
// of the first stage's maps an int16 plan could leave int8). The last variant rounds the shortcut pools' outputs to
// 8 bits as well (what the int16 path's shortcut convs once read). --percentile: what the grids span, as
// --calibrate-percentile (default 100, the full range, as --quantize int8).
import { join } from 'node:path';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { readInputs } from '../generator/src/import/inputs.ts';
import type { Tensor } from '../generator/src/ir/tensor.ts';
import { INPUT_TENSOR, type Model } from '../generator/src/model/ir.ts';
import { argmax } from '../generator/src/model/scores.ts';
import { opOf } from '../generator/src/ops/registry.ts';
import { inferModel } from '../generator/src/model/validate.ts';
import { calibrate, DEFAULT_PERCENTILE, quantizeInt8 } from '../generator/src/quantize/index.ts';
import type { StoredTensor } from '../generator/src/quantize/int8.ts';
import { int8Grid } from '../generator/src/quantize/fixed-point.ts';

/** x rounded onto the grid with 2^(bits-8) times finer steps than g (bits 8: g itself), clamped to its range. */
function roundOnto(d: Float32Array, g: StoredTensor, bits: number): void {
  const f = 2 ** (bits - 8), s = g.scale / f, z = g.zeroPoint * f;
  const lo = -(2 ** (bits - 1)), hi = 2 ** (bits - 1) - 1;
  for (let k = 0; k < d.length; k++) d[k] = s * (Math.min(hi, Math.max(lo, Math.round(d[k] / s) + z)) - z);
}

/** Bits per stored map: one count for all, or per map by its tensor name and shape. */
type Bits = number | ((name: string, shape: number[]) => number);

/** The shortcut pools' outputs (what a 1x1 shortcut conv reads) rounded too, onto 8-bit grids of their calibrated
 *  ranges: the int8 copy those convs read on the int16 path before they took the int16 map itself (docs/int8.md). */
let pooledGrids: Map<string, StoredTensor> | undefined;

/** The float model's scores with the stored maps rounded (bits null: none). */
function scores(model: Model, stored: Map<string, StoredTensor>, x: Uint8Array | Int8Array, bits: Bits | null): Float32Array {
  const tensors = new Map<string, Tensor>([[INPUT_TENSOR, { dtype: model.input.dtype, shape: model.input.shape, data: model.input.dtype === 'u8' ? Uint8Array.from(x) : Int8Array.from(x) }]]);
  for (const l of model.layers) {
    const y = opOf(l).run(l, l.inputs.map((t) => tensors.get(t)!), { input: model.input });
    const g = stored.get(l.output);
    if (bits !== null && g && y.dtype === 'f32') roundOnto(y.data as Float32Array, g, typeof bits === 'number' ? bits : bits(l.output, y.shape));
    const pg = pooledGrids?.get(l.output);
    if (bits !== null && pg && y.dtype === 'f32') roundOnto(y.data as Float32Array, pg, 8);
    tensors.set(l.output, y);
  }
  return tensors.get(model.output)!.data as Float32Array;
}

const args = process.argv.slice(2);
const eachMap = args.includes('--each-first-stage-map');
const at = args.indexOf('--percentile');
const percentile = at >= 0 ? Number(args.splice(at, 2)[1]) : DEFAULT_PERCENTILE;
const [dir, n] = args.filter((a) => !a.startsWith('--'));
if (!dir) throw new Error('usage: npx tsx bench/int8-storage-bits.ts DIR [N]');
const float = importOnnxFile(join(dir, 'model.onnx'), { name: 'model' }).model;
const held = readInputs(join(dir, 'heldout.npy'), float).slice(0, n ? Number(n) : undefined);
const cal = calibrate(float, readInputs(join(dir, 'calib.npy'), float), percentile);
const { stored } = quantizeInt8(float, cal);
// The 2x2 pools of the downsample shortcuts: the avgpool layers whose input is a stored map.
const shortcutPools = new Map(float.layers.filter((l) => l.op === 'avgpool' && stored.has(l.inputs[0])).map((l) => {
  const r = cal.ranges.get(l.output)!;
  return [l.output, { ...int8Grid(r, 8), range: r, seen: r }] as [string, StoredTensor];
}));
const plain = held.map((x) => argmax(scores(float, stored, x, null)));
console.log(`${dir}: ${stored.size} stored maps (grids to percentile ${percentile}), ${held.length} held-out inputs; argmax agreement with the float model when only the stored maps are rounded:`);
// Mixed: the maps of the largest spatial size (the first stage, where 16 bits costs the most RAM) at 8 bits.
const types = inferModel(float);
const area = (t: string) => types.get(t)!.shape[1] * types.get(t)!.shape[2];
const largest = Math.max(...[...stored.keys()].map(area));
const variants: [string, Bits][] = [['8 bits', 8], ['10 bits', 10], ['12 bits', 12], ['16 bits', 16], ['16 bits, the largest maps 8', (_t, s) => (s[1] * s[2] === largest ? 8 : 16)]];
if (eachMap) for (const m of [...stored.keys()].filter((t) => area(t) === largest)) variants.push([`16 bits, only ${m} 8`, (t) => (t === m ? 8 : 16)]);
const run = (name: string, bits: Bits) => {
  const agree = held.filter((x, i) => argmax(scores(float, stored, x, bits)) === plain[i]).length;
  console.log(`  ${name.padEnd(28)} ${agree}/${held.length} (${((100 * agree) / held.length).toFixed(1)} %)`);
};
for (const [name, bits] of variants) run(name, bits);
pooledGrids = shortcutPools;
run('16 bits, shortcut pools 8', 16);
