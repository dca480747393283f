// The names of the board definitions (boards/<name>.json), read without parsing them: cheap enough for --help.
import { readdirSync } from 'node:fs';
import { BOARDS_DIR } from '../core/paths.ts';

/** Board names available in `dir`, sorted. */
export function listBoards(dir: string = BOARDS_DIR): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}
