// Baud-rate register values for the register-level UART drivers in templates/firmware/uart/, each from its
// reference manual's formula, so a test can check them against hand-computed datasheet values without a board.
import type { UartDriver } from '../model/board.ts';

export interface UartDivisor {
  /** Register name -> value the driver writes (e.g. { BRR: 139 }). */
  registers: Record<string, number>;
  /** The baud rate those values give at `clockHz`. */
  actualBaud: number;
  /** (actual - wanted) / wanted, in percent. */
  errorPercent: number;
  /** The formula, for the generated source's comment. */
  formula: string;
}

/** nRF52840 UARTE BAUDRATE register values: nRF52840 Product Specification v1.x, UARTE register BAUDRATE (the
 *  UARTE's values differ from the legacy UART's: 115200 is 0x01D60000 there, not the UART's 0x01D7E000), with the
 *  actual rates the specification gives. The UARTE baud generator runs from the 16 MHz HFCLK. */
export const NRF_UARTE_BAUDRATE: Readonly<Record<number, { value: number; actual: number }>> = {
  56000: { value: 0x00e50000, actual: 55944 },
  57600: { value: 0x00eb0000, actual: 57554 },
  76800: { value: 0x013a9000, actual: 76923 },
  115200: { value: 0x01d60000, actual: 115108 },
  230400: { value: 0x03b00000, actual: 231884 },
  250000: { value: 0x04000000, actual: 250000 },
  1000000: { value: 0x10000000, actual: 1000000 },
};

/** nRF51 legacy UART BAUDRATE register values: nRF51 Series Reference Manual v3.0, UART chapter, register BAUDRATE
 *  (the same values as Nordic's MDK nrf51_bitfields.h, UART_BAUDRATE_BAUDRATE_BaudN). The register is a phase
 *  increment added at 16 MHz per 2^32, so the rate it gives is value x 16 MHz / 2^32 (115200: 0x01D7E000 gives
 *  115203.9 baud); the UART's own values differ from the nRF52 UARTE's (115200 is 0x01D60000 there). */
export const NRF51_UART_BAUDRATE: Readonly<Record<number, number>> = {
  9600: 0x00275000,
  19200: 0x004ea000,
  38400: 0x009d5000,
  57600: 0x00ebf000,
  115200: 0x01d7e000,
  230400: 0x03afb000,
  250000: 0x04000000,
  460800: 0x075f7000,
  921600: 0x0ebed000,
  1000000: 0x10000000,
};

/** Largest baud error accepted: the receiver samples mid-bit, and the sum of both sides' errors must stay well
 *  under half a bit over a 10-bit frame; 2 % for ours leaves the other side (ST-LINK, J-Link OB, adapter) its own. */
export const MAX_BAUD_ERROR_PERCENT = 2;

function result(registers: Record<string, number>, actualBaud: number, baud: number, formula: string): UartDivisor {
  return { registers, actualBaud, errorPercent: ((actualBaud - baud) / baud) * 100, formula };
}

/** Divisor register values for `driver` at kernel clock `clockHz` and rate `baud`. Throws when the rate cannot be
 *  reached within MAX_BAUD_ERROR_PERCENT or the register's range. */
