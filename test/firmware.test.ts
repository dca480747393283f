// Firmware emitter end to end: a hand-written dummy model, golden scores computed here, built with
// arm-none-eabi-gcc and run on QEMU's mps2-an386. Also board validation and the target table.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard, listBoards } from '../generator/src/model/board.ts';
import { getTarget, TARGET_NAMES } from '../generator/src/model/target.ts';
import { renderFirmware, type FirmwareOptions } from '../generator/src/emit/firmware.ts';
import { buildFirmware, runQemu } from '../generator/src/toolchain/qemu.ts';
import { parseCaseScores } from '../generator/src/verify/firmware-run.ts';

const have = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const toolsMissing = !have('arm-none-eabi-gcc') || !have('qemu-system-arm') || !have('make');

const INPUT_SIZE = 784;
const NUM_CLASSES = 10;

const MODEL_H = `#ifndef BNN_MODEL_H
#define BNN_MODEL_H
#include <stdint.h>
#define BNN_INPUT_SIZE  ${INPUT_SIZE}
#define BNN_NUM_CLASSES ${NUM_CLASSES}
#define BNN_ARENA_SIZE  16
#define BNN_SCORE_IS_FLOAT 1
typedef uint8_t bnn_input_t;
typedef float bnn_score_t;
int bnn_run(const bnn_input_t *input, bnn_score_t *scores, void *arena);
#endif
`;

// Dummy model: score[k] = (float)(sum of input bytes * (k+1)) * 0.5f, with the sum kept in the arena.
const MODEL_C = `#include "bnn_model.h"
int bnn_run(const bnn_input_t *input, bnn_score_t *scores, void *arena)
{
    uint32_t *sum = (uint32_t *)arena;
    *sum = 0;
    for (uint32_t i = 0; i < BNN_INPUT_SIZE; i++) *sum += input[i];
    for (uint32_t k = 0; k < BNN_NUM_CLASSES; k++) scores[k] = (float)(*sum * (k + 1u)) * 0.5f;
    return 0;
}
`;

