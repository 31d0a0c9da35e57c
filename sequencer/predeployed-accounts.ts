// Keys of the predeployed accounts, derived from --seed exactly as starknet-devnet derives
// them, so `--seed N` gives the same private and public keys on both (the addresses differ:
// our account class is our own). The operator's key has its own derivation: it is not one of
// starknet-devnet's accounts. Never used outside a devnet; never reads the clock or randomness.
//
// starknet-devnet (crates/starknet-devnet-core/src/utils.rs, generate_u128_random_numbers):
// `Mt64::seed_from_u64(seed)` (rand_mt 5: rand_core's default seed_from_u64, which fills the
// 8-byte seed with two PCG32 outputs, then MT19937-64 seeded with that u64, little-endian),
// and account i's private key is the i-th `rng.random::<u128>()` (low u64 drawn first).
// Checked against the keys starknet-devnet prints for --seed 0 (test/unit/devnet-keys.test.ts).

import { sha256 } from "@noble/hashes/sha2.js";
import { getStarkKey } from "@scure/starknet";
import { bytesToBigint, type Felt } from "../state/felt.js";

/** Order of the Stark curve's generator. */
export const STARK_CURVE_ORDER = 0x0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2fn;

export interface AccountKeys {
  privateKey: Felt;
  publicKey: Felt;
}

/** Keys of the first `count` predeployed accounts for `seed` (a u32), as starknet-devnet's. */
export function deriveAccountKeys(seed: number, count: number): AccountKeys[] {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`seed must be a u32, got ${seed}`);
  const rng = new Mt19937x64(pcg32SeedU64(BigInt(seed)));
  const out: AccountKeys[] = [];
  for (let i = 0; i < count; i++) {
    const low = rng.nextU64();
    const high = rng.nextU64();
    const privateKey = (high << 64n) | low;
    out.push({ privateKey, publicKey: publicKeyOf(privateKey) });
  }
  return out;
}

/** The operator account's key: sha256("perpchain-devnet:<seed>:1000000") reduced into [1, n). */
export function deriveOperatorKeys(seed: number): AccountKeys {
  const digest = sha256(new TextEncoder().encode(`perpchain-devnet:${seed}:1000000`));
  const privateKey = (bytesToBigint(digest) % (STARK_CURVE_ORDER - 1n)) + 1n;
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

export function publicKeyOf(privateKey: Felt): Felt {
  return BigInt(getStarkKey("0x" + privateKey.toString(16).padStart(64, "0")));
}

const U64 = (1n << 64n) - 1n;

/** rand_core's default `seed_from_u64`: two PCG32 (XSH-RR) outputs as the 8 little-endian seed bytes. */
function pcg32SeedU64(state: bigint): bigint {
  const MUL = 6364136223846793005n;
  const INC = 11634580027462260723n;
  let seed = 0n;
  for (let chunk = 0; chunk < 2; chunk++) {
    state = (state * MUL + INC) & U64;
    const xorshifted = Number((((state >> 18n) ^ state) >> 27n) & 0xffff_ffffn) >>> 0;
    const rot = Number(state >> 59n);
    const x = ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
    seed |= BigInt(x) << BigInt(32 * chunk);
  }
  return seed;
}

/** MT19937-64 (Matsumoto & Nishimura), the generator of rand_mt's Mt64. */
class Mt19937x64 {
  private static readonly N = 312;
  private static readonly M = 156;
  private readonly mt = new Array<bigint>(Mt19937x64.N);
  private index = Mt19937x64.N;

  constructor(seed: bigint) {
    this.mt[0] = seed & U64;
    for (let i = 1; i < Mt19937x64.N; i++) {
      const prev = this.mt[i - 1]!;
      this.mt[i] = (6364136223846793005n * (prev ^ (prev >> 62n)) + BigInt(i)) & U64;
    }
  }

  nextU64(): bigint {
    const { N, M } = Mt19937x64;
    if (this.index >= N) {
      for (let i = 0; i < N; i++) {
        const x = (this.mt[i]! & 0xffff_ffff_8000_0000n) | (this.mt[(i + 1) % N]! & 0x7fff_ffffn);
        let xa = x >> 1n;
        if (x & 1n) xa ^= 0xb502_6f5a_a966_19e9n;
        this.mt[i] = this.mt[(i + M) % N]! ^ xa;
      }
      this.index = 0;
    }
    let x = this.mt[this.index++]!;
    x ^= (x >> 29n) & 0x5555_5555_5555_5555n;
    x ^= (x << 17n) & 0x71d6_7fff_eda6_0000n;
    x ^= (x << 37n) & 0xfff7_eee0_0000_0000n;
    x ^= x >> 43n;
    return x & U64;
  }
}
