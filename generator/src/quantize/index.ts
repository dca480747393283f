// `--quantize int8 --calibrate FILE`: the float model, calibrated on the user's inputs, as an integer model.
export { agreement, formatAgreement, type Agreement, type CalibrationSummary } from './agreement.ts';
export { calibrate, DEFAULT_PERCENTILE, type Calibration, type TensorRange } from './calibrate.ts';
export { quantizeInt8, type Int8Result, type StoredTensor } from './int8.ts';

export type QuantizeScheme = 'float' | 'int8';
