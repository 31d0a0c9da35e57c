// Deterministic PRNG for tests and benchmarks (mulberry32); never Math.random.

export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform bigint with `bits` random bits. */
  bits(bits: number): bigint;
  shuffle<T>(xs: T[]): T[];
}

export function seededRandom(seed: number): SeededRandom {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const u32 = () => BigInt(Math.floor(next() * 4294967296));
  return {
    next,
    int: (n) => Math.floor(next() * n),
    bits(bits) {
      let x = 0n;
      for (let i = 0; i < bits; i += 32) x = (x << 32n) | u32();
      return x & ((1n << BigInt(bits)) - 1n);
    },
    shuffle(xs) {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      }
      return xs;
    },
  };
}
