// The command line as users meet it: help, the main job, verify, run on every engine, and bad input.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const work = mkdtempSync(join(tmpdir(), 'bnn-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A minimal .npy writer for the tests (uint8, C order). */
function npy(data: Uint8Array, shape: number[]): Buffer {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 16) header += ' ';
  header += '\n';
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

/** Expect a clean usage/input error: exit 2, one line on stderr naming the problem, nothing on stdout. */
function expectError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^bnn-gen: error: /);
  expect(r.stderr).toMatch(pattern);
}

describe('bnn-gen CLI', () => {
  it('--help lists targets, boards and subcommands', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    for (const s of ['cortex-m4', 'cortex-m0plus', 'mps2-an386', 'verify', 'run']) expect(r.stdout).toContain(s);
  });

  it('compiles the example by default and prints the summary', () => {
    const r = cli('--target', 'cortex-m4', '-o', 'ex');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/weight flash: [\d,]+ B \(codebook/);
    expect(r.stdout).toMatch(/arena: [\d,]+ B/);
    expect(r.stdout).toMatch(/binary MACs: [\d,]+/);
    const files = readdirSync(join(work, 'ex'));
    for (const f of ['bnn_model.c', 'bnn_model.h', 'bnn_runtime.h', 'main.c', 'Makefile', 'linker.ld', 'startup.c', 'golden.h']) expect(files).toContain(f);
    expect(readFileSync(join(work, 'ex', 'bnn_model.h'), 'utf8')).toMatch(/#define BNN_ARENA_SIZE \d+/);
    // No temporary folders are left beside the output.
    expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('generation is deterministic (same model and options, same bytes)', () => {
    cli('-o', 'det1');
    cli('-o', 'det2');
    for (const f of readdirSync(join(work, 'det1'))) expect(readFileSync(join(work, 'det2', f), 'utf8')).toBe(readFileSync(join(work, 'det1', f), 'utf8'));
  });

  it('--no-board emits the library only; --prefix renames the API', () => {
    const r = cli('--no-board', '--prefix', 'digits_', '-o', 'lib');
    expect(r.code).toBe(0);
    const files = readdirSync(join(work, 'lib'));
    expect(files).toContain('digits_model.h');
    expect(files).not.toContain('main.c');
    expect(readFileSync(join(work, 'lib', 'digits_model.h'), 'utf8')).toContain('int digits_run(const digits_input_t *input, digits_score_t *scores, void *arena);');
  });

  it.skipIf(!haveTool('emcc'))('verify passes on the example', () => {
    const r = cli('verify', '--count', '4');
    // Without a model argument: the example's 100 labelled digits plus 4 random inputs, and the accuracy on the digits.
    expect(r.stdout).toMatch(/^PASS mnist-sparks: 104 inputs x \d+ layers bit-exact/m);
    expect(r.stdout).toMatch(/^accuracy on 100 labelled inputs \(TS reference = WebAssembly\): \d+\/100 correct/m);
    expect(r.code).toBe(0);
  });

  it.skipIf(!haveTool('emcc') || !haveTool('qemu-system-arm'))('run gives the same scores on ts, wasm and qemu, for .npy and raw inputs', () => {
    const model = loadModel(DEFAULT_MODEL);
    const xs = [randomInput(model, 1), randomInput(model, 2)] as Uint8Array[];
    const batch = new Uint8Array([...xs[0], ...xs[1]]);
    writeFileSync(join(work, 'x.npy'), npy(batch, [2, 1, 28, 28]));
    writeFileSync(join(work, 'x.raw'), batch);
    const expected = xs.map((x) => Array.from(runReference(model, x).scores));
    for (const engine of ['ts', 'wasm', 'qemu']) {
      for (const file of ['x.npy', 'x.raw']) {
        const r = cli('run', '--input', file, '--engine', engine, '--json');
        expect(r.stderr).toBe('');
        const j = JSON.parse(r.stdout);
        expect(j.results.map((x: { scores: number[] }) => x.scores)).toEqual(expected);
      }
    }
    const text = cli('run', '--input', 'x.raw');
    expect(text.stdout).toMatch(/^0: argmax \d( \(\d\))? scores /m); // "(name)" only when the model has class labels
  });

  it('--kernels ref gives the portable kernels and the smallest arena', () => {
    const ref = cli('--kernels', 'ref', '-o', 'kref');
    const auto = cli('-o', 'kauto');
    const arena = (s: string) => Number(/arena: ([\d,]+) B/.exec(s)![1].replace(/,/g, ''));
    expect(ref.stdout).toContain('bnn_bconv2d_b1_acc_codebook_ref');
    expect(arena(ref.stdout)).toBeLessThanOrEqual(arena(auto.stdout));
  });

  it.skipIf(!haveTool('qemu-system-arm'))('bench counts instructions per layer, ref and auto side by side (exact and repeatable)', () => {
    const runs = [cli('bench', '--board', 'mps2-an386', '--json'), cli('bench', '--board', 'mps2-an386', '--json')];
    for (const r of runs) expect(r.code).toBe(0);
    const [a, b] = runs.map((r) => JSON.parse(r.stdout));
    type Row = { name: string; op: string; builds: Record<string, { instructions: number }> };
    const counts = (j: { rows: Row[] }) => j.rows.map((row) => [row.name, row.builds.ref.instructions, row.builds.auto.instructions]);
    expect(counts(a)).toEqual(counts(b));
    const conv = (a.rows as Row[]).find((row) => row.op === 'bconv2d')!;
    expect(conv.builds.auto.instructions).toBeLessThan(conv.builds.ref.instructions / 3);
    expect(JSON.stringify(a)).toMatch(/bnn_bconv2d_b1_(acc_lanes|b1_slice)/);
  });

  it('inspect prints the table and writes the plot; compact writes a model that verifies', () => {
    const r = cli('inspect', '--plot', 'k.svg');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/b1\/Conv .* τ=\d n=\d+/);
    expect(readFileSync(join(work, 'k.svg'), 'utf8')).toMatch(/^<!-- generated by bnn-gen -->\n<svg[\s\S]*codeword rank[\s\S]*<\/svg>$/);
    const c = cli('compact', '--bits', '3', '-o', 'small/model.json');
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('small/model.json');
    if (haveTool('emcc')) expect(cli('verify', 'small/model.json', '--count', '2').stdout).toMatch(/^PASS /m);
    expectError(cli('compact', '--bits', '12', '-o', 'x.json'), /--bits: expected an integer 1..9/);
  });

  describe('bad input: exit 2, one line, no output left behind', () => {
    it('unknown target', () => expectError(cli('--target', 'cortex-m99', '-o', 'bad1'), /cortex-m99/));
    it('unknown board', () => {
      expectError(cli('--board', 'nucleo-imaginary', '-o', 'bad2'), /unknown board 'nucleo-imaginary'/);
      expect(existsSync(join(work, 'bad2'))).toBe(false);
    });
    it('missing model file', () => expectError(cli('nope.json', '-o', 'bad3'), /cannot read model 'nope.json': no such file or folder \(ENOENT\)/));
    it('malformed JSON', () => {
      writeFileSync(join(work, 'broken.json'), '{ "format": "bnn-gen-model", ');
      expectError(cli('broken.json', '-o', 'bad4'), /broken.json: invalid JSON/);
      expect(existsSync(join(work, 'bad4'))).toBe(false);
    });
    it('unknown model format', () => expectError(cli('model.h5', '-o', 'bad5'), /unknown format '.h5'/));
    it('unwritable output directory', () => {
      writeFileSync(join(work, 'afile'), 'x');
      expectError(cli('-o', 'afile/sub'), /cannot create output folder 'afile\/sub': '.*afile' is not a folder \(nothing written\)/);
      expectError(cli('-o', '/proc/bnn-gen-test'), /cannot (write|create)[^']*'\/proc\/bnn-gen-test'/);
    });
    it('an existing output is kept when generation fails', () => {
      mkdirSync(join(work, 'keep'));
      writeFileSync(join(work, 'keep', 'mine.txt'), 'user data');
      writeFileSync(join(work, 'broken2.json'), '[]');
      expectError(cli('broken2.json', '-o', 'keep'), /broken2.json: \(root\)/);
      expect(readFileSync(join(work, 'keep', 'mine.txt'), 'utf8')).toBe('user data');
    });
    it('bad option values', () => {
      expectError(cli('--golden', '0'), /--golden: expected an integer 1..1000/);
      expectError(cli('run', '--input', 'nothing.raw'), /cannot read input 'nothing.raw'/);
      writeFileSync(join(work, 'short.raw'), new Uint8Array(100));
      expectError(cli('run', '--input', 'short.raw'), /100 values is not a whole number of inputs of 784/);
    });
  });
});
