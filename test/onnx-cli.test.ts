// The ONNX side of the command line, on a PyTorch-exported ReActNet/Bi-Real ResNet-18 at reduced width
// (test/fixtures/pytorch/make_resnet18.py): `bnn-gen import`, `bnn-gen report`, `--bits` on every subcommand,
// and the errors — one line, exit 2, nothing written — for an unsupported op, a Conv with non-binary weights
// after Sign, a missing initializer, a τ too small, and misused options.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../generator/src/cli/main.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { modelProto } from '../generator/src/import/onnx/proto.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import type { ModelReport } from '../generator/src/report.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'fixtures', 'pytorch', 'make_resnet18.py');
const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const REDUCED = ['--width', '8', '--size', '64', '--classes', '10', '--tau', '4', '--seed', '5'];

const work = mkdtempSync(join(tmpdir(), 'bnn-onnx-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The real command in its own process (cwd: the work folder). */
function spawnCli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same command in this process (no node + tsx start per call: the suite makes many calls). Paths given to it
 * must be absolute; `@name` stands for a file in the work folder.
 */
async function cli(...args: string[]) {
  const argv = args.map((a) => (a.startsWith('@') ? join(work, a.slice(1)) : a));
  let stdout = '';
  let stderr = '';
  const w = [process.stdout.write, process.stderr.write] as const;
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    [process.stdout.write, process.stderr.write] = w;
  }
}

/** A clean error: exit 2, one line on stderr naming the problem, nothing on stdout, and the work folder unchanged. */
async function expectError(args: string[], pattern: RegExp, spawn = false) {
  const before = readdirSync(work).sort();
  const r = spawn ? spawnCli(...args) : await cli(...args);
  expect(r.stderr).toMatch(/^bnn-gen: error: /);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(pattern);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
  expect(readdirSync(work).sort()).toEqual(before);
}

function export_(name: string, args: string[]): string {
  const dir = join(work, 'fixtures', name);
  const py = spawnSync(PYTHON, [SCRIPT, dir, ...REDUCED, ...args], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`make_resnet18.py failed:\n${py.stderr}`);
  return join(dir, 'model.onnx');
}

const indexBits = (manifest: string) =>
  (JSON.parse(readFileSync(join(work, manifest), 'utf8')) as { layers: { op: string; weights?: { kind?: string; bits?: number } }[] }).layers
    .filter((l) => l.op === 'bconv2d')
    .map((l) => l.weights!.bits);

describe.skipIf(!hasTorch)('bnn-gen import / report / --bits on PyTorch ONNX exports', () => {
  let onnx: string;
  let tanh: string;
  let real: string;
  let missing: string;
  beforeAll(() => {
    onnx = export_('good', []);
    tanh = export_('tanh', ['--defect', 'tanh']);
    real = export_('real', ['--defect', 'real-weights']);
    // The same good model with the latent weights of the first binary conv removed from the initializers.
    const T = modelProto();
    const m = T.decode(readFileSync(onnx)) as unknown as { graph: { initializer: { name: string }[] } };
    m.graph.initializer = m.graph.initializer.filter((t) => t.name !== 'layers.0.unit1.conv.weight');
    missing = join(work, 'fixtures', 'missing.onnx');
    writeFileSync(missing, T.encode(m as never).finish());
  });

  it('import writes model.json + model.bin and prints the per-layer report; the file equals the import', () => {
    const r = spawnCli('import', onnx, '-o', 'resnet.json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bnn-gen .*: imported .*model\.onnx in \d+ ms$/m);
    expect(r.stdout).toMatch(/^ {2}input 'image': uint8 \[3,64,64\]; real layers see q·scale \+ bias/m);
    expect(r.stdout.match(/^ {2}\S+: bconv2d \d+→\d+ 3x3, codebook τ=4 \(16 distinct kernels\)$/gm)).toHaveLength(16);
    expect(r.stdout.match(/^ {2}\S+: conv2d \d+→\d+ 1x1 \(real-valued\)$/gm)).toHaveLength(3);
    expect(r.stdout).toMatch(/^model: \d+ layers \(16 binary: 16 with a codebook, 0 plain; 0 with thresholds\) -> resnet\.json \+ resnet\.bin$/m);
    expect(readdirSync(work)).toEqual(expect.arrayContaining(['resnet.json', 'resnet.bin']));
    expect(indexBits('resnet.json')).toEqual(new Array(16).fill(4));
    const fromFile = loadModel(join(work, 'resnet.json'));
    const direct = importOnnxFile(onnx).model;
    for (const seed of [1, 2]) {
      const q = randomInput(direct, seed);
      expect(Array.from(runReference(fromFile, q).scores)).toEqual(Array.from(runReference(direct, q).scores));
    }
  });

  it('--bits sets τ on import, report, golden, run and generation from an .onnx file', async () => {
    expect((await cli('import', onnx, '-o', '@wide.json', '--bits', '6', '--name', 'wide')).code).toBe(0);
    expect(indexBits('wide.json')).toEqual(new Array(16).fill(6));
    expect((JSON.parse(readFileSync(join(work, 'wide.json'), 'utf8')) as { name: string }).name).toBe('wide');

    const rep = await cli('report', onnx, '--bits', '6', '--json');
    expect(rep.code).toBe(0);
    const j = JSON.parse(rep.stdout) as ModelReport;
    expect(j.layers.flatMap((l) => (l.bops?.codebook ? [l.bops.codebook.tau] : []))).toEqual(new Array(16).fill(6));

    const indices = async (args: string[]) => {
      const g = await cli('--target', 'cortex-m4', onnx, '--no-board', ...args);
      expect(g.code).toBe(0);
      return Number(/indices ([\d,]+)/.exec(g.stdout)![1].replaceAll(',', ''));
    };
    expect(await indices(['-o', '@lib4'])).toBeLessThan(await indices(['-o', '@lib6', '--bits', '6']));

    const golden = await cli('golden', onnx, '--bits', '6', '-o', '@golden', '--count', '1');
    expect(golden.code).toBe(0);
    const model = loadModel(join(work, 'wide.json'));
    const q = randomInput(model, 9);
    writeFileSync(join(work, 'x.raw'), q);
    const run = await cli('run', onnx, '--bits', '6', '--input', '@x.raw', '--json');
    expect(run.code).toBe(0);
    const scores = (JSON.parse(run.stdout) as { results: { scores: number[] }[] }).results[0].scores;
    expect(scores).toEqual(Array.from(runReference(model, q).scores));
  });

  it('report: per-layer BOPs by both conventions, weight bits by category, the arena of the emitted C', async () => {
    const r = await cli('report', '@resnet.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^totals over \d+ layers \(16 binary, 16 with a codebook\); [\d,]+ binary weights$/m);
    expect(r.stdout).toMatch(/BOPs codebook: .*½ × accumulations/);
    expect(r.stdout).toMatch(/weight bits: .*codebook [\d,]+, indices [\d,]+, thresholds 0, plain binary 0, real-valued [\d,]+/);
    const j = JSON.parse((await cli('report', '@resnet.json', '--json')).stdout) as ModelReport;
    const model = loadModel(join(work, 'resnet.json'));
    expect(j.arenaBytes).toBe(emitModel(model).info.arenaSize);
    expect(j.totals.bopsDense).toBe(j.totals.binaryMacs);
    expect(j.totals.weightBits.codebook).toBe(16 * 16 * 9);
    // Sharing 16 codewords pays only from 32 output channels on (9·16 + C_out/2 < 9·C_out): not in stages 1 and 2.
    expect(j.totals.sharingDoesNotPay).toHaveLength(8);
  });

  describe('errors: one line naming the node, its op and why; exit 2; nothing written', () => {
    it('an unsupported op (torch.tanh)', async () => {
      await expectError(['import', tanh, '-o', 'bad.json'], /model\.onnx: node '\/layers\/layers\.0\/unit1\/Tanh' \(Tanh\): op Tanh is not supported by the ONNX importer$/, true);
      await expectError(['--target', 'cortex-m4', tanh, '-o', '@fw-bad'], /node '\/layers\/layers\.0\/unit1\/Tanh' \(Tanh\)/);
      await expectError(['report', tanh], /node '\/layers\/layers\.0\/unit1\/Tanh' \(Tanh\)/);
    });

    it('a Conv on Sign outputs whose weights are not binary', async () => {
      await expectError(['import', real, '-o', '@bad.json'], /node '\/layers\/layers\.0\/unit1\/conv\/Conv' \(Conv\): a Conv on a binary \(Sign\) activation must have binary weights: weights are not ±α per output channel: output channel 0 holds /);
    });

    it('a missing initializer', async () => {
      await expectError(['import', missing, '-o', '@bad.json'], /missing\.onnx: node '\/layers\/layers\.0\/unit1\/conv\/Abs' \(Abs\): input 'layers\.0\.unit1\.conv\.weight' is not an initializer, a graph input or a node output \(missing initializer\?\)$/);
    });

    it('a τ too small for a layer, and bad option values', async () => {
      await expectError(['import', onnx, '-o', '@bad.json', '--bits', '3'], /node '\/layers\/layers\.0\/unit1\/conv\/Conv' \(Conv\): 16 distinct 3x3 kernels do not fit a codebook of 2\^3 = 8 \(--bits 3\); import with a larger --bits \(or none\), then choose 8 codewords with: bnn-gen compact MODEL\.json --bits 3$/);
      await expectError(['import', onnx, '-o', '@bad.json', '--bits', '12'], /--bits: expected an integer 1\.\.9, got '12'/);
      await expectError(['report', onnx, '--input-scale', '-1'], /--input-scale: expected a positive number, got '-1'/);
    });

    it('options and files that do not fit the command', async () => {
      await expectError(['report', 'resnet.json', '--bits', '6'], /--bits applies to \.onnx models only; 'resnet\.json' is a bnn-gen model/, true);
      await expectError(['import', onnx, '-o', '@bad.txt'], /-o: the manifest name must end in \.json/);
      await expectError(['import', '@resnet.json', '-o', '@bad.json'], /import: expected an \.onnx file, got '.*resnet\.json'/);
      await expectError(['import', '@nothere.onnx', '-o', '@bad.json'], /cannot read model '.*nothere\.onnx': no such file or folder \(ENOENT\)/);
      expect(existsSync(join(work, 'bad.json'))).toBe(false);
    });
  });
});
