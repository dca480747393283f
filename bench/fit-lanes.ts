// Fits the byte-lane kernel's cost constants (LANES in generator/src/ops/bconv2d/lanes.ts) to exact instruction counts:
// for each core, single-layer models whose binary conv is lowered to bnn_bconv2d_b1_acc_lanes run under QEMU with the
// icount plugin (conv marker to the next layer's marker), and a relative-error least-squares fit of the terms exactly
// as lanesCost combines them. Prints the constants as a TS literal, every layer's count, estimate and error, and the
// largest error over the fit set and over held-out shapes.
//   npx tsx bench/fit-lanes.ts [--cores m4,m7,m0,m55] [--quick] [--jobs 2]
// Counts are cached under .cache/bench by a hash of the generated project, so a re-fit only runs what changed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_CACHE_DIR, runWithCounts } from '../generator/src/bench/icount.ts';
import { standardLayerModel } from '../generator/src/bench/standard.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { generate } from '../generator/src/generate.ts';
import { loadBoard, type Board } from '../generator/src/model/board.ts';
import type { BConv2dLayer, Model } from '../generator/src/model/ir.ts';
import { rng } from '../generator/src/model/random.ts';
import { getTarget, type Target } from '../generator/src/model/target.ts';
import type { CostCore } from '../generator/src/ops/bconv2d/cost-core.ts';
import { LANES, lanesCost, lanesFields, lanesScratchWords, lanesT2, lanesTileWidth, type LanesConstants } from '../generator/src/ops/bconv2d/lanes.ts';

const run = promisify(execFile);

/** One layer: C -> O channels on an H x W map, tau null for dense weights (n: codewords, 2^tau unless given); pad 1
 *  ("same" at stride 1) or 0 (none); acc: i32 output (no threshold); batch: force this smaller channel batch through
 *  the scratch limit. */
interface Spec { C: number; O: number; H: number; W: number; tau: number | null; n?: number; sh: number; sw: number; pad: 0 | 1; pv: 0 | 1 | -1; acc: boolean; batch?: number }

/** What a core runs on: the board, the compiler's target and ARMv6-M planning (M0 code runs on the M3 board). */
interface CoreSetup { board: string; cpu: string; armv6m: boolean }
const CORES: Record<CostCore, CoreSetup> = {
  m4: { board: 'mps2-an386', cpu: 'cortex-m4', armv6m: false },
  m7: { board: 'mps2-an500', cpu: 'cortex-m7', armv6m: false },
  m0: { board: 'mps2-an385', cpu: 'cortex-m0', armv6m: true },
  m55: { board: 'mps3-an547', cpu: 'cortex-m55', armv6m: false },
};

const KEYS = ['rowWord', 'unit', 'chanUnit', 'chanRow', 'chanRowS2', 'codeword', 'pairShared', 'pairOwn', 'outBatch', 'outAcc', 'posAcc', 'outThr', 'posThr', 'codewordT2', 'pairSharedT2', 'outBatchT2'] as const satisfies readonly (keyof LanesConstants)[];
type Key = (typeof KEYS)[number];

// Compact spec notation: "C>O HxW tau [nN] [s2|s21|s12] [valid] [pv+|pv-] [acc] [bN]" (tau: t2..t9 or dense).
function spec(s: string): Spec {
  const f = s.split(/\s+/);
  const [C, O] = f[0].split('>').map(Number);
  const [H, W] = f[1].split('x').map(Number);
  const has = (w: string) => f.includes(w);
  const stride = f.find((w) => /^s\d+$/.test(w));
  const [sh, sw] = stride === undefined ? [1, 1] : stride === 's2' ? [2, 2] : [Number(stride[1]), Number(stride[2])];
  const num = (p: string) => {
    const w = f.find((x) => new RegExp(`^${p}\\d+$`).test(x));
    return w === undefined ? undefined : Number(w.slice(1));
  };
  return {
    C, O: O ?? C, H, W, tau: f[2] === 'dense' ? null : Number(f[2].slice(1)), n: num('n'), sh, sw, pad: has('valid') ? 0 : 1,
    pv: has('pv+') ? 1 : has('pv-') ? -1 : 0, acc: has('acc'), batch: num('b'),
  };
}

