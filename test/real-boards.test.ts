// Real boards (no QEMU machine of their own): what can be checked without the hardware. Each board file must state
// its chip's datasheet memory map, clock and UART; the golden firmware (the example model and random models that fit)
// must build warning-free, link inside the chip's real flash and RAM, put a valid vector table (initial SP, Thumb reset
// vector) where the core reads it, carry the UART divisor the reference manual's formula gives, enable the UART's
// receiver and poll it for re-run requests, and `make flash` must run the named tool. Running on the boards
// themselves is not verified here (docs/boards.md); nor is running on their emulation machines.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { emitModel } from '../generator/src/emit/model-c.ts';
import { renderFirmware } from '../generator/src/emit/firmware.ts';
import { BOOT2_CODE, crc32Mpeg2, rp2040Boot2 } from '../generator/src/emit/rp2040-boot2.ts';
import { NRF51_UART_BAUDRATE, uartDivisor } from '../generator/src/emit/uart.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { generate } from '../generator/src/generate.ts';
import { listBoards, loadBoard, parseBoard, type Board } from '../generator/src/model/board.ts';
import type { Model } from '../generator/src/model/ir.ts';
import { randomModel } from '../generator/src/model/random.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { buildFirmware } from '../generator/src/toolchain/qemu.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';

const KiB = 1024;
const MiB = 1024 * 1024;
const haveMake = spawnSync('make', ['--version'], { stdio: 'ignore' }).status === 0;
const toolsMissing = !haveTool('arm-none-eabi-gcc') || !haveMake;

