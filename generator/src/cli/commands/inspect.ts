// `bnn-gen inspect`: per binary 3x3 layer, the kernel histogram over the 512 codewords, coverage, entropy, size per tau.
import { formatInspect, inspectJson, inspectModel, inspectPlot } from '../../inspect/index.ts';
import { checkOwnedFiles, isGeneratedSvg, SVG_MARK, writeOwnedFiles } from '../../core/output-files.ts';
import { modelFrom, type ImportFlags } from '../common.ts';
import type { Io } from '../io.ts';

export interface InspectFlags extends ImportFlags {
  json?: boolean;
  plot?: string;
  force?: boolean;
}

export async function inspectCommand(modelPath: string | undefined, f: InspectFlags, io: Io): Promise<number> {
  const model = modelFrom(modelPath, f, io.progress);
  if (f.plot) checkOwnedFiles([{ path: f.plot, ours: isGeneratedSvg }], { force: f.force });
  const r = inspectModel(model);
  io.out(f.json ? inspectJson(r) : formatInspect(r));
  if (f.plot) {
    io.progress.phase('drawing the plot');
    writeOwnedFiles([{ path: f.plot, data: `${SVG_MARK}\n${await inspectPlot(r)}`, ours: isGeneratedSvg }], { force: f.force });
    if (!f.json) io.out(`plot: ${f.plot}`);
  }
  return 0;
}
