// Output folders. bnn-gen writes into a folder only what it generated, and deletes or overwrites only files it wrote
// there before. It knows them from the manifest it keeps in the folder (.bnn-gen.json: tool version, model, every
// file with its sha256):
//   folder missing        -> created complete: written beside it, then renamed into place;
//   folder empty          -> filled;
//   earlier bnn-gen output -> exactly the files of its manifest are replaced (or removed when no longer generated);
//                            every other file stays; a listed file edited since is refused by name unless --force;
//   anything else         -> refused, nothing written (--force writes beside the user's files, overwriting only the
//                            names bnn-gen writes, and never deletes a file it did not write).
// Updates run under a lock file and stage the new files inside the folder; the swap is a run of renames done
// synchronously, so a signal handler (the CLI installs one) can only run before it starts or after it ends: an
// interrupted or failed run leaves the old complete set or the new complete set. Files and folders are created with
// the default modes (0644 / 0755 under the usual umask).
import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync, constants, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync,
  renameSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { BnnError, fsReason, printable } from './errors.ts';
import { VERSION } from './version.ts';

export const MANIFEST_NAME = '.bnn-gen.json';
const LOCK_NAME = '.bnn-gen.lock';
const STAGE_PREFIX = '.bnn-gen-stage-';
const TRASH_PREFIX = '.bnn-gen-old-';

export type OutputFiles = Record<string, string | Uint8Array>;

export interface OutputOptions {
  /** Overwrite files bnn-gen would write even where the user's (or user-edited) files sit; never deletes. */
  force?: boolean;
  /** Recorded in the manifest, to tie the folder to a model. */
  model?: { name: string; sha256: string };
  /** The command line that generated the folder, recorded in the manifest. */
  command?: string;
}

interface Manifest {
  generator: 'bnn-gen';
  version: string;
  command?: string;
  model?: { name: string; sha256: string };
  /** Relative path (with /) -> sha256 of the content bnn-gen wrote. */
  files: Record<string, string>;
}

/** What writing a set of files into a folder will do (from checkOutputDir). */
export interface OutputPlan {
  /** The folder as given, for messages. */
  shown: string;
  /** Absolute, symlinks resolved (a symlinked folder is written through, never replaced). */
  target: string;
  missing: boolean;
  /** Earlier bnn-gen files to replace. */
  replace: string[];
  /** Files that are not (or no longer) bnn-gen's, overwritten because of --force. */
  forced: string[];
  /** Earlier bnn-gen files no longer generated, unchanged since: removed. */
  remove: string[];
  /** Earlier bnn-gen files no longer generated but edited since: kept (and dropped from the manifest). */
  keptEdited: string[];
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function isOurTransient(name: string): boolean {
  return name === LOCK_NAME || name.startsWith(STAGE_PREFIX) || name.startsWith(TRASH_PREFIX);
}

/** Generated names are relative paths below the folder, with '/' separators, never the manifest or our own temporaries. */
function checkNames(names: string[]): void {
  for (const n of names) {
    const parts = n.split('/');
    if (!n || isAbsolute(n) || n.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..') || n === MANIFEST_NAME || isOurTransient(parts[0])) {
      throw new Error(`output file name ${JSON.stringify(n)} is not a plain relative path`);
    }
  }
}

function readManifest(path: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    const ok = m && m.generator === 'bnn-gen' && typeof m.version === 'string' && m.files && typeof m.files === 'object' &&
      Object.entries(m.files).every(([k, v]) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) && typeof k === 'string');
    if (!ok) return null;
    checkNames(Object.keys(m.files));
    return m;
  } catch {
    return null;
  }
}

/** sha256 of a regular file, null when it does not exist; 'not a file' for a folder or anything else. */
function fileHash(path: string): string | null | 'not a file' {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null;
  }
  if (!st.isFile()) return 'not a file';
  return sha256(readFileSync(path));
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockOwner(target: string): number | null {
  try {
    return Number(readFileSync(join(target, LOCK_NAME), 'utf8').trim());
  } catch {
    return null;
  }
}

/** One line: what is wrong, then what to do ("nothing written; use an empty folder"). */
function refuse(what: string, hint?: string): never {
  throw new BnnError(`${what} (nothing written${hint ? `; ${hint}` : ''})`);
}

/** The nearest existing ancestor of an absolute path. */
function existingAncestor(p: string): string {
  let d = p;
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

function checkWritable(dir: string, shown: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    refuse(`cannot write to '${printable(shown)}': ${fsReason(e)}`);
  }
}

