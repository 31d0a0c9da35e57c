// The state a block changes, and the read interface execution runs against.
// Reads are synchronous: current and historical values come from the in-memory
// versioned index the world state keeps (see world-state.ts), so contracts never await.

import type { Felt } from "./felt.js";

/** Read-only view of Starknet state at some block (or the pending state). */
export interface StateReader {
  /** Storage value at (contract, key); 0 when never written. */
  getStorage(address: Felt, key: Felt): Felt;
  getNonce(address: Felt): Felt;
  /** Class hash deployed at the address; 0 when nothing is deployed there. */
  getClassHash(address: Felt): Felt;
  /** Compiled class hash of a declared class; 0 when not declared. */
  getCompiledClassHash(classHash: Felt): Felt;
}

/** What a transaction or block changes. Maps keep insertion order; roots do not depend on it. */
export interface StateDiff {
  /** contract address → (storage key → new value); value 0 deletes the leaf. */
  storage: Map<Felt, Map<Felt, Felt>>;
  /** contract address → new nonce. */
  nonces: Map<Felt, Felt>;
  /** contract address → class hash (new deployment or class replacement). */
  deployed: Map<Felt, Felt>;
  /** class hash → compiled class hash (declared classes). */
  declared: Map<Felt, Felt>;
}

export function emptyStateDiff(): StateDiff {
  return { storage: new Map(), nonces: new Map(), deployed: new Map(), declared: new Map() };
}

/** Merge `later` into `into` (later writes win). Returns `into`. */
export function mergeStateDiff(into: StateDiff, later: StateDiff): StateDiff {
  for (const [addr, writes] of later.storage) {
    let m = into.storage.get(addr);
    if (!m) into.storage.set(addr, (m = new Map()));
    for (const [k, v] of writes) m.set(k, v);
  }
  for (const [a, n] of later.nonces) into.nonces.set(a, n);
  for (const [a, c] of later.deployed) into.deployed.set(a, c);
  for (const [c, cc] of later.declared) into.declared.set(c, cc);
  return into;
}

export function isEmptyStateDiff(d: StateDiff): boolean {
  return d.storage.size === 0 && d.nonces.size === 0 && d.deployed.size === 0 && d.declared.size === 0;
}
