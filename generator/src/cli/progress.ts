// Terminal progress with ora (a small, maintained spinner that redraws one stderr line and clears it when done;
// listr2's task trees and cli-progress's bars are more than phases plus counts need). Shown only when stderr is a
// terminal and neither --json nor --quiet is given, so stdout stays clean for pipes and the JSON stays JSON.
import type { Progress } from '../core/progress.ts';

export interface TerminalProgress extends Progress {
  stop(): void;
}

export async function terminalProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Promise<TerminalProgress> {
  // A terminal that reports no width (a pty nobody sized) would make ora count lines by dividing by zero.
  if (!enabled || !((stream.columns ?? 0) > 0)) return { phase() {}, count() {}, stop() {} };
  const { default: ora } = await import('ora');
  // isEnabled: decided here (ora would also turn itself off under CI=true); discardStdin: leave the user's input alone.
  const spinner = ora({ stream, isEnabled: true, discardStdin: false, hideCursor: false });
  let started = false;
  let last = 0;
  // Draw right away: the work after a phase change is often synchronous, so ora's timer would not get to draw it.
  const show = (text: string) => {
    spinner.text = text;
    if (!started) {
      spinner.start();
      started = true;
    } else spinner.render();
  };
  return {
    phase(name) {
      show(name);
    },
    count(name, done, total) {
      // Redraw at most every 50 ms: per-input counts can arrive thousands of times a second.
      const now = Date.now();
      if (done !== total && now - last < 50) return;
      last = now;
      show(`${name} ${done}/${total}`);
    },
    stop() {
      if (started) spinner.stop();
    },
  };
}