/** Decide what writing `names` into `dir` would do, or refuse with one line naming the reason. Writes nothing. */
export function checkOutputDir(dir: string, names: string[], opts: OutputOptions = {}): OutputPlan {
  checkNames(names);
  const shown = dir;
  const abs = resolve(dir);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    st = null;
  }
  if (st?.isSymbolicLink() && !existsSync(abs)) refuse(`output folder '${printable(shown)}' is a symbolic link to nothing`);
  if (!st) {
    const anc = existingAncestor(abs);
    if (!statSync(anc).isDirectory()) refuse(`cannot create output folder '${printable(shown)}': '${printable(anc)}' is not a folder`);
    checkWritable(anc, anc === abs ? shown : anc);
    return { shown, target: abs, missing: true, replace: [], forced: [], remove: [], keptEdited: [] };
  }
  const target = realpathSync(abs);
  if (!statSync(target).isDirectory()) refuse(`output '${printable(shown)}' exists and is not a folder`);
  checkWritable(target, shown);
  const owner = lockOwner(target);
  if (owner !== null && owner !== process.pid && isAlive(owner)) {
    refuse(`output folder '${printable(shown)}' is being written by another bnn-gen (process ${owner})`, 'try again when it has finished');
  }
  const entries = readdirSync(target).filter((e) => !isOurTransient(e));
  const plan: OutputPlan = { shown, target, missing: false, replace: [], forced: [], remove: [], keptEdited: [] };
  if (entries.length === 0) return plan;

  let previous: Manifest | null = null;
  if (entries.includes(MANIFEST_NAME)) {
    previous = readManifest(join(target, MANIFEST_NAME));
    if (!previous && !opts.force) refuse(`'${printable(join(shown, MANIFEST_NAME))}' is not a manifest bnn-gen wrote; the folder's files cannot be told apart from yours`, 'use an empty folder, or --force to write beside them');
  } else if (!opts.force) {
    refuse(`output folder '${printable(shown)}' is not empty and was not written by bnn-gen`, 'use an empty folder, or --force to write beside its files');
  }
  const before = previous?.files ?? {};
  const wanted = new Set(names);
  for (const name of names) {
    // Every folder on the way must be a folder (or not exist yet).
    const parts = name.split('/');
    for (let k = 1; k < parts.length; k++) {
      const p = join(target, ...parts.slice(0, k));
      if (existsSync(p) && !statSync(p).isDirectory()) refuse(`cannot write '${printable(join(shown, name))}': '${printable(join(shown, ...parts.slice(0, k)))}' is a file`);
      if (existsSync(p)) checkWritable(p, join(shown, ...parts.slice(0, k)));
    }
    const h = fileHash(join(target, name));
    if (h === null) continue;
    if (h === 'not a file') refuse(`cannot write '${printable(join(shown, name))}': something other than a file is in the way`);
    if (before[name] === h) plan.replace.push(name);
    else if (opts.force) plan.forced.push(name);
    else if (before[name]) refuse(`'${printable(join(shown, name))}' was edited since bnn-gen wrote it`, 'keep your copy elsewhere, or use --force to overwrite it');
    else refuse(`'${printable(join(shown, name))}' exists and was not written by bnn-gen`, 'use an empty folder, or --force to overwrite it');
  }
  for (const [name, h] of Object.entries(before)) {
    if (wanted.has(name)) continue;
    const now = fileHash(join(target, name));
    if (now === h) plan.remove.push(name);
    else if (now !== null) plan.keptEdited.push(name);
  }
  return plan;
}

function manifestText(files: OutputFiles, opts: OutputOptions): string {
  const hashes: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) hashes[name] = sha256(data);
  const m: Manifest = {
    generator: 'bnn-gen',
    version: VERSION,
    ...(opts.command !== undefined ? { command: opts.command } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    files: Object.fromEntries(Object.keys(hashes).sort().map((k) => [k, hashes[k]])),
  };
  return JSON.stringify(m, null, 2) + '\n';
}

function writeTree(root: string, files: OutputFiles): void {
  for (const [name, data] of Object.entries(files)) {
    const p = join(root, ...name.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}

/** mkdir -p that returns the folders it created, deepest last. */
function makeDirs(dir: string): string[] {
  const created: string[] = [];
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d);
    created.push(d);
  }
  return created;
}

function removeEmptyDirs(dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      /* not empty, or gone: leave it */
    }
  }
}

const tempSuffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Write `files` (relative path -> content) into `dir` by the rules above. Throws BnnError (one line, nothing
 * changed) when it must refuse or cannot write. Returns the plan it carried out.
 */
export function writeOutputDir(dir: string, files: OutputFiles, opts: OutputOptions = {}): OutputPlan {
  const plan = checkOutputDir(dir, Object.keys(files), opts);
  if (plan.missing) {
    const done = createFolder(plan, files, opts);
    if (done) return plan;
  }
  return updateFolder(dir, files, opts);
}

