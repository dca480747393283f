// Output is all or nothing: files and folders appear complete (rename) or not at all.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BnnError } from '../errors.ts';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new BnnError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Write a whole output folder: files go to a temporary sibling folder which is renamed into place at the end,
 * so a failure leaves no partial output. An existing folder is replaced only once the new one is complete.
 */
export function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): void {
  const target = resolve(dir);
  const parent = dirname(target);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new BnnError(`cannot create output directory '${parent}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (existsSync(target) && !statSync(target).isDirectory()) throw new BnnError(`output '${dir}' exists and is not a directory`);
  let tmp: string;
  try {
    tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`));
  } catch (e) {
    throw new BnnError(`cannot write output directory '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    for (const [name, data] of Object.entries(files)) {
      const p = join(tmp, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    }
    if (existsSync(target)) {
      const old = `${tmp}-old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new BnnError(`cannot write output directory '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
