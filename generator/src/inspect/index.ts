export { inspectModel, formatInspect, inspectJson, inspectPlot, type InspectOptions, type InspectResult, type LayerInspect, type TauCost } from './inspect.ts';
export { histogram, kernelIds, rankCodewords, isBinary3x3, inChannels, HAMMING } from './kernels.ts';
