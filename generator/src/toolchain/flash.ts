// Writing a firmware image to a board with the board file's flash tool (OpenOCD, pyOCD, picotool), run without a
// shell; its own output goes through to the user, who needs it when a probe is missing or the chip is locked.
import { spawn } from 'node:child_process';
import { BnnError } from '../core/errors.ts';
import type { Board } from '../model/board.ts';
import { findTool } from './tools.ts';

/** Where each flash tool comes from (Debian bookworm packages, else pip). */
const INSTALL: Record<string, string> = {
  openocd: 'apt-get install openocd',
  pyocd: 'pip install pyocd',
  picotool: 'apt-get install picotool (bookworm-backports) or build it from the Raspberry Pi repository',
  nrfjprog: "Nordic's nRF Command Line Tools",
};

/** The board's flash command for `elf`: the tool's path and its arguments ("{elf}" replaced). */
export function flashCommand(board: Board, elf: string): { tool: string; path: string; args: string[] } {
  if (!board.flash) throw new BnnError(`board ${board.name} names no flash tool (boards/${board.name}.json: flash)`);
  const { tool } = board.flash;
  const path = findTool(tool);
  if (!path) throw new BnnError(`${tool} not found on PATH; install it (${INSTALL[tool] ?? `see the ${tool} documentation`}) or write ${elf} with your own tool`);
  return { tool, path, args: board.flash.args.map((a) => a.replace(/\{elf\}/g, elf)) };
}

/** Runs the flash command, passing its output to `echo` as it comes. Resolves with its exit status. */
export function runFlash(cmd: { path: string; args: string[] }, echo: (text: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.path, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', echo);
    child.stderr.setEncoding('utf8').on('data', echo);
    child.on('error', (e) => reject(new BnnError(`cannot run ${cmd.path}: ${e.message}`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