// Shapes. Codebook layers thresholded at stride 1 with "same" padding up to 32 wide go to the sliced kernel, so the
// codebook ones here are i32 out, wider than 32, strided or unpadded. tau 9 (512 codewords) runs per kernel.
const FIT = [
  '8 8x8 t4 acc', '16 16x16 t5 acc', '32 8x8 t4 acc', '64 8x8 t5 acc', '128 4x4 t4 acc', '32>64 6x10 t3 acc',
  '48>24 12x12 t6 acc', '24 2x2 t5 acc', '16 20x7 t4 valid acc', '64>32 16x16 t4 pv- acc', '96 5x5 t5 acc',
  '40 32x32 t4 acc', '32 9x3 t3 pv+ acc', '16 10x40 t4', '32 6x36 t5', '8>16 40x40 t4', '64 8x8 t4 valid',
  '32 16x16 t5 s2', '16 12x48 t3 s12', '24>48 16x8 t6 s21', '128>64 8x8 t5 valid', '48 12x34 t4 pv+',
  '32 10x10 t4 valid pv-', '8 8x8 dense', '32 8x8 dense', '64 4x4 dense', '16>32 16x16 dense', '128 2x2 dense acc',
  '24 12x20 dense acc', '32>16 20x36 dense', '16 16x16 dense s2', '48 6x6 dense valid pv- acc', '12 32x32 dense pv+',
  '96>48 4x8 dense', '32 8x8 t9', '16 12x12 t9 acc', '64 8x8 t4 acc b8', '96 4x4 t5 acc b12', '64 8x8 dense b8',
  '48 8x8 t3 acc b10', '32 16x16 dense acc b4', '128 4x4 t6 acc b5', '32 8x8 t7 acc', '16 12x12 t8 acc', '64 6x6 t2 acc',
  '32 8x8 t4 n15 acc', '48 6x40 t5 n21', '32 16x8 dense s21 acc',
].map(spec);
const HELD = [
  '40 7x9 t4 acc', '56 10x10 t5 acc', '20>28 14x14 t3 acc', '80 6x6 dense', '24 24x44 t4', '36 18x18 t5 s2',
  '72 5x5 t6 valid acc', '112 3x3 t4 pv+ acc', '10 30x30 dense acc', '48>64 9x38 t5 pv-', '64 6x6 t4 acc b16',
  '28 11x11 t9', '16>8 28x28 t3 acc', '44 8x8 dense b11', '96 7x7 t5 valid', '24 10x10 t7 acc', '40 8x8 t5 n27 acc',
].map(spec);
const QUICK_FIT = ['16 8x8 t4 acc', '32 6x36 t5', '32 8x8 dense', '64 4x4 t5 acc', '16 16x16 dense s2 acc', '48 8x8 t3 acc b10'].map(spec);
const QUICK_HELD = ['40 7x9 t4 acc', '24 12x20 dense'].map(spec);

const name = (s: Spec) =>
  `${s.C}>${s.O} ${s.H}x${s.W} ${s.tau === null ? 'dense' : `t${s.tau}`}${s.n ? ` n${s.n}` : ''}${s.sh !== 1 || s.sw !== 1 ? ` s${s.sh}${s.sw}` : ''}` +
  `${s.pad ? '' : ' valid'}${s.pv ? ` pv${s.pv > 0 ? '+' : '-'}` : ''}${s.acc ? ' acc' : ''}${s.batch ? ` b${s.batch}` : ''}`;

/** The standard layer model (generator/src/bench/standard.ts) with its conv reshaped to `s`: O outputs (fresh seeded
 *  weights and thresholds of that size), stride, padding, pad value, and no threshold for i32 output. */
function layerModel(s: Spec, seed: number): Model {
  const m = standardLayerModel(s.C, s.H, s.W, s.tau, seed);
  const r = rng(seed + 1000);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const K = 9 * s.C;
  const reshape = (l: BConv2dLayer): BConv2dLayer => {
    const w = l.weights;
    const n = codewords(s);
    const weights: BConv2dLayer['weights'] = w.kind === 'codebook'
      ? { ...w, codewords: w.codewords.slice(0, n), indices: Uint16Array.from({ length: s.O * s.C }, () => int(0, n - 1)) }
      : { kind: 'dense', bits: Uint8Array.from({ length: s.O * s.C * 9 }, () => int(0, 1)) };
    const threshold = s.acc ? undefined : { value: Int32Array.from({ length: s.O }, () => int(-K >> 3, K >> 3)), flip: Uint8Array.from({ length: s.O }, () => (r() < 0.2 ? 1 : 0)) };
    const p = s.pad;
    return { ...l, outChannels: s.O, weights, threshold, stride: [s.sh, s.sw], pad: { top: p, left: p, bottom: p, right: p }, padValue: s.pv };
  };
  return { ...m, name: `lanes-${name(s).replace(/[^\w]+/g, '-')}`, layers: m.layers.map((l) => (l.op === 'bconv2d' ? reshape(l) : l)) };
}

