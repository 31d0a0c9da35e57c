// A bounded memo of Stark ECDSA verification results. A transaction's signature is
// checked by __validate__ at admission and again in its block (the same validation phase);
// verification is a pure function of (hash, r, s, key), so the second check can reuse the
// first answer. Installed once over the active hash backend.

import { hashBackend, setHashBackend } from "../state/crypto/hash.js";
import type { EcdsaItem, HashBackend } from "../state/crypto/hash-backend.js";

const CACHED = Symbol("perpchain.verifyCache");
const INNER = Symbol("perpchain.verifyCache.inner");
const PREFETCH = Symbol("perpchain.verifyCache.prefetch");
const REMEMBER = Symbol("perpchain.verifyCache.remember");

type Wrapped = HashBackend & {
  [CACHED]?: true;
  [INNER]?: HashBackend;
  [PREFETCH]?: (items: readonly EcdsaItem[]) => Promise<void>;
  [REMEMBER]?: (it: EcdsaItem, ok: boolean) => void;
};

const MAX_PER_HASH = 4;

/** One remembered answer; several may share a message hash (other signatures or keys). */
interface Answer {
  r: bigint;
  s: bigint;
  publicKey: bigint;
  ok: boolean;
  next: Answer | undefined;
}

export function withVerifyCache(inner: HashBackend, capacity = 65_536): HashBackend {
  // Keyed by the message hash (a bigint: hashed by value, no string to build); a short chain
  // per hash holds the (r, s, key) answers. Oldest hash forgotten first.
  const memo = new Map<bigint, Answer>();
  const lookup = (msgHash: bigint, r: bigint, s: bigint, publicKey: bigint): boolean | undefined => {
    for (let a = memo.get(msgHash); a !== undefined; a = a.next) if (a.r === r && a.s === s && a.publicKey === publicKey) return a.ok;
    return undefined;
  };
  const remember = (msgHash: bigint, r: bigint, s: bigint, publicKey: bigint, ok: boolean) => {
    const head = memo.get(msgHash);
    if (head === undefined && memo.size >= capacity) memo.delete(memo.keys().next().value!);
    const added: Answer = { r, s, publicKey, ok, next: head };
    // At most MAX_PER_HASH answers a hash (resubmitting one transaction with ever new signatures must not grow a chain).
    let a: Answer = added;
    for (let n = 1; n < MAX_PER_HASH && a.next !== undefined; n++) a = a.next;
    a.next = undefined;
    memo.set(msgHash, added);
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
      const hit = lookup(msgHash, r, s, publicKey);
      if (hit !== undefined) return hit;
      const ok = inner.ecdsaVerify(msgHash, r, s, publicKey);
      remember(msgHash, r, s, publicKey, ok);
      return ok;
    },
  };
  wrapped[CACHED] = true;
  wrapped[INNER] = inner;
  // An answer verified elsewhere (the hash thread); one already in the memo stays.
  const rememberNew = (it: EcdsaItem, ok: boolean) => {
    if (lookup(it.msgHash, it.r, it.s, it.publicKey) === undefined) remember(it.msgHash, it.r, it.s, it.publicKey, ok);
  };
  wrapped[REMEMBER] = rememberNew;
  const verifyAsync = inner.ecdsaVerifyBatchAsync?.bind(inner);
  if (verifyAsync) {
    wrapped[PREFETCH] = async (items) => {
      const todo = items.filter((it) => lookup(it.msgHash, it.r, it.s, it.publicKey) === undefined);
      if (todo.length === 0) return;
      const answers = await verifyAsync(todo, { urgent: true }); // admission waits on it
      todo.forEach((it, i) => rememberNew(it, answers[i]!));
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

/**
 * Memoizes answers verified elsewhere (on the hash thread, with the hashes they sign: see
 * admission-crypto.ts), so __validate__'s checks of them are memo hits. Only answers from a
 * real verification of these exact items belong here. A no-op without the memo.
 */
export function rememberVerifications(items: readonly EcdsaItem[], answers: readonly boolean[]): void {
  const f = (hashBackend() as Wrapped)[REMEMBER];
  if (f) items.forEach((it, i) => f(it, answers[i]!));
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
