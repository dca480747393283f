// Seeded fuzzing of the CLI's front doors (test/fuzz/fuzz.ts): 300 mutated model.json / model.bin / ONNX / .npy
// files through import, run, report and generate. Longer campaigns: npx tsx scripts/fuzz.ts --count 5000.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzz } from './fuzz/fuzz.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fuzzing the front doors', () => {
  it('300 seeded mutations: exit 0 with complete output, or exit 2 with one line and nothing written', async () => {
    const outcomes = await fuzz(join(work, 'campaign'), { seed: 1, count: 300, timeoutMs: 60_000 });
    const bad = outcomes.filter((o) => o.problem);
    const report = bad.slice(0, 10).map((o) => `case ${o.c.id} (${o.c.mutation}; ${o.c.argv.join(' ')}): ${o.problem}: ${o.err.slice(0, 300)}`);
    expect(report).toEqual([]);
    // The mutations reach both outcomes (a fuzzer that only produces refusals, or only successes, tests little).
    const refused = outcomes.filter((o) => o.code === 2).length;
    expect(refused).toBeGreaterThan(100);
    expect(outcomes.length - refused).toBeGreaterThan(20);
  });
});
