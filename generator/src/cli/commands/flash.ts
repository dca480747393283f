// `bnn-gen flash`: build a real board's golden firmware folder (make) and write it to the board with the board's
// flash tool. Its verdict is then read with `bnn-gen monitor`.
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BnnError, printable } from '../../core/errors.ts';
import { flashCommand, runFlash } from '../../toolchain/flash.ts';
import { buildFirmware } from '../../toolchain/qemu.ts';
import { firmwareFolder } from '../firmware-folder.ts';
import type { Io } from '../io.ts';

export interface FlashFlags {
  board?: string;
}

export async function flashCommandMain(dirArg: string | undefined, f: FlashFlags, io: Io): Promise<number> {
  const { dir, board } = firmwareFolder(dirArg, f.board);
  if (!existsSync(join(dir, 'Makefile'))) throw new BnnError(`${dir}: no Makefile; give the firmware folder bnn-gen wrote with --board ${board.name}`);
  const cmd = flashCommand(board, resolve(dir, 'firmware.elf')); // the tool is looked for before a long build
  io.progress.phase(`make: building ${board.name} firmware in ${dir}`);
  const { elf } = await buildFirmware(dir);
  io.progress.phase(`${cmd.tool}: writing ${relative(process.cwd(), elf) || elf} to ${board.name}`);
  const status = await runFlash(cmd, (t) => io.err(t));
  if (status !== 0) {
    io.out(`FAIL flashing ${board.name}: ${cmd.tool} exited with status ${status} (its messages are above; is the board connected and its probe free?)`);
    return 1;
  }
  const shown = relative(process.cwd(), resolve(dir)) || '.';
  io.out(`flashed ${board.name} with ${cmd.tool}: ${printable(join(shown, 'firmware.elf'))}`);
  io.out(`read its verdict with: npx bnn-gen monitor ${printable(shown)} --port <its serial port, e.g. /dev/ttyACM0>`);
  return 0;
}
