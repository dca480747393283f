// One error type for everything a user can get wrong. The CLI prints its message on one line and exits with 2.
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
