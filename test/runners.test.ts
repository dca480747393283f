// The wasm and host runners, on hand-written dummy models whose outputs are easy to compute in TS.
import { describe, expect, it } from 'vitest';
import { buildHost, runHost } from '../generator/src/verify/host.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { type ModelInfo } from '../generator/src/verify/harness.ts';
import { wasmMemoryFlags } from '../generator/src/toolchain/wasm-memory.ts';
import { buildWasm, WasmEngine } from '../generator/src/verify/wasm.ts';

// Model a: uint8 input, float scores[k] = sum_i in[i] * (k+1) * 0.1f; traces two layers from the same arena bytes,
// overwriting them in between (so a runner that does not copy at call time fails). The 64 KB arena makes a leak of
// one arena per run visible as memory growth within a few hundred runs.
const A_FILES = {
  'a_model.h': `#ifndef A_MODEL_H
#define A_MODEL_H
#include <stdint.h>
#define A_INPUT_SIZE 16
#define A_NUM_CLASSES 3
#define A_ARENA_SIZE 65536
typedef uint8_t a_input_t;
typedef float a_score_t;
int a_run(const a_input_t *input, a_score_t *scores, void *arena);
#ifdef BNN_TRACE
void a_trace(uint32_t layer, const void *data, uint32_t bytes);
#endif
#endif
`,
  'a_model.c': `#include "a_model.h"
int a_run(const a_input_t *input, a_score_t *scores, void *arena)
{
    uint8_t *buf = (uint8_t *)arena;
    uint32_t i, k;
    for (i = 0; i < 8; i++) buf[i] = input[i];
#ifdef BNN_TRACE
    a_trace(0, buf, 8);
#endif
    for (i = 0; i < 8; i++) buf[i] = (uint8_t)(input[15 - i] ^ 0x5Au);
#ifdef BNN_TRACE
    a_trace(1, buf, 4);
#endif
    buf[A_ARENA_SIZE - 1] = 7; /* last arena byte: in bounds */
    for (k = 0; k < A_NUM_CLASSES; k++) {
        float acc = 0.0f;
        for (i = 0; i < A_INPUT_SIZE; i++) acc += (float)input[i] * (float)(k + 1) * 0.1f;
        scores[k] = acc;
    }
    return 0;
}
`,
};

// Model b: int8 input, int32 scores[k] = sum_i in[i] * (i % (k+2)) - k; status 3 when in[0] == -128; one trace.
const B_FILES = {
  'b_model.h': `#ifndef B_MODEL_H
#define B_MODEL_H
#include <stdint.h>
#define B_INPUT_SIZE 5
#define B_NUM_CLASSES 4
#define B_ARENA_SIZE 12
typedef int8_t b_input_t;
typedef int32_t b_score_t;
int b_run(const b_input_t *input, b_score_t *scores, void *arena);
#ifdef BNN_TRACE
void b_trace(uint32_t layer, const void *data, uint32_t bytes);
#endif
#endif
`,
  'b_model.c': `#include "b_model.h"
int b_run(const b_input_t *input, b_score_t *scores, void *arena)
{
    int32_t *buf = (int32_t *)arena; /* relies on the 4-byte aligned arena */
    int32_t i, k;
    for (i = 0; i < 3; i++) buf[i] = input[i] * 1000;
#ifdef BNN_TRACE
    b_trace(7, buf, 12);
#endif
    for (k = 0; k < B_NUM_CLASSES; k++) {
        int32_t acc = -k;
        for (i = 0; i < B_INPUT_SIZE; i++) acc += input[i] * (i % (k + 2));
        scores[k] = acc;
    }
    return input[0] == -128 ? 3 : 0;
}
`,
};

// Model c writes one byte past its arena.
const C_FILES = {
  'c_model.h': `#include <stdint.h>
#define C_INPUT_SIZE 4
#define C_NUM_CLASSES 2
#define C_ARENA_SIZE 32
typedef uint8_t c_input_t;
typedef int32_t c_score_t;
int c_run(const c_input_t *input, c_score_t *scores, void *arena);
void c_trace(uint32_t layer, const void *data, uint32_t bytes);
`,
  'c_model.c': `#include "c_model.h"
int c_run(const c_input_t *input, c_score_t *scores, void *arena)
{
    ((uint8_t *)arena)[C_ARENA_SIZE] = input[0];
    scores[0] = scores[1] = 0;
    return 0;
}
`,
};

const A: ModelInfo = { prefix: 'a_', inputSize: 16, numClasses: 3, arenaSize: 65536, scoreType: 'f32' };
const B: ModelInfo = { prefix: 'b_', inputSize: 5, numClasses: 4, arenaSize: 12, scoreType: 'i32' };
const C: ModelInfo = { prefix: 'c_', inputSize: 4, numClasses: 2, arenaSize: 32, scoreType: 'i32' };
const AB = { files: { ...A_FILES, ...B_FILES }, models: [{ prefix: 'a_' }, { prefix: 'b_' }] };

function expectA(input: Uint8Array) {
  const f = Math.fround;
  const scores = [0, 1, 2].map((k) => {
    let acc = 0;
    for (const x of input) acc = f(acc + f(f(x * (k + 1)) * f(0.1)));
    return acc;
  });
  const t1 = new Uint8Array(4).map((_, i) => input[15 - i] ^ 0x5a);
  return { status: 0, scores: new Float32Array(scores), traces: [{ layer: 0, bytes: input.slice(0, 8) }, { layer: 1, bytes: t1 }] };
}

