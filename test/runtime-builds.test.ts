// runtime-c builds warning-free (-Wall -Wextra -Werror, C99) in every configuration a user's project may pick: each
// Cortex-M target at -O0 (no room for the hand-scheduled paths: BNN_OPTIMIZED) and -Os, with BNN_PORTABLE, and on
// the host. The bit-exact suites build at -O2 only; this catches a path that no longer compiles elsewhere.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIME_DIR } from '../generator/src/core/paths.ts';
import { getTarget, TARGET_NAMES } from '../generator/src/model/target.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-runtime-builds-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SOURCES = readdirSync(RUNTIME_DIR).filter((f) => f.endsWith('.c')).map((f) => join(RUNTIME_DIR, f));
const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-c'];

/** '' when every source compiles (objects into a folder of their own), else the first lines of the diagnostics. */
function compiles(cc: string, flags: string[], dir: string): Promise<string> {
  const out = join(work, dir);
  mkdirSync(out);
  return new Promise((resolve) => {
    const child = spawn(cc, [...STRICT, ...flags, ...SOURCES], { cwd: out });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve(code === 0 ? '' : `${dir}: ${err.split('\n').slice(0, 6).join(' | ')}`));
  });
}

describe.skipIf(!haveTool('arm-none-eabi-gcc'))('runtime-c on every Cortex-M target', () => {
  it('at -O0 and -Os, and -O2 -DBNN_PORTABLE on the M4', async () => {
    const failures: string[] = [];
    // -O2 builds of every core are the firmware tests' own; here the other levels, and the portable paths on a DSP core.
    const configs = [...TARGET_NAMES.flatMap((name) => [['-O0'], ['-Os']].map((opt) => ({ name, opt }))), { name: 'cortex-m4', opt: ['-O2', '-DBNN_PORTABLE'] }];
    // Two at a time: the machines have two cores.
    for (let i = 0; i < configs.length; i += 2) {
      const batch = configs.slice(i, i + 2).map(({ name, opt }) => compiles('arm-none-eabi-gcc', [...getTarget(name).cflags, ...opt], `${name}${opt.join('')}`));
      failures.push(...(await Promise.all(batch)).filter(Boolean));
    }
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!haveTool('gcc'))('runtime-c on the host', () => {
  it('at -O0 and -O2', async () => {
    const failures = [await compiles('gcc', ['-O0'], 'host-O0'), await compiles('gcc', ['-O2'], 'host-O2')].filter(Boolean);
    expect(failures).toEqual([]);
  });
});
