// Seeded randomness for test data, random models and the compact search: the same seed gives the same values everywhere.

/** mulberry32: small, fast, good enough for test data; the same seed gives the same model everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** Float32 values; with `integral`, small integers (sums are exact, so ties at 0 are common). */
  floats(n: number, scale: number, integral = false): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = integral ? this.int(-3, 3) : (this.next() * 2 - 1) * scale;
    return a;
  }
  bits(n: number): Uint8Array {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.bool() ? 1 : 0;
    return a;
  }
  /** k distinct values of 0..n-1 in random order. */
  distinct(k: number, n: number): number[] {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, k);
  }
}
