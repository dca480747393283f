// A serial port (a board's USB virtual COM port, a USB-UART adapter, or a pseudo-terminal) through the maintained
// `serialport` package. Loaded on first use, so commands that never open a port do not load its native binding.
import { existsSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { BnnError, printable } from '../core/errors.ts';

export interface OpenPort {
  /** Bytes to the board (the harness starts a new run on any byte it receives). */
  write(text: string): void;
  close(): Promise<void>;
}

/** Opens `path` at `baud` 8N1 and hands the received text to `onText`; one-line BnnErrors when it cannot. */
export async function openSerialPort(path: string, baud: number, onText: (text: string) => void): Promise<OpenPort> {
  if (!existsSync(path)) throw new BnnError(`--port ${printable(path)}: no such device (boards appear as /dev/ttyACM* or /dev/ttyUSB* on Linux; is it plugged in?)`);
  const st = statSync(path);
  if (!st.isCharacterDevice()) throw new BnnError(`--port ${printable(path)}: not a serial device (a ${st.isDirectory() ? 'folder' : 'file'})`);
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: baud, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new BnnError(`--port ${printable(path)}: cannot open it: ${printable(err.message.replace(/^Error: /, ''))}`)) : resolve()));
  });
  const decoder = new StringDecoder('utf8');
  port.on('data', (chunk: Buffer) => onText(decoder.write(chunk)));
  // A device that goes away mid-run (a board reset that re-enumerates USB) ends the reading; the caller times out.
  port.on('error', () => {});
  return {
    write: (text) => void port.write(text),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