function goldenCase(seed: number): { input: Uint8Array; scores: Float32Array } {
  let s = seed;
  const input = Uint8Array.from({ length: INPUT_SIZE }, () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  const sum = input.reduce((a, b) => a + b, 0);
  const scores = Float32Array.from({ length: NUM_CLASSES }, (_, k) => Math.fround(Math.fround(sum * (k + 1)) * 0.5));
  return { input, scores };
}

/** A float32, given by its bits, as C's printf("%.7g") prints it: 7 significant digits, ties to even (exact, BigInt). */
function g7(bits: number): string {
  const sign = bits >>> 31 ? '-' : '';
  const expo = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (expo === 0xff) return sign + (frac ? 'nan' : 'inf');
  if (expo === 0 && frac === 0) return sign + '0';
  const e2 = expo ? expo - 150 : -149;
  const num = BigInt(expo ? frac | 0x800000 : frac) << BigInt(Math.max(e2, 0)); // the value is num / den
  const den = 1n << BigInt(Math.max(-e2, 0));
  const pow = (k: number) => 10n ** BigInt(k);
  const atLeast = (k: number) => (k >= 0 ? num >= pow(k) * den : num * pow(-k) >= den); // value >= 10^k
  let e = 0;
  while (atLeast(e + 1)) e++;
  while (!atLeast(e)) e--;
  const [n, d] = e >= 6 ? [num, den * pow(e - 6)] : [num * pow(6 - e), den];
  let q = n / d;
  const twice = 2n * (n % d);
  if (twice > d || (twice === d && q % 2n === 1n)) q++;
  if (q === pow(7)) {
    q = pow(6);
    e++;
  }
  const digits = q.toString().replace(/0+$/, '');
  if (e < -4 || e >= 7) return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const fraction = digits.slice(e + 1);
  return sign + digits.slice(0, e + 1).padEnd(e + 1, '0') + (fraction ? '.' + fraction : '');
}

function options(expected: Float32Array[]): FirmwareOptions {
  const cases = [1, 2, 3].map(goldenCase);
  return {
    board: loadBoard('mps2-an386'),
    target: getTarget('cortex-m4'),
    prefix: 'bnn_',
    modelSources: ['bnn_model.c'],
    inputs: cases.map((c) => c.input),
    expected: expected.length ? expected : cases.map((c) => c.scores),
    inputSigned: false,
    scoreIsFloat: true,
    modelHash: 'test-dummy',
  };
}

describe('boards and targets', () => {
  it('loads mps2-an386 with its memory map', () => {
    expect(listBoards()).toContain('mps2-an386');
    const b = loadBoard('mps2-an386');
    expect(b.cpu).toBe('cortex-m4');
    expect(b.qemu?.machine).toBe('mps2-an386');
    expect(b.memory.find((r) => r.name === b.layout.code)).toMatchObject({ origin: 0, length: 4 * 1024 * 1024 });
    expect(b.memory.find((r) => r.name === b.layout.stack)).toMatchObject({ origin: 0x20000000, length: 4 * 1024 * 1024 });
  });

  it('rejects a malformed board file, naming the JSON path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnn-board-'));
    try {
      const good = loadBoard('mps2-an386');
      const bad = { ...good, memory: [{ ...good.memory[0], origin: '0xZZ' }, ...good.memory.slice(1)] };
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...bad, name: 'bad' }));
      expect(() => loadBoard('bad', dir)).toThrow(/memory\[0\]\.origin: expected an integer/);
      writeFileSync(join(dir, 'bad2.json'), JSON.stringify({ ...good, name: 'bad2', layout: { ...good.layout, stack: 'NOPE' } }));
      expect(() => loadBoard('bad2', dir)).toThrow(/layout\.stack: no memory region named 'NOPE'/);
      writeFileSync(join(dir, 'bad3.json'), '{ not json');
      expect(() => loadBoard('bad3', dir)).toThrow(/not JSON/);
      expect(() => loadBoard('missing', dir)).toThrow(/unknown board 'missing'.*bad, bad2, bad3/);
      try {
        loadBoard('bad', dir);
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the cortex-m4 target and lists valid names for unknown ones', () => {
    const t = getTarget('cortex-m4');
    expect(t.cflags).toEqual(['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16']);
    expect(t.hasFpu && t.hasDsp).toBe(true);
    expect(() => getTarget('cortex-m99')).toThrow(new RegExp(`valid targets: ${TARGET_NAMES.join(', ')}`));
  });
});

describe('renderFirmware', () => {
  it('renders the five files deterministically with a bnn-gen banner', () => {
    const a = renderFirmware(options([]));
    const b = renderFirmware(options([]));
    expect(Object.keys(a).sort()).toEqual(['Makefile', 'golden.h', 'linker.ld', 'main.c', 'startup.c']);
    expect(a).toEqual(b);
    for (const text of Object.values(a)) expect(text.split('\n')[0]).toMatch(/bnn-gen for board mps2-an386, target cortex-m4/);
    expect(a['linker.ld']).toContain('SSRAM23 (rwx) : ORIGIN = 0x20000000, LENGTH = 0x00400000');
  });

  it('rejects inconsistent golden data', () => {
    const o = options([]);
    expect(() => renderFirmware({ ...o, inputSigned: true })).toThrow(/inputSigned/);
    expect(() => renderFirmware({ ...o, expected: o.expected.slice(1) })).toThrow(/3 inputs but 2/);
    expect(() => renderFirmware({ ...o, modelSources: ['../x.c'] })).toThrow(/plain .c file name/);
  });
});