/** Datasheet facts, typed in by hand from the documents the board files cite (not read back from the files). */
const EXPECTED = {
  'stm32f4-discovery': {
    cpu: 'cortex-m4', flash: [0x08000000, 1 * MiB], ram: [0x20000000, 128 * KiB], clockHz: 16_000_000, clock: 'HSI',
    uart: { instance: 'USART2', base: 0x40004400, tx: 'PA2', rx: 'PA3', af: 7 }, interrupts: 82,
    // RM0090: 16 MHz / 115200 = 138.89 -> USARTDIV 8.6875 = mantissa 8, fraction 11/16 -> BRR 0x8B.
    divisor: { BRR: 0x8b }, regex: /#define UART_BRR_VALUE 0x008Bu/,
    flashCmd: "openocd -f board/stm32f4discovery.cfg -c 'program firmware.elf verify reset exit'",
  },
  'nucleo-f446re': {
    cpu: 'cortex-m4', flash: [0x08000000, 512 * KiB], ram: [0x20000000, 128 * KiB], clockHz: 16_000_000, clock: 'HSI',
    uart: { instance: 'USART2', base: 0x40004400, tx: 'PA2', rx: 'PA3', af: 7 }, interrupts: 97,
    divisor: { BRR: 0x8b }, regex: /#define UART_BRR_VALUE 0x008Bu/,
    flashCmd: "openocd -f board/st_nucleo_f4.cfg -c 'program firmware.elf verify reset exit'",
  },
  'stm32f746g-disco': {
    cpu: 'cortex-m7-sp', flash: [0x08000000, 1 * MiB], ram: [0x20000000, 320 * KiB], clockHz: 16_000_000, clock: 'HSI',
    uart: { instance: 'USART1', base: 0x40011000, tx: 'PA9', rx: 'PB7', af: 7 }, interrupts: 98,
    // RM0385, OVER8 = 0: BRR = USARTDIV = 16 MHz / 115200 = 138.89 -> 139.
    divisor: { BRR: 139 }, regex: /#define UART_BRR_VALUE 0x008Bu/,
    flashCmd: "openocd -f board/stm32f7discovery.cfg -c 'program firmware.elf verify reset exit'",
  },
  'nucleo-l4r5zi': {
    cpu: 'cortex-m4', flash: [0x08000000, 2 * MiB], ram: [0x20000000, 640 * KiB], clockHz: 4_000_000, clock: 'MSI',
    uart: { instance: 'LPUART1', base: 0x40008000, tx: 'PG7', rx: 'PG8', af: 8 }, interrupts: 95,
    // RM0432 LPUART: BRR = 256 x 4 MHz / 115200 = 8888.9 -> 8889 = 0x22B9 (>= 0x300; 4 MHz within [3, 4096] x baud).
    divisor: { BRR: 8889 }, regex: /#define UART_BRR_VALUE 0x22B9u/,
    flashCmd: "openocd -f interface/stlink.cfg -f target/stm32l4x.cfg -c 'program firmware.elf verify reset exit'",
  },
  'nrf52840-dk': {
    cpu: 'cortex-m4', flash: [0x00000000, 1 * MiB], ram: [0x20000000, 256 * KiB], clockHz: 64_000_000, clock: 'HFCLK',
    uart: { instance: 'UARTE0', base: 0x40002000, tx: 'P0.06', rx: 'P0.08', af: undefined }, interrupts: 48,
    // nRF52840 PS, UARTE BAUDRATE: Baud115200 = 0x01D60000 (the legacy UART's value is 0x01D7E000).
    divisor: { BAUDRATE: 0x01d60000 }, regex: /#define UART_BAUDRATE_VALUE  0x01D60000u/,
    flashCmd: "openocd -f interface/jlink.cfg -c 'transport select swd' -f target/nrf52.cfg -c 'program firmware.elf verify reset exit'",
  },
  'rpi-pico': {
    cpu: 'cortex-m0plus', flash: [0x10000000, 2 * MiB], ram: [0x20000000, 264 * KiB], clockHz: 12_000_000, clock: 'XOSC',
    uart: { instance: 'UART0', base: 0x40034000, tx: 'GP0', rx: 'GP1', af: 2 }, interrupts: 32,
    // PL011: 12 MHz / (16 x 115200) = 6.5104 -> IBRD 6, FBRD round(0.5104 x 64) = 33.
    divisor: { IBRD: 6, FBRD: 33 }, regex: /#define UART_IBRD_VALUE 6u\n#define UART_FBRD_VALUE 33u/,
    flashCmd: "openocd -f interface/cmsis-dap.cfg -f target/rp2040.cfg -c 'adapter speed 5000' -c 'program firmware.elf verify reset exit'",
  },
  'microbit-v1': {
    // nRF51 RM v3.0 / nRF51822-QFAA: 256 KiB flash, 16 KiB RAM, UART0 at 0x40002000; micro:bit v1 interface-chip
    // serial on P0.24 (TX) / P0.25 (RX); peripheral IDs 0..25 (POWER_CLOCK .. SWI5).
    cpu: 'cortex-m0', flash: [0x00000000, 256 * KiB], ram: [0x20000000, 16 * KiB], clockHz: 16_000_000, clock: 'HFCLK',
    uart: { instance: 'UART0', base: 0x40002000, tx: 'P0.24', rx: 'P0.25', af: undefined }, interrupts: 26,
    // nRF51 RM, UART BAUDRATE: Baud115200 = 0x01D7E000 (the nRF52 UARTE's is 0x01D60000).
    divisor: { BAUDRATE: 0x01d7e000 }, regex: /#define UART_BAUDRATE_VALUE  0x01D7E000u/,
    flashCmd: "openocd -f interface/cmsis-dap.cfg -f target/nrf51.cfg -c 'program firmware.elf verify reset exit'",
  },
  'nucleo-h743zi': {
    // RM0433 / CMSIS stm32h743xx.h: 2 MiB flash in two 1 MiB banks at 0x08000000; .data/.bss in the 512 KiB AXI SRAM at
    // 0x24000000, the stack alone in the 128 KiB DTCM at 0x20000000; HSI 64 MHz after reset (HSIDIV /1, every bus
    // prescaler /1); USART3 at 0x40004800, PD8/PD9 AF7 (DS12110), GPIOD at 0x58020C00; IRQ 0..149 (WAKEUP_PIN_IRQn).
    cpu: 'cortex-m7', flash: [0x08000000, 2 * MiB], ram: [0x24000000, 512 * KiB], stack: [0x20000000, 128 * KiB], clockHz: 64_000_000, clock: 'HSI',
    uart: { instance: 'USART3', base: 0x40004800, tx: 'PD8', rx: 'PD9', af: 7 }, interrupts: 150,
    // RM0433 USART, OVER8 = 0, PRESC = 0 (/1), kernel clock rcc_pclk1 = 64 MHz: BRR = USARTDIV = 64e6 / 115200
    // = 555.56 -> 556 = 0x22C, i.e. 64e6 / 556 = 115107.9 baud (-0.080 %).
    divisor: { BRR: 556 }, regex: /#define UART_BRR_VALUE 0x022Cu/,
    flashCmd: "openocd -f board/st_nucleo_h743zi.cfg -c 'program firmware.elf verify reset exit'",
  },
} as const;

/** QEMU machines that run a board's own firmware (`emulation`), typed in by hand; boards not listed have none. */
const EMULATION: Partial<Record<RealBoard, { machine: string; serial: number }>> = {
  'stm32f4-discovery': { machine: 'netduinoplus2', serial: 1 }, // STM32F405: USART2 is its second serial port
  'nucleo-f446re': { machine: 'netduinoplus2', serial: 1 },
  'microbit-v1': { machine: 'microbit', serial: 0 }, // nRF51822: UART0 is its only serial port
};

