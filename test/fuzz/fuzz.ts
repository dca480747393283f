// Seeded fuzzing of bnn-gen's front doors: mutations (bytes, truncations, JSON field swaps and type changes,
// header edits) of a valid model.json, model.bin, ONNX export and .npy, run through import / run / report /
// generate. Every outcome must be exit 0 with a complete output, or exit 2 with one `bnn-gen: error:` line and
// nothing written: never exit 1 or 3, never a stack trace, never a hang.
// The CLI runs in a child process (runner.mjs, the compiled main()), one case at a time over IPC, so a hang is
// caught by a timer, the child killed and restarted. Used by test/fuzz.test.ts (a few hundred cases) and
// scripts/fuzz.ts (campaigns of thousands).
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../generator/src/format/write.ts';
import { Rand, randomInput, randomModel } from '../../generator/src/model/random.ts';
import { PROJECT_ROOT } from '../../generator/src/core/paths.ts';

export interface FuzzCase {
  id: number;
  kind: 'json' | 'bin' | 'onnx' | 'npy';
  mutation: string;
  argv: string[];
  /** Where the command writes (folder or .json), which must not exist after a refusal. */
  out?: string;
  outKind?: 'dir' | 'model';
}

export interface FuzzOutcome {
  c: FuzzCase;
  code: number | null;
  out: string;
  err: string;
  ms: number;
  problem: string | null;
}

// ---- seed files -------------------------------------------------------------------------------------------

interface Seeds {
  dir: string;
  /** Valid models (manifest text and weights), each with a different mix of layer types. */
  models: { json: string; bin: Uint8Array; blobName: string; npyPath: string }[];
  onnx: Uint8Array;
  npy: Uint8Array;
}

function npy(data: Uint8Array, shape: number[]): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 16) header += ' ';
  header += '\n';
  const pre = [0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8];
  return Buffer.concat([Buffer.from(pre), Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

/** Random models chosen for a spread of layer types (real and integer stems, residual blocks, pools, heads). */
const SEED_MODELS = [5, 8, 13, 21, 34];

/**
 * The valid files every mutation starts from: a few random models (seed.json is the first, then seed1.json, ...),
 * two inputs of each as .npy, and the tiny ONNX export.
 */
export function makeSeeds(dir: string): Seeds {
  mkdirSync(dir, { recursive: true });
  const models = SEED_MODELS.map((s, k) => {
    const model = randomModel(s);
    model.metadata = { note: 'fuzz seed', nested: { list: [1, 2, 3], flag: true } };
    const name = k === 0 ? 'seed' : `seed${k}`;
    const { manifest, blob } = writeModel(model, join(dir, `${name}.json`), { force: true });
    const [C, H, W] = model.input.shape;
    const flat = new Uint8Array(2 * C * H * W);
    [randomInput(model, 1), randomInput(model, 2)].forEach((x, i) => flat.set(new Uint8Array(x.buffer, x.byteOffset, x.length), i * C * H * W));
    const npyPath = join(dir, `${name}.npy`);
    writeFileSync(npyPath, npy(flat, [2, C, H, W]));
    return { json: readFileSync(manifest, 'utf8'), bin: new Uint8Array(readFileSync(blob)), blobName: `${name}.bin`, npyPath };
  });
  return { dir, models, onnx: new Uint8Array(readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'fuzz', 'tiny.onnx'))), npy: new Uint8Array(readFileSync(models[0].npyPath)) };
}

// ---- mutations -------------------------------------------------------------------------------------------

function flipBytes(r: Rand, b: Uint8Array, from = 0): Uint8Array {
  const out = Uint8Array.from(b);
  const n = r.int(1, 8);
  for (let k = 0; k < n; k++) {
    const i = r.int(from, out.length - 1);
    out[i] = r.bool(0.5) ? r.int(0, 255) : out[i] ^ (1 << r.int(0, 7));
  }
  return out;
}

function truncate(r: Rand, b: Uint8Array): Uint8Array {
  return b.slice(0, r.int(0, b.length - 1));
}

