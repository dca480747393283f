#!/usr/bin/env node
// Entry point for `npx bnn-gen`: runs the TypeScript CLI through tsx so a clone works right after `npm install`.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../generator/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
