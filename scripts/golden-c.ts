// Rewrite the golden C cases under test/golden/<case>/ (see test/golden/cases.ts); review the diff, then commit.
//   npx tsx scripts/golden-c.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { GOLDEN_CASES, goldenCaseFiles } from '../test/golden/cases.ts';

for (const c of GOLDEN_CASES) {
  const dir = join(PROJECT_ROOT, 'test', 'golden', c.name);
  rmSync(dir, { recursive: true, force: true });
  const files = goldenCaseFiles(c);
  for (const [name, data] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
  console.log(`${c.name}: ${Object.keys(files).length} files (${c.what})`);
}