describe.skipIf(toolsMissing)('firmware on QEMU mps2-an386', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bnn-fw-'));
    writeFileSync(join(dir, 'bnn_model.h'), MODEL_H);
    writeFileSync(join(dir, 'bnn_model.c'), MODEL_C);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function buildAndRun(opts: FirmwareOptions) {
    for (const [name, text] of Object.entries(renderFirmware(opts))) writeFileSync(join(dir, name), text);
    const { elf } = await buildFirmware(dir);
    return runQemu(elf, opts.board, { timeoutMs: 30_000 });
  }

  it('passes when the golden scores match', async () => {
    const r = await buildAndRun(options([]));
    expect(r.stdout).toMatch(/^case 0: argmax 9 scores [\d. ]+ bits( [0-9a-f]{8}){10} ok$/m);
    expect(parseCaseScores(r.stdout, true)).toEqual([1, 2, 3].map((s) => goldenCase(s).scores));
    expect(r.stdout).toMatch(/^stack: \d+ bytes$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('PASS 3/3');
    expect(r.exitCode).toBe(0);
  });

  it('fails with exit status 1 when one expected score is off', async () => {
    const good = [1, 2, 3].map((s) => goldenCase(s).scores);
    good[1] = Float32Array.from(good[1]);
    good[1][4] = Math.fround(good[1][4] + 0.5);
    const r = await buildAndRun(options(good));
    expect(r.stdout).toMatch(/^case 1: .* MISMATCH$/m);
    expect(r.stdout).toMatch(/^ {2}score\[4\]: got .* want /m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('FAIL 1/3 mismatched');
    expect(r.exitCode).toBe(1);
  });

  it('handles int8 inputs and int32 scores, INT32_MIN included', async () => {
    const idir = mkdtempSync(join(tmpdir(), 'bnn-fw-int-'));
    try {
      const h = MODEL_H.replace('typedef uint8_t', 'typedef int8_t').replace('typedef float', 'typedef int32_t').replace('FLOAT 1', 'FLOAT 0');
      // score[k] = (k+1) * signed sum for k < 9; score[9] = INT32_MIN (the one int32 without a plain C literal).
      const c = `#include "bnn_model.h"
int bnn_run(const bnn_input_t *in, bnn_score_t *out, void *arena)
{
    int32_t s = 0;
    (void)arena;
    for (int i = 0; i < BNN_INPUT_SIZE; i++) s += in[i];
    for (int k = 0; k < BNN_NUM_CLASSES - 1; k++) out[k] = s * (k + 1);
    out[BNN_NUM_CLASSES - 1] = INT32_MIN;
    return 0;
}
`;
      writeFileSync(join(idir, 'bnn_model.h'), h);
      writeFileSync(join(idir, 'bnn_model.c'), c);
      const inputs = [Int8Array.from({ length: INPUT_SIZE }, (_, i) => ((i * 37) % 256) - 128)];
      const sum = inputs[0].reduce((a, b) => a + b, 0);
      const expected = [Int32Array.from({ length: NUM_CLASSES }, (_, k) => (k === NUM_CLASSES - 1 ? -(2 ** 31) : sum * (k + 1)))];
      const opts: FirmwareOptions = { ...options([]), inputs, expected, inputSigned: true, scoreIsFloat: false };
      for (const [name, text] of Object.entries(renderFirmware(opts))) writeFileSync(join(idir, name), text);
      const r = await runQemu((await buildFirmware(idir)).elf, opts.board, { timeoutMs: 30_000 });
      expect(r.stdout).toContain(' -2147483648 ok');
      expect(r.stdout.trim().split('\n').at(-1)).toBe('PASS 1/1');
      expect(r.exitCode).toBe(0);
    } finally {
      rmSync(idir, { recursive: true, force: true });
    }
  });

  it('prints float scores without printf: decimals as %.7g would, and the exact bits', async () => {
    // Zeros, the %g notation boundaries, rounding into the next decade, ties, subnormals, the extremes, infinities, NaNs,
    // and seeded random bit patterns over every exponent.
    const special = [
      0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3dcccccd, 0x3727c5ac, 0x38d1b717, 0x38d1b716, 0x4996b438, 0x4b3c614e,
      0x4b18967f, 0x3f7fffff, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x00000001, 0x007fffff, 0x7f800000, 0xff800000, 0x7fc00000,
      0xffc00001, 0x41453145, 0xbd5accdc, 0x501502f9, 0x2edbe6ff, 0x42c80000, 0x447a0000, 0x49742400, 0x4974240a, 0x3a83126f,
      0x4a7a7062, 0x492d3154, 0xcb33db39, 0x4a8f69c9, // exact ties at 7 digits: to even (4103192.5 -> 4103192)
    ];
    let seed = 12345;
    const random: number[] = [];
    while (random.length < 100 - special.length) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const b = (seed ^ (seed << 7)) >>> 0;
      if ((b >>> 23 & 0xff) !== 0xff) random.push(b); // finite: the golden data cannot hold the others
    }
    const bits = Uint32Array.from([...special, ...random]);
    const cases = bits.length / NUM_CLASSES;
    const table = Array.from(bits, (b) => `0x${b.toString(16).padStart(8, '0')}u`).join(', ');
    const c = `#include <string.h>
#include "bnn_model.h"
static const uint32_t table[${bits.length}] = { ${table} };
int bnn_run(const bnn_input_t *input, bnn_score_t *scores, void *arena)
{
    (void)arena;
    memcpy(scores, &table[input[0] * BNN_NUM_CLASSES], sizeof(float) * BNN_NUM_CLASSES);
    return 0;
}
`;
    const fdir = mkdtempSync(join(tmpdir(), 'bnn-fw-float-'));
    try {
      writeFileSync(join(fdir, 'bnn_model.h'), MODEL_H);
      writeFileSync(join(fdir, 'bnn_model.c'), c);
      const values = new Float32Array(bits.buffer);
      const inputs = Array.from({ length: cases }, (_, i) => Uint8Array.from({ length: INPUT_SIZE }, (_, j) => (j === 0 ? i : 0)));
      // Golden data holds finite floats only: the cases with an infinity or NaN print MISMATCH, with their bits.
      const expected = inputs.map((_, i) => values.slice(i * NUM_CLASSES, (i + 1) * NUM_CLASSES).map((v) => (Number.isFinite(v) ? v : 0)));
      const opts: FirmwareOptions = { ...options([]), inputs, expected };
      for (const [name, text] of Object.entries(renderFirmware(opts))) writeFileSync(join(fdir, name), text);
      const r = await runQemu((await buildFirmware(fdir)).elf, opts.board, { timeoutMs: 30_000 });
      const printed = parseCaseScores(r.stdout, true);
      expect(printed).toHaveLength(cases);
      expect(Uint32Array.from(printed.flatMap((p) => Array.from(new Uint32Array(p.buffer))))).toEqual(bits); // NaN payloads too
      const decimals = [...r.stdout.matchAll(/^case \d+: argmax \d+ scores (.*) bits /gm)].flatMap((m) => m[1].split(' '));
      expect(decimals).toEqual(Array.from(bits, g7));
      expect(r.stdout).toMatch(/^FAIL 2\/10 mismatched$/m);
      expect(r.stdout).not.toMatch(/^heap:/m);
    } finally {
      rmSync(fdir, { recursive: true, force: true });
    }
  });

  it('fails when anything asks for heap: _sbrk refuses and the harness says so', async () => {
    const hdir = mkdtempSync(join(tmpdir(), 'bnn-fw-heap-'));
    try {
      writeFileSync(join(hdir, 'bnn_model.h'), MODEL_H);
      // The dummy model, plus a malloc: it must get NULL, and the run must fail although every score matches.
      writeFileSync(join(hdir, 'bnn_model.c'), MODEL_C.replace('#include "bnn_model.h"', '#include <stdlib.h>\n#include "bnn_model.h"').replace('    return 0;', '    if (malloc(64) != NULL) return 1;\n    return 0;'));
      const opts = options([]);
      for (const [name, text] of Object.entries(renderFirmware(opts))) writeFileSync(join(hdir, name), text);
      const r = await runQemu((await buildFirmware(hdir)).elf, opts.board, { timeoutMs: 30_000 });
      expect(r.stdout).toMatch(/^case 2: argmax 9 scores .* ok$/m);
      expect(r.stdout).toMatch(/^heap: [1-9]\d* request\(s\) refused: something called malloc/m);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('FAIL 0/3 mismatched');
      expect(r.exitCode).toBe(1);
    } finally {
      rmSync(hdir, { recursive: true, force: true });
    }
  });

  it('reports compile errors from the build', async () => {
    writeFileSync(join(dir, 'bnn_model.c'), MODEL_C + 'int unused_and_wrong(void) { return; }\n');
    try {
      await expect(buildFirmware(dir)).rejects.toThrow(/bnn_model\.c.*error/s);
    } finally {
      writeFileSync(join(dir, 'bnn_model.c'), MODEL_C);
    }
  });
});
