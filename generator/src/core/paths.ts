// Where bnn-gen's own files are: the ground floor every layer may import (no other project imports here).
// The compiled package runs from generator/dist/, the sources from generator/src/: this file sits three folders below the root.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TEMPLATES_DIR = join(PROJECT_ROOT, 'templates');
export const RUNTIME_DIR = join(PROJECT_ROOT, 'runtime-c');
export const BOARDS_DIR = join(PROJECT_ROOT, 'boards');
/** Third-party files used as they are (the ONNX schema). */
export const VENDOR_DIR = join(PROJECT_ROOT, 'vendor');

/** The shipped example, compiled when no model is named, with its labelled held-out digits. */
export const DEFAULT_EXAMPLE = join(PROJECT_ROOT, 'examples', 'mnist-sparks');
export const DEFAULT_MODEL = join(DEFAULT_EXAMPLE, 'model.json');
export const DEFAULT_DIGITS = join(DEFAULT_EXAMPLE, 'digits.npy');
export const DEFAULT_LABELS = join(DEFAULT_EXAMPLE, 'labels.npy');

/**
 * Build caches (WASM modules, host harnesses, the QEMU plugin), keyed by content hashes so stale entries are never
 * used: $BNN_GEN_CACHE_DIR if set; .cache/ in a git checkout; otherwise the user's cache folder (an installed
 * package's own folder may be read-only).
 */
export function cacheDir(kind: string): string {
  const base = process.env.BNN_GEN_CACHE_DIR
    ?? (existsSync(join(PROJECT_ROOT, '.git')) ? join(PROJECT_ROOT, '.cache')
      : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bnn-gen'));
  return join(base, kind);
}
