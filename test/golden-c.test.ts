// Emitted code is reviewed code: each golden case (test/golden/cases.ts) is generated again and compared byte for
// byte with its committed files. On an intended change: npx tsx scripts/golden-c.ts, then review and commit the diff.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { GOLDEN_CASES, goldenCaseFiles } from './golden/cases.ts';

function committed(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

describe('golden C: emitted files equal the committed ones', () => {
  for (const c of GOLDEN_CASES) {
    it(`${c.name}: ${c.what}`, () => {
      const dir = join(PROJECT_ROOT, 'test', 'golden', c.name);
      const files = goldenCaseFiles(c);
      expect(Object.keys(files).sort(), 'the set of files (regenerate with npx tsx scripts/golden-c.ts)').toEqual(committed(dir));
      const differ = Object.entries(files).filter(([name, data]) => !Buffer.from(readFileSync(join(dir, name))).equals(Buffer.from(data))).map(([name]) => name);
      expect(differ, 'files that differ from test/golden (regenerate with npx tsx scripts/golden-c.ts and review the diff)').toEqual([]);
    });
  }
});
