// Build emitted model C natively with gcc (optionally under ASan/UBSan) and run it through a stdin/stdout harness.
// The point is the sanitizer run: the harness mallocs exactly ARENA_SIZE bytes, so any access past the declared
// arena, the scores or the input is reported by ASan and fails the run.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from '../emit/templates.ts';
import { cacheDir } from '../core/paths.ts';
import { buildKey, requireTool, runTool, toolVersion, writeFileAtomic } from '../toolchain/tools.ts';
import { checkFacts, checkFileNames, FACT_NAMES, harnessModels, type CompiledFacts, type HarnessModel, type ModelInfo, type RunResult, type TraceRecord } from './harness.ts';

const HARNESS_C = 'bnnh_harness.c';
const EXE = 'bnnh_harness';

export const HOST_CFLAGS: readonly string[] = [
  '-std=c99', '-O1', '-g', '-Wall', '-Wextra', '-Werror',
  '-ffp-contract=off', // gcc fuses a*b+c on FMA-capable hosts otherwise; the reference rounds every op
  '-DBNN_TRACE',
];
export const SANITIZE_CFLAGS: readonly string[] = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

export const HOST_CACHE_DIR = cacheDir('host');

export interface HostBuildOptions {
  /** Model and runtime sources by file name (flat); every `.c` is compiled. */
  files: Record<string, string>;
  models: HarnessModel[];
  /** Build with ASan + UBSan, aborting on the first report. */
  sanitize?: boolean;
  /** Build here and keep the sources (for debugging). Without it the executable is cached under .cache/host. */
  outDir?: string;
  /** Extra compiler flags, appended after the fixed ones. */
  cflags?: string[];
}

/** Compile `files` plus the host harness; returns the executable's path. */
export async function buildHost(opts: HostBuildOptions): Promise<string> {
  const gcc = requireTool('gcc');
  checkFileNames(opts.files, [HARNESS_C, EXE]);
  const models = harnessModels(opts.models);
  const all: Record<string, string> = { ...opts.files, [HARNESS_C]: render('host/harness.c.hbs', { models }) };
  const sources = Object.keys(all).filter((n) => n.endsWith('.c')).sort();
  const args = [...HOST_CFLAGS, ...(opts.sanitize ? SANITIZE_CFLAGS : []), ...(opts.cflags ?? []), ...sources, '-o', EXE];

  if (opts.outDir) {
    await mkdir(opts.outDir, { recursive: true });
    for (const [name, text] of Object.entries(all)) await writeFile(join(opts.outDir, name), text);
    await runTool(gcc, args, { cwd: opts.outDir });
    return join(opts.outDir, EXE);
  }

  const key = buildKey({ tool: await toolVersion('gcc'), args, files: Object.keys(all).sort().map((n) => [n, all[n]]) });
  const cached = join(HOST_CACHE_DIR, key);
  if (existsSync(cached)) return cached;
  const dir = await mkdtemp(join(tmpdir(), 'bnn-host-'));
  try {
    for (const [name, text] of Object.entries(all)) await writeFile(join(dir, name), text);
    await runTool(gcc, args, { cwd: dir });
    await writeFileAtomic(cached, await readFile(join(dir, EXE)), 0o755);
    return cached;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface HostRunOptions {
  /** Collect trace records (default true: the sanitizer run should exercise the hooks too). */
  trace?: boolean;
  timeoutMs?: number;
}

const TAG = { header: 0x48, trace: 0x54, result: 0x52, end: 0x45 } as const;

/**
 * Run `model` in a harness built by buildHost on every input, in one process. Rejects if the harness fails
 * (sanitizer report, crash, non-zero exit: the message carries its stderr) or its output is malformed.
 */
export async function runHost(exe: string, model: ModelInfo, inputs: (Uint8Array | Int8Array)[], opts: HostRunOptions = {}): Promise<RunResult[]> {
  const prefix = Buffer.from(model.prefix, 'utf8');
  const head = Buffer.alloc(4 * 5 + prefix.length);
  head.write('BNNQ', 0, 'latin1');
  head.writeUInt32LE(prefix.length, 4);
  prefix.copy(head, 8);
  let o = 8 + prefix.length;
  head.writeUInt32LE(opts.trace === false ? 0 : 1, o);
  head.writeUInt32LE(inputs.length, o + 4);
  head.writeUInt32LE(model.inputSize, o + 8);
  for (const [i, x] of inputs.entries()) {
    if (x.length !== model.inputSize) throw new Error(`model ${model.prefix}: input ${i} has ${x.length} bytes, expected ${model.inputSize}`);
  }
  const request = Buffer.concat([head, ...inputs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength))]);

  const { stdout } = await runTool(exe, [], {
    input: request,
    timeoutMs: opts.timeoutMs ?? 600_000,
    env: { ...process.env, UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  });
  return parseResponse(stdout, model, inputs.length);
}

/** Decode the harness's frames (see templates/host/harness.c.hbs) into one result per input. */
function parseResponse(buf: Buffer, model: ModelInfo, count: number): RunResult[] {
  const fail = (what: string): never => {
    throw new Error(`host harness output for model ${model.prefix}: ${what}`);
  };
  const results: RunResult[] = [];
  let traces: TraceRecord[] = [];
  let sawHeader = false;
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) fail('truncated frame header');
    const tag = buf.readUInt32LE(off);
    const len = buf.readUInt32LE(off + 4);
    const body = off + 8;
    off = body + len;
    if (off > buf.length) fail('truncated frame');
    if (tag === TAG.header) {
      if (len !== 4 * FACT_NAMES.length) fail('bad header frame');
      const facts = Object.fromEntries(FACT_NAMES.map((k, i) => [k, buf.readUInt32LE(body + 4 * i)])) as unknown as CompiledFacts;
      checkFacts(model, facts);
      sawHeader = true;
    } else if (tag === TAG.trace) {
      if (len < 4) fail('bad trace frame');
      // Copy into a fresh buffer so records do not pin (or alias) the whole stdout buffer.
      traces.push({ layer: buf.readUInt32LE(body), bytes: new Uint8Array(buf.subarray(body + 4, off)) });
    } else if (tag === TAG.result) {
      if (!sawHeader || len !== 4 + 4 * model.numClasses) fail('bad result frame');
      const raw = new Uint8Array(buf.subarray(body + 4, off)).buffer;
      const scores = model.scoreType === 'f32' ? new Float32Array(raw) : new Int32Array(raw);
      results.push({ status: buf.readInt32LE(body), scores, traces });
      traces = [];
    } else if (tag === TAG.end) {
      if (len !== 4 || buf.readUInt32LE(body) !== count || results.length !== count) fail('bad end frame');
      if (off !== buf.length) fail('data after end frame');
      return results;
    } else {
      fail(`unknown frame tag 0x${tag.toString(16)}`);
    }
  }
  return fail('no end frame (harness stopped early)');
}
