// Locating and running the external tools (compilers, make, emulators) for every layer that builds or runs code:
// emission (the WASM target), verification and benchmarks. Tools are found on PATH directly (no `which` subprocess)
// and run without a shell, so file names are never reinterpreted; a missing tool fails with one line naming the
// Debian package that provides it.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { BnnError } from '../core/errors.ts';

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
export function findTool(name: string): string | null {
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
