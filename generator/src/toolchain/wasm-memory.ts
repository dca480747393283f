// How much memory a WebAssembly build starts with. wasm-ld places the model's constant tables (weights) in the
// module's initial memory, and emscripten's default (16 MiB) holds the tables, the 5 MiB stack and a heap. A bigger
// model fails to link ("initial memory too small") however much the memory may grow later, so size it from the model.

const MiB = 1024 * 1024;
/** emscripten 3.1.6's INITIAL_MEMORY and TOTAL_STACK defaults. */
const DEFAULT_INITIAL = 16 * MiB;
const STACK = 5 * MiB;
/** Room for the C library's data and the first heap allocations (arena, input, scores) before any growth. */
const HEADROOM = 4 * MiB;

/** emcc flags for a module whose static data (constant tables) is `staticBytes`: none while the default fits. */
export function wasmMemoryFlags(staticBytes: number): string[] {
  const need = staticBytes + STACK + HEADROOM;
  if (need <= DEFAULT_INITIAL) return [];
  const pages = Math.ceil(need / 65536);
  return [`-sINITIAL_MEMORY=${pages * 65536}`];
}
