// What a golden firmware prints, read back: one run from its header line to its verdict line (templates/firmware/
// main.c.hbs). QEMU boards print it over semihosting; real boards over their UART, where every run can be asked for
// again with one received byte, so a reader may join in the middle of a run and must wait for the next header.
import { BnnError, printable } from '../core/errors.ts';

export interface CaseLine {
  index: number;
  label: number | null;
  argmax: number;
  /** Scores as printed: decimals (rounded floats, or exact integers). */
  scores: string[];
  /** Float scores' exact bits, 8 hex digits each; null for integer scores. */
  bits: string[] | null;
  /** The firmware's own comparison with its golden.h. */
  ok: boolean;
  /** Cycles of this inference, where the firmware measured them. */
  cycles: number | null;
}

export interface Transcript {
  board: string;
  target: string;
  count: number;
  modelHash: string | null;
  cases: CaseLine[];
  stackBytes: number | null;
  cycles: { min: number; max: number; source: string; clockHz: number } | null;
  /** With labels: the firmware's correct count and the TS reference's, as the firmware printed them. */
  accuracy: { correct: number; reference: number; total: number } | null;
  /** The firmware's verdict: true for `PASS n/n` with n = count. */
  passed: boolean;
  verdict: string;
  /** Every line of the run, header to verdict, without line ends. */
  lines: string[];
}

const HEADER = /^bnn-gen firmware: board (\S+), target (\S+), (\d+) cases$/;
const VERDICT = /^(PASS \d+\/\d+|FAIL \d+\/\d+ mismatched)$/;
const CASE = /^case (\d+): (?:label (\d+) )?argmax (\d+) scores((?: \S+)+?)(?: bits((?: [0-9a-f]{8})+))? (ok|MISMATCH)$/;

/** Splits a byte stream into runs: feed it text as it arrives; `done` holds the first complete run. */
export class TranscriptReader {
  private partial = '';
  private run: string[] | null = null;
  /** Lines seen before the first header (the tail of a run joined in the middle, or noise). */
  stray = 0;
  done: Transcript | null = null;
  /** The last lines received, for error messages. */
  readonly recent: string[] = [];

  /** Takes the next chunk; returns true once a whole run has been read. */
  push(text: string): boolean {
    if (this.done) return true;
    this.partial += text;
    const lines = this.partial.split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) {
      this.line(raw.replace(/\r$/, ''));
      if (this.done) return true;
    }
    return false;
  }

  /** Whether a header has been seen (a run is being read). */
  get started(): boolean {
    return this.run !== null || this.done !== null;
  }

  private line(l: string): void {
    this.recent.push(l);
    if (this.recent.length > 5) this.recent.shift();
    if (HEADER.test(l)) this.run = [l]; // a new header restarts: the previous run was cut off
    else if (this.run) this.run.push(l);
    else if (l.trim()) this.stray++;
    if (this.run && VERDICT.test(l)) this.done = parseRun(this.run);
  }
}

/** The first complete run in `text` (a whole QEMU output, a log file). Throws when there is none. */
export function parseTranscript(text: string, where: string): Transcript {
  const r = new TranscriptReader();
  r.push(text + '\n');
  if (!r.done) throw new BnnError(`${where}: no complete firmware run (header to PASS/FAIL line) in the output; last lines: ${printable(r.recent.join(' | ')) || '(none)'}`);
  return r.done;
}

/** One "case i: [label l ]argmax a scores s0 s1 ...[ bits b0 b1 ...] ok|MISMATCH" line, or null. */
export function parseCaseLine(l: string): CaseLine | null {
  const m = CASE.exec(l);
  if (!m) return null;
  return {
    index: Number(m[1]), label: m[2] === undefined ? null : Number(m[2]), argmax: Number(m[3]),
    scores: m[4].trim().split(' '), bits: m[5] === undefined ? null : m[5].trim().split(' '), ok: m[6] === 'ok', cycles: null,
  };
}

/** The exact scores of case lines: integers as printed; floats from their bits (the decimals are rounded). */
export function caseScores(cases: CaseLine[], float: boolean): (Float32Array | Int32Array)[] {
  return cases.map((c) => {
    if (!float) return Int32Array.from(c.scores.map(Number));
    if (c.bits === null) throw new BnnError(`the firmware printed float scores without their bits: case ${c.index}: ${c.scores.join(' ')}`);
    return new Float32Array(Uint32Array.from(c.bits.map((h) => parseInt(h, 16))).buffer);
  });
}

function parseRun(lines: string[]): Transcript {
  const h = HEADER.exec(lines[0])!;
  const t: Transcript = {
    board: h[1], target: h[2], count: Number(h[3]), modelHash: null, cases: [], stackBytes: null,
    cycles: null, accuracy: null, passed: false, verdict: lines[lines.length - 1], lines,
  };
  for (const l of lines.slice(1)) {
    let m: RegExpExecArray | null;
    const c = parseCaseLine(l);
    if (c) t.cases.push(c);
    else if ((m = /^ {2}cycles (\d+)$/.exec(l)) && t.cases.length) t.cases[t.cases.length - 1].cycles = Number(m[1]);
    else if ((m = /^model: (\S+)$/.exec(l))) t.modelHash = m[1];
    else if ((m = /^stack: (\d+) bytes$/.exec(l))) t.stackBytes = Number(m[1]);
    else if ((m = /^cycles per inference: min (\d+) max (\d+) \((\S+), core clock (\d+) Hz\)$/.exec(l)))
      t.cycles = { min: Number(m[1]), max: Number(m[2]), source: m[3], clockHz: Number(m[4]) };
    else if ((m = /^accuracy: (\d+)\/(\d+) correct .*; TS reference: (\d+)\/\d+ correct/.exec(l)))
      t.accuracy = { correct: Number(m[1]), total: Number(m[2]), reference: Number(m[3]) };
  }
  t.passed = t.verdict === `PASS ${t.count}/${t.count}`;
  return t;
}
