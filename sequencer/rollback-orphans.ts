// Which queued transactions a rollback with policy "drop" strands: a sender whose transactions
// were removed goes back to the nonce of the first removed one, so its queued transactions with
// later nonces can never run (the nonces between them were dropped). Left queued they wedge the
// sender for good; the node's own operator account chains its nonces through the mempool, so
// every later operator method would hang. They are dropped in the rollback's own batch.
// Pure: never reads the store or the clock.

import type { Felt } from "../state/felt.js";

export interface RemovedTx {
  sender: Felt;
  nonce: Felt;
}

export interface QueuedTx {
  nonce: Felt;
}

/**
 * Queued entries that no longer follow the sender's nonce after the removal of `removed`:
 * for each affected sender, everything past the run of consecutive nonces that starts at its
 * rolled-back nonce.
 */
export function orphanedByDrop<E extends QueuedTx>(removed: readonly RemovedTx[], queuedFor: (sender: Felt) => readonly E[]): E[] {
  const rolledBackNonce = new Map<Felt, Felt>();
  for (const r of removed) {
    const cur = rolledBackNonce.get(r.sender);
    if (cur === undefined || r.nonce < cur) rolledBackNonce.set(r.sender, r.nonce);
  }
  const out: E[] = [];
  for (const [sender, nonce] of rolledBackNonce) {
    let next = nonce;
    for (const e of [...queuedFor(sender)].sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0))) {
      if (e.nonce === next) next += 1n;
      else if (e.nonce > next) out.push(e);
    }
  }
  return out;
}