/** How each driver enables its receiver, as the generated console.c spells it. */
const RX_ENABLE: Record<string, RegExp> = {
  'stm32-usart-v1': /UART_CR1 = CR1_UE \| CR1_TE \| CR1_RE;/,
  'stm32-usart-v2': /UART_CR1 = CR1_UE \| CR1_TE \| CR1_RE;/,
  'stm32-lpuart': /UART_CR1 = CR1_UE \| CR1_TE \| CR1_RE;/,
  'nrf-uarte': /UART_RXD_MAXCNT = 1u;\n    UART_EVENTS_ENDRX = 0u;\n    UART_TASKS_STARTRX = 1u;/,
  'nrf51-uart': /UART_TASKS_STARTRX = 1u;/,
  'rp2040-pl011': /UART_CR = \(1u << 0\) \| \(1u << 8\) \| \(1u << 9\); \/\* UARTEN, TXE, RXE \*\//,
};
type RealBoard = keyof typeof EXPECTED;
const BOARDS = Object.keys(EXPECTED) as RealBoard[];

/** The RAM that holds the stack: the data RAM, except where the board gives the stack a region of its own (the H743's
 *  DTCM). */
function stackRam(want: (typeof EXPECTED)[RealBoard]): readonly [number, number] {
  return 'stack' in want ? want.stack : want.ram;
}

function region(board: Board, name: string): [number, number] {
  const r = board.memory.find((m) => m.name === name)!;
  return [r.origin, r.length];
}

describe('real board files state the datasheet facts', () => {
  it('all eight are listed, none claims a QEMU machine of its own, and the emulated ones name theirs', () => {
    for (const name of BOARDS) {
      expect(listBoards()).toContain(name);
      const b = loadBoard(name);
      expect(b.qemu).toBeNull();
      expect(b.emulation ? { machine: b.emulation.machine, serial: b.emulation.serial } : undefined, name).toEqual(EMULATION[name]);
      if (b.emulation) expect(b.description, name).toContain(`runs unchanged in QEMU on -M ${b.emulation.machine}`);
      else expect(b.description, name).toMatch(/Not runnable in QEMU\.$/);
    }
  });

  for (const name of BOARDS) {
    it(`${name}: memory map, clock, UART, vector table size and flash tool`, () => {
      const b = loadBoard(name);
      const want = EXPECTED[name];
      expect(b.cpu).toBe(want.cpu);
      expect(region(b, b.layout.code)).toEqual(want.flash);
      expect(region(b, b.layout.data)).toEqual(want.ram);
      expect(region(b, b.layout.stack)).toEqual(stackRam(want));
      expect(b.layout.stack === b.layout.data).toBe(!('stack' in want));
      expect(b.clock?.hz).toBe(want.clockHz);
      expect(b.clock?.source).toContain(want.clock);
      expect(b.interrupts).toBe(want.interrupts);
      expect(b.output.method).toBe('uart');
      if (b.output.method !== 'uart') return;
      expect(b.output).toMatchObject({ instance: want.uart.instance, base: want.uart.base, baud: 115200 });
      expect([b.output.tx.name, b.output.rx.name]).toEqual([want.uart.tx, want.uart.rx]);
      expect([b.output.tx.function, b.output.rx.function]).toEqual([want.uart.af, want.uart.af]);
      expect(b.flash?.tool).toBe('openocd');
      expect(b.references?.length).toBeGreaterThanOrEqual(3);
      if (name === 'rpi-pico') expect(b.boot2).toBe('rp2040-generic-03h');
      else expect(b.boot2).toBeUndefined();
    });
  }

  it('the micro:bit v1 names its UART, pins, clock start and both ways to flash it', () => {
    const b = loadBoard('microbit-v1');
    if (b.output.method !== 'uart') throw new Error('not a UART board');
    expect(b.output.driver).toBe('nrf51-uart');
    expect([b.output.tx.port, b.output.tx.pin, b.output.rx.port, b.output.rx.pin]).toEqual([0x50000000, 24, 0x50000000, 25]);
    expect(b.output.clockHz).toBe(16_000_000);
    expect(b.output.console).toMatch(/DAPLink/);
    expect(b.output.console).toMatch(/firmware\.hex onto the MICROBIT drive/);
    expect(b.layout.stackSize).toBe(loadBoard('microbit').layout.stackSize);
  });

  it('the target for the F746 is the single-precision M7, for the H743 the double-precision one', () => {
    expect(getTarget('cortex-m7-sp')).toMatchObject({ hasFpu: true, hasFpuDouble: false, hasCycleCounter: true });
    expect(getTarget('cortex-m7-sp').cflags).toContain('-mfpu=fpv5-sp-d16');
    expect(getTarget('cortex-m7')).toMatchObject({ hasFpu: true, hasFpuDouble: true, hasCycleCounter: true });
    expect(getTarget('cortex-m7').cflags).toContain('-mfpu=fpv5-d16');
    expect(getTarget('cortex-m0plus').hasCycleCounter).toBe(false);
  });

  it('a UART board without a clock or flash tool, or a UART pin without its function, is refused', () => {
    const good = JSON.parse(readFileSync(join(__dirname, '..', 'boards', 'nucleo-f446re.json'), 'utf8'));
    expect(() => parseBoard({ ...good, clock: undefined }, 'x.json')).toThrow(/clock: a board with UART output must state its clock/);
    expect(() => parseBoard({ ...good, flash: null }, 'x.json')).toThrow(/flash: a board with UART output runs on hardware only/);
    const noAf = { ...good, output: { ...good.output, tx: { name: 'PA2', port: '0x40020000', pin: 2 } } };
    expect(() => parseBoard(noAf, 'x.json')).toThrow(/output\.tx\.function: driver stm32-usart-v1 needs/);
    expect(() => parseBoard({ ...good, boot2: 'rp2040-generic-03h' }, 'x.json')).toThrow(/boot2: .* not cortex-m4/);
  });
});

