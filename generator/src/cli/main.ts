// bnn-gen's command line: the options are in program.ts, each command's work in commands/<name>.ts (loaded only when
// it runs). Exit codes: 0 success, 1 a check failed (verify, memory), 2 bad input or usage,
// 3 an internal error (a bug: one line, the stack with --debug), 128 + n when interrupted by signal n.
import { CommanderError } from 'commander';
import { BnnError, printable } from '../core/errors.ts';
import { processIo, type Io } from './io.ts';
import { program, type Run } from './program.ts';
import { terminalProgress } from './progress.ts';

const SIGNALS: [NodeJS.Signals, number][] = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];

/** Run the CLI on `argv` (without node and script). Never throws: every outcome is an exit code. */
export async function main(argv: string[], io: Io = processIo(), opts: { signals?: boolean } = {}): Promise<number> {
  const debug = argv.includes('--debug');
  let code = 0;
  let stopProgress = () => {};
  // Output is written synchronously (output-dir.ts), so a handler here runs before a write starts or after it ends.
  const handlers = (opts.signals ?? true)
    ? SIGNALS.map(([sig, n]) => {
        const h = () => {
          stopProgress();
          io.err(`bnn-gen: interrupted (${sig})\n`);
          process.exit(128 + n);
        };
        process.on(sig, h);
        return [sig, h] as const;
      })
    : [];
  const run: Run = async (flags, work) => {
    const progress = await terminalProgress(io.errIsTTY && flags.json !== true && !flags.quiet);
    stopProgress = () => progress.stop();
    try {
      code = await work({ ...io, progress });
    } finally {
      progress.stop();
    }
  };
  const p = program(run);
  const writeErr = (s: string) => io.err(s.startsWith('error:') ? `bnn-gen: ${s}` : s);
  for (const c of [p, ...p.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr, writeOut: (s) => io.out(s.replace(/\n$/, '')) });
  }
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else if (e instanceof BnnError) {
      io.err(`bnn-gen: error: ${printable(e.message, 2000)}\n`);
      code = 2;
    } else {
      const err = e as Error;
      io.err(`bnn-gen: internal error: ${printable(String(err?.message ?? err).split('\n')[0], 400)} (please report it${debug ? '' : '; --debug shows where'})\n`);
      if (debug && err?.stack) io.err(err.stack + '\n');
      code = 3;
    }
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  return code;
}
