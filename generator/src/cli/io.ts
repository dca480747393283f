// Where the CLI writes: results on stdout (clean for pipes and --json), messages and progress on stderr. Tests run
// main() in-process with their own Io to capture both.
import type { Progress } from '../core/progress.ts';

export interface Io {
  out(line: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may be drawn there. */
  errIsTTY: boolean;
  /** Live progress on stderr (set up by main for each command; silent unless a terminal shows it). */
  progress: Progress;
}

let pipeWatch = false;

export function processIo(): Io {
  // A reader that closes the pipe early (`bnn-gen ... | head`) is not an error: stop quietly, as other tools do.
  if (!pipeWatch) {
    pipeWatch = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (text) => process.stderr.write(text),
    errIsTTY: process.stderr.isTTY === true,
    progress: { phase() {}, count() {} },
  };
}
