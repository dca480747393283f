// Build emitted model C to a standalone WebAssembly module and run it in-process.
// Emscripten's JS glue does not work on this Node (see docs/toolchains), so we link with STANDALONE_WASM and
// instantiate the module ourselves, supplying the few WASI/env imports it needs.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from '../emit/templates.ts';
import { cacheDir } from '../core/paths.ts';
import { buildKey, requireTool, runTool, toolVersion, writeFileAtomic } from '../toolchain/tools.ts';
import { wasmMemoryFlags } from '../toolchain/wasm-memory.ts';
import { checkFacts, checkFileNames, FACT_NAMES, harnessModels, type CompiledFacts, type HarnessModel, type ModelInfo, type RunResult, type TraceRecord } from './harness.ts';

export type { ModelInfo, RunResult, TraceRecord } from './harness.ts';

const HARNESS_C = 'bnnh_harness.c';
const IMPORTS_JS = 'bnnh_imports.js';

/**
 * A JS library that only declares env.bnnh_trace. Without it the link fails on the undefined import; with
 * -sERROR_ON_UNDEFINED_SYMBOLS=0 instead, a genuinely missing symbol in the model would silently become an import.
 */
const IMPORTS_JS_SRC = 'mergeInto(LibraryManager.library, { bnnh_trace: function () {} });\n';

/** Fixed emcc flags (sources, exports and -o are added per build). */
export const WASM_CFLAGS: readonly string[] = [
  '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror',
  '-ffp-contract=off', // never fuse a*b+c: the TS reference rounds every float op
  '-DBNN_TRACE',
  '--no-entry', '-sSTANDALONE_WASM', // no JS glue, no main(): a reactor module with _initialize
  '-sALLOW_MEMORY_GROWTH=1', // arenas are model-sized; the 16 MB default heap may not be enough
];

export const WASM_CACHE_DIR = cacheDir('wasm');

export interface WasmBuildOptions {
  /** Model and runtime sources by file name (flat: all in one directory); every `.c` is compiled. */
  files: Record<string, string>;
  /** Models to expose; each has `<prefix>run` and the public header `<prefix>model.h` unless `header` says otherwise. */
  models: HarnessModel[];
  /** Extra compiler flags, appended after WASM_CFLAGS. */
  cflags?: string[];
  /** Set false to bypass the on-disk cache (default true). */
  cache?: boolean;
  /** Bytes of constant tables (the models' weights): a module beyond emscripten's default memory starts bigger. */
  staticBytes?: number;
}

const inflight = new Map<string, Promise<Uint8Array>>();

