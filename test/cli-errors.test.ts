// Bad input through the real CLI: one `bnn-gen: error:` line naming what and where, exit 2, nothing written; an
// internal error is one line too. Each case here was found by trying bnn-gen as a new user would.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { buildError } from '../generator/src/toolchain/qemu.ts';
import { BnnError } from '../generator/src/core/errors.ts';
import { writeModel } from '../generator/src/format/write.ts';
import { tooBigForMicrobit } from './fixtures/layers.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const UNTRAINED = join(PROJECT_ROOT, 'test', 'fixtures', 'mnist-untrained', 'model.json');
const work = mkdtempSync(join(tmpdir(), 'bnn-errors-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^bnn-gen: error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(2);
}

/** A copy of the untrained fixture as name.json + name.bin in a folder of its own, with the manifest edited. */
function modelCopy(name: string, edit: (text: string) => string = (t) => t): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(UNTRAINED.replace(/json$/, 'bin'), join(dir, 'model.bin'));
  const path = join(dir, 'model.json');
  writeFileSync(path, edit(readFileSync(UNTRAINED, 'utf8')));
  return path;
}

function npy(data: Uint8Array, shape: number[], declared = shape): Buffer {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${declared.join(', ')}${declared.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 16) header += ' ';
  header += '\n';
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

describe('bad model files', () => {
  it('metadata nested 10,000 levels deep: refused with the JSON path, no stack overflow', () => {
    const path = modelCopy('deep', (t) => t.replace(/\n}\s*$/, `,\n  "metadata": ${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}\n}\n`));
    expectError(cli('report', path), /deep\/model.json: metadata\.a\.a\.a\.\.\.: nested more than 64 levels deep/);
  });

  it('a bare NaN names line and column; a number beyond float64 names its JSON path', () => {
    expectError(cli('report', modelCopy('nan', (t) => t.replace('"zeroPoint": 0', '"zeroPoint": NaN'))), /nan\/model.json: invalid JSON at line \d+, column \d+: NaN is not a JSON number/);
    expectError(cli('report', modelCopy('huge', (t) => t.replace('"zeroPoint": 0', '"zeroPoint": 1e400'))), /huge\/model.json: input.zeroPoint: number out of range/);
  });

  it('errors name the manifest with its folder', () => {
    const path = modelCopy('folder', (t) => t.replace('"dtype": "uint8"', '"dtype": "uint9"'));
    expectError(cli('report', path), new RegExp(`^bnn-gen: error: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: input.dtype`));
  });

  it('a symlinked model.json finds its weights beside the file it points to', () => {
    const target = modelCopy('real-model');
    const other = join(work, 'elsewhere');
    mkdirSync(other);
    symlinkSync(target, join(other, 'linked.json'));
    const r = cli('report', join(other, 'linked.json'));
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('boards and targets', () => {
  it('`memory` and `verify` on a board the model does not fit: refused before building, both RAM figures named', () => {
    const big = join(work, 'too-big', 'model.json');
    mkdirSync(join(work, 'too-big'), { recursive: true });
    writeModel(tooBigForMicrobit(), big);
    for (const args of [['memory', big, '--board', 'microbit'], ['verify', big, '--board', 'microbit', '--count', '1']]) {
      const r = cli(...args);
      expectError(r, /model too-big does not fit microbit: its firmware needs [\d,]+ B of RAM \(arena [\d,]+, harness and C library [\d,]+, stack [\d,]+\), RAM has 16,384 B/);
      expect(r.stdout).toBe('');
    }
  });

  it('--board without --target builds for the board\'s core; a target the board cannot run is one line', () => {
    const r = cli(UNTRAINED, '--board', 'microbit', '-o', 'mb');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(target cortex-m0, board microbit\)/);
    expect(readFileSync(join(work, 'mb', 'Makefile'), 'utf8')).toMatch(/-mcpu=cortex-m0\b/);
    expectError(cli(UNTRAINED, '--board', 'microbit', '--target', 'cortex-m4', '-o', 'mb2'), /--target cortex-m4 does not run on board microbit \(cortex-m0\): armv7e-m code does not run on armv6-m/);
    expect(existsSync(join(work, 'mb2'))).toBe(false);
    // Code for a smaller core runs on a bigger one.
    expect(cli(UNTRAINED, '--board', 'mps2-an386', '--target', 'cortex-m3', '-o', 'm3on4').code).toBe(0);
  });

  it('a link failure is one line with the linker\'s reason', () => {
    const stderr = [
      '/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: firmware.elf section `.bss\' will not fit in region `RAM\'',
      '/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: region `RAM\' overflowed by 1234 bytes',
      'collect2: error: ld returned 1 exit status',
      'make: *** [Makefile:40: firmware.elf] Error 1',
    ].join('\n');
    const e = buildError(stderr, 'make failed');
    expect(e).toBeInstanceOf(BnnError);
    expect(e.message).toBe("firmware does not link: region `RAM' overflowed by 1234 bytes");
    const assert = buildError('/usr/bin/arm-none-eabi-ld: microbit: .data + .bss leave no room for the stack in RAM (0x00000800 bytes reserved)\ncollect2: error: ld returned 1 exit status', '');
    expect(assert.message).toBe('firmware does not link: microbit: .data + .bss leave no room for the stack in RAM (0x00000800 bytes reserved)');
    const compile = buildError('bnn_model.c:12:3: error: unknown type name \'foo\'', '');
    expect(compile).not.toBeInstanceOf(BnnError);
  });
});

describe('input files', () => {
  it('an .npy whose data is shorter or longer than its header declares is refused with both byte counts', () => {
    const x = new Uint8Array(3 * 784);
    writeFileSync(join(work, 'short.npy'), npy(x, [3, 1, 28, 28], [4, 1, 28, 28]));
    expectError(cli('run', '--input', 'short.npy'), /short.npy: the .npy header declares shape \[4,1,28,28\] \(3136 bytes of data\), the file holds 2352 bytes of data/);
    writeFileSync(join(work, 'long.npy'), npy(x, [3, 1, 28, 28], [2, 1, 28, 28]));
    expectError(cli('run', '--input', 'long.npy'), /long.npy: the .npy header declares shape \[2,1,28,28\] \(1568 bytes of data\), the file holds 2352 bytes of data/);
    expectError(cli('run', '--input', 'long.npy', '--engine', 'wasm'), /1568 bytes/);
  });
});

describe('messages that used to mislead', () => {
  it('compact --help does not claim sinkhorn is never worse', () => {
    const r = cli('compact', '--help');
    expect(r.stdout).not.toMatch(/never worse/);
    expect(r.stdout).toMatch(/sinkhorn/);
  });

  it('a folder given as the model is bad input, not a crash', () => {
    mkdirSync(join(work, 'dir.json'));
    expectError(cli('report', 'dir.json'), /cannot read model 'dir.json': is a folder \(EISDIR\)/);
  });
});

describe('--quantize int8 and its calibration inputs', () => {
  const P0 = { top: 0, left: 0, bottom: 0, right: 0 };
  const calib = join(work, 'calib.npy');
  writeFileSync(calib, npy(new Uint8Array(4 * 28 * 28).map((_, i) => (i * 37) % 256), [4, 1, 28, 28]));
  const wrongShape = join(work, 'calib-wrong.npy');
  writeFileSync(wrongShape, npy(new Uint8Array(2 * 3 * 8 * 8), [2, 3, 8, 8]));

  it('flags that do not go together, a missing or wrong calibration file: one line each, nothing written', () => {
    expectError(cli('--quantize', 'int8', '-o', 'q1'), /--quantize int8: give the calibration inputs with --calibrate FILE/);
    expectError(cli('--calibrate', calib, '-o', 'q2'), /--calibrate: only with --quantize int8/);
    expectError(cli('--quantize', 'int8', '--calibrate', join(work, 'missing.npy'), '-o', 'q3'), /--calibrate: cannot read input '.*missing\.npy'/);
    expectError(cli('--quantize', 'int8', '--calibrate', wrongShape, '-o', 'q4'), /--calibrate: .*calib-wrong\.npy: shape \[2,3,8,8\] does not hold inputs of shape \[1, 28, 28\]/);
    expectError(cli('--quantize', 'int8', '--calibrate', calib, '--stem', 'int8', '-o', 'q5'), /--quantize int8 already makes the stem integer/);
    expectError(cli('--calibrate-percentile', '99.9', '-o', 'q7'), /--calibrate-percentile: only with --quantize int8 --calibrate FILE/);
    for (const bad of ['50', '100.5', 'abc', ''])
      expectError(cli('--quantize', 'int8', '--calibrate', calib, '--calibrate-percentile', bad, '-o', 'q8'), new RegExp(`--calibrate-percentile: expected a number above 50 and at most 100, got '${bad}'`));
    expectError(cli('--map-bits', '16', '-o', 'q9'), /--map-bits: only with --quantize int8/);
    expectError(cli('--quantize', 'int8', '--calibrate', calib, '--map-bits', '12', '-o', 'q10'), /--map-bits: expected 8 or 16, got '12'/);
    expectError(cli('--stem-weight-bits', '8', '-o', 'q11'), /--stem-weight-bits: only with --quantize int8/);
    expectError(cli('--quantize', 'int8', '--calibrate', calib, '--stem-weight-bits', '4', '-o', 'q12'), /--stem-weight-bits: expected 8 or 16, got '4'/);
    for (const d of ['q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q9', 'q10']) expect(existsSync(join(work, d))).toBe(false);
  });

  it('an op the int8 path does not take (softmax on real scores) is named with its layer', () => {
    const path = join(work, 'softmax', 'model.json');
    mkdirSync(join(work, 'softmax'), { recursive: true });
    writeModel({
      name: 'softmax',
      input: { shape: [1, 28, 28], dtype: 'u8', zeroPoint: 0, scale: Float32Array.from([1 / 255]), bias: Float32Array.from([0]) },
      layers: [
        { op: 'conv2d', name: 'c', inputs: ['input'], output: 'c', outChannels: 2, kernel: [1, 1], stride: [1, 1], pad: P0, weights: Float32Array.from([1, -1]), bias: Float32Array.from([0, 0.5]) },
        { op: 'globalavgpool', name: 'g', inputs: ['c'], output: 'g' },
        { op: 'dense', name: 'd', inputs: ['g'], output: 'd', outFeatures: 3, weights: Float32Array.from([1, 0, 0, 1, 1, 1]), bias: Float32Array.from([0, 0, 0]) },
        { op: 'softmax', name: 'probs', inputs: ['d'], output: 'p', log: false },
      ],
      output: 'p',
    }, path);
    expectError(cli(path, '--quantize', 'int8', '--calibrate', calib, '-o', 'q6'), /--quantize int8: layers\[3\] \(probs\): softmax on real values is not on the int8 path/);
    expect(existsSync(join(work, 'q6'))).toBe(false);
  });
});
