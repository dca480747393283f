// Scratch build folders (temporary firmware and harness builds): plain writes into a folder bnn-gen made itself.
// Anything written where a user looks goes through output-dir.ts or output-files.ts instead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Write `files` (relative path with / -> content) below `dir`, creating folders as needed. */
export function writeTree(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [name, data] of Object.entries(files)) {
    const p = join(dir, ...name.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}
