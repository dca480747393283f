// Progress on long work is drawn on stderr when it is a terminal (here a pseudo-terminal made by util-linux
// `script`), never on stdout, and not at all with --json, --quiet or when stderr is not a terminal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const work = mkdtempSync(join(tmpdir(), 'bnn-progress-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const haveScript = spawnSync('script', ['--version']).status === 0;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run bnn-gen with stderr on a 100x30 pseudo-terminal and stdout into a file; returns the terminal transcript. */
function onTerminal(args: string[], stdoutFile: string): { code: number | null; terminal: string; stdout: string } {
  const cmd = `stty cols 100 rows 30; ${shellQuote(process.execPath)} ${shellQuote(BIN)} ${args.map(shellQuote).join(' ')} > ${shellQuote(stdoutFile)}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, terminal: r.stdout, stdout: readFileSync(stdoutFile, 'utf8') };
}

describe.skipIf(!haveScript)('progress', () => {
  it('appears on a terminal with the phase names, and leaves stdout clean', () => {
    const r = onTerminal(['--board', 'mps2-an386', '-o', 'fw'], join(work, 'gen.txt'));
    expect(r.code).toBe(0);
    expect(r.terminal).toMatch(/reading the example model/);
    expect(r.terminal).toMatch(/planning and emitting C/);
    // ora clears its line at the end and draws nothing into stdout.
    expect(r.stdout).toMatch(/^bnn-gen \d+\.\d+\.\d+: mnist-sparks -> fw/);
    expect(r.stdout).not.toMatch(/\u001b/);
  });

  it('with --json there is none, and stdout is valid JSON', () => {
    const r = onTerminal(['report', '--json'], join(work, 'report.json'));
    expect(r.code).toBe(0);
    expect(r.terminal.replace(/\r?\n/g, '')).toBe('');
    expect(JSON.parse(r.stdout).name).toBe('mnist-sparks');
  });

  it('with --quiet there is none', () => {
    const r = onTerminal(['--no-board', '-o', 'quiet', '--quiet'], join(work, 'quiet.txt'));
    expect(r.code).toBe(0);
    expect(r.terminal.replace(/\r?\n/g, '')).toBe('');
  });

  it('without a terminal stderr stays empty', () => {
    const r = spawnSync(process.execPath, [BIN, '--no-board', '-o', 'plain'], { cwd: work, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});
