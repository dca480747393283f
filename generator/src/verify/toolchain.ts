// Locating and running the external compilers and emulators the verifier needs.
// Tools are found on PATH directly (no `which` subprocess) and run without a shell, so file names are never
// reinterpreted; a missing tool fails with one line naming the Debian package that provides it.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { BnnError } from '../errors.ts';

export type ToolName = 'emcc' | 'gcc' | 'arm-none-eabi-gcc' | 'qemu-system-arm';

/** Debian packages to install for each tool (bookworm names). */
const PACKAGES: Record<ToolName, string> = {
  emcc: 'emscripten',
  gcc: 'gcc',
  'arm-none-eabi-gcc': 'gcc-arm-none-eabi libnewlib-arm-none-eabi',
  'qemu-system-arm': 'qemu-system-arm',
};

const found = new Map<string, string | null>();

/** Absolute path of `name` on PATH, or null. Memoized: PATH does not change while we run. */
export function findTool(name: ToolName): string | null {
  if (found.has(name)) return found.get(name)!;
  let hit: string | null = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (!statSync(p).isFile()) continue;
      hit = p;
      break;
    } catch {
      /* not here */
    }
  }
  found.set(name, hit);
  return hit;
}

export function haveTool(name: ToolName): boolean {
  return findTool(name) !== null;
}

/** Path of `name`, or a one-line error saying what to install. */
export function requireTool(name: ToolName): string {
  const p = findTool(name);
  if (!p) throw new BnnError(`${name} not found on PATH; install it with: apt-get install ${PACKAGES[name]}`);
  return p;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Bytes written to the tool's stdin (stdin is closed right away when absent). */
  input?: Uint8Array;
  env?: NodeJS.ProcessEnv;
}

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

// Builds are CPU-bound and callers may fire hundreds at once (Promise.all over models); queue beyond the core count
// instead of thrashing.
const maxJobs = Math.max(1, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function acquire(): Promise<void> {
  if (running < maxJobs) {
    running++;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next) next(); // the slot passes straight to the next waiter
  else running--;
}

/**
 * Run `cmd args` (no shell). Resolves with raw stdout and text stderr on exit status 0; otherwise rejects with an
 * Error whose message holds the command, the exit status or signal, and the tool's stderr.
 */
export async function runTool(cmd: string, args: string[], opts: RunOptions = {}): Promise<ToolResult> {
  await acquire();
  try {
    return await new Promise<ToolResult>((resolve, reject) => {
      const child = execFile(
        cmd,
        args,
        {
          cwd: opts.cwd,
          env: opts.env,
          timeout: opts.timeoutMs ?? 300_000,
          killSignal: 'SIGKILL',
          encoding: 'buffer',
          maxBuffer: 1 << 30, // trace output for many inputs can be large
        },
        (err, stdout, stderr) => {
          const errText = stderr.toString('utf8');
          if (!err) return resolve({ stdout, stderr: errText });
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string };
          const how = e.killed && e.signal === 'SIGKILL' ? `timed out after ${opts.timeoutMs ?? 300_000} ms`
            : e.signal ? `killed by ${e.signal}`
            : typeof e.code === 'number' ? `exit status ${e.code}`
            : String(e.code ?? e.message);
          const error = new Error(`${cmd} failed (${how})${errText.trim() ? ':\n' + errText.trim() : ''}`) as Error & {
            stdout: Buffer;
            stderr: string;
            exitCode?: number;
          };
          error.stdout = stdout;
          error.stderr = errText;
          if (typeof e.code === 'number') error.exitCode = e.code;
          reject(error);
        },
      );
      // A tool that exits without reading all its input makes the write fail with EPIPE; the exit status tells the story.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input ? Buffer.from(opts.input.buffer, opts.input.byteOffset, opts.input.byteLength) : undefined);
    });
  } finally {
    release();
  }
}

// ---- helpers shared by the wasm and host builders ----

const versions = new Map<string, Promise<string>>();

