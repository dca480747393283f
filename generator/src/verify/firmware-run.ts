// Build a model's golden self-check firmware for a board QEMU can run, run it, and read back its verdict and scores:
// QEMU boards report over semihosting and exit with the verdict; real boards with an `emulation` machine run their
// own UART firmware unchanged, and QEMU is stopped when the verdict line has come out of the emulated UART.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BnnError } from '../core/errors.ts';
import { generate, type Input } from '../generate.ts';
import type { Board } from '../model/board.ts';
import type { Model } from '../model/ir.ts';
import type { ModelInfo } from '../emit/model-c.ts';
import { getTarget } from '../model/target.ts';
import { writeTree } from '../core/files.ts';
import { silent, type Progress } from '../core/progress.ts';
import { memoryReport, type MemoryReport } from './memory.ts';
import { buildFirmware, runEmulated, runQemu } from '../toolchain/qemu.ts';
import { caseScores, parseCaseLine, TranscriptReader, type Transcript } from './transcript.ts';

export interface FirmwareRun {
  memory: MemoryReport;
  passed: boolean;
  exitCode: number;
  stdout: string;
  scores: (Float32Array | Int32Array)[];
  stackBytes: number | null;
  /** With labels: correct classifications the firmware counted and the TS reference's count it embedded. */
  accuracy: { correct: number; reference: number; total: number } | null;
  /** Real boards under emulation: the run as read from the UART, or why none was read. */
  emulated: { transcript: Transcript | null; problem: string | null } | null;
}

/** How long an emulated real board may take to print its verdict. */
const EMULATION_TIMEOUT_MS = 120_000;

export async function runFirmware(model: Model, board: Board, inputs: Input[], labels?: number[], progress: Progress = silent, opts: { timeoutMs?: number } = {}): Promise<FirmwareRun> {
  if (!board.qemu && !board.emulation) throw new BnnError(`board ${board.name} has no QEMU machine; build its firmware and flash it instead`);
  progress.phase(`generating firmware for ${board.name}`);
  const g = generate(model, { target: getTarget(board.cpu), board, inputs, labels, goldenCount: inputs.length });
  const dir = mkdtempSync(join(tmpdir(), 'bnn-fw-'));
  try {
    writeTree(join(dir, 'fw'), g.files);
    progress.phase(`make: building firmware for ${board.name} (${board.cpu})`);
    const { elf } = await buildFirmware(join(dir, 'fw'));
    if (!board.qemu) return await emulate(elf, board, inputs.length, g.info, progress, opts.timeoutMs ?? EMULATION_TIMEOUT_MS);
    progress.phase(`QEMU ${board.qemu.machine}: running ${inputs.length} golden case${inputs.length === 1 ? '' : 's'} on ${board.name}`);
    const res = await runQemu(elf, board);
    const scores = parseCaseScores(res.stdout, g.info.scoreType === 'f32');
    const stack = /^stack: (\d+) bytes$/m.exec(res.stdout);
    const stackBytes = stack ? Number(stack[1]) : null;
    const acc = /^accuracy: (\d+)\/(\d+) correct .*; TS reference: (\d+)\/\d+ correct/m.exec(res.stdout);
    const accuracy = acc ? { correct: Number(acc[1]), total: Number(acc[2]), reference: Number(acc[3]) } : null;
    return {
      memory: await memoryReport(elf, board, g.info, stackBytes),
      passed: res.exitCode === 0 && new RegExp(`^PASS ${inputs.length}/${inputs.length}$`, 'm').test(res.stdout),
      exitCode: res.exitCode,
      stdout: res.stdout,
      scores,
      stackBytes,
      accuracy,
      emulated: null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A real board's firmware on its emulation machine: read the UART until the verdict line, then stop QEMU. */
async function emulate(elf: string, board: Board, count: number, info: ModelInfo, progress: Progress, timeoutMs: number): Promise<FirmwareRun> {
  const e = board.emulation!;
  progress.phase(`QEMU ${e.machine}: running ${board.name}'s own firmware, ${count} golden case${count === 1 ? '' : 's'}, reading its UART`);
  const reader = new TranscriptReader();
  let seen = 0;
  const res = await runEmulated(elf, board, (out) => {
    const got = reader.push(out.slice(seen));
    seen = out.length;
    return got;
  }, { timeoutMs });
  const t = reader.done;
  const uart = board.output.method === 'uart' ? board.output.instance : 'console';
  const problem = t ? null : `no verdict line from ${board.name}'s ${uart} under QEMU ${e.machine} ${res.exit ? `(QEMU ended: ${res.exit})` : `within ${timeoutMs / 1000} s`}; last output: ${(reader.recent.join(' | ') || res.stderr.trim().split('\n').slice(-2).join(' | ')) || '(none)'}`;
  const scores = t ? caseScores(t.cases, info.scoreType === 'f32') : [];
  return {
    memory: await memoryReport(elf, board, info, t?.stackBytes ?? null),
    passed: t !== null && t.passed && t.count === count && t.cases.length === count,
    exitCode: t?.passed ? 0 : 1,
    stdout: res.stdout,
    scores,
    stackBytes: t?.stackBytes ?? null,
    accuracy: t?.accuracy ?? null,
    emulated: { transcript: t, problem },
  };
}

/**
 * The scores of the harness's case lines, exact. Per case it prints "case i: [label l ]argmax a scores s0 s1 ...
 * ok|MISMATCH"; float scores are decimals rounded for reading, followed by " bits b0 b1 ..." (each float32's bits,
 * 8 hex digits), which are what this reads. Then, with labels, "accuracy: k/n correct (...); TS reference: k/n
 * correct (...)", and "PASS n/n" or "FAIL ...".
 */
export function parseCaseScores(stdout: string, float: boolean): (Float32Array | Int32Array)[] {
  const cases = stdout.split('\n').map((l) => parseCaseLine(l.replace(/\r$/, ''))).filter((c) => c !== null);
  return caseScores(cases, float);
}
