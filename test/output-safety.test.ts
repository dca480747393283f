// Output folders and files: bnn-gen writes only what it generated, and deletes or overwrites only files it wrote.
// Every case of the rule, through the real CLI (bin/bnn-gen.js): missing, empty, earlier output, edited files,
// somebody else's folder, `-o .`, --force, a symlinked folder, a read-only folder, two runs at once, SIGINT at
// many points, umask, and the single-file outputs (import, compact, --json, --plot).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const work = mkdtempSync(join(tmpdir(), 'bnn-out-'));
chmodSync(work, 0o755); // the read-only case runs as another user
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], opts: { cwd?: string; umask?: string; asNobody?: boolean } = {}) {
  const cwd = opts.cwd ?? work;
  let cmd = process.execPath;
  let argv = [BIN, ...args];
  if (opts.umask || opts.asNobody) {
    const inner = `umask ${opts.umask ?? '022'}; exec "$0" "$@"`;
    argv = ['-c', inner, process.execPath, BIN, ...args];
    cmd = '/bin/sh';
    if (opts.asNobody) {
      argv = ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', ...argv];
      cmd = 'setpriv';
    }
  }
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, BNN_GEN_CACHE_DIR: join(work, '.cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectRefused(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^bnn-gen: error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/nothing written/);
  expect(r.code).toBe(2);
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every file of a folder (relative paths), recursively, with its content hash; our manifest included. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const r = rel ? `${rel}/${e}` : e;
      if (lstatSync(p).isDirectory()) walk(p, r);
      else out[r] = sha(p);
    }
  };
  walk(dir, '');
  return out;
}

/** The manifest lists exactly the generated files there, each with its current hash. */
function expectComplete(dir: string): Record<string, string> {
  const m = JSON.parse(readFileSync(join(dir, '.bnn-gen.json'), 'utf8')) as { generator: string; files: Record<string, string> };
  expect(m.generator).toBe('bnn-gen');
  for (const [f, h] of Object.entries(m.files)) expect(sha(join(dir, f)), f).toBe(h);
  return m.files;
}

let n = 0;
const fresh = (name = 'case') => join(work, `${name}-${++n}`);

