export { formatStemCost, hasFloatStem, integerStem, stemCost, type StemCost, type StemKind } from './stem.ts';
export { compactModel, formatCompact, quantError, selectFrequency, selectSinkhorn, polishSwaps, type CompactMethod, type CompactOptions, type CompactReport, type LayerCompact } from './compact.ts';
