// Start-up and install figures of the npm package as users get it: pack, install into an empty project, then time
// --version, --help and generating the example (median of several runs, wall clock), and measure the install size.
//   npx tsx bench/startup.ts [--runs 7]
// Wall-clock times on a shared machine are noisy: quote medians, compare on the same machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'bnn-startup-'));
const project = join(work, 'project');
mkdirSync(project);
try {
  const tgz = join(work, execFileSync('npm', ['pack', '--silent', '--pack-destination', work, PROJECT_ROOT], { encoding: 'utf8' }).trim().split('\n').pop()!);
  writeFileSync(join(project, 'package.json'), '{"name":"p","version":"1.0.0","private":true}');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', tgz], { cwd: project, stdio: 'ignore' });
  const bin = join(project, 'node_modules', '.bin', 'bnn-gen');
  const time = (args: string[]) => {
    const ms: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(bin, args, { cwd: project, stdio: 'ignore', env: { ...process.env, BNN_GEN_CACHE_DIR: join(work, 'cache') } });
      if (r.status !== 0) throw new Error(`bnn-gen ${args.join(' ')} failed`);
      if (i > 0) ms.push(performance.now() - t0); // the first run warms the file cache
    }
    ms.sort((a, b) => a - b);
    return { min: ms[0], median: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
  };
  const rows: [string, string[]][] = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['generate the example, no board (C only)', ['--no-board', '-o', 'lib', '--force']],
    ['generate the example firmware (100 golden digits)', ['-o', 'fw', '--force']],
  ];
  console.log(`bnn-gen package start-up, ${runs} runs each after one warm-up (wall clock, ms)`);
  console.log('| command | min | median | max |\n|---|---|---|---|');
  for (const [name, args] of rows) {
    const t = time(args);
    console.log(`| ${name} | ${t.min.toFixed(0)} | ${t.median.toFixed(0)} | ${t.max.toFixed(0)} |`);
  }
  const du = execFileSync('du', ['-sb', join(project, 'node_modules')], { encoding: 'utf8' }).split('\t')[0];
  console.log(`tarball ${(statSync(tgz).size / 1024).toFixed(0)} kB; installed node_modules ${(Number(du) / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
