// Admission's hashing and signature checks, off the main thread: the transactions submitted
// in one turn of the event loop are hashed together in one Poseidon program on the hash
// thread, and their signatures are verified there in the same job (one trip: each trip waits
// for a turn of this thread's event loop, which may be a slice of a block). The answers go
// into the verify memo (verify-cache.ts) that __validate__ consults. Validation itself still
// runs in full on the main thread, against the state: the prefetched answer only turns its
// signature check into a memo hit, so a wrong hint (a rotated key, another account class)
// costs time, never an answer. Without a hash thread (the JS backend) hashes are computed at
// once, here.
//
// Never decides admission (admission.ts does) and never touches the store.

import { hashBackend } from "../state/crypto/hash.js";
import type { EcdsaItem } from "../state/crypto/hash-backend.js";
import { evalPlan, evalPlans, evalPlansVerifying, type ManyPlan, type PlanCheck } from "../state/crypto/hash-plan.js";
import type { Felt } from "../state/felt.js";
import type { BroadcastedTxn } from "./rpc/params.js";
import { transactionHashPlan } from "./tx-intake.js";
import { prefetchVerifications, rememberVerifications } from "./verify-cache.js";

interface Pending {
  plan: ManyPlan;
  /** The key __validate__ will check the signature against, when known. */
  publicKey: Felt | undefined;
  signature: readonly Felt[];
  resolve: (hash: Felt) => void;
  reject: (e: unknown) => void;
}

export interface AdmissionCryptoDeps {
  chainId: Felt;
  /** The stored public key of a sender whose account class is known (a hint; undefined otherwise). */
  publicKeyOf: (sender: Felt) => Felt | undefined;
}

export class AdmissionCrypto {
  private queue: Pending[] = [];
  /** Batches flushed and transactions in them (node.admissionCryptoStats). */
  readonly stats = { batches: 0, txs: 0 };

  constructor(private readonly deps: AdmissionCryptoDeps) {}

  /**
   * The transaction's hash; with a hash thread, its signature is verified there first (for a
   * sender whose key is known), so validation finds the answer in the memo. A field that
   * cannot be hashed throws here (TxHashInputError), before anything is queued.
   */
  hash(tx: BroadcastedTxn, sender: Felt | undefined): Promise<Felt> {
    const plan = transactionHashPlan(tx, this.deps.chainId);
    if (!hashBackend().poseidonProgramAsync) return Promise.resolve(evalPlan(plan));
    const publicKey = sender === undefined || tx.signature.length !== 2 ? undefined : this.keyHint(sender);
    return new Promise<Felt>((resolve, reject) => {
      if (this.queue.push({ plan, publicKey, signature: tx.signature, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  /** The hint, or none if reading it fails: __validate__ decides either way. */
  private keyHint(sender: Felt): Felt | undefined {
    try {
      return this.deps.publicKeyOf(sender);
    } catch {
      return undefined;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.stats.batches++;
    this.stats.txs += batch.length;
    const plans = batch.map((p) => p.plan);
    // Signatures to verify with the hashes: those whose key is known (a hint), without the
    // message hash yet (filled in when the hashes are back; the memo is keyed by it).
    const checks: PlanCheck[] = [];
    batch.forEach((p, i) => {
      if (p.publicKey !== undefined) checks.push({ plan: i, r: p.signature[0]!, s: p.signature[1]!, publicKey: p.publicKey });
    });
    let hashes: Felt[];
    let verified: boolean[] | undefined;
    try {
      // Requests wait on it: the urgent hash thread. Hashes and signatures in one job when the
      // backend can; the hashes alone otherwise (the signatures follow below).
      const both = await evalPlansVerifying(plans, checks, { urgent: true });
      hashes = both?.values ?? (await evalPlans(plans, { urgent: true }));
      verified = both?.valid;
    } catch {
      // One bad input must not fail the others queued with it: each is hashed on its own here.
      for (const p of batch) {
        try {
          p.resolve(evalPlan(p.plan));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    const items: EcdsaItem[] = checks.map((c) => ({ msgHash: hashes[c.plan]!, r: c.r, s: c.s, publicKey: c.publicKey }));
    if (verified !== undefined) rememberVerifications(items, verified);
    // A failed prefetch only means __validate__ verifies on this thread, as it always could.
    else await prefetchVerifications(items).catch(() => {});
    batch.forEach((p, i) => p.resolve(hashes[i]!));
  }
}