function extend(r: Rand, b: Uint8Array): Uint8Array {
  const extra = Uint8Array.from({ length: r.int(1, 64) }, () => r.int(0, 255));
  const at = r.int(0, b.length);
  return Uint8Array.from([...b.subarray(0, at), ...extra, ...b.subarray(at)]);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every (container, key) pair in a JSON value, so one can be picked uniformly. */
function slots(v: Json, acc: [Json[] | { [k: string]: Json }, string | number][] = []): typeof acc {
  if (Array.isArray(v)) v.forEach((e, i) => {
    acc.push([v, i]);
    slots(e, acc);
  });
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) {
    acc.push([v, k]);
    slots(v[k], acc);
  }
  return acc;
}

const ODD_VALUES: Json[] = [null, true, false, 0, -1, 1, 2, 3, 7, 65535, 65536, 2 ** 31, -(2 ** 31), 2 ** 53, 1.5, -0.0001, 1e308, '', 'x', 'same', 'valid', 'codebook', 'dense', 'packed', 'float32', 'uint16', 'bconv2d', 'conv2d', 'flatten', 'input', [], [0], [1, 1], [3, 3], [0, 0], [1, 2, 3], {}, { top: 1, left: 1, bottom: 1, right: 1 }];

function mutateJson(r: Rand, text: string): { text: string; what: string } {
  const v = JSON.parse(text) as Json;
  const all = slots(v);
  const how = r.int(0, 6);
  const [box, key] = r.pick(all);
  const get = () => (box as Record<string | number, Json>)[key];
  const set = (x: Json) => ((box as Record<string | number, Json>)[key] = x);
  let what: string;
  if (how === 0) {
    if (Array.isArray(box)) box.splice(key as number, 1);
    else delete box[key as string];
    what = `delete ${key}`;
  } else if (how === 1) {
    const [box2, key2] = r.pick(all);
    const a = get();
    const b = (box2 as Record<string | number, Json>)[key2];
    set(JSON.parse(JSON.stringify(b ?? null)));
    (box2 as Record<string | number, Json>)[key2] = JSON.parse(JSON.stringify(a ?? null));
    what = `swap ${key} <-> ${key2}`;
  } else if (how === 2) {
    set(JSON.parse(JSON.stringify(r.pick(ODD_VALUES))));
    what = `${key} = odd value`;
  } else if (how === 3) {
    const x = get();
    set(typeof x === 'number' ? (r.bool() ? -x : x * r.pick([2, 10, 1000, 0.5])) : typeof x === 'string' ? x + r.pick(['_', '\u0000', '\n', '../x', 'é']) : Array.isArray(x) ? [...x, ...x] : x);
    what = `${key} perturbed`;
  } else if (how === 4 && Array.isArray(box)) {
    box.push(JSON.parse(JSON.stringify(box[r.int(0, box.length - 1)] ?? null)));
    what = `duplicate element of ${key}`;
  } else if (how === 5) {
    // The same text with a raw edit the parser must catch (NaN, a trailing comma, a huge number, deep nesting).
    const raw = JSON.stringify(v, null, 2);
    const edits = [
      () => raw.replace(/: (-?\d+(\.\d+)?)/, ': NaN'),
      () => raw.replace(/}\s*$/, ',}'),
      () => raw.replace(/: (\d+)/, ': 1e400'),
      () => raw.replace(/"metadata": \{/, `"metadata": { "deep": ${'['.repeat(5000)}${']'.repeat(5000)},`),
      () => raw.replace(/"name": "[^"]*"/, `"name": "${'x'.repeat(r.int(1, 3000))}"`),
    ];
    return { text: r.pick(edits)(), what: 'raw text edit' };
  } else {
    set(JSON.parse(JSON.stringify(r.pick(ODD_VALUES))));
    what = `${key} = odd value`;
  }
  return { text: JSON.stringify(v, null, 2), what };
}

function fixChecksum(jsonText: string, blob: Uint8Array): string {
  try {
    const m = JSON.parse(jsonText);
    m.weights.bytes = blob.length;
    m.weights.sha256 = createHash('sha256').update(blob).digest('hex');
    return JSON.stringify(m, null, 2);
  } catch {
    return jsonText;
  }
}

