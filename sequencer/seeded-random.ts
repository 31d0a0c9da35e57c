// mulberry32: the small, well-known 32-bit PRNG behind every seeded stream of the
// sequencer (market-data simulator, drill scenario), so runs with the same seed repeat.

/** A stream of uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A stream of uniform numbers in [0, 1). */
export function seededUnit(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}
