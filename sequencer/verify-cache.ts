// A bounded memo of Stark ECDSA verification results. A transaction's signature is
// checked by __validate__ at admission and again in its block (the same validation phase);
// verification is a pure function of (hash, r, s, key), so the second check can reuse the
// first answer. Installed once over the active hash backend.

import { hashBackend, setHashBackend } from "../state/crypto/hash.js";
import type { EcdsaItem, HashBackend } from "../state/crypto/hash-backend.js";

const CACHED = Symbol("perpchain.verifyCache");
const INNER = Symbol("perpchain.verifyCache.inner");
const PREFETCH = Symbol("perpchain.verifyCache.prefetch");

type Wrapped = HashBackend & { [CACHED]?: true; [INNER]?: HashBackend; [PREFETCH]?: (items: readonly EcdsaItem[]) => Promise<void> };

const keyOf = (msgHash: bigint, r: bigint, s: bigint, publicKey: bigint) => `${msgHash.toString(16)}:${r.toString(16)}:${s.toString(16)}:${publicKey.toString(16)}`;

export function withVerifyCache(inner: HashBackend, capacity = 65_536): HashBackend {
  const memo = new Map<string, boolean>();
  const remember = (k: string, ok: boolean) => {
    if (memo.size >= capacity) memo.delete(memo.keys().next().value!);
    memo.set(k, ok);
  };
  const wrapped: Wrapped = {
    ...inner,
    name: inner.name,
    pedersen: inner.pedersen,
    poseidon: inner.poseidon,
    poseidonMany: inner.poseidonMany,
    pedersenBatch: inner.pedersenBatch,
    poseidonBatch: inner.poseidonBatch,
    ecdsaSign: inner.ecdsaSign,
    ecdsaVerify(msgHash, r, s, publicKey) {
      const k = keyOf(msgHash, r, s, publicKey);
      const hit = memo.get(k);
      if (hit !== undefined) return hit;
      const ok = inner.ecdsaVerify(msgHash, r, s, publicKey);
      remember(k, ok);
      return ok;
    },
  };
  wrapped[CACHED] = true;
  wrapped[INNER] = inner;
  const verifyAsync = inner.ecdsaVerifyBatchAsync?.bind(inner);
  if (verifyAsync) {
    wrapped[PREFETCH] = async (items) => {
      const keys = items.map((it) => keyOf(it.msgHash, it.r, it.s, it.publicKey));
      const todo = items.filter((_, i) => !memo.has(keys[i]!));
      if (todo.length === 0) return;
      const answers = await verifyAsync(todo);
      todo.forEach((it, i) => remember(keyOf(it.msgHash, it.r, it.s, it.publicKey), answers[i]!));
    };
  }
  return wrapped;
}

/**
 * Verifies `items` on the backend's hash thread (when it has one) and memoizes the answers,
 * so the same checks made later on this thread (by __validate__) are memo hits. A no-op
 * without the memo or without a hash thread; never changes an answer.
 */
export function prefetchVerifications(items: readonly EcdsaItem[]): Promise<void> {
  const f = (hashBackend() as Wrapped)[PREFETCH];
  return f && items.length > 0 ? f(items) : Promise.resolve();
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