describe('UART divisors follow the reference manuals', () => {
  it('match the hand-computed datasheet values on every board', () => {
    for (const name of BOARDS) {
      const b = loadBoard(name);
      if (b.output.method !== 'uart') throw new Error('not a UART board');
      const d = uartDivisor(b.output.driver, b.output.clockHz, b.output.baud);
      expect(d.registers, name).toEqual(EXPECTED[name].divisor);
      expect(Math.abs(d.errorPercent), name).toBeLessThan(0.1);
    }
  });

  it('compute the formulas, not a table, for the STM32 and RP2040 UARTs', () => {
    // STM32F4 USART at 84 MHz (APB2 of a 168 MHz F407), 115200: 84e6 / 115200 = 729.17 -> 729 = 0x2D9 (45 + 9/16).
    expect(uartDivisor('stm32-usart-v1', 84_000_000, 115200).registers.BRR).toBe(0x2d9);
    // F7 USART at 108 MHz, 9600: 11250.
    expect(uartDivisor('stm32-usart-v2', 108_000_000, 9600).registers.BRR).toBe(11250);
    // LPUART at 80 MHz, 9600: fCK > 4096 x baud (BRR = 2133333 would need more than 20 bits).
    expect(() => uartDivisor('stm32-lpuart', 80_000_000, 9600)).toThrow(/outside \[3, 4096\]/);
    // LPUART needs fCK >= 3 x baud.
    expect(() => uartDivisor('stm32-lpuart', 32768, 115200)).toThrow(/outside \[3, 4096\]/);
    // RP2040 at 125 MHz (the pico-sdk clock), 115200: 67.817 -> IBRD 67, FBRD 52 (pico-sdk computes the same).
    expect(uartDivisor('rp2040-pl011', 125_000_000, 115200).registers).toEqual({ IBRD: 67, FBRD: 52 });
    // 4 MHz cannot make 1 Mbaud on a USART within 2 %.
    expect(() => uartDivisor('stm32-usart-v2', 4_000_000, 1_000_000)).toThrow(/BRR 4 out of 16/);
    // 16 MHz / 921600 = 17.36 -> 17: 941176 baud, 2.12 % fast.
    expect(() => uartDivisor('stm32-usart-v1', 16_000_000, 921600)).toThrow(/off by 2\.12 %/);
    expect(() => uartDivisor('nrf-uarte', 16_000_000, 12345)).toThrow(/no BAUDRATE value/);
  });

  it('take the nRF51 UART\'s enumerated BAUDRATE values (not the nRF52 UARTE\'s) from the 16 MHz HFCLK', () => {
    // nRF51 RM v3.0 UART BAUDRATE: Baud9600 0x00275000, Baud115200 0x01D7E000, Baud1M 0x10000000; the rate is
    // value x 16 MHz / 2^32: 115203.86 baud for 115200.
    expect(uartDivisor('nrf51-uart', 16_000_000, 9600).registers).toEqual({ BAUDRATE: 0x00275000 });
    expect(uartDivisor('nrf51-uart', 16_000_000, 1_000_000).registers).toEqual({ BAUDRATE: 0x10000000 });
    const d = uartDivisor('nrf51-uart', 16_000_000, 115200);
    expect(d.actualBaud).toBeCloseTo(115203.857, 2);
    expect(d.errorPercent).toBeCloseTo(0.00335, 4);
    expect(NRF51_UART_BAUDRATE[115200]).not.toBe(uartDivisor('nrf-uarte', 16_000_000, 115200).registers.BAUDRATE);
    expect(() => uartDivisor('nrf51-uart', 16_000_000, 12345)).toThrow(/no BAUDRATE value/);
    expect(() => uartDivisor('nrf51-uart', 32_000_000, 115200)).toThrow(/runs at 16 MHz/);
  });
});