const outDims = (s: Spec): [number, number] => [Math.floor((s.H + 2 * s.pad - 3) / s.sh) + 1, Math.floor((s.W + 2 * s.pad - 3) / s.sw) + 1];
const codewords = (s: Spec) => (s.tau === null ? 0 : s.n ?? 1 << s.tau);

/** The scratch limit that makes planLanes take `s.batch` channels a batch (the largest batch that fits is taken). */
function scratchLimit(s: Spec): number | undefined {
  if (s.batch === undefined) return undefined;
  const n = codewords(s);
  const share = s.tau !== null && n <= 256;
  return 4 * lanesScratchWords(s.C, s.H * s.sw, s.O, n, share, s.batch, s.tau ?? 9);
}

/** lanesCost's terms for a layer and plan, as multipliers of the constants (lanesCost is round(terms . k)). */
function terms(s: Spec, share: boolean, batch: number, core: CostCore): Record<Key, number> {
  const [OH, OW] = outDims(s);
  const n = codewords(s);
  const tw = lanesTileWidth(s.W, OW, s.sw);
  const tiles = Math.ceil(OW / tw);
  const units = tiles * Math.ceil(OH / Math.max(1, Math.min(OH, Math.floor(32 / tw))));
  // ARMv6-M builds have no Thumb-2 routines: every shared layer runs the C loops.
  const t2 = share && !CORES[core].armv6m ? lanesT2(s.tau!, n) : { codeword: false, gather: false };
  const f = Object.fromEntries(KEYS.map((k) => [k, 0])) as Record<Key, number>;
  f.rowWord = tiles * s.H * s.sw * Math.ceil(s.C / 32);
  f[s.sh === 1 && s.sw === 1 ? 'chanRow' : 'chanRowS2'] = tiles * s.C * OH;
  f.unit = units;
  f.chanUnit = units * s.C;
  if (share) f[t2.codeword ? 'codewordT2' : 'codeword'] = units * s.C * n;
  const F = share ? lanesFields(s.tau!) : 1;
  f[!share ? 'pairOwn' : t2.gather ? 'pairSharedT2' : 'pairShared'] = units * s.O * F * Math.ceil(s.C / F);
  f[t2.gather ? 'outBatchT2' : 'outBatch'] = units * s.O * Math.ceil(s.C / batch);
  f[s.acc ? 'outAcc' : 'outThr'] = units * s.O;
  f[s.acc ? 'posAcc' : 'posThr'] = s.O * OH * OW;
  return f;
}

const estimate = (f: Record<Key, number>, k: LanesConstants) => Math.round(KEYS.reduce((s, key) => s + (f[key] ? f[key] * k[key]! : 0), 0));

/** A measured layer: its exact count, the plan the lowering chose and lanesCost's terms for that plan. */
interface Row { spec: Spec; held: boolean; exec: number; oldEst: number; share: boolean; batch: number; terms: Record<Key, number> }

const CACHE = join(BENCH_CACHE_DIR, 'fit-lanes-counts.json');
const cache: Record<string, number> = existsSync(CACHE) ? JSON.parse(readFileSync(CACHE, 'utf8')) : {};
function saveCache(): void {
  mkdirSync(BENCH_CACHE_DIR, { recursive: true });
  writeFileSync(CACHE, JSON.stringify(cache));
}

