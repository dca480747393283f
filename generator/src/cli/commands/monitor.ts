// `bnn-gen monitor`: read a golden run from a board's serial port and check every case against the TS reference's
// scores in the firmware folder's golden.json. Exit 0 PASS, 1 FAIL (including no run at all), 2 bad port or folder.
import { checkRun } from '../../verify/golden-file.ts';
import { readRun } from '../../verify/monitor.ts';
import type { Transcript } from '../../verify/transcript.ts';
import { accuracyText } from '../common.ts';
import { firmwareFolder } from '../firmware-folder.ts';
import type { Io } from '../io.ts';

export interface MonitorFlags {
  board?: string;
  port: string;
  timeout: number;
  json?: boolean;
}

function cyclesText(c: NonNullable<Transcript['cycles']>): string {
  const ms = (n: number) => ((1000 * n) / c.clockHz).toFixed(n / c.clockHz < 0.1 ? 2 : 1);
  return `cycles per inference: min ${c.min} max ${c.max} (${c.source} at ${c.clockHz / 1e6} MHz: ${ms(c.min)}-${ms(c.max)} ms)`;
}

export async function monitorCommand(dirArg: string | undefined, f: MonitorFlags, io: Io): Promise<number> {
  const { board, golden } = firmwareFolder(dirArg, f.board);
  const baud = board.output.method === 'uart' ? board.output.baud : golden.baud;
  const r = await readRun({ port: f.port, baud, timeoutMs: f.timeout * 1000, progress: io.progress });
  const where = `${golden.model.name} on ${board.name} via ${f.port}`;
  if (!r.transcript) {
    if (f.json) io.out(JSON.stringify({ passed: false, board: board.name, port: f.port, model: golden.model.name, problems: [r.problem], bytes: r.bytes }));
    else io.out(`FAIL ${where}: ${r.problem}`);
    return 1;
  }
  const t = r.transcript;
  const check = checkRun(t, golden);
  const total = golden.cases.length;
  if (f.json) {
    io.out(JSON.stringify({
      passed: check.passed, board: board.name, port: f.port, model: golden.model.name, cases: t.cases.length, verdict: t.verdict,
      problems: check.problems,
      accuracy: check.correct === null ? null : { correct: check.correct, total, reference: golden.referenceCorrect },
      cycles: t.cycles, stackBytes: t.stackBytes,
    }));
    return check.passed ? 0 : 1;
  }
  if (check.passed) io.out(`PASS ${where}: ${total}/${total} cases bit-identical to the TS reference (firmware: ${t.verdict})`);
  else {
    io.out(`FAIL ${where}: ${check.problems.length} problem${check.problems.length === 1 ? '' : 's'}${check.problems.length === 10 ? ' (first 10)' : ''}`);
    for (const p of check.problems) io.out(`  ${p}`);
  }
  if (check.correct !== null) io.out(`accuracy on ${board.name}: ${accuracyText(check.correct, total)}; TS reference ${accuracyText(golden.referenceCorrect ?? 0, total)}`);
  io.out(t.cycles ? cyclesText(t.cycles) : 'cycles: not measured (the firmware\'s cycle counter did not run)');
  if (t.stackBytes !== null) io.out(`stack: ${t.stackBytes} bytes`);
  return check.passed ? 0 : 1;
}