/** Compile `files` plus the wasm harness into a .wasm; cached on disk by a hash of everything that goes in. */
export async function buildWasm(opts: WasmBuildOptions): Promise<Uint8Array> {
  const emcc = requireTool('emcc');
  checkFileNames(opts.files, [HARNESS_C, IMPORTS_JS]);
  const models = harnessModels(opts.models);
  const all: Record<string, string> = {
    ...opts.files,
    [HARNESS_C]: render('wasm/harness.c.hbs', { models }),
    [IMPORTS_JS]: IMPORTS_JS_SRC,
  };
  const sources = Object.keys(all).filter((n) => n.endsWith('.c')).sort();
  const exported = ['_malloc', '_free', ...models.flatMap((m) => [`_${m.prefix}run`, `_bnnh_${m.prefix}info`])];
  const args = [
    ...WASM_CFLAGS,
    ...(opts.cflags ?? []),
    ...wasmMemoryFlags(opts.staticBytes ?? 0),
    `-sEXPORTED_FUNCTIONS=${exported.join(',')}`,
    '--js-library', IMPORTS_JS,
    ...sources,
    '-o', 'out.wasm',
  ];
  const key = buildKey({
    tool: await toolVersion('emcc'),
    args,
    files: Object.keys(all).sort().map((n) => [n, all[n]]),
  });
  const cached = join(WASM_CACHE_DIR, `${key}.wasm`);
  if (opts.cache !== false && existsSync(cached)) return new Uint8Array(await readFile(cached));

  // Concurrent identical builds in this process share one emcc run.
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'bnn-wasm-'));
      try {
        for (const [name, text] of Object.entries(all)) await writeFile(join(dir, name), text);
        await runTool(emcc, args, { cwd: dir, timeoutMs: 600_000 });
        const bytes = new Uint8Array(await readFile(join(dir, 'out.wasm')));
        await writeFileAtomic(cached, bytes);
        return bytes;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------------

/** Bytes written around buffers handed to the model, checked after each run (wasm has no ASan). */
const GUARD = 64;
const GUARD_BYTE = 0xfd;
/** Arena and scores are pre-filled with this, so a model that reads memory it never wrote diverges from the reference. */
const FILL_BYTE = 0xcd;

interface Exports {
  memory: WebAssembly.Memory;
  malloc(n: number): number;
  free(p: number): void;
  _initialize?(): void;
  stackSave?(): number;
  stackRestore?(p: number): void;
  [name: string]: unknown;
}

class WasiExit extends Error {}

export interface WasmRunOptions {
  /** Collect trace records (default false). */
  trace?: boolean;
}

/** One instantiated harness module; runs any of its models many times without leaking. */
export class WasmEngine {
  private ex!: Exports;
  /** Trace records of the run in progress, or null when not tracing. */
  private sink: TraceRecord[] | null = null;
  private running = -1;
  private checked = new Map<string, number>(); // prefix -> model index, once its facts matched

  private constructor() {}

  static async load(bytes: Uint8Array | ArrayBuffer): Promise<WasmEngine> {
    const engine = new WasmEngine();
    const module = await WebAssembly.compile(bytes as BufferSource);
    const instance = await WebAssembly.instantiate(module, engine.imports(module));
    engine.ex = instance.exports as unknown as Exports;
    engine.ex._initialize?.(); // reactor modules run their static constructors here
    return engine;
  }

  /** Only what the module actually imports; an unknown env import is an error, unknown WASI calls return ENOSYS. */
  private imports(module: WebAssembly.Module): WebAssembly.Imports {
    const env: Record<string, (...a: number[]) => number | void> = {
      bnnh_trace: (model, layer, ptr, len) => this.onTrace(model, layer, ptr, len),
      emscripten_notify_memory_growth: () => {},
    };
    const wasi: Record<string, (...a: number[]) => number | void> = {
      fd_write: (fd, iovs, iovsLen, nwritten) => this.fdWrite(fd, iovs, iovsLen, nwritten),
      proc_exit: (code) => {
        throw new WasiExit(`wasm module called exit(${code})`);
      },
    };
    const out: Record<string, Record<string, (...a: number[]) => number | void>> = {};
    const unknown: string[] = [];
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') unknown.push(`${imp.module}.${imp.name} (${imp.kind})`);
      else if (imp.module === 'env' && env[imp.name]) (out.env ??= {})[imp.name] = env[imp.name];
      else if (imp.module === 'wasi_snapshot_preview1') (out[imp.module] ??= {})[imp.name] = wasi[imp.name] ?? (() => 52 /* ENOSYS */);
      else unknown.push(`${imp.module}.${imp.name}`);
    }
    if (unknown.length) throw new Error(`wasm module needs imports the engine does not provide: ${unknown.join(', ')}`);
    return out;
  }

  private onTrace(model: number, layer: number, ptr: number, len: number): void {
    if (model !== this.running) throw new Error(`trace hook of model #${model} called while model #${this.running} runs`);
    // Copy now: the model reuses this buffer for later layers. Take a fresh view: memory may have grown.
    this.sink?.push({ layer: layer >>> 0, bytes: new Uint8Array(this.ex.memory.buffer, ptr >>> 0, len >>> 0).slice() });
  }

  /** printf in C code under test ends up here; pass it to stderr so debugging output is not lost. */
  private fdWrite(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
    const dv = new DataView(this.ex.memory.buffer);
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const p = dv.getUint32(iovs + 8 * i, true);
      const n = dv.getUint32(iovs + 8 * i + 4, true);
      (fd === 1 ? process.stdout : process.stderr).write(new Uint8Array(this.ex.memory.buffer, p, n).slice());
      total += n;
    }
    dv.setUint32(nwritten, total, true);
    return 0;
  }

  /** Check once per model that its exports exist and its compile-time facts match `model`; returns its index. */
  private modelIndex(model: ModelInfo): number {
    const known = this.checked.get(model.prefix);
    if (known !== undefined) return known;
    const info = this.ex[`bnnh_${model.prefix}info`] as ((what: number) => number) | undefined;
    if (typeof this.ex[`${model.prefix}run`] !== 'function' || !info) {
      const runs = Object.keys(this.ex).filter((k) => /^bnnh_.*info$/.test(k)).map((k) => k.slice(5, -4));
      throw new Error(`model prefix ${model.prefix} is not in this wasm module (it has: ${runs.join(', ')})`);
    }
    const facts = Object.fromEntries(FACT_NAMES.map((k, i) => [k, info(i) >>> 0])) as unknown as CompiledFacts;
    checkFacts(model, facts);
    const index = info(FACT_NAMES.length) >>> 0;
    this.checked.set(model.prefix, index);
    return index;
  }

  /** Current size of linear memory; lets callers (and tests) check that many runs do not leak. */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /** Run one input through `model`. Throws on a trap or if the model wrote outside its arena/scores or into its input. */
  run(model: ModelInfo, input: Uint8Array | Int8Array, opts: WasmRunOptions = {}): RunResult {
    const index = this.modelIndex(model);
    if (input.length !== model.inputSize) throw new Error(`model ${model.prefix}: input has ${input.length} bytes, expected ${model.inputSize}`);
    const ex = this.ex;
    const runFn = ex[`${model.prefix}run`] as (input: number, scores: number, arena: number) => number;
    const inBytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const scoreBytes = 4 * model.numClasses;

    const sp = ex.stackSave?.();
    const inP = ex.malloc(model.inputSize + GUARD);
    const scP = ex.malloc(scoreBytes + GUARD);
    const arP = ex.malloc(model.arenaSize + GUARD);
    try {
      if (!inP || !scP || !arP) throw new Error('wasm malloc failed');
      if (arP % 4 !== 0) throw new Error(`arena at ${arP} is not 4-byte aligned`); // dlmalloc gives 8; the API needs 4
      let mem = new Uint8Array(ex.memory.buffer); // after the mallocs: they may have grown memory
      mem.set(inBytes, inP);
      mem.fill(GUARD_BYTE, inP + model.inputSize, inP + model.inputSize + GUARD);
      mem.fill(FILL_BYTE, scP, scP + scoreBytes);
      mem.fill(GUARD_BYTE, scP + scoreBytes, scP + scoreBytes + GUARD);
      mem.fill(FILL_BYTE, arP, arP + model.arenaSize);
      mem.fill(GUARD_BYTE, arP + model.arenaSize, arP + model.arenaSize + GUARD);

      const traces: TraceRecord[] = [];
      this.sink = opts.trace ? traces : null;
      this.running = index;
      const status = runFn(inP, scP, arP) | 0;

      mem = new Uint8Array(ex.memory.buffer);
      const bad: string[] = [];
      if (!equalBytes(mem.subarray(inP, inP + model.inputSize), inBytes)) bad.push('modified its (const) input');
      if (!isFilled(mem, inP + model.inputSize, GUARD)) bad.push('wrote past the end of its input');
      if (!isFilled(mem, scP + scoreBytes, GUARD)) bad.push('wrote past the end of scores');
      if (!isFilled(mem, arP + model.arenaSize, GUARD)) bad.push(`wrote past the end of its ${model.arenaSize}-byte arena`);
      if (bad.length) throw new Error(`model ${model.prefix} ${bad.join(', ')}`);

      const raw = mem.slice(scP, scP + scoreBytes).buffer;
      const scores = model.scoreType === 'f32' ? new Float32Array(raw) : new Int32Array(raw);
      return { status, scores, traces };
    } finally {
      this.sink = null;
      this.running = -1;
      ex.free(arP);
      ex.free(scP);
      ex.free(inP);
      // A trap unwinds past the C epilogues and leaves the shadow-stack pointer where the trap happened.
      if (sp !== undefined) ex.stackRestore?.(sp);
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isFilled(mem: Uint8Array, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (mem[i] !== GUARD_BYTE) return false;
  return true;
}