export function uartDivisor(driver: UartDriver, clockHz: number, baud: number): UartDivisor {
  let r: UartDivisor;
  switch (driver) {
    case 'stm32-usart-v1': {
      // RM0090 (STM32F4) 30.3.4, oversampling by 16 (OVER8 = 0): baud = fCK / (16 * USARTDIV), USARTDIV held as a
      // 12-bit mantissa and a 4-bit fraction in sixteenths, i.e. BRR = round(16 * USARTDIV) = round(fCK / baud).
      const brr = Math.round(clockHz / baud);
      if (brr < 16 || brr > 0xffff) throw new Error(`USART: ${clockHz} Hz cannot make ${baud} baud (BRR ${brr} out of 16..65535)`);
      r = result({ BRR: brr }, clockHz / brr, baud, 'BRR = round(fCK / baud) = DIV_Mantissa << 4 | DIV_Fraction (OVER8 = 0)');
      break;
    }
    case 'stm32-usart-v2': {
      // RM0385 (STM32F7) 31.5.4 / RM0432 (STM32L4+) USART "baud rate generation", OVER8 = 0: USARTDIV = fCK / baud,
      // BRR = USARTDIV, at least 16.
      const brr = Math.round(clockHz / baud);
      if (brr < 16 || brr > 0xffff) throw new Error(`USART: ${clockHz} Hz cannot make ${baud} baud (BRR ${brr} out of 16..65535)`);
      r = result({ BRR: brr }, clockHz / brr, baud, 'BRR = USARTDIV = round(fCK / baud) (OVER8 = 0)');
      break;
    }
    case 'stm32-lpuart': {
      // RM0432 (STM32L4+) LPUART "baud rate generation": baud = 256 * fCK / LPUARTDIV, BRR = LPUARTDIV (20 bits),
      // BRR >= 0x300, and fCK must lie in [3 * baud, 4096 * baud].
      if (clockHz < 3 * baud || clockHz > 4096 * baud) throw new Error(`LPUART: fCK ${clockHz} Hz is outside [3, 4096] x ${baud} baud`);
      const brr = Math.round((256 * clockHz) / baud);
      if (brr < 0x300 || brr >= 1 << 20) throw new Error(`LPUART: BRR ${brr} out of 0x300..0xFFFFF`);
      r = result({ BRR: brr }, (256 * clockHz) / brr, baud, 'BRR = LPUARTDIV = round(256 * fCK / baud)');
      break;
    }
    case 'nrf-uarte': {
      // The UARTE takes an enumerated BAUDRATE value (nRF52840 PS, UARTE BAUDRATE), generated from the 16 MHz HFCLK.
      if (clockHz !== 16_000_000) throw new Error(`UARTE: the baud generator runs at 16 MHz, not ${clockHz} Hz`);
      const e = NRF_UARTE_BAUDRATE[baud];
      if (!e) throw new Error(`UARTE: ${baud} baud has no BAUDRATE value here; use one of ${Object.keys(NRF_UARTE_BAUDRATE).join(', ')}`);
      r = result({ BAUDRATE: e.value }, e.actual, baud, 'BAUDRATE = the product specification\'s enumerated value for this rate');
      break;
    }
    case 'nrf51-uart': {
      // The legacy UART takes an enumerated BAUDRATE value (nRF51 RM, UART BAUDRATE), generated from the 16 MHz HFCLK.
      if (clockHz !== 16_000_000) throw new Error(`nRF51 UART: the baud generator runs at 16 MHz, not ${clockHz} Hz`);
      const v = NRF51_UART_BAUDRATE[baud];
      if (v === undefined) throw new Error(`nRF51 UART: ${baud} baud has no BAUDRATE value here; use one of ${Object.keys(NRF51_UART_BAUDRATE).join(', ')}`);
      r = result({ BAUDRATE: v }, (v * 16_000_000) / 2 ** 32, baud, 'BAUDRATE = the reference manual\'s enumerated value for this rate; actual = BAUDRATE x 16 MHz / 2^32');
      break;
    }
    case 'rp2040-pl011': {
      // RP2040 datasheet 4.2.7.1 (PL011 TRM 3.3.6): BAUDDIV = clk_peri / (16 * baud) = IBRD + FBRD / 64, with
      // FBRD = round(fraction * 64): in 64ths of a divisor, round(4 * clk_peri / baud).
      const div64 = Math.round((4 * clockHz) / baud);
      const ibrd = Math.floor(div64 / 64);
      const fbrd = div64 % 64;
      if (ibrd < 1 || ibrd > 0xffff) throw new Error(`PL011: ${clockHz} Hz cannot make ${baud} baud (IBRD ${ibrd} out of 1..65535)`);
      r = result({ IBRD: ibrd, FBRD: fbrd }, (4 * clockHz) / div64, baud, 'IBRD + FBRD / 64 = round(64 * clk_peri / (16 * baud)) / 64');
      break;
    }
  }
  if (Math.abs(r.errorPercent) > MAX_BAUD_ERROR_PERCENT)
    throw new Error(`${driver}: ${baud} baud from ${clockHz} Hz is off by ${r.errorPercent.toFixed(2)} % (more than ${MAX_BAUD_ERROR_PERCENT} %)`);
  return r;
}
