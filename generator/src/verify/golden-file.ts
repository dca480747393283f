// golden.json, written beside a real board's firmware (templates/firmware/golden.json.hbs): the TS reference's
// expected scores of every golden case, so a host tool can check what the board prints without the model at hand.
// checkRun compares a firmware run (transcript.ts) with it, case by case and bit for bit.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BnnError, fsReason, printable } from '../core/errors.ts';
import type { Transcript } from './transcript.ts';

const Hex8 = z.string().regex(/^[0-9a-f]{8}$/, 'expected 8 lowercase hex digits (a float32\'s bits)');

export const GoldenFileSchema = z.strictObject({
  generator: z.literal('bnn-gen'),
  board: z.string().min(1),
  target: z.string().min(1),
  model: z.strictObject({ name: z.string(), hash: z.string().nullable() }),
  baud: z.number().int().positive(),
  scoreType: z.enum(['f32', 'i32']),
  numClasses: z.number().int().positive(),
  referenceCorrect: z.number().int().min(0).nullable(),
  cases: z.array(z.strictObject({
    label: z.number().int().min(0).nullable(),
    scores: z.array(z.union([Hex8, z.number().int()])),
  })).min(1),
}).superRefine((g, ctx) => {
  g.cases.forEach((c, i) => {
    if (c.scores.length !== g.numClasses) ctx.addIssue({ code: 'custom', path: ['cases', i, 'scores'], message: `${c.scores.length} scores, numClasses is ${g.numClasses}` });
    const kind = g.scoreType === 'f32' ? 'string' : 'number';
    if (c.scores.some((s) => typeof s !== kind)) ctx.addIssue({ code: 'custom', path: ['cases', i, 'scores'], message: `scoreType ${g.scoreType} wants ${kind === 'string' ? 'hex bit strings' : 'integers'}` });
  });
});

export type GoldenFile = z.output<typeof GoldenFileSchema>;

/** Reads and validates DIR/golden.json; one-line BnnErrors naming the file and the JSON path. */
export function readGoldenFile(dir: string): GoldenFile {
  const file = join(dir, 'golden.json');
  if (!existsSync(file)) throw new BnnError(`${file}: not found; give the firmware folder bnn-gen wrote for a real board (bnn-gen MODEL --board BOARD -o DIR)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BnnError(`${file}: ${e instanceof SyntaxError ? `not JSON: ${printable(e.message)}` : fsReason(e)}`);
  }
  const r = GoldenFileSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BnnError(`${file}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${printable(i.message)}`);
  }
  return r.data;
}

export interface RunCheck {
  passed: boolean;
  /** What differs from the TS reference's expectations (empty when the run matches). */
  problems: string[];
  /** Correct classifications on the board (labelled cases only). */
  correct: number | null;
}

const MAX_PROBLEMS = 10;

/** Every case line against the expected scores (bit for bit), the case count, labels, and the firmware's verdict. */
export function checkRun(t: Transcript, g: GoldenFile): RunCheck {
  const problems: string[] = [];
  const say = (p: string) => problems.length < MAX_PROBLEMS && problems.push(p);
  if (t.board !== g.board) say(`the firmware says board ${t.board}, golden.json is for ${g.board}`);
  if (t.count !== g.cases.length) say(`the firmware runs ${t.count} cases, golden.json has ${g.cases.length}: another build is on the board`);
  if (g.model.hash && t.modelHash && t.modelHash !== g.model.hash) say(`the firmware was built from model ${t.modelHash}, golden.json from ${g.model.hash}`);
  if (t.cases.length !== t.count) say(`${t.cases.length} of ${t.count} case lines arrived intact`);
  let correct = 0;
  const labelled = g.cases.every((c) => c.label !== null);
  t.cases.forEach((c, n) => {
    const want = g.cases[c.index];
    if (c.index !== n || !want) return void say(`case line ${n} is numbered ${c.index}`);
    const got = g.scoreType === 'f32' ? c.bits : c.scores.map(Number);
    if (!got || got.length !== want.scores.length) return void say(`case ${c.index}: ${got?.length ?? 0} scores, want ${want.scores.length}`);
    const k = got.findIndex((v, j) => v !== want.scores[j]);
    if (k >= 0) say(`case ${c.index}: score[${k}] is ${got[k]}${g.scoreType === 'f32' ? ` (${c.scores[k]})` : ''}, the TS reference's is ${want.scores[k]}`);
    if (!c.ok) say(`case ${c.index}: the firmware reports MISMATCH`);
    if (want.label !== null && c.label !== want.label) say(`case ${c.index}: label ${c.label}, golden.json says ${want.label}`);
    if (want.label !== null && c.argmax === want.label) correct++;
  });
  if (!t.passed) say(`the firmware's verdict: ${t.verdict}`);
  return { passed: problems.length === 0, problems, correct: labelled ? correct : null };
}
