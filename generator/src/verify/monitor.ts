// `bnn-gen monitor`: one complete golden run read from a board's serial port. The real-board harness runs its golden
// cases at reset and then once more for every byte it receives, so the monitor does not need to catch the reset:
// when no run begins shortly after the port opens, it asks for one (and again now and then, as a request sent while
// a run is under way is dropped by the harness).
import { printable } from '../core/errors.ts';
import { silent, type Progress } from '../core/progress.ts';
import { openSerialPort } from '../toolchain/serial-port.ts';
import { TranscriptReader, type Transcript } from './transcript.ts';

export interface MonitorOptions {
  port: string;
  baud: number;
  /** Longest wait for the run to begin after the port opens, and for each next line once it has begun. */
  timeoutMs: number;
  progress?: Progress;
}

/** Quiet time after opening before the first request: a run already under way (a reset just now) shows itself. */
const FIRST_REQUEST_MS = 1000;
const REQUEST_EVERY_MS = 3000;

export type MonitorResult = { transcript: Transcript; bytes: number } | { transcript: null; bytes: number; problem: string };

export async function readRun(o: MonitorOptions): Promise<MonitorResult> {
  const progress = o.progress ?? silent;
  const reader = new TranscriptReader();
  let bytes = 0;
  let last = Date.now();
  let wake: () => void = () => {};
  const port = await openSerialPort(o.port, o.baud, (text) => {
    bytes += text.length;
    last = Date.now();
    if (reader.push(text)) wake();
    else if (reader.done === null && reader.started) progress.phase(`${o.port}: reading the run (${bytes} bytes)`);
  });
  last = Date.now();
  const opened = last;
  progress.phase(`${o.port}: waiting for a golden run (${o.baud} baud)`);
  try {
    let nextRequest = opened + FIRST_REQUEST_MS;
    for (;;) {
      if (reader.done) return { transcript: reader.done, bytes };
      const now = Date.now();
      if (!reader.started && now >= nextRequest) {
        port.write('r');
        nextRequest = now + REQUEST_EVERY_MS;
      }
      const since = reader.started ? last : opened;
      if (now - since >= o.timeoutMs) return { transcript: null, bytes, problem: silence(o, reader, bytes) };
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  } finally {
    await port.close();
  }
}

function silence(o: MonitorOptions, r: TranscriptReader, bytes: number): string {
  const s = `${o.timeoutMs / 1000} s`;
  const tail = printable(r.recent.join(' | '));
  if (bytes === 0) return `no output from ${o.port} within ${s}: is the board powered, flashed with this firmware (bnn-gen flash) and on this port, and does the port run at ${o.baud} baud?`;
  if (!r.started) return `${o.port} sent ${bytes} bytes but no golden run began within ${s} (another program on the board, or a wrong baud rate?); last: ${tail}`;
  return `the run on ${o.port} stopped: no output for ${s} after: ${tail}`;
}
