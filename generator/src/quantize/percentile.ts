// What an int8 grid spans of its tensor's calibration values (quantize/calibrate.ts). Kept apart so the command line
// can show the default without loading the reference.

/**
 * The percentile each grid reaches at either end unless the user says otherwise (--calibrate-percentile): 100, the
 * extremes. Clipping was measured on trained networks (docs/int8.md): it raises the maps' SNR a little but not the
 * argmax agreement, which moved by a few images either way, within the spread between two held-out sets.
 */
export const DEFAULT_PERCENTILE = 100;

/**
 * The rank k of a grid's bound among n values: the bound is the k-th largest (or smallest) value, so at most
 * floor(n (100 - p) / 100) values lie beyond it and are clamped to the grid. At 100, k = 1: the extremes.
 */
export function tailRank(n: number, percentile: number): number {
  return Math.floor((n * (100 - percentile)) / 100 + 1e-9) + 1;
}
