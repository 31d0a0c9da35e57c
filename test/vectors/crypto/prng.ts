// Deterministic input generator shared by the crypto vector generator and the tests:
// xorshift128+ seeded by a 32-bit integer, emitting field elements by rejection sampling.
// Changing this file invalidates the committed vector files (their inputs are derived here).

export const P = (1n << 251n) + 17n * (1n << 192n) + 1n;
export const CURVE_ORDER = 0x0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2fn;
const MASK64 = (1n << 64n) - 1n;

export class SeededRandom {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number) {
    // splitmix64 expansion of the seed into the two state words
    let z = BigInt(seed >>> 0);
    const next = () => {
      z = (z + 0x9e3779b97f4a7c15n) & MASK64;
      let x = z;
      x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      return x ^ (x >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }

  u64(): bigint {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x = (x ^ (x << 23n)) & MASK64;
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.s1 + y) & MASK64;
  }

  /** Uniform integer in [0, 2^bits), bits <= 256. */
  bits(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < 4; i++) v = (v << 64n) | this.u64();
    return v & ((1n << BigInt(bits)) - 1n);
  }

  /** Uniform felt in [0, P). */
  felt(): bigint {
    for (;;) {
      const v = this.bits(252);
      if (v < P) return v;
    }
  }

  /** Uniform integer in [1, bound). */
  below(bound: bigint): bigint {
    const width = bound.toString(2).length;
    for (;;) {
      const v = this.bits(width);
      if (v >= 1n && v < bound) return v;
    }
  }
}

/** Inputs of pedersen-10k.json case i (all cases from one generator, seed 0x5eed0001). */
export function pedersenInputs(count: number): Array<[bigint, bigint]> {
  const rng = new SeededRandom(0x5eed0001);
  return Array.from({ length: count }, () => [rng.felt(), rng.felt()] as [bigint, bigint]);
}

/** Inputs of ecdsa-10k.json: 1,000 keys reused round-robin, messages below 2^251. */
export function ecdsaInputs(count: number): Array<{ privateKey: bigint; msgHash: bigint }> {
  const rng = new SeededRandom(0x5eed0002);
  const keys = Array.from({ length: 1000 }, () => rng.below(CURVE_ORDER));
  return Array.from({ length: count }, (_, i) => ({ privateKey: keys[i % keys.length]!, msgHash: rng.bits(251) }));
}
