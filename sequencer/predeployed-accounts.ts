// Keys of the predeployed accounts, derived from --seed like starknet-devnet does, so the
// same seed always gives the same accounts. (Never used outside a devnet.)

import { sha256 } from "@noble/hashes/sha2.js";
import { getStarkKey } from "@scure/starknet";
import { bytesToBigint, type Felt } from "../state/felt.js";

/** Order of the Stark curve's generator. */
export const STARK_CURVE_ORDER = 0x0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2fn;

export interface AccountKeys {
  privateKey: Felt;
  publicKey: Felt;
}

/** Private key i for a seed: sha256("perpchain-devnet:<seed>:<i>") reduced into [1, n). */
export function derivePrivateKey(seed: number, index: number): Felt {
  const digest = sha256(new TextEncoder().encode(`perpchain-devnet:${seed}:${index}`));
  return (bytesToBigint(digest) % (STARK_CURVE_ORDER - 1n)) + 1n;
}

export function publicKeyOf(privateKey: Felt): Felt {
  return BigInt(getStarkKey("0x" + privateKey.toString(16).padStart(64, "0")));
}

export function deriveAccountKeys(seed: number, count: number, offset = 0): AccountKeys[] {
  const out: AccountKeys[] = [];
  for (let i = 0; i < count; i++) {
    const privateKey = derivePrivateKey(seed, offset + i);
    out.push({ privateKey, publicKey: publicKeyOf(privateKey) });
  }
  return out;
}
