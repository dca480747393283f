// A fuzz campaign longer than the suite's 300 cases (test/fuzz.test.ts), e.g.
//   npm run build && npx tsx scripts/fuzz.ts --count 20000 --seed 7
// Prints every case that breaks the rule (exit 0 with complete output, or exit 2 with one line and nothing
// written) with the command to reproduce it, then a summary; exits 1 if any did.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzz } from '../test/fuzz/fuzz.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' }, dir: { type: 'string' } } });
const dir = values.dir ?? join(tmpdir(), `bnn-fuzz-${values.seed}`);
const t0 = performance.now();
let done = 0;
const outcomes = await fuzz(dir, {
  seed: Number(values.seed),
  count: Number(values.count),
  onCase: (o) => {
    done++;
    if (o.problem) console.log(`case ${o.c.id}: ${o.problem} (${o.c.mutation})\n  node bin/bnn-gen.js ${o.c.argv.join(' ')}\n  ${o.err.trim().split('\n').slice(0, 3).join('\n  ')}`);
    if (done % 1000 === 0) process.stderr.write(`${done} cases\n`);
  },
});
const bad = outcomes.filter((o) => o.problem).length;
const refused = outcomes.filter((o) => o.code === 2).length;
console.log(`${outcomes.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${outcomes.length - refused - bad} complete outputs, ${refused} one-line refusals, ${bad} problems (files of failing cases kept in ${dir})`);
process.exitCode = bad ? 1 : 0;