function mutateNpy(r: Rand, b: Uint8Array): { bytes: Uint8Array; what: string } {
  const headerEnd = b.indexOf(0x0a) + 1;
  const how = r.int(0, 4);
  if (how === 0) return { bytes: truncate(r, b), what: 'truncated' };
  if (how === 1) return { bytes: Uint8Array.from([...b, ...Array.from({ length: r.int(1, 50) }, () => r.int(0, 255))]), what: 'extra bytes' };
  if (how === 2) return { bytes: flipBytes(r, b.subarray(0, headerEnd).length ? b : b, 0), what: 'bytes flipped' };
  const header = Buffer.from(b.subarray(10, headerEnd)).toString('latin1');
  const edits = [
    (h: string) => h.replace(/\((\d+)/, (_, d) => `(${Number(d) + r.int(1, 5)}`),
    (h: string) => h.replace(/'\|u1'/, r.pick(["'<f4'", "'<i8'", "'|i1'", "'<u2'", "'>i4'", "'|b1'", "'<c8'"])),
    (h: string) => h.replace('False', 'True'),
    (h: string) => h.replace(/\(.*\)/, r.pick(['()', '(0,)', '(-1, 3)', '(99999999999, 1)', '(2, 1, 1, 1, 1)'])),
  ];
  let h = r.pick(edits)(header);
  while ((10 + h.length) % 16) h = h.replace(/\n$/, ' \n');
  const len = h.length;
  const pre = Uint8Array.from([...b.subarray(0, 8), len & 0xff, len >> 8]);
  return { bytes: Uint8Array.from([...pre, ...Buffer.from(h, 'latin1'), ...b.subarray(headerEnd)]), what: 'header edited' };
}

/** Case `id` of a campaign: files written under `dir`, the command to run and what it may write. */
export function makeCase(seeds: Seeds, dir: string, id: number, seed: number): FuzzCase {
  const r = new Rand(seed * 100003 + id);
  const here = join(dir, `c${id}`);
  mkdirSync(here, { recursive: true });
  const kind = r.pick(['json', 'json', 'bin', 'onnx', 'npy'] as const);
  const goodModel = join(seeds.dir, 'seed.json');
  const out = join(here, 'out');
  if (kind === 'json' || kind === 'bin') {
    const seedModel = r.pick(seeds.models);
    let json = seedModel.json;
    let blob = seedModel.bin;
    let mutation: string;
    if (kind === 'json') {
      const how = r.int(0, 3);
      if (how === 0) {
        json = Buffer.from(flipBytes(r, Buffer.from(json))).toString('latin1');
        mutation = 'json bytes flipped';
      } else if (how === 1) {
        json = Buffer.from(truncate(r, Buffer.from(json))).toString('utf8');
        mutation = 'json truncated';
      } else {
        const m = mutateJson(r, json);
        json = m.text;
        mutation = `json: ${m.what}`;
      }
    } else {
      const how = r.int(0, 2);
      blob = how === 0 ? flipBytes(r, blob) : how === 1 ? truncate(r, blob) : extend(r, blob);
      mutation = `bin ${['bytes flipped', 'truncated', 'extended'][how]}`;
      // Mostly keep the manifest's checksum in step, so the mutation reaches the decoder and the validator.
      if (r.bool(0.8)) {
        json = fixChecksum(json, blob);
        mutation += ', checksum updated';
      }
    }
    writeFileSync(join(here, 'model.json'), json);
    writeFileSync(join(here, seedModel.blobName), blob);
    const model = join(here, 'model.json');
    const cmd = r.int(0, 3);
    if (cmd === 0) return { id, kind, mutation, argv: ['report', model, '-q'] };
    if (cmd === 1) return { id, kind, mutation, argv: ['run', model, '--input', seedModel.npyPath, '-q'] };
    if (cmd === 2) return { id, kind, mutation, argv: [model, '--no-board', '-o', out, '-q'], out, outKind: 'dir' };
    return { id, kind, mutation, argv: [model, '--board', 'mps2-an386', '--golden', '2', '-o', out, '-q'], out, outKind: 'dir' };
  }
  if (kind === 'onnx') {
    const how = r.int(0, 2);
    const bytes = how === 0 ? flipBytes(r, seeds.onnx) : how === 1 ? truncate(r, seeds.onnx) : extend(r, seeds.onnx);
    const file = join(here, 'model.onnx');
    writeFileSync(file, bytes);
    const mutation = `onnx ${['bytes flipped', 'truncated', 'extended'][how]}`;
    if (r.bool(0.6)) return { id, kind, mutation, argv: ['import', file, '-o', `${out}.json`, '-q'], out: `${out}.json`, outKind: 'model' };
    return { id, kind, mutation, argv: ['report', file, '-q'] };
  }
  const m = mutateNpy(r, seeds.npy);
  const file = join(here, 'x.npy');
  writeFileSync(file, m.bytes);
  if (r.bool(0.5)) return { id, kind, mutation: `npy ${m.what}`, argv: ['run', goodModel, '--input', file, '-q'] };
  return { id, kind, mutation: `npy ${m.what}`, argv: ['golden', goodModel, '--input', file, '-o', out, '-q'], out, outKind: 'dir' };
}

// ---- running -----------------------------------------------------------------------------------------------

/** What is wrong with an outcome, or null when it is one of the two allowed ones. */
export function judge(c: FuzzCase, code: number | null, err: string): string | null {
  if (code === null) return 'hang (killed after the time limit)';
  if (/^\s+at /m.test(err)) return 'stack trace on stderr';
  if (code === 0) {
    if (c.outKind === 'dir') {
      const m = join(c.out!, '.bnn-gen.json');
      if (!existsSync(m)) return 'exit 0 without a complete output folder';
      const files = JSON.parse(readFileSync(m, 'utf8')).files as Record<string, string>;
      for (const [f, h] of Object.entries(files)) if (createHash('sha256').update(readFileSync(join(c.out!, f))).digest('hex') !== h) return `exit 0 but ${f} does not match the manifest`;
    }
    if (c.outKind === 'model' && !(existsSync(c.out!) && existsSync(c.out!.replace(/json$/, 'bin')))) return 'exit 0 without model.json + .bin';
    return null;
  }
  if (code !== 2) return `exit ${code}`;
  const lines = err.trimEnd().split('\n');
  if (lines.length !== 1) return `${lines.length} lines on stderr`;
  if (!/^bnn-gen: error: \S/.test(lines[0])) return 'stderr is not one "bnn-gen: error:" line';
  if (c.out && existsSync(c.out)) return 'refused but wrote its output';
  if (c.out) {
    const parent = join(c.out, '..');
    const left = readdirSync(parent).filter((f) => f.includes('bnn-gen') || f.includes('.tmp'));
    if (left.length) return `refused but left ${left.join(', ')}`;
  }
  return null;
}

/** A child process running the compiled CLI's main() on request, restarted after a hang. */
export class CliWorker {
  private child: ChildProcess | null = null;

  private start(): ChildProcess {
    const c = fork(join(PROJECT_ROOT, 'test', 'fuzz', 'runner.mjs'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    c.stderr?.resume();
    this.child = c;
    return c;
  }

  run(argv: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
    const c = this.child ?? this.start();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        c.removeAllListeners('message');
        c.kill('SIGKILL');
        this.child = null;
        resolve({ code: null, out: '', err: '' });
      }, timeoutMs);
      c.once('message', (m: { code: number; out: string; err: string }) => {
        clearTimeout(timer);
        resolve(m);
      });
      c.send({ argv });
    });
  }

  stop(): void {
    this.child?.kill();
    this.child = null;
  }
}

/** Run cases [from, to) of campaign `seed` in `dir`; returns every outcome (problem null when fine). */
export async function fuzz(dir: string, opts: { seed: number; from?: number; count: number; timeoutMs?: number; onCase?: (o: FuzzOutcome) => void }): Promise<FuzzOutcome[]> {
  rmSync(dir, { recursive: true, force: true });
  const seeds = makeSeeds(join(dir, 'seeds'));
  const worker = new CliWorker();
  const outcomes: FuzzOutcome[] = [];
  try {
    const from = opts.from ?? 0;
    for (let id = from; id < from + opts.count; id++) {
      const c = makeCase(seeds, dir, id, opts.seed);
      const t0 = performance.now();
      const r = await worker.run(c.argv, opts.timeoutMs ?? 60_000);
      const o: FuzzOutcome = { c, code: r.code, out: r.out, err: r.err, ms: performance.now() - t0, problem: judge(c, r.code, r.err) };
      outcomes.push(o);
      opts.onCase?.(o);
      if (!o.problem) rmSync(join(dir, `c${id}`), { recursive: true, force: true });
    }
  } finally {
    worker.stop();
  }
  return outcomes;
}
