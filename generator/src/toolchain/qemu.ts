// Build a rendered firmware folder with make and run the image under qemu-system-arm with semihosting.
// Processes are started with argument vectors (execFile/spawn), never shell strings, so paths need no quoting.
import { execFile, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { BnnError } from '../core/errors.ts';
import type { Board } from '../model/board.ts';

export interface QemuResult {
  /** The firmware's exit status via semihosting: 0 PASS, 1 FAIL, 3 fault (see templates/firmware). */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** qemu-system-arm arguments for `board`, without `-kernel`. Shared with the Makefile's `run` target. */
export function qemuArgs(board: Board): string[] {
  if (!board.qemu) throw new Error(`board ${board.name} has no QEMU machine`);
  return [
    '-M', board.qemu.machine,
    '-nographic', '-monitor', 'none', '-serial', 'none',
    // target=native: semihosting calls go to QEMU itself (stdout, exit status), not to an attached gdb.
    '-semihosting-config', 'enable=on,target=native',
    ...board.qemu.extraArgs,
  ];
}

/**
 * qemu-system-arm arguments that run a real board's own firmware on its `emulation` machine, without `-kernel`: the
 * machine's serial ports before the console UART go nowhere, the console goes to `console` (stdio, or a
 * pseudo-terminal that a serial-port reader opens like a board's USB port).
 */
export function emulationArgs(board: Board, console: 'stdio' | 'pty' = 'stdio'): string[] {
  const e = board.emulation;
  if (!e) throw new Error(`board ${board.name} has no emulation machine`);
  const serial: string[] = [];
  for (let i = 0; i < e.serial; i++) serial.push('-serial', 'null');
  return ['-M', e.machine, '-nographic', '-monitor', 'none', ...serial, '-serial', console, ...e.extraArgs];
}

/**
 * A failed firmware build as one line: the linker's own reason when it refused (a region overflowed, one of the
 * linker script's ASSERTs), which is the user's problem (the model does not fit); anything else is a compile
 * error in emitted code, which is bnn-gen's (a plain Error, reported as an internal error).
 */
export function buildError(stderr: string, fallback: string): Error {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  // The linker script's own ASSERT messages say the most; then the region overflow with its byte count.
  const link = [/leave less than|leave no room|must be|must sit/, /overflowed by/, /will not fit in region/].map((re) => lines.find((l) => re.test(l) && /\bld(\.bfd)?: /.test(l))).find(Boolean);
  if (link) return Object.assign(new BnnError(`firmware does not link: ${link.replace(/^.*?\bld(?:\.bfd)?: /, '')}`), { stderr });
  const first = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? fallback;
  return Object.assign(new Error(`firmware build failed: ${first}`), { stderr });
}

/** Run `make` in `dir` (a folder written from renderFirmware plus the model sources). Rejects with make's stderr. */
export function buildFirmware(dir: string, opts: { jobs?: number } = {}): Promise<{ elf: string }> {
  const jobs = opts.jobs ?? Math.max(1, availableParallelism());
  return new Promise((resolvePromise, reject) => {
    execFile(
      'make', ['-C', dir, `-j${jobs}`, 'firmware.elf'],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, _stdout, stderr) => {
        if (err) reject(buildError(stderr, err.message));
        else resolvePromise({ elf: resolve(join(dir, 'firmware.elf')) });
      },
    );
  });
}

export interface EmulatedRun {
  stdout: string;
  stderr: string;
  /** How QEMU ended when it ended by itself (it normally runs until stopped: a real board's firmware never exits). */
  exit: string | null;
}

/**
 * Run a real board's firmware on its emulation machine with the console on stdout, and stop QEMU as soon as
 * `done(stdoutSoFar)` is true (the firmware idles after its verdict), or after `timeoutMs`.
 */
export function runEmulated(elfPath: string, board: Board, done: (stdout: string) => boolean, opts: { timeoutMs?: number } = {}): Promise<EmulatedRun> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('qemu-system-arm', [...emulationArgs(board), '-kernel', elfPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let finished = false;
    const stop = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!finished && done(stdout)) {
        finished = true;
        stop();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(stop, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run qemu-system-arm: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, exit: finished || signal === 'SIGKILL' ? null : `exit ${code ?? signal}` });
    });
  });
}

/** Run `elfPath` on the board's QEMU machine. Resolves with the exit status; rejects on timeout (QEMU is killed). */
export function runQemu(elfPath: string, board: Board, opts: { timeoutMs?: number } = {}): Promise<QemuResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolvePromise, reject) => {
    const args = [...qemuArgs(board), '-kernel', elfPath]; // throws (so rejects) for a board without QEMU
    const child = spawn('qemu-system-arm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run qemu-system-arm: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = (stdout + stderr).trim().split('\n').slice(-5).join(' | ');
      if (timedOut) reject(new Error(`QEMU (${board.name}) timed out after ${timeoutMs} ms running ${elfPath}; last output: ${tail || '(none)'}`));
      else if (code === null) reject(new Error(`QEMU (${board.name}) was killed by ${signal}; last output: ${tail || '(none)'}`));
      else resolvePromise({ exitCode: code, stdout, stderr });
    });
  });
}
