// The k-th largest and k-th smallest value of a stream of maps, without keeping the stream: calibration's grid bounds
// at a percentile (quantize/calibrate.ts). A 224x224 network's maps over a few dozen inputs are gigabytes of values;
// the tails are a few thousand. Each side is a bounded min-heap of the k most extreme values seen so far.

/** A min-heap holding the k largest values pushed. */
class TopK {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(readonly k: number) {
    this.heap = new Float64Array(k);
  }

  push(v: number): void {
    const h = this.heap;
    if (this.size < this.k) {
      // Sift up.
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent] <= v) break;
        h[i] = h[parent];
        i = parent;
      }
      h[i] = v;
    } else if (v > h[0]) {
      // Replace the smallest kept value and sift down.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= this.k) break;
        const c = l + 1 < this.k && h[l + 1] < h[l] ? l + 1 : l;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = v;
    }
  }

  /** What a value must exceed to be kept: -Infinity until k values are. NaN is never kept. */
  get admits(): number {
    return this.size < this.k ? -Infinity : this.heap[0];
  }

  /** The k-th largest value pushed (the smallest, when fewer than k were; NaN when none). */
  get kth(): number {
    return this.size === 0 ? NaN : this.heap[0];
  }
}

/** Order statistics at both ends of a stream: the k-th smallest and k-th largest (k = 1: min and max). */
export class Tails {
  private readonly top: TopK;
  private readonly bottom: TopK;

  constructor(k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`Tails: k must be a positive integer, got ${k}`);
    this.top = new TopK(k);
    this.bottom = new TopK(k);
  }

  add(values: ArrayLike<number>): void {
    const top = this.top, bottom = this.bottom;
    // Most values fall between both thresholds once the heaps are full: test before calling.
    let hi = top.admits, lo = -bottom.admits;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v > hi) {
        top.push(v);
        hi = top.admits;
      }
      if (v < lo) {
        bottom.push(-v);
        lo = -bottom.admits;
      }
    }
  }

  /** The k-th smallest value added (NaN values are ignored; NaN when there is none). */
  get lower(): number {
    return -this.bottom.kth;
  }

  /** The k-th largest value added. */
  get upper(): number {
    return this.top.kth;
  }
}