/** Exact instructions from the conv's marker to the next layer's marker (cached by the project's content). */
async function count(files: Record<string, string | Uint8Array>, board: Board, target: Target, markers: [string, string]): Promise<number> {
  const h = createHash('sha256').update(`${board.name} ${target.name} ${markers.join(' ')}\n`);
  for (const k of Object.keys(files).sort()) h.update(`${k}\n`).update(files[k]).update('\n');
  const key = h.digest('hex').slice(0, 32);
  if (cache[key] !== undefined) return cache[key];
  const dir = mkdtempSync(join(tmpdir(), 'bnn-fit-lanes-'));
  try {
    writeTree(dir, files);
    await run('make', ['-C', dir, `CPUFLAGS=${target.cflags.join(' ')} -DBNN_BENCH`, 'firmware.elf'], { maxBuffer: 64 << 20 });
    const r = await runWithCounts(join(dir, 'firmware.elf'), board, markers, { timeoutMs: 600_000 });
    if (r.exitCode !== 0 || !/^PASS 1\/1$/m.test(r.stdout)) throw new Error(`firmware did not PASS:\n${r.stdout}${r.stderr}`);
    cache[key] = r.regions[0].instructions;
    saveCache();
    return cache[key];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Build and count one layer on `core`; a string says why it was skipped (not lowered to the lanes kernel). */
async function measure(s: Spec, held: boolean, core: CostCore, seed: number): Promise<Row | string> {
  const setup = CORES[core];
  const board = loadBoard(setup.board);
  const target = getTarget(setup.cpu);
  const g = generate(layerModel(s, seed), { target, board, goldenCount: 1, seed: 1, kernels: 'fast', scratchLimit: scratchLimit(s), armv6m: setup.armv6m });
  const layers = g.info.layers.filter((l) => l.marker);
  const conv = layers.find((l) => l.name === 'conv')!;
  if (conv.kernel !== 'bnn_bconv2d_b1_acc_lanes') return `lowered to ${conv.kernel} (${conv.why})`;
  const plan = /lanes (shared codebook|per kernel), batch (\d+)/.exec(conv.why ?? '');
  if (!plan) throw new Error(`${name(s)}: no lanes plan in "${conv.why}"`);
  const share = plan[1] === 'shared codebook', batch = Number(plan[2]);
  if (s.batch !== undefined && batch !== s.batch) return `batch ${batch}, not ${s.batch} (${conv.why})`;
  const [OH, OW] = outDims(s);
  const f = terms(s, share, batch, core);
  // The terms must be lanesCost's: the planner's estimate from them with the constants in use (1 for rounding).
  const cost = lanesCost(s.C, s.H, s.W, s.O, OH, OW, codewords(s), share, batch, core, !s.acc, s.sw, s.sh, s.tau ?? 9, !CORES[core].armv6m);
  if (cost !== conv.estInstructions || Math.abs(estimate(f, LANES[core]) - cost) > 1)
    throw new Error(`${name(s)}: terms disagree with lanesCost (${estimate(f, LANES[core])} vs ${cost} vs planner ${conv.estInstructions})`);
  const next = layers[layers.indexOf(conv) + 1]?.marker ?? g.info.markEnd;
  const exec = await count(g.files, board, target, [conv.marker!, next]);
  return { spec: s, held, exec, oldEst: cost, share, batch, terms: f };
}

/** fn over items, at most `jobs` at a time, results in order. */
async function pool<T, R>(items: T[], jobs: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return out;
}

/** Least squares min |A x - y| by the normal equations of the column-scaled A (Gauss-Jordan, partial pivoting).
 *  Returns x, or the index of a column that is (nearly) a combination of the others. */
function leastSquares(A: number[][], y: number[]): number[] | { dependent: number } {
  const m = A[0].length;
  const scale = Array.from({ length: m }, (_, j) => Math.hypot(...A.map((r) => r[j])) || 1);
  const N = Array.from({ length: m }, (_, i) => [
    ...Array.from({ length: m }, (_, j) => A.reduce((s, r) => s + (r[i] / scale[i]) * (r[j] / scale[j]), 0)),
    A.reduce((s, r, k) => s + (r[i] / scale[i]) * y[k], 0),
  ]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(N[r][c]) > Math.abs(N[p][c])) p = r;
    // Scaled columns have unit norm: a pivot this small means column c adds (almost) nothing to columns 0..c-1.
    if (Math.abs(N[p][c]) < 1e-9) return { dependent: c };
    [N[c], N[p]] = [N[p], N[c]];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = N[r][c] / N[c][c];
      for (let j = c; j <= m; j++) N[r][j] -= f * N[c][j];
    }
  }
  return Array.from({ length: m }, (_, j) => N[j][m] / N[j][j] / scale[j]);
}

/** Relative-error fit of the constants to `rows`: each row divided by its count, so small and large layers count
 *  alike. A column no row exercises, or one the others determine, keeps its old value; a negative one is held at 0. */
function fitConstants(rows: Row[], old: LanesConstants): { k: LanesConstants; notes: string[] } {
  const F = rows.map((r) => r.terms);
  const fixed = new Map<Key, number | undefined>();
  const notes: string[] = [];
  for (const key of KEYS) if (F.every((f) => f[key] === 0)) (fixed.set(key, old[key]), notes.push(`${key}: not exercised, kept ${old[key] ?? 'absent'}`));
  for (;;) {
    const free = KEYS.filter((key) => !fixed.has(key));
    const A = F.map((f, i) => free.map((key) => f[key] / rows[i].exec));
    const y = F.map((f, i) => 1 - [...fixed].reduce((s, [key, v]) => s + f[key] * (v ?? 0), 0) / rows[i].exec);
    const x = leastSquares(A, y);
    if (!Array.isArray(x)) {
      const key = free[x.dependent];
      fixed.set(key, old[key]);
      notes.push(`${key}: not identifiable from this set, kept ${old[key] ?? 'absent'}`);
      continue;
    }
    const worst = x.reduce((w, v, j) => (v < x[w] ? j : w), 0);
    if (x[worst] < 0) {
      fixed.set(free[worst], 0);
      notes.push(`${free[worst]}: fitted negative (${x[worst].toPrecision(3)}), held at 0`);
      continue;
    }
    const k = { ...old };
    for (const [key, v] of fixed) if (v !== undefined) k[key] = v;
    free.forEach((key, j) => (k[key] = Number(x[j].toPrecision(3))));
    return { k, notes };
  }
}

