// `--json [file]` of memory and bench: the JSON on stdout, or into a file bnn-gen owns (its "generator" field says
// so; any other existing file is refused unless --force).
import { isGeneratedJson, writeOwnedFiles } from '../../core/output-files.ts';
import { VERSION } from '../../core/version.ts';
import type { Io } from '../io.ts';

export function jsonText(value: object): string {
  return JSON.stringify({ generator: `bnn-gen ${VERSION}`, ...value }, null, 2);
}

/** Print `text`, or with --json the JSON, or with --json FILE the text and the JSON written to FILE. */
export function emitJson(io: Io, json: string | boolean | undefined, text: () => string, value: object, force?: boolean): void {
  const j = jsonText(value);
  if (json === true) {
    io.out(j);
    return;
  }
  io.out(text());
  if (typeof json === 'string') {
    writeOwnedFiles([{ path: json, data: j + '\n', ours: isGeneratedJson }], { force });
    io.out(`written to ${json}`);
  }
}
