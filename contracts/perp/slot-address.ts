// Storage-slot addresses of map entries, memoized. A map entry lives at
// pedersen(sn_keccak(var), key) mod (2^251 − 256) (Cairo's layout, computed by the
// runtime's mapEntryAddress); Pedersen costs ~1 ms in JS, so an order touching
// ten records would spend 10 ms hashing addresses. The address is a pure function
// of (base, key), so a bounded memo is safe across transactions and rollbacks: one-key
// addresses use the runtime's memo (singleKeyAddress), two-key ones add a memo of the inner
// hash here.
// Gas: contracts using this do not charge hash gas for map addresses (never, cached
// or not), so gas stays a function of the inputs only.

import { pedersen } from "../../state/crypto/hash.js";
import type { Felt } from "../../state/felt.js";
import { knownSingleKeyAddress, prefetchSingleKeyAddresses, singleKeyAddress, storageVarAddress } from "../runtime/index.js";

const MAX_CACHED = 1 << 20;

/** Address of `base`'s entry for one key felt. */
export function entryAddress(base: Felt, keyFelt: Felt): Felt {
  return singleKeyAddress(base, keyFelt);
}

/** Keys whose addresses one miss of sequentialEntryAddress computes. */
const SEQUENTIAL_BATCH = 64;

/** Per base of sequentialEntryAddress: the key after the last batch computed. */
const frontier = new Map<Felt, bigint>();

/**
 * entryAddress for a map whose keys are handed out in sequence (order ids): a miss at or past
 * the newest batch computes the addresses of k .. k + 63 at once (prefetchSingleKeyAddresses:
 * one Pedersen batch with the native backend), so a new order no longer pays a full Pedersen
 * on the main thread. A miss on an older key (an old order read after the memo was cleared)
 * is hashed alone. Only the memo changes: every address is the one entryAddress computes.
 */
export function sequentialEntryAddress(base: Felt, key: bigint): Felt {
  if (key >= 0n && key >= (frontier.get(base) ?? 0n) - BigInt(SEQUENTIAL_BATCH) && knownSingleKeyAddress(base, key) === undefined) {
    frontier.set(base, key + BigInt(SEQUENTIAL_BATCH));
    prefetchSingleKeyAddresses(base, Array.from({ length: SEQUENTIAL_BATCH }, (_, i) => key + BigInt(i)));
  }
  return singleKeyAddress(base, key);
}

/** Address of a two-key entry: pedersen(pedersen(base, k1), k2), memoized per pair. */
export function entryAddress2(base: Felt, k1: Felt, k2: Felt): Felt {
  // Cached under a derived "base" (the unreduced inner hash is not needed: Cairo
  // chains the keys through pedersen and reduces once at the end).
  return entryAddress(innerBase(base, k1), k2);
}

const inner = new Map<Felt, Map<Felt, Felt>>();
function innerBase(base: Felt, k1: Felt): Felt {
  let m = inner.get(base);
  if (!m) inner.set(base, (m = new Map()));
  let h = m.get(k1);
  if (h === undefined) {
    if (m.size >= MAX_CACHED) m.clear();
    h = pedersen(base, k1);
    m.set(k1, h);
  }
  return h;
}

export { storageVarAddress };
