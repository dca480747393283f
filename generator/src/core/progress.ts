// Progress of long work (builds, emulator runs, many inputs), reported by the library and shown by the CLI on a
// terminal. The library only calls these two methods; `silent` is the default everywhere.
export interface Progress {
  /** A new phase began: e.g. "emcc: building WebAssembly", "QEMU mps2-an386: running 100 cases". */
  phase(name: string): void;
  /** k of n items of a phase done (inputs compared, cases run). */
  count(name: string, done: number, total: number): void;
}

export const silent: Progress = {
  phase() {},
  count() {},
};
