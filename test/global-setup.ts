// Before any test: compile the CLI (generator/dist), so tests that spawn bin/bnn-gen.js run the code under test.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';

export default function setup(): void {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}
