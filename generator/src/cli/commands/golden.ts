// `bnn-gen golden`: input/expected-output vectors (C header + .npy) for the user's own regression tests.
import { modelHash } from '../../format/write.ts';
import { generateGolden, goldenInputs } from '../../generate.ts';
import { checkOutputDir, writeOutputDir } from '../../core/output-dir.ts';
import { modelFrom, readAllInputs, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

export interface GoldenFlags extends ImportFlags {
  out: string;
  input?: string[];
  count: number;
  seed: number;
  prefix: string;
  force?: boolean;
}

export async function goldenCommand(modelPath: string | undefined, f: GoldenFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  checkOutputDir(f.out, [], { force: f.force });
  const given = readAllInputs(f.input, model);
  const inputs = goldenInputs(model, given, Math.max(f.count, given.length), f.seed);
  const from = `${given.length ? `${given.length} from ${f.input!.join(', ')}` : ''}${given.length && inputs.length > given.length ? ' + ' : ''}${inputs.length > given.length ? `${inputs.length - given.length} random (seed ${f.seed})` : ''}`;
  io.progress.phase(`running the TS reference on ${inputs.length} inputs`);
  const files = generateGolden(model, inputs, { prefix: f.prefix, inputsFrom: from });
  writeOutputDir(f.out, files, { force: f.force, model: { name: model.name, sha256: modelHash(model) }, command: `bnn-gen golden --count ${inputs.length} --seed ${f.seed} --prefix ${f.prefix}` });
  io.out(`golden: ${inputs.length} cases of ${model.name} -> ${f.out} (${Object.keys(files).join(', ')})`);
  return 0;
}
