// A bounded memo of Stark ECDSA verification results. A transaction's signature is
// checked by __validate__ at admission and again in its block (the same validation phase);
// verification is a pure function of (hash, r, s, key), so the second check can reuse the
// first answer. Installed once over the active hash backend.

import { hashBackend, setHashBackend } from "../state/crypto/hash.js";
import type { HashBackend } from "../state/crypto/hash-backend.js";

const CACHED = Symbol("perpchain.verifyCache");
const INNER = Symbol("perpchain.verifyCache.inner");

export function withVerifyCache(inner: HashBackend, capacity = 65_536): HashBackend {
  const memo = new Map<string, boolean>();
  const wrapped: HashBackend & { [CACHED]?: true; [INNER]?: HashBackend } = {
    ...inner,
    name: inner.name,
    pedersen: inner.pedersen,
    poseidon: inner.poseidon,
    poseidonMany: inner.poseidonMany,
    pedersenBatch: inner.pedersenBatch,
    poseidonBatch: inner.poseidonBatch,
    ecdsaSign: inner.ecdsaSign,
    ecdsaVerify(msgHash, r, s, publicKey) {
      const k = `${msgHash.toString(16)}:${r.toString(16)}:${s.toString(16)}:${publicKey.toString(16)}`;
      const hit = memo.get(k);
      if (hit !== undefined) return hit;
      const ok = inner.ecdsaVerify(msgHash, r, s, publicKey);
      if (memo.size >= capacity) memo.delete(memo.keys().next().value!);
      memo.set(k, ok);
      return ok;
    },
  };
  wrapped[CACHED] = true;
  wrapped[INNER] = inner;
  return wrapped;
}

/** Wrap the active backend once (idempotent; re-wraps if another backend was selected since). */
export function installVerifyCache(): void {
  const b = hashBackend() as HashBackend & { [CACHED]?: true };
  if (!b[CACHED]) setHashBackend(withVerifyCache(b));
}

/** The active backend without the memo (for benchmarks of raw verification speed). */
export function rawHashBackend(): HashBackend {
  const b = hashBackend() as HashBackend & { [INNER]?: HashBackend };
  return b[INNER] ?? b;
}
