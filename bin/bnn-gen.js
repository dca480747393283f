#!/usr/bin/env node
// Entry point of `bnn-gen`: runs the compiled CLI (generator/dist, built by `npm run build`, which npm runs on
// install in a checkout and before packing). Errors that escape everything else are still one line.
import { existsSync } from 'node:fs';

const entry = new URL('../generator/dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bnn-gen: error: the compiled CLI (generator/dist) is missing; run: npm run build\n');
  process.exit(2);
}
const fatal = (e) => {
  const debug = process.argv.includes('--debug');
  process.stderr.write(`bnn-gen: internal error: ${String(e?.message ?? e).split('\n')[0]} (please report it)\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(3);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
