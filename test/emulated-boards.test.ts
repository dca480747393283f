// Real boards' own firmware (startup, vector table, linker script, register-level UART driver) run unchanged on a QEMU
// machine with a compatible chip, the verdict read from the emulated UART; `monitor` reading that UART through a
// pseudo-terminal as it would read a board's USB serial port; `flash` running the board's flash tool.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DIGITS, DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { readInputs } from '../generator/src/import/inputs.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { listBoards, loadBoard } from '../generator/src/model/board.ts';
import { emulationArgs } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { runFirmware } from '../generator/src/verify/firmware-run.ts';
import { parseTranscript } from '../generator/src/verify/transcript.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'bnn-gen.js');
const work = mkdtempSync(join(tmpdir(), 'bnn-emu-'));
const qemus: ChildProcess[] = [];
afterAll(() => {
  for (const q of qemus) q.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
const missing = !haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm');

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 600_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** QEMU running a real board's firmware with its console UART on a fresh pseudo-terminal; resolves with its path. */
function qemuOnPty(board: string, elf: string, paused = false): Promise<string> {
  const q = spawn('qemu-system-arm', [...emulationArgs(loadBoard(board), 'pty'), ...(paused ? ['-S'] : []), '-kernel', elf], { stdio: ['ignore', 'pipe', 'pipe'] });
  qemus.push(q);
  return new Promise((resolve, reject) => {
    let text = '';
    const look = (d: Buffer) => {
      text += d.toString();
      const m = /char device redirected to (\/dev\/pts\/\d+)/.exec(text);
      if (m) resolve(m[1]);
    };
    q.stdout!.on('data', look);
    q.stderr!.on('data', look);
    q.on('close', () => reject(new Error(`QEMU ended before naming its pty: ${text}`)));
  });
}

describe.skipIf(missing)('real boards under emulation', () => {
  it('every real board either names an emulation machine or is documented as hardware-only', () => {
    const emulated = listBoards().filter((n) => loadBoard(n).emulation).sort();
    expect(emulated).toEqual(['microbit-v1', 'nucleo-f446re', 'stm32f4-discovery']);
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'boards.md'), 'utf8');
    for (const n of listBoards().filter((b) => loadBoard(b).output.method === 'uart')) expect(docs).toContain(`\`${n}\``);
  });

  it('verify --emulate: the two STM32F4 boards run their own firmware on netduinoplus2 and PASS all 100 labelled digits', () => {
    const r = cli(['verify', '--board', 'stm32f4-discovery', 'nucleo-f446re', '--emulate', '--count', '0', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const b of ['stm32f4-discovery', 'nucleo-f446re']) {
      expect(r.stdout).toMatch(new RegExp(`PASS mnist-sparks on ${b} \\(cortex-m4, its own firmware on QEMU netduinoplus2\\): 100 inputs, scores bit-identical`));
      expect(r.stdout).toMatch(new RegExp(`accuracy on ${b}: 99/100 correct \\(99.00 %\\); TS reference 99/100`));
    }
  }, 600_000);

  it('the micro:bit v1 firmware (nRF51 UART, 16 KiB RAM) runs on QEMU microbit and PASSes', async () => {
    const model = loadModel(DEFAULT_MODEL);
    const inputs = readInputs(DEFAULT_DIGITS, model).slice(0, 6);
    const r = await runFirmware(model, loadBoard('microbit-v1'), inputs);
    expect(r.emulated?.problem ?? null).toBeNull();
    expect(r.passed).toBe(true);
    expect(r.scores).toHaveLength(6);
    expect(r.emulated!.transcript!.board).toBe('microbit-v1');
    expect(r.memory.ram.total).toBeLessThanOrEqual(16 * 1024);
  }, 300_000);

  it('no verdict (the console on a serial port QEMU does not show): a one-line failure after the timeout, no hang', async () => {
    const board = loadBoard('stm32f4-discovery');
    const wrongPort = { ...board, emulation: { ...board.emulation!, serial: 0 } };
    const model = loadModel(DEFAULT_MODEL);
    const r = await runFirmware(model, wrongPort, readInputs(DEFAULT_DIGITS, model).slice(0, 1), undefined, undefined, { timeoutMs: 4000 });
    expect(r.passed).toBe(false);
    expect(r.emulated!.problem).toMatch(/^no verdict line from stm32f4-discovery's USART2 under QEMU netduinoplus2 within 4 s; last output: /);
  }, 120_000);

  it('verify: a real board without --emulate, or one QEMU cannot emulate, is refused with one line naming the way out', () => {
    const a = cli(['verify', '--board', 'nucleo-f446re', '-q']);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/add --emulate to run its own firmware on QEMU's netduinoplus2/);
    const b = cli(['verify', '--board', 'stm32f746g-disco', '--emulate', '-q']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/QEMU 7.2 emulates no chip compatible with stm32f746g-disco's; boards that run emulated: microbit-v1, nucleo-f446re, stm32f4-discovery/);
  });
});

describe.skipIf(missing)('monitor and flash: the hardware-in-the-loop commands', () => {
  const fw = join(work, 'f4');
  let elf = '';

  it('the firmware folder for a real board carries golden.json and builds', () => {
    const r = cli(['--board', 'stm32f4-discovery', '-o', fw, '-q']);
    expect(r.code).toBe(0);
    const g = JSON.parse(readFileSync(join(fw, 'golden.json'), 'utf8'));
    expect(g).toMatchObject({ generator: 'bnn-gen', board: 'stm32f4-discovery', baud: 115200, scoreType: 'f32', numClasses: 10, referenceCorrect: 99 });
    expect(g.cases).toHaveLength(100);
    expect(spawnSync('make', ['-C', fw, '-j2', 'firmware.elf'], { stdio: 'ignore' }).status).toBe(0);
    elf = join(fw, 'firmware.elf');
  }, 300_000);

  it('monitor reads a run through a pseudo-terminal (asking the idle firmware for it), PASS with accuracy, exit 0; --json', async () => {
    const pty = await qemuOnPty('stm32f4-discovery', elf);
    const r = cli(['monitor', fw, '--board', 'stm32f4-discovery', '--port', pty, '--timeout', '30']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS mnist-sparks on stm32f4-discovery via \/dev\/pts\/\d+: 100\/100 cases bit-identical to the TS reference \(firmware: PASS 100\/100\)$/m);
    expect(r.stdout).toMatch(/^accuracy on stm32f4-discovery: 99\/100 correct \(99.00 %\); TS reference 99\/100 correct/m);
    // The same QEMU, asked again: every request gives a complete run.
    const j = cli(['monitor', fw, '--port', pty, '--json', '--timeout', '30']);
    expect(j.code).toBe(0);
    const o = JSON.parse(j.stdout);
    expect(o).toMatchObject({ passed: true, board: 'stm32f4-discovery', cases: 100, verdict: 'PASS 100/100', problems: [], accuracy: { correct: 99, total: 100, reference: 99 } });
  }, 180_000);

  it('monitor FAILs (exit 1) and names the case and score when the board disagrees with the TS reference', async () => {
    const tampered = join(work, 'f4-tampered');
    mkdirSync(tampered);
    const g = JSON.parse(readFileSync(join(fw, 'golden.json'), 'utf8'));
    const was = g.cases[7].scores[3];
    g.cases[7].scores[3] = (parseInt(was, 16) ^ 1).toString(16).padStart(8, '0');
    writeFileSync(join(tampered, 'golden.json'), JSON.stringify(g));
    const pty = await qemuOnPty('stm32f4-discovery', elf);
    const r = cli(['monitor', tampered, '--port', pty, '--timeout', '30']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL mnist-sparks on stm32f4-discovery via \/dev\/pts\/\d+: 1 problem$/m);
    expect(r.stdout).toContain(`  case 7: score[3] is ${was} (`);
  }, 180_000);

  it('a silent port fails after --timeout with one line (exit 1); a missing or non-serial port is an input error (exit 2)', async () => {
    const pty = await qemuOnPty('stm32f4-discovery', elf, true); // -S: the machine never starts, the port stays silent
    const s = cli(['monitor', fw, '--port', pty, '--timeout', '2']);
    expect(s.code).toBe(1);
    expect(s.stdout.trim().split('\n')).toHaveLength(1);
    expect(s.stdout).toMatch(/^FAIL mnist-sparks on stm32f4-discovery via \/dev\/pts\/\d+: no output from \/dev\/pts\/\d+ within 2 s: is the board powered/);
    const none = cli(['monitor', fw, '--port', '/dev/ttyACM99']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^bnn-gen: error: --port \/dev\/ttyACM99: no such device/);
    const file = cli(['monitor', fw, '--port', join(fw, 'golden.json')]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/not a serial device/);
    const noFolder = cli(['monitor', work, '--port', pty]);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toMatch(/golden.json: not found; give the firmware folder bnn-gen wrote for a real board/);
    const otherBoard = cli(['monitor', fw, '--board', 'nucleo-f446re', '--port', pty]);
    expect(otherBoard.code).toBe(2);
    expect(otherBoard.stderr).toMatch(/--board nucleo-f446re: .* holds firmware for stm32f4-discovery/);
  }, 120_000);

  it('flash runs the board\'s tool on the built image (a stand-in openocd records its arguments); its failure is exit 1', () => {
    const bin = join(work, 'stub-bin');
    mkdirSync(bin, { recursive: true });
    const log = join(work, 'openocd-args');
    const stub = join(bin, 'openocd');
    writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\necho "stub openocd: programmed"\nexit \${STUB_STATUS:-0}\n`);
    chmodSync(stub, 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const ok = cli(['flash', fw, '-q'], env);
    expect(ok.code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['-f', 'board/stm32f4discovery.cfg', '-c', `program ${join(fw, 'firmware.elf')} verify reset exit`]);
    expect(ok.stderr).toContain('stub openocd: programmed');
    expect(ok.stdout).toMatch(/^flashed stm32f4-discovery with openocd: /);
    const bad = cli(['flash', fw, '-q'], { ...env, STUB_STATUS: '1' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL flashing stm32f4-discovery: openocd exited with status 1/);
    const noTool = cli(['flash', fw, '-q'], { ...process.env, PATH: join(work, 'empty') });
    expect(noTool.code).toBe(2);
    expect(noTool.stderr).toMatch(/^bnn-gen: error: openocd not found on PATH; install it \(apt-get install openocd\)/);
  }, 120_000);

  it('parseTranscript reads a run with \\r\\n line ends joined in the middle of an earlier one', () => {
    const text = 'case 98: argmax 1 scores 1 2 ok\r\nPASS 99/99\r\n' +
      'bnn-gen firmware: board b, target cortex-m4, 1 cases\r\nmodel: abc\r\ncase 0: label 1 argmax 1 scores -3 4 ok\r\n  cycles 1234\r\nstack: 96 bytes\r\n' +
      'cycles per inference: min 1234 max 1234 (DWT_CYCCNT, core clock 16000000 Hz)\r\nPASS 1/1\r\n';
    const t = parseTranscript(text, 'test');
    expect(t).toMatchObject({ board: 'b', target: 'cortex-m4', count: 1, modelHash: 'abc', stackBytes: 96, passed: true, verdict: 'PASS 1/1' });
    expect(t.cases).toEqual([{ index: 0, label: 1, argmax: 1, scores: ['-3', '4'], bits: null, ok: true, cycles: 1234 }]);
    expect(t.cycles).toEqual({ min: 1234, max: 1234, source: 'DWT_CYCCNT', clockHz: 16_000_000 });
    expect(() => parseTranscript('case 0: argmax 0 scores 1 ok\n', 'log')).toThrow(/log: no complete firmware run/);
  });
});