/** A new folder: written complete beside its final place, then renamed. False when someone created it meanwhile. */
function createFolder(plan: OutputPlan, files: OutputFiles, opts: OutputOptions): boolean {
  const parent = dirname(plan.target);
  let created: string[] = [];
  let stage = '';
  try {
    created = makeDirs(parent);
    stage = join(parent, `.${basename(plan.target)}${STAGE_PREFIX}${tempSuffix()}`);
    mkdirSync(stage);
    writeTree(stage, files);
    writeFileSync(join(stage, MANIFEST_NAME), manifestText(files, opts));
    renameSync(stage, plan.target);
    return true;
  } catch (e) {
    if (stage) rmSync(stage, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(plan.target)) return false; // a concurrent run won
    removeEmptyDirs(created);
    throw new BnnError(`cannot write output folder '${printable(plan.shown)}': ${fsReason(e)} (nothing written)`);
  }
}

function acquireLock(target: string, shown: string): void {
  const path = join(target, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BnnError(`cannot write to '${printable(shown)}': ${fsReason(e)} (nothing written)`);
      const owner = lockOwner(target);
      if (owner !== null && isAlive(owner)) refuse(`output folder '${printable(shown)}' is being written by another bnn-gen (process ${owner})`, 'try again when it has finished');
      // A run that was killed left its lock and staging folder: they hold only generated files.
      for (const e2 of readdirSync(target)) if (e2.startsWith(`${STAGE_PREFIX}${owner}-`)) rmSync(join(target, e2), { recursive: true, force: true });
      rmSync(path, { force: true });
    }
  }
  refuse(`cannot lock output folder '${printable(shown)}'`);
}

/** An existing folder: stage inside it under the lock, then swap by renames, rolling back on any failure. */
function updateFolder(dir: string, files: OutputFiles, opts: OutputOptions): OutputPlan {
  const first = checkOutputDir(dir, Object.keys(files), opts);
  const target = first.target;
  acquireLock(target, dir);
  const stage = join(target, STAGE_PREFIX + tempSuffix());
  const trash = join(target, TRASH_PREFIX + tempSuffix());
  try {
    // The folder may have changed while the files were being generated: decide again under the lock.
    const plan = checkOutputDir(dir, Object.keys(files), opts);
    try {
      mkdirSync(stage);
      writeTree(stage, files);
      // Edited files that are no longer generated stay, as the user's: they leave the manifest.
      writeFileSync(join(stage, MANIFEST_NAME), manifestText(files, opts));
    } catch (e) {
      throw new BnnError(`cannot write output folder '${printable(dir)}': ${fsReason(e)} (nothing written)`);
    }
    swap(target, stage, trash, Object.keys(files), [...plan.replace, ...plan.forced, ...plan.remove], dir);
    removeEmptyDirs(foldersOf(plan.remove).map((d) => join(target, d)));
    return plan;
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(trash, { recursive: true, force: true });
    rmSync(join(target, LOCK_NAME), { force: true });
  }
}

function swap(target: string, stage: string, trash: string, names: string[], displaced: string[], shown: string): void {
  const moved: string[] = [];
  const placed: string[] = [];
  const createdDirs: string[] = [];
  const at = (root: string, name: string) => join(root, ...name.split('/'));
  try {
    mkdirSync(trash);
    for (const name of displaced) {
      mkdirSync(dirname(at(trash, name)), { recursive: true });
      renameSync(at(target, name), at(trash, name));
      moved.push(name);
    }
    for (const name of names) {
      createdDirs.push(...makeDirs(dirname(at(target, name))));
      renameSync(at(stage, name), at(target, name));
      placed.push(name);
    }
    renameSync(join(stage, MANIFEST_NAME), join(target, MANIFEST_NAME));
  } catch (e) {
    for (const name of placed) rmSync(at(target, name), { force: true });
    for (const name of moved) {
      try {
        renameSync(at(trash, name), at(target, name));
      } catch {
        /* best effort: the trash folder is left in place below */
      }
    }
    removeEmptyDirs(createdDirs);
    throw new BnnError(`cannot write output folder '${printable(shown)}': ${fsReason(e)} (nothing changed)`);
  }
}

/** Every folder above the given relative file names, shallowest first (so a reversed walk empties the deepest first). */
function foldersOf(names: string[]): string[] {
  const dirs = new Set<string>();
  for (const n of names) {
    const parts = n.split('/');
    for (let k = 1; k < parts.length; k++) dirs.add(parts.slice(0, k).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** What a write did besides adding files, for the CLI's summary line ('' when nothing worth saying). */
export function describePlan(plan: OutputPlan): string {
  if (plan.missing) return '';
  const parts: string[] = [];
  if (plan.remove.length) parts.push(`removed ${plan.remove.length} earlier file${plan.remove.length > 1 ? 's' : ''} no longer generated`);
  if (plan.forced.length) parts.push(`overwrote with --force: ${plan.forced.join(', ')}`);
  if (plan.keptEdited.length) parts.push(`kept your edited ${plan.keptEdited.join(', ')} (no longer generated)`);
  return parts.join('; ');
}
