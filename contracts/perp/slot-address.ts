// Storage-slot addresses of map entries, memoized. A map entry lives at
// pedersen(sn_keccak(var), key) mod (2^251 − 256) (Cairo's layout, computed by the
// runtime's mapEntryAddress); Pedersen costs ~1 ms in JS, so an order touching
// ten records would spend 10 ms hashing addresses. The address is a pure function
// of (base, key), so a bounded memo is safe across transactions and rollbacks.
// Gas: contracts using this do not charge hash gas for map addresses (never, cached
// or not), so gas stays a function of the inputs only.

import { hashBackend, pedersen } from "../../state/crypto/hash.js";
import type { Felt } from "../../state/felt.js";
import { mapEntryAddress, STORAGE_ADDRESS_BOUND, storageVarAddress } from "../runtime/index.js";

const MAX_CACHED = 1 << 20;
const memo = new Map<Felt, Map<Felt, Felt>>();
let cached = 0;

/** Address of `base`'s entry for one key felt. */
export function entryAddress(base: Felt, keyFelt: Felt): Felt {
  let m = memo.get(base);
  if (!m) memo.set(base, (m = new Map()));
  let a = m.get(keyFelt);
  if (a === undefined) {
    if (cached >= MAX_CACHED) {
      for (const mm of memo.values()) mm.clear();
      cached = 0;
    }
    a = mapEntryAddress(base, [keyFelt]);
    m.set(keyFelt, a);
    cached++;
  }
  return a;
}

/** Keys whose addresses one miss of sequentialEntryAddress computes. */
const SEQUENTIAL_BATCH = 64;

/** Per base of sequentialEntryAddress: the key after the last batch computed. */
const frontier = new Map<Felt, bigint>();

/**
 * entryAddress for a map whose keys are handed out in sequence (order ids): a miss at or past
 * the newest batch computes the addresses of k .. k + 63 at once. With the native backend a
 * batch of 64 takes the affine path (one shared inversion per step), ~2 µs a hash against
 * ~14 µs for a single call, so a new order no longer pays a full Pedersen on the main thread.
 * A miss on an older key (an old order read after the memo was cleared) is hashed alone. Only
 * the memo changes: every address is the one entryAddress computes.
 */
export function sequentialEntryAddress(base: Felt, key: bigint): Felt {
  const hit = memo.get(base)?.get(key);
  if (hit !== undefined) return hit;
  const backend = hashBackend();
  // The JS backend has no batch path: a batch would cost 64 single hashes.
  if (backend.name !== "native" || key < 0n || key < (frontier.get(base) ?? 0n) - BigInt(SEQUENTIAL_BATCH)) return entryAddress(base, key);
  frontier.set(base, key + BigInt(SEQUENTIAL_BATCH));
  if (cached + SEQUENTIAL_BATCH > MAX_CACHED) {
    for (const mm of memo.values()) mm.clear();
    cached = 0;
  }
  let m = memo.get(base);
  if (!m) memo.set(base, (m = new Map()));
  const keys = Array.from({ length: SEQUENTIAL_BATCH }, (_, i) => key + BigInt(i));
  const hashes = backend.pedersenBatch(new Array<Felt>(SEQUENTIAL_BATCH).fill(base), keys);
  for (let i = 0; i < SEQUENTIAL_BATCH; i++) {
    if (m.has(keys[i]!)) continue;
    m.set(keys[i]!, hashes[i]! % STORAGE_ADDRESS_BOUND);
    cached++;
  }
  return m.get(key)!;
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