const pct = (est: number, exec: number) => (100 * (est - exec)) / exec;
const maxErr = (rows: Row[], k: (r: Row) => number) => rows.reduce((m, r) => Math.max(m, Math.abs(pct(k(r), r.exec))), 0);

/** The constants as lines of LANES in lanes.ts (keys the core lacks left out). */
function literal(core: CostCore, k: LanesConstants): string {
  const lines: string[] = [];
  let line = '';
  for (const key of KEYS) {
    if (k[key] === undefined) continue;
    const item = `${key}: ${k[key]},`;
    if (line && line.length + item.length > 114) (lines.push(line), (line = ''));
    line += line ? ` ${item}` : item;
  }
  return `  ${core}: {\n${[...lines, line].map((l) => `    ${l}`).join('\n')}\n  },`;
}

/** Every layer's count and estimates, then the largest errors; returns the summary line. */
function report(core: CostCore, rows: Row[], k: LanesConstants): string {
  console.log(`\n${core}: ${'set  layer'.padEnd(36)} ${'plan'.padEnd(10)} ${'exec'.padStart(11)} ${'est'.padStart(11)}   error  (lanes.ts est, error)`);
  for (const r of rows) {
    const est = estimate(r.terms, k);
    const plan = `${r.share ? 'shared' : 'own'} b${r.batch}`;
    console.log(`  ${r.held ? 'held' : 'fit '} ${name(r.spec).padEnd(31)} ${plan.padEnd(10)} ${String(r.exec).padStart(11)} ${String(est).padStart(11)} ${pct(est, r.exec).toFixed(2).padStart(7)} %  (${r.oldEst}, ${pct(r.oldEst, r.exec).toFixed(1)} %)`);
  }
  const fit = rows.filter((r) => !r.held), held = rows.filter((r) => r.held);
  const newK = (r: Row) => estimate(r.terms, k), oldK = (r: Row) => r.oldEst;
  const summary = `${core}: ${fit.length} fit layers within ${maxErr(fit, newK).toFixed(2)} %, ${held.length} held-out within ${maxErr(held, newK).toFixed(2)} % (constants in lanes.ts: ${maxErr(fit, oldK).toFixed(1)} %, ${maxErr(held, oldK).toFixed(1)} %)`;
  console.log(`  ${summary}`);
  return summary;
}

async function fitCore(core: CostCore, fitSet: Spec[], heldSet: Spec[], jobs: number): Promise<{ literal: string; summary: string }> {
  const t0 = Date.now();
  const all = [...fitSet.map((s, i) => ({ s, held: false, seed: 1 + i })), ...heldSet.map((s, i) => ({ s, held: true, seed: 101 + i }))];
  const got = await pool(all, jobs, async ({ s, held, seed }) => {
    const r = await measure(s, held, core, seed);
    if (typeof r === 'string') console.log(`  ${core} ${name(s)}: skipped, ${r}`);
    return r;
  });
  const rows = got.filter((r): r is Row => typeof r !== 'string');
  const { k, notes } = fitConstants(rows.filter((r) => !r.held), LANES[core]);
  for (const n of notes) console.log(`  ${core} ${n}`);
  const summary = report(core, rows, k);
  console.log(`  ${core}: ${rows.length} layers measured in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { literal: literal(core, k), summary };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const cores = (opt('--cores') ?? 'm4,m7,m0,m55').split(',') as CostCore[];
  for (const c of cores) if (!(c in CORES)) throw new Error(`unknown core ${c}; cores: ${Object.keys(CORES).join(', ')}`);
  const quick = argv.includes('--quick');
  const jobs = Number(opt('--jobs') ?? 2);
  const t0 = Date.now();
  const results = [];
  for (const core of cores) results.push(await fitCore(core, quick ? QUICK_FIT : FIT, quick ? QUICK_HELD : HELD, jobs));
  console.log('\nconst LANES: Record<CostCore, LanesConstants> = {');
  for (const r of results) console.log(r.literal);
  console.log('};\n');
  for (const r of results) console.log(r.summary);
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