function expectB(input: Int8Array) {
  const scores = [0, 1, 2, 3].map((k) => input.reduce((acc, x, i) => acc + x * (i % (k + 2)), -k));
  const trace = new Uint8Array(new Int32Array([0, 1, 2].map((i) => input[i] * 1000)).buffer);
  return { status: input[0] === -128 ? 3 : 0, scores: new Int32Array(scores), traces: [{ layer: 7, bytes: trace }] };
}

/** Deterministic pseudo-random bytes (LCG), so failures reproduce. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const aInputs = [new Uint8Array(16), new Uint8Array(16).fill(255), ...[1, 2, 3, 4].map((s) => bytes(16, s))];
const bInputs = [new Int8Array(5), new Int8Array([-128, 127, -1, 5, 9]), ...[5, 6, 7].map((s) => new Int8Array(bytes(5, s).buffer))];

describe.skipIf(!haveTool('emcc'))('wasm runner', () => {
  it('runs two models linked into one module, with traces, bit-exactly', async () => {
    const engine = await WasmEngine.load(await buildWasm(AB));
    for (const x of aInputs) expect(engine.run(A, x, { trace: true })).toEqual(expectA(x));
    for (const x of bInputs) expect(engine.run(B, x, { trace: true })).toEqual(expectB(x));
    expect(engine.run(A, aInputs[2]).traces).toEqual([]); // tracing is opt-in
  });

  it('serves a rebuild from the cache', async () => {
    const first = await buildWasm(AB);
    const t0 = performance.now();
    const again = await buildWasm(AB);
    const ms = performance.now() - t0;
    expect(again).toEqual(first);
    expect(ms).toBeLessThan(5000); // a real emcc build takes seconds; a hit is a hash and a file read
  });

  it('does not leak across many runs', async () => {
    const engine = await WasmEngine.load(await buildWasm(AB));
    engine.run(A, aInputs[0]);
    const before = engine.memoryBytes;
    for (let i = 0; i < 400; i++) engine.run(A, aInputs[i % aInputs.length], { trace: true }); // 400 x 64 KB > 16 MB heap
    expect(engine.memoryBytes).toBe(before);
  });

  it('rejects a model that is not linked in, or whose sizes disagree with the C', async () => {
    const engine = await WasmEngine.load(await buildWasm(AB));
    expect(() => engine.run({ ...A, prefix: 'z_' }, aInputs[0])).toThrow(/z_ is not in this wasm module/);
    expect(() => engine.run({ ...B, numClasses: 5 }, bInputs[0])).toThrow(/numClasses: expected 5, C says 4/);
    expect(() => engine.run({ ...B, scoreType: 'f32' }, bInputs[0])).toThrow(/scoreFloat/);
    expect(() => engine.run(A, new Uint8Array(3))).toThrow(/input has 3 bytes/);
  });

  it("sizes the module's initial memory from its constant tables (a model beyond emscripten's 16 MiB links)", async () => {
    const MiB = 1024 * 1024;
    expect(wasmMemoryFlags(2 * MiB)).toEqual([]); // tables + 5 MiB stack + 4 MiB headroom fit the default
    expect(wasmMemoryFlags(28 * MiB)).toEqual([`-sINITIAL_MEMORY=${37 * MiB}`]); // Bi-Real-50's 28 MB of weights
    const engine = await WasmEngine.load(await buildWasm({ ...AB, staticBytes: 20 * MiB }));
    expect(engine.memoryBytes).toBe(29 * MiB);
    for (const x of aInputs) expect(engine.run(A, x, { trace: true })).toEqual(expectA(x));
  });

  it('reports a write past the arena', async () => {
    const engine = await WasmEngine.load(await buildWasm({ files: C_FILES, models: [{ prefix: 'c_' }] }));
    expect(() => engine.run(C, new Uint8Array(4))).toThrow(/past the end of its 32-byte arena/);
    // The instance stays usable after a failed run.
    expect(() => engine.run(C, new Uint8Array(4))).toThrow(/past the end/);
  });
});

describe.skipIf(!haveTool('gcc'))('host runner', () => {
  for (const sanitize of [false, true]) {
    it(`runs two models bit-exactly (sanitize=${sanitize})`, async () => {
      const exe = await buildHost({ ...AB, sanitize });
      expect(await runHost(exe, A, aInputs)).toEqual(aInputs.map(expectA));
      expect(await runHost(exe, B, bInputs)).toEqual(bInputs.map(expectB));
      const quiet = await runHost(exe, B, bInputs, { trace: false });
      expect(quiet.map((r) => r.traces)).toEqual(bInputs.map(() => []));
      expect(await runHost(exe, A, [])).toEqual([]);
    });
  }

  it('rejects a model whose sizes disagree with the C', async () => {
    const exe = await buildHost(AB);
    await expect(runHost(exe, { ...A, arenaSize: 4096 }, aInputs)).rejects.toThrow(/arenaSize: expected 4096, C says 65536/);
    await expect(runHost(exe, { ...A, inputSize: 15 }, [new Uint8Array(15)])).rejects.toThrow(/input size does not match A_INPUT_SIZE/);
    await expect(runHost(exe, { ...A, prefix: 'z_' }, aInputs)).rejects.toThrow(/no such model/);
  });

  it('fails the sanitized run of a model that writes one byte past its arena', async () => {
    const exe = await buildHost({ files: C_FILES, models: [{ prefix: 'c_' }], sanitize: true });
    await expect(runHost(exe, C, [new Uint8Array(4)])).rejects.toThrow(/AddressSanitizer: heap-buffer-overflow/);
  });
});
