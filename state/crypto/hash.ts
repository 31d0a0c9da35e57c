// Starknet hash functions used across the codebase, routed to the active backend.
// The backend is chosen once at start-up (native when it builds and self-tests,
// otherwise the @scure/starknet reference); see select-backend.ts.

import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Felt } from "../felt.js";
import type { HashBackend } from "./hash-backend.js";
import { scureBackend } from "./scure-backend.js";

let active: HashBackend = scureBackend;

export function setHashBackend(backend: HashBackend): void {
  active = backend;
}

export function hashBackend(): HashBackend {
  return active;
}

export function pedersen(a: Felt, b: Felt): Felt {
  return active.pedersen(a, b);
}

export function poseidon(a: Felt, b: Felt): Felt {
  return active.poseidon(a, b);
}

export function poseidonMany(values: readonly Felt[]): Felt {
  return active.poseidonMany(values);
}

/** Starknet's compute_hash_on_elements: pedersen chain from 0, then with the length. */
export function pedersenOnElements(values: readonly Felt[]): Felt {
  let h = 0n;
  for (const v of values) h = active.pedersen(h, v);
  return active.pedersen(h, BigInt(values.length));
}

const MASK_250 = (1n << 250n) - 1n;

/** sn_keccak: keccak256 truncated to its low 250 bits (selectors, storage var addresses). */
export function snKeccak(data: Uint8Array | string): Felt {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const d = keccak_256(bytes);
  let x = 0n;
  for (let i = 0; i < d.length; i++) x = (x << 8n) | BigInt(d[i]!);
  return x & MASK_250;
}

/** Entry-point selector of a function or event name. */
export function selectorFromName(name: string): Felt {
  return snKeccak(name);
}
