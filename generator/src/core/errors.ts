// Errors a user can cause. The CLI prints their message on one line and exits with 2; everything else that is
// thrown is a bug in bnn-gen, printed as one "internal error" line (the stack only with --debug).
export class BnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BnnError';
  }
}

/** Throw a BnnError "where: what" unless cond holds. */
export function check(cond: unknown, where: string, what: string): asserts cond {
  if (!cond) throw new BnnError(`${where}: ${what}`);
}

/**
 * Text from a user's file made safe for a one-line message: control characters (newlines, escape sequences that
 * would drive the terminal) become \n, \t or \xNN; very long strings are cut in the middle.
 */
export function printable(s: string, max = 120): string {
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return t.length > max ? `${t.slice(0, max - 20)}…${t.slice(-19)}` : t;
}

/** A quoted name for messages: 'name', with control characters escaped. */
export function quoted(s: string): string {
  return `'${printable(s)}'`;
}

/** The errno code of a file-system error (ENOENT, EACCES, ...), else its message. */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EISDIR: 'is a folder',
    ENOTDIR: 'a part of the path is not a folder',
    EEXIST: 'already exists',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'name too long',
    EDQUOT: 'disk quota exceeded',
  };
  if (err && typeof err.code === 'string') return reasons[err.code] ? `${reasons[err.code]} (${err.code})` : err.code;
  return printable(String((e as Error)?.message ?? e));
}