describe('output folders', () => {
  it('a missing folder is created complete, with a manifest, no temporary folders beside it', () => {
    const dir = fresh();
    const r = cli(['--no-board', '-o', dir]);
    expect(r.code, r.stderr).toBe(0);
    const files = expectComplete(dir);
    expect(Object.keys(files)).toContain('bnn_model.c');
    expect(readdirSync(work).filter((f) => f.startsWith('.') && f !== '.cache')).toEqual([]);
  });

  it('folders 0755 and files 0644 under umask 022; 0750 / 0640 under umask 027', () => {
    for (const [umask, dirMode, fileMode] of [['022', 0o755, 0o644], ['027', 0o750, 0o640]] as const) {
      const dir = fresh();
      expect(cli(['--format', 'lib', '-o', dir], { umask }).code).toBe(0);
      expect(statSync(dir).mode & 0o777).toBe(dirMode);
      expect(statSync(join(dir, 'src')).mode & 0o777).toBe(dirMode);
      expect(statSync(join(dir, 'CMakeLists.txt')).mode & 0o777).toBe(fileMode);
      expect(statSync(join(dir, '.bnn-gen.json')).mode & 0o777).toBe(fileMode);
    }
  });

  it('an empty folder is filled', () => {
    const dir = fresh();
    mkdirSync(dir);
    expect(cli(['--no-board', '-o', dir]).code).toBe(0);
    expectComplete(dir);
  });

  it("an earlier output is replaced file by file; the user's files stay; files no longer generated go", () => {
    const dir = fresh();
    expect(cli(['--no-board', '-o', dir]).code).toBe(0);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'app.o'), 'object');
    const r = cli(['--no-board', '--prefix', 'kws_', '-o', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed 2 earlier files no longer generated/);
    const files = expectComplete(dir);
    expect(Object.keys(files)).toContain('kws_model.c');
    expect(existsSync(join(dir, 'bnn_model.c'))).toBe(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'build', 'app.o'), 'utf8')).toBe('object');
  });

  it('a generated file edited since is refused by name; --force overwrites it; nothing else changes', () => {
    const dir = fresh();
    expect(cli(['--no-board', '-o', dir]).code).toBe(0);
    writeFileSync(join(dir, 'bnn_model.h'), '/* my edit */\n', { flag: 'a' });
    const before = snapshot(dir);
    expectRefused(cli(['--no-board', '-o', dir]), /'.*bnn_model.h' was edited since bnn-gen wrote it/);
    expect(snapshot(dir)).toEqual(before);
    const r = cli(['--no-board', '-o', dir, '--force']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/overwrote with --force: bnn_model.h/);
    expectComplete(dir);
  });

  it("an edited file that is no longer generated is kept as the user's", () => {
    const dir = fresh();
    expect(cli(['--no-board', '-o', dir]).code).toBe(0);
    writeFileSync(join(dir, 'bnn_model.c'), '/* mine now */\n', { flag: 'a' });
    const r = cli(['--no-board', '--prefix', 'kws_', '-o', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kept your edited bnn_model.c/);
    expect(readFileSync(join(dir, 'bnn_model.c'), 'utf8')).toMatch(/mine now/);
    expect(Object.keys(expectComplete(dir))).not.toContain('bnn_model.c');
  });

  it("somebody else's folder is refused with the issue's wording; --force writes beside, deleting nothing", () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'bnn_model.h'), 'my own header');
    expectRefused(cli(['--no-board', '-o', dir]), /output folder '.*' is not empty and was not written by bnn-gen \(nothing written; use an empty folder/);
    expect(readdirSync(dir).sort()).toEqual(['bnn_model.h', 'notes.txt']);
    const r = cli(['--no-board', '-o', dir, '--force']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/overwrote with --force: bnn_model.h/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expectComplete(dir);
  });

  it('`-o .` in a project folder deletes nothing (the data-loss case)', () => {
    const proj = fresh('project');
    mkdirSync(proj);
    cpSync(DEFAULT_MODEL, join(proj, 'model.json'));
    cpSync(DEFAULT_MODEL.replace(/json$/, 'bin'), join(proj, 'model.bin'));
    const before = snapshot(proj);
    expectRefused(cli(['model.json', '-o', '.', '--no-board'], { cwd: proj }), /output folder '\.' is not empty and was not written by bnn-gen/);
    expect(snapshot(proj)).toEqual(before);
    // With --force it writes beside the model and keeps it.
    expect(cli(['model.json', '-o', '.', '--no-board', '--force'], { cwd: proj }).code).toBe(0);
    expect(sha(join(proj, 'model.json'))).toBe(before['model.json']);
    expect(sha(join(proj, 'model.bin'))).toBe(before['model.bin']);
    // An empty working folder is fine, and later runs replace their own files.
    const empty = fresh('cwd');
    mkdirSync(empty);
    expect(cli(['--no-board', '-o', '.'], { cwd: empty }).code).toBe(0);
    expect(cli(['--no-board', '-o', '.'], { cwd: empty }).code).toBe(0);
    expectComplete(empty);
  });

  it('a symlinked output folder is written through and stays a symlink', () => {
    const real = fresh('real');
    mkdirSync(real);
    const link = fresh('link');
    symlinkSync(real, link);
    expect(cli(['--no-board', '-o', link]).code).toBe(0);
    expect(cli(['--no-board', '-o', link]).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expectComplete(real);
    const dangling = fresh('dangling');
    symlinkSync(join(work, 'nowhere'), dangling);
    expectRefused(cli(['--no-board', '-o', dangling]), /is a symbolic link to nothing/);
  });

  it('a folder that is not writable: one line, nothing written', () => {
    const ro = fresh('readonly');
    mkdirSync(ro);
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(ro, 0o555);
    // As root permissions do not apply: run as nobody, for whom a root-owned 0755 folder is read-only.
    const r = cli(['--no-board', '-o', join(ro, 'out')], { asNobody: asRoot });
    expectRefused(r, /cannot write to '.*readonly-\d+': permission denied \(EACCES\)/);
    const r2 = cli(['--no-board', '-o', ro], { asNobody: asRoot });
    expectRefused(r2, /cannot write to '.*readonly-\d+': permission denied/);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('a file where the folder should be, and a folder where a file should be', () => {
    const f = fresh('afile');
    writeFileSync(f, 'x');
    expectRefused(cli(['--no-board', '-o', f]), /exists and is not a folder/);
    const dir = fresh();
    expect(cli(['--no-board', '-o', dir]).code).toBe(0);
    rmSync(join(dir, 'bnn_model.c'));
    mkdirSync(join(dir, 'bnn_model.c'));
    expectRefused(cli(['--no-board', '-o', dir]), /cannot write '.*bnn_model.c': something other than a file is in the way/);
  });

  it('two runs into one folder at once: each ends complete or is refused, and the folder holds one complete set', async () => {
    const runAsync = (args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, ...args], { cwd: work, env: { ...process.env, BNN_GEN_CACHE_DIR: join(work, '.cache') } });
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolve({ code, stderr }));
    });
    for (const existing of [false, true]) {
      for (let k = 0; k < 3; k++) {
        const dir = fresh('race');
        if (existing) expect(cli(['--no-board', '-o', dir]).code).toBe(0);
        const rs = await Promise.all([runAsync(['--no-board', '--prefix', 'a_', '-o', dir]), runAsync(['--no-board', '--prefix', 'b_', '-o', dir])]);
        for (const r of rs) {
          if (r.code !== 0) {
            expect(r.code, r.stderr).toBe(2);
            expect(r.stderr).toMatch(/being written by another bnn-gen|not empty and was not written|was edited since/);
          }
        }
        expect(rs.some((r) => r.code === 0)).toBe(true);
        const files = Object.keys(expectComplete(dir));
        const prefixes = new Set(files.filter((f) => f.endsWith('model.c')).map((f) => f.split('_')[0]));
        expect(prefixes.size).toBe(1);
        expect(readdirSync(dir).filter((f) => f.startsWith('.bnn-gen') && f !== '.bnn-gen.json')).toEqual([]);
      }
    }
  });

  it('SIGINT at any point leaves the old complete set or the new complete set', async () => {
    const dir = fresh('sigint');
    expect(cli(['--no-board', '--prefix', 'old_', '-o', dir]).code).toBe(0);
    const oldFiles = snapshot(dir);
    const seen = { old: 0, new: 0 };
    // Spread the interrupts over the whole run, from start-up to past the write.
    const t0 = performance.now();
    expect(cli(['--no-board', '--prefix', 'old_', '-o', dir]).code).toBe(0);
    const duration = performance.now() - t0;
    const rounds = 16;
    for (let k = 0; k < rounds; k++) {
      const delay = Math.round((k / (rounds - 1)) * duration * 1.2);
      const code = await new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, [BIN, '--no-board', '--prefix', `new${k}_`, '-o', dir, '--force'], { cwd: work, env: { ...process.env, BNN_GEN_CACHE_DIR: join(work, '.cache') } });
        setTimeout(() => c.kill('SIGINT'), delay);
        c.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 2 : null)));
      });
      expect([0, 130]).toContain(code);
      const files = expectComplete(dir);
      const now = snapshot(dir);
      expect(Object.keys(now).filter((f) => f.startsWith('.bnn-gen') && f !== '.bnn-gen.json')).toEqual([]);
      const prefix = new Set(Object.keys(files).filter((f) => f.endsWith('model.c')).map((f) => f.split('_')[0]));
      expect(prefix.size).toBe(1);
      if (prefix.has('old')) {
        expect(now).toEqual(oldFiles);
        seen.old++;
      } else seen.new++;
      // Back to the old set for the next round.
      if (!prefix.has('old')) expect(cli(['--no-board', '--prefix', 'old_', '-o', dir]).code).toBe(0);
    }
    // Both outcomes happened, so the interrupts fell before and after the write.
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
  });
});