describe('RP2040 boot2', () => {
  it('uses the boot ROM checksum: CRC-32/MPEG-2, the same as pico-sdk pad_checksum computes', () => {
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7); // the catalogue check value
    // pad_checksum: bit-reverse each byte, zlib CRC-32, undo its final XOR, bit-reverse the 32-bit result.
    const rev8 = (b: number) => parseInt(b.toString(2).padStart(8, '0').split('').reverse().join(''), 2);
    const rev32 = (v: number) => parseInt((v >>> 0).toString(2).padStart(32, '0').split('').reverse().join(''), 2) >>> 0;
    const image = rp2040Boot2();
    const padChecksum = rev32((crc32(Buffer.from(Array.from(image.subarray(0, 252), rev8))) ^ 0xffffffff) >>> 0);
    expect(image.length).toBe(256);
    expect(Buffer.from(image).readUInt32LE(252)).toBe(padChecksum);
  });

  it.skipIf(spawnSync('arm-none-eabi-as', ['--version'], { stdio: 'ignore' }).status !== 0)('its bytes are the assembled templates/firmware/rp2040/boot2-generic-03h.S', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bnn-boot2-'));
    try {
      const src = join(__dirname, '..', 'templates', 'firmware', 'rp2040', 'boot2-generic-03h.S');
      execFileSync('arm-none-eabi-as', ['-mcpu=cortex-m0plus', '-mthumb', '-o', join(dir, 'b.o'), src]);
      execFileSync('arm-none-eabi-objcopy', ['-O', 'binary', '-j', '.boot2', join(dir, 'b.o'), join(dir, 'b.bin')]);
      expect(Array.from(readFileSync(join(dir, 'b.bin')))).toEqual(BOOT2_CODE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generated sources per board', () => {
  const dummy = { prefix: 'bnn_', modelSources: ['bnn_model.c'], inputs: [new Uint8Array(4)], expected: [new Float32Array(2)], inputSigned: false, scoreIsFloat: true };
  it('enable the FPU and the DWT cycle counter on M4/M7, SysTick on the M0/M0+, and never semihosting', () => {
    for (const name of BOARDS) {
      const b = loadBoard(name);
      const f = renderFirmware({ ...dummy, board: b, target: getTarget(b.cpu) });
      expect(Object.keys(f).sort()).toEqual(['Makefile', 'console.c', 'golden.h', 'golden.json', 'linker.ld', 'main.c', 'startup.c', ...(b.boot2 ? ['boot2.c'] : [])].sort());
      expect(f['startup.c']).not.toContain('initialise_monitor_handles');
      expect(f['startup.c']).not.toContain('bkpt');
      expect(f['Makefile']).toContain('--specs=nano.specs --specs=nosys.specs');
      expect(f['Makefile']).not.toContain('rdimon');
      expect(f['console.c']).toMatch(/int _write\(int fd, const char \*buf, int len\)\n\{/);
      expect(f['console.c']).toMatch(EXPECTED[name].regex);
      const m0 = b.cpu === 'cortex-m0plus' || b.cpu === 'cortex-m0';
      expect(f['startup.c'].includes('0xE000ED88u'), name).toBe(!m0); // CPACR: CP10/CP11 on
      expect(f['main.c'].includes('DWT_CYCCNT'), name).toBe(!m0);
      expect(f['main.c'].includes('SYST_CVR'), name).toBe(m0);
      expect(f['startup.c']).toContain(`fw_vectors[16 + ${b.interrupts}]`);
    }
  });

  it('enable the receiver and, after the verdict, run again on each byte received (every driver)', () => {
    const drivers = new Set<string>();
    for (const name of BOARDS) {
      const b = loadBoard(name);
      if (b.output.method !== 'uart') throw new Error('not a UART board');
      drivers.add(b.output.driver);
      const f = renderFirmware({ ...dummy, board: b, target: getTarget(b.cpu) });
      expect(f['console.c'], name).toMatch(RX_ENABLE[b.output.driver]);
      expect(f['console.c'], name).toMatch(/static int uart_getc\(void\)\n\{/);
      expect(f['console.c'], name).toMatch(/int fw_console_getc\(void\)\n\{\n    return uart_getc\(\);\n\}/);
      expect(f['console.c'], name).not.toContain('only transmits');
      // main: one run per request; what arrives during a run is dropped after it; no idling forever.
      expect(f['main.c'], name).toMatch(/for \(;;\) \{\n        \(void\)run_golden\(\);\n        fw_console_flush\(\);/);
      expect(f['main.c'], name).toMatch(/idle = fw_console_getc\(\) >= 0 \? 0u : idle \+ 1u/);
      expect(f['main.c'], name).toMatch(/while \(fw_console_getc\(\) < 0\) \{/);
      expect(f['main.c'], name).not.toContain('exit(');
    }
    // Every driver a board can name is covered by a board here (stm32-lpuart: nucleo-l4r5zi).
    expect([...drivers].sort()).toEqual(Object.keys(RX_ENABLE).sort());
    // The semihosting harness still runs once and exits with the verdict.
    const q = renderFirmware({ ...dummy, board: loadBoard('mps2-an386'), target: getTarget('cortex-m4') });
    expect(q['main.c']).toContain('exit(run_golden() ? 0 : 1);');
    expect(q['main.c']).not.toContain('fw_console_getc');
  });

  it('on the H743: ST\'s AXI SRAM errata workaround before the clock enables; supply, clocks, flash latency and PRESC left at reset', () => {
    const b = loadBoard('nucleo-h743zi');
    const f = renderFirmware({ ...dummy, board: b, target: getTarget(b.cpu) });
    // ES0392 2.2.9 (revision Y): READ_ISS_OVERRIDE, bit 0 of AXI_TARG7_FN_MOD (0x51008108), before anything reads the
    // AXI SRAM; then RCC_AHB4ENR.GPIODEN (0x58024400 + 0xE0, bit 3) and RCC_APB1LENR.USART3EN (+ 0xE8, bit 18).
    expect(f['console.c']).toMatch(/set_bit\(0x51008108, 0\);.*\n\s+set_bit\(0x580244E0, 3\);.*\n\s+set_bit\(0x580244E8, 18\);/);
    // Nothing writes PWR (0x58024800: PWR_CR3, PWR_D3CR.VOS), RCC_CR/CFGR/D1CFGR/D2CFGR (0x58024400..0x5802441C),
    // FLASH_ACR (0x52002000) or USART3_PRESC (0x4000482C): the firmware runs as the chip comes out of reset.
    for (const file of ['console.c', 'startup.c', 'main.c']) {
      expect(f[file], file).not.toMatch(/0x5802480[0-9A-F]|0x580244(0|1)[0-9A-F]\b|0x52002000|0x4000482C/i);
      expect(f[file], file).not.toMatch(/UART_BASE \+ 0x2Cu/);
    }
    expect(b.clock?.description).toMatch(/FLASH_ACR = 0x37, LATENCY 7 wait states/);
    expect(b.clock?.description).toMatch(/PWR_CR3's supply configuration is not written/);
    if (b.output.method !== 'uart') throw new Error('not a UART board');
    expect(b.output.clockHz).toBe(b.clock?.hz);
    expect(b.output.console).toMatch(/USART234578SEL keeps its reset value 000, rcc_pclk1/);
  });

  it('say the cycle counter did not start (no core, or an emulator), in the cycles: line the parser reads', () => {
    const b = loadBoard('stm32f4-discovery');
    const main = renderFirmware({ ...dummy, board: b, target: getTarget(b.cpu) })['main.c'];
    expect(main).toContain('out_str("cycles: not measured (the cycle counter did not start: the core has none, or an emulator does not model it)\\n");');
    expect(main).not.toContain('this core has no cycle counter');
    expect(main).toContain('out_str("cycles per inference: min ");');
    expect(main).toContain('out_str(" (" CYCLES_SOURCE ", core clock 16000000 Hz)\\n");');
    expect(main).toContain('out_str("  cycles ");');
  });

  it('make run: the emulated boards run their own image on the emulation machine, the others refuse', () => {
    for (const name of BOARDS) {
      const b = loadBoard(name);
      const mk = renderFirmware({ ...dummy, board: b, target: getTarget(b.cpu) })['Makefile'];
      const e = EMULATION[name];
      if (e) {
        const serial = [...Array(e.serial).fill('-serial null'), '-serial stdio'].join(' ');
        expect(mk, name).toContain(`\t$(QEMU) -M ${e.machine} -nographic -monitor none ${serial} -kernel firmware.elf\n`);
        expect(mk, name).not.toContain('does not run in QEMU');
      } else {
        expect(mk, name).toContain(`board ${name} does not run in QEMU`);
        expect(mk, name).not.toContain('$(QEMU)');
      }
    }
  });
});

// ---- Builds ----

const work = mkdtempSync(join(tmpdir(), 'bnn-real-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Section { name: string; size: number; vma: number; lma: number; load: boolean; alloc: boolean }

function sections(elf: string): Section[] {
  const out = execFileSync('arm-none-eabi-objdump', ['-h', '-w', elf], { encoding: 'utf8' });
  const secs: Section[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+\S+\s+(.*)$/.exec(line);
    if (m) secs.push({ name: m[1], size: parseInt(m[2], 16), vma: parseInt(m[3], 16), lma: parseInt(m[4], 16), load: /\bLOAD\b/.test(m[5]), alloc: /\bALLOC\b/.test(m[5]) });
  }
  return secs;
}

/** PT_LOAD program headers: virtual and physical address, file and memory size. */
function loadSegments(elf: string): { vaddr: number; paddr: number; filesz: number; memsz: number }[] {
  const out = execFileSync('arm-none-eabi-readelf', ['-l', '-W', elf], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*LOAD\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)].map((m) => ({
    vaddr: parseInt(m[1], 16), paddr: parseInt(m[2], 16), filesz: parseInt(m[3], 16), memsz: parseInt(m[4], 16),
  }));
}

function symbols(elf: string): Map<string, { addr: number; size: number }> {
  const out = execFileSync('arm-none-eabi-nm', ['-S', elf], { encoding: 'utf8' });
  const map = new Map<string, { addr: number; size: number }>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+)(?: ([0-9a-f]+))? \w (\S+)$/.exec(line.trim());
    if (m) map.set(m[3], { addr: parseInt(m[1], 16), size: m[2] ? parseInt(m[2], 16) : 0 });
  }
  return map;
}

interface Footprint { flash: number; ram: number }

/** Build, then check placement, vector table, divisor and flash command; returns flash and RAM bytes used. */
async function buildAndCheck(name: RealBoard, model: Model, tag: string): Promise<Footprint> {
  const board = loadBoard(name);
  const want = EXPECTED[name];
  const g = generate(model, { target: getTarget(board.cpu), board, goldenCount: 4, seed: 11 });
  const dir = join(work, name, tag);
  writeTree(dir, g.files);
  const { elf } = await buildFirmware(dir, { jobs: 4 }); // -Wall -Wextra -Werror in the Makefile

  const [flashOrg, flashLen] = want.flash;
  const [ramOrg, ramLen] = want.ram;
  const [stackOrg, stackLen] = stackRam(want);
  // The reserved stack takes the top of the data RAM, or all of a region of its own.
  const stackInRam = !('stack' in want);
  const inFlash = (a: number, n: number) => a >= flashOrg && a + n <= flashOrg + flashLen;
  const inRam = (a: number, n: number) => a >= ramOrg && a + n <= ramOrg + ramLen;

  // Every allocated section lies in the chip's real flash or RAM; loaded bytes are stored in flash.
  const secs = sections(elf).filter((s) => s.alloc && s.size > 0);
  let flashEnd: number = flashOrg;
  let ramEnd: number = ramOrg;
  for (const s of secs) {
    expect(inFlash(s.vma, s.size) || inRam(s.vma, s.size), `${name}: ${s.name} at 0x${s.vma.toString(16)}`).toBe(true);
    if (s.load) {
      expect(inFlash(s.lma, s.size), `${name}: ${s.name} stored at 0x${s.lma.toString(16)}`).toBe(true);
      flashEnd = Math.max(flashEnd, s.lma + s.size);
    }
    if (inRam(s.vma, s.size)) ramEnd = Math.max(ramEnd, s.vma + s.size);
  }
  // Every loadable segment, at its physical (load) address and for its whole memory size, lies in flash or RAM: a
  // loader zero-fills the memory size there, so a .bss sharing .data's segment would reach past the end of flash.
  // A segment with zero-filled memory (memsz > filesz: .bss) must be loaded where it lives (paddr = vaddr).
  for (const seg of loadSegments(elf)) {
    expect(inFlash(seg.paddr, seg.memsz) || inRam(seg.paddr, seg.memsz), `${name}: segment at 0x${seg.paddr.toString(16)}, ${seg.memsz} bytes`).toBe(true);
    if (seg.memsz > seg.filesz) expect(seg.paddr, `${name}: zero-filled segment at 0x${seg.vaddr.toString(16)} loaded at 0x${seg.paddr.toString(16)}`).toBe(seg.vaddr);
  }
  // The same totals from arm-none-eabi-size: text + data in flash, data + bss (+ the reserved stack) in RAM.
  const [text, data, bss] = execFileSync('arm-none-eabi-size', [elf], { encoding: 'utf8' }).split('\n')[1].trim().split(/\s+/).map(Number);
  const flashUsed = text + data;
  const ramUsed = data + bss + board.layout.stackSize;
  expect(flashUsed).toBe(flashEnd - flashOrg);
  expect(flashUsed).toBeLessThanOrEqual(flashLen);
  expect(data + bss + (stackInRam ? board.layout.stackSize : 0)).toBeLessThanOrEqual(ramLen);
  expect(board.layout.stackSize).toBeLessThanOrEqual(stackLen);
  expect(ramEnd).toBeLessThanOrEqual(ramOrg + ramLen - (stackInRam ? board.layout.stackSize : 0));

  // Vector table where the core (or boot2) reads it: initial SP = top of the stack's RAM (8-aligned), reset vector = Thumb
  // address of Reset_Handler in flash; the table has 16 + interrupts entries.
  const bin = join(dir, 'firmware.bin');
  execFileSync('arm-none-eabi-objcopy', ['-O', 'binary', elf, bin]);
  const image = readFileSync(bin);
  expect(image.length).toBe(flashUsed);
  const syms = symbols(elf);
  const vecOffset = name === 'rpi-pico' ? 0x100 : 0;
  expect(syms.get('fw_vectors')?.addr).toBe(flashOrg + vecOffset);
  expect(syms.get('fw_vectors')?.size).toBe((16 + want.interrupts) * 4);
  const sp = image.readUInt32LE(vecOffset);
  const reset = image.readUInt32LE(vecOffset + 4);
  expect(sp).toBe(stackOrg + stackLen);
  expect(sp % 8).toBe(0);
  expect(reset & 1).toBe(1);
  expect(reset & ~1).toBe(syms.get('Reset_Handler')?.addr);
  expect(inFlash(reset & ~1, 2)).toBe(true);
  if (name === 'rpi-pico') {
    // boot2 at the flash start with the checksum the boot ROM verifies.
    expect(Array.from(image.subarray(0, BOOT2_CODE.length))).toEqual(BOOT2_CODE);
    expect(image.readUInt32LE(252)).toBe(crc32Mpeg2(image.subarray(0, 252)));
  }

  // The divisor in the generated driver, and the flash command make would run.
  expect(readFileSync(join(dir, 'console.c'), 'utf8')).toMatch(want.regex);
  const dry = execFileSync('make', ['-s', '-n', '-C', dir, 'flash'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  expect(dry.trim()).toBe(want.flashCmd);
  return { flash: flashUsed, ram: ramUsed };
}

/** Seeds of random models that fit a real board, found deterministically: an arena of at most 64 KiB (the smallest
 *  RAM of the others is 128 KiB), or 6 KiB on the 16 KiB micro:bit (its 2 KiB stack and the harness take the rest). */
function fittingSeeds(from: number, n: number, maxArena = 64 * KiB): number[] {
  const out: number[] = [];
  for (let s = from; out.length < n && s < from + 200; s++) {
    const info = emitModel(randomModel(s), {}).info;
    if (info.arenaSize <= maxArena && info.totalWeightBytes <= 256 * KiB) out.push(s);
  }
  return out;
}

describe.skipIf(toolsMissing)('golden firmware builds and links for every real board', () => {
  const example = loadModel(DEFAULT_MODEL);
  const footprints: Record<string, Footprint> = {};
  afterAll(() => {
    // Recorded for docs/boards.md; printed so a run shows them.
    if (Object.keys(footprints).length) writeFileSync(join(tmpdir(), 'bnn-real-boards-footprint.json'), JSON.stringify(footprints, null, 2));
  });

  BOARDS.forEach((name, i) => {
    it(`${name}: the example model`, async () => {
      footprints[name] = await buildAndCheck(name, example, 'example');
    });
    for (const seed of fittingSeeds(700 + 20 * i, 2, name === 'microbit-v1' ? 6 * KiB : 64 * KiB)) {
      it(`${name}: random model ${seed}`, () => buildAndCheck(name, randomModel(seed), `random-${seed}`));
    }
  });
});

// When OpenOCD is installed, the configuration files the boards name must exist in its script tree.
const openocdScripts = ['/usr/share/openocd/scripts', '/usr/local/share/openocd/scripts'].find((d) => existsSync(d));
describe.skipIf(!openocdScripts)('OpenOCD knows the configurations the boards name', () => {
  for (const name of BOARDS) {
    it(name, () => {
      const args = loadBoard(name).flash!.args;
      const files = args.filter((_, i) => args[i - 1] === '-f');
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(join(openocdScripts!, f)), f).toBe(true);
    });
  }
});
