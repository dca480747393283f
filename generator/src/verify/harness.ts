// What the WASM and host harnesses share: the models they link (prefixes and headers), safe file names, and the
// facts and results they report back (checked against what the generator believes).
import { prefixContext } from '../emit/templates.ts';
import { checkPrefix } from '../plan/resolve.ts';
/** A model linked into a harness: its symbol prefix and (default `<prefix>model.h`) its public header. */
export interface HarnessModel {
  prefix: string;
  header?: string;
}

/** Template context for one model; rejects prefixes that are not C identifiers (they are pasted into C). */
export function harnessModels(models: HarnessModel[]): { prefix: string; PREFIX: string; header: string }[] {
  if (models.length === 0) throw new Error('harness needs at least one model');
  const seen = new Set<string>();
  return models.map((m) => {
    checkPrefix(m.prefix);
    if (seen.has(m.prefix)) throw new Error(`model prefix ${m.prefix} listed twice`);
    seen.add(m.prefix);
    const header = m.header ?? `${m.prefix}model.h`;
    if (!/^[A-Za-z0-9_.-]+$/.test(header)) throw new Error(`bad header name ${JSON.stringify(header)}`);
    return { ...prefixContext(m.prefix), header };
  });
}

/** File names are written flat into one build directory: refuse anything that could escape it. */
export function checkFileNames(files: Record<string, string>, reserved: string[]): void {
  for (const name of Object.keys(files)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`bad source file name ${JSON.stringify(name)}`);
    if (reserved.includes(name)) throw new Error(`source file name ${name} is reserved for the harness`);
  }
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