describe('every -o that writes a folder follows the rule', () => {
  for (const [what, args] of [
    ['firmware project', ['--board', 'mps2-an386']],
    ['library (--format lib)', ['--format', 'lib']],
    ['Arduino library', ['--format', 'arduino']],
    ['golden vectors', ['golden', '--count', '2']],
  ] as const) {
    it(`${what}: refuses a user's folder, replaces its own`, () => {
      const dir = fresh(what.startsWith('Arduino') ? 'Ard' : 'rule').replace(/-(\d+)$/, '_$1');
      mkdirSync(dir);
      writeFileSync(join(dir, 'mine.txt'), 'x');
      const a = what === 'golden vectors' ? [...args, '-o', dir] : [...args, '-o', dir];
      expectRefused(cli(a), /not empty and was not written by bnn-gen/);
      rmSync(join(dir, 'mine.txt'));
      expect(cli(a).code).toBe(0);
      writeFileSync(join(dir, 'mine.txt'), 'x');
      const r = cli(a);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(dir, 'mine.txt'), 'utf8')).toBe('x');
      expectComplete(dir);
    });
  }
});

describe('single output files', () => {
  it("import and compact: refuse to replace files they did not write, replace their own", () => {
    const dir = fresh('models');
    mkdirSync(dir);
    writeFileSync(join(dir, 'small.json'), '{"mine": true}');
    expectRefused(cli(['compact', '--bits', '3', '-o', join(dir, 'small.json')]), /'.*small.json' exists and was not written by bnn-gen/);
    expect(readFileSync(join(dir, 'small.json'), 'utf8')).toBe('{"mine": true}');
    writeFileSync(join(dir, 'other.bin'), 'my weights');
    expectRefused(cli(['compact', '--bits', '3', '-o', join(dir, 'other.json')]), /'.*other.bin' exists and was not written by bnn-gen/);
    expect(cli(['compact', '--bits', '3', '-o', join(dir, 'new.json')]).code).toBe(0);
    expect(cli(['compact', '--bits', '4', '-o', join(dir, 'new.json')]).code).toBe(0);
    expect(cli(['compact', '--bits', '3', '-o', join(dir, 'small.json'), '--force']).code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes('bnn-gen'))).toEqual([]);
  });

  it('--plot and --json files: refuse a file bnn-gen did not write', () => {
    const svg = fresh('plot') + '.svg';
    writeFileSync(svg, '<svg>mine</svg>');
    expectRefused(cli(['inspect', '--plot', svg]), /exists and was not written by bnn-gen/);
    expect(readFileSync(svg, 'utf8')).toBe('<svg>mine</svg>');
    const svg2 = fresh('plot') + '.svg';
    expect(cli(['inspect', '--plot', svg2]).code).toBe(0);
    expect(cli(['inspect', '--plot', svg2]).code).toBe(0);
  });
});