/** First line of `tool --version`, memoized per process; part of build cache keys so a compiler upgrade invalidates them. */
export function toolVersion(name: ToolName): Promise<string> {
  let v = versions.get(name);
  if (!v) {
    v = runTool(requireTool(name), ['--version']).then((r) => r.stdout.toString('utf8').split('\n')[0].trim());
    versions.set(name, v);
  }
  return v;
}

/** A model linked into a harness: its symbol prefix and (default `<prefix>model.h`) its public header. */
export interface HarnessModel {
  prefix: string;
  header?: string;
}

/** Template context for one model; rejects prefixes that are not C identifiers (they are pasted into C). */
export function harnessModels(models: HarnessModel[]): { prefix: string; PU: string; header: string }[] {
  if (models.length === 0) throw new Error('harness needs at least one model');
  const seen = new Set<string>();
  return models.map((m) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.prefix)) throw new Error(`model prefix ${JSON.stringify(m.prefix)} is not a C identifier prefix`);
    if (seen.has(m.prefix)) throw new Error(`model prefix ${m.prefix} listed twice`);
    seen.add(m.prefix);
    const header = m.header ?? `${m.prefix}model.h`;
    if (!/^[A-Za-z0-9_.-]+$/.test(header)) throw new Error(`bad header name ${JSON.stringify(header)}`);
    return { prefix: m.prefix, PU: m.prefix.toUpperCase(), header };
  });
}

/** File names are written flat into one build directory: refuse anything that could escape it. */
export function checkFileNames(files: Record<string, string>, reserved: string[]): void {
  for (const name of Object.keys(files)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`bad source file name ${JSON.stringify(name)}`);
    if (reserved.includes(name)) throw new Error(`source file name ${name} is reserved for the harness`);
  }
}

/** sha256 (hex) of a JSON-able description of a build: tool version, flags, and every file's name and content. */
export function buildKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Write `bytes` to `path` so concurrent readers (other test workers) never see a partial file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, bytes, { mode });
  await rename(tmp, path);
}

// ---- what a harness reports and returns (shared by the wasm and host runners) ----

/** The facts about one compiled model a runner needs; both runners check them against the C macros. */
export interface ModelInfo {
  prefix: string;
  inputSize: number;
  numClasses: number;
  arenaSize: number;
  scoreType: 'f32' | 'i32';
}

export interface TraceRecord {
  layer: number;
  /** A copy of the layer's output buffer, taken when the hook was called. */
  bytes: Uint8Array;
}

export interface RunResult {
  /** The model's return value (0 = ok). */
  status: number;
  scores: Float32Array | Int32Array;
  traces: TraceRecord[];
}

/** Compile-time facts the harnesses report, in this order (see the harness templates). */
export interface CompiledFacts {
  inputSize: number;
  numClasses: number;
  arenaSize: number;
  inputBytes: number;
  scoreBytes: number;
  inputSigned: number;
  scoreFloat: number;
}
export const FACT_NAMES: (keyof CompiledFacts)[] = ['inputSize', 'numClasses', 'arenaSize', 'inputBytes', 'scoreBytes', 'inputSigned', 'scoreFloat'];

/** Throw if what the caller believes about a model disagrees with what its C says. */
export function checkFacts(model: ModelInfo, f: CompiledFacts): void {
  const want: CompiledFacts = {
    inputSize: model.inputSize,
    numClasses: model.numClasses,
    arenaSize: model.arenaSize,
    inputBytes: 1,
    scoreBytes: 4,
    inputSigned: f.inputSigned, // either signedness is fine; callers pass raw bytes
    scoreFloat: model.scoreType === 'f32' ? 1 : 0,
  };
  const bad = FACT_NAMES.filter((k) => want[k] !== f[k]).map((k) => `${k}: expected ${want[k]}, C says ${f[k]}`);
  if (bad.length) throw new Error(`model ${model.prefix}: ${bad.join('; ')}`);
}
