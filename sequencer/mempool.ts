// The durable mempool. A transaction is written to the write-ahead log (one column of the
// store) before the RPC answers with its hash; the block that includes it deletes its WAL
// entry in the same atomic batch. After a crash, every acknowledged transaction is either
// in a block or still in the WAL, never lost. Concurrent submissions share one LevelDB
// write (group commit). Queues are bounded. What a WAL value holds is the owner's codec
// (the node stores typed records, stored-records.ts); this module only orders and logs.

import { Column, columnRange, key, u64 } from "../state/columns.js";
import type { Felt } from "../state/felt.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { OverloadedError } from "./errors.js";

export interface MempoolEntry<T> {
  hash: Felt;
  sender: Felt;
  nonce: Felt;
  /** Arrival order (WAL sequence number). */
  seq: number;
  /** What the sequencer needs to execute it (opaque here). */
  payload: T;
}

export interface MempoolLimits {
  maxTotal: number;
  maxPerAccount: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTotal: 100_000, maxPerAccount: 4_096 };

export class Mempool<T> {
  private readonly byHash = new Map<Felt, MempoolEntry<T>>();
  /** sender → entries sorted by nonce */
  private readonly bySender = new Map<Felt, Array<MempoolEntry<T>>>();
  private nextSeq = 0;
  private pendingWrites: Array<{ op: KvOp; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly store: KvStore,
    private readonly encode: (entry: { hash: Felt; payload: T }) => Uint8Array,
    private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
  ) {}

  /** Entries found in the WAL at start-up, oldest first (the caller re-validates them). */
  async recover(decode: (value: Uint8Array) => { hash: Felt; sender: Felt; nonce: Felt; payload: T }): Promise<Array<MempoolEntry<T>>> {
    const out: Array<MempoolEntry<T>> = [];
    for await (const [k, v] of this.store.iterator(columnRange(Column.mempool))) {
      const seq = Number(Buffer.from(k).readBigUInt64BE(1));
      const d = decode(v);
      const e: MempoolEntry<T> = { ...d, seq };
      out.push(e);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    return out;
  }

  /** Put an already-logged entry back into the in-memory queues (recovery, re-queue after rollback). */
  restore(e: MempoolEntry<T>): void {
    this.insert(e);
  }

  get size(): number {
    return this.byHash.size;
  }

  has(hash: Felt): boolean {
    return this.byHash.has(hash);
  }

  get(hash: Felt): MempoolEntry<T> | undefined {
    return this.byHash.get(hash);
  }

  /** Highest queued nonce + 1 for a sender, or undefined when it has nothing queued. */
  /** A sender's queued entries, by nonce. */
  queuedFor(sender: Felt): ReadonlyArray<MempoolEntry<T>> {
    return this.bySender.get(sender) ?? [];
  }

  nextNonceOf(sender: Felt): Felt | undefined {
    const q = this.bySender.get(sender);
    return q && q.length > 0 ? q[q.length - 1]!.nonce + 1n : undefined;
  }

  /** Entries ever added (a counter that only grows: the next sequence number). */
  get arrivals(): number {
    return this.nextSeq;
  }

  /** Log then queue a transaction. Resolves once it is durable. */
  async add(entry: Omit<MempoolEntry<T>, "seq">): Promise<MempoolEntry<T>> {
    if (this.byHash.size >= this.limits.maxTotal) throw new OverloadedError(`mempool is full (${this.limits.maxTotal} transactions)`);
    const q = this.bySender.get(entry.sender);
    if (q && q.length >= this.limits.maxPerAccount) throw new OverloadedError(`too many queued transactions for account 0x${entry.sender.toString(16)}`);
    const e: MempoolEntry<T> = { ...entry, seq: this.nextSeq++ };
    await this.log({ type: "put", key: walKey(e.seq), value: this.encode(e) });
    this.insert(e);
    return e;
  }

  /**
   * Transactions ready to run, in arrival order of each account's first ready tx:
   * for every sender, the consecutive nonces starting at its current nonce.
   * Entries with a nonce below the current one are returned in `stale`.
   */
  ready(nonceOf: (sender: Felt) => Felt, max: number): { ready: Array<MempoolEntry<T>>; stale: Array<MempoolEntry<T>> } {
    const ready: Array<MempoolEntry<T>> = [];
    const stale: Array<MempoolEntry<T>> = [];
    const heads: Array<[number, Felt]> = [];
    for (const [sender, q] of this.bySender) if (q.length > 0) heads.push([q[0]!.seq, sender]);
    heads.sort((a, b) => a[0] - b[0]);
    for (const [, sender] of heads) {
      let next = nonceOf(sender);
      for (const e of this.bySender.get(sender)!) {
        if (e.nonce < next) {
          stale.push(e);
          continue;
        }
        if (e.nonce !== next || ready.length >= max) break;
        ready.push(e);
        next += 1n;
      }
      if (ready.length >= max) break;
    }
    return { ready, stale };
  }

  /** WAL deletions for entries, to put in the block batch (memory is untouched until forget()). */
  removalOps(entries: Iterable<MempoolEntry<T>>): KvOp[] {
    const ops: KvOp[] = [];
    for (const e of entries) if (this.byHash.get(e.hash) === e) ops.push({ type: "del", key: walKey(e.seq) });
    return ops;
  }

  /** Remove entries from memory, once the batch deleting them from the WAL has landed. */
  forget(entries: Iterable<MempoolEntry<T>>): void {
    for (const e of entries) {
      if (this.byHash.get(e.hash) !== e) continue;
      this.byHash.delete(e.hash);
      const q = this.bySender.get(e.sender);
      if (q) {
        const i = q.indexOf(e);
        if (i >= 0) q.splice(i, 1);
        if (q.length === 0) this.bySender.delete(e.sender);
      }
    }
  }

  /** WAL ops to log entries again (re-queue after rollback), with fresh sequence numbers. */
  relog(payloads: Array<Omit<MempoolEntry<T>, "seq">>): { ops: KvOp[]; entries: Array<MempoolEntry<T>> } {
    const ops: KvOp[] = [];
    const entries: Array<MempoolEntry<T>> = [];
    for (const p of payloads) {
      const e: MempoolEntry<T> = { ...p, seq: this.nextSeq++ };
      ops.push({ type: "put", key: walKey(e.seq), value: this.encode(e) });
      entries.push(e);
    }
    return { ops, entries };
  }

  all(): Array<MempoolEntry<T>> {
    return [...this.byHash.values()].sort((a, b) => a.seq - b.seq);
  }

  private insert(e: MempoolEntry<T>): void {
    this.byHash.set(e.hash, e);
    let q = this.bySender.get(e.sender);
    if (!q) this.bySender.set(e.sender, (q = []));
    // keep sorted by nonce, then arrival
    let i = q.length;
    while (i > 0 && (q[i - 1]!.nonce > e.nonce || (q[i - 1]!.nonce === e.nonce && q[i - 1]!.seq > e.seq))) i--;
    q.splice(i, 0, e);
  }

  /** Group commit: writes queued while a batch is in flight go together in the next one. */
  private log(op: KvOp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ op, resolve, reject });
      if (this.flushing === null) this.flushing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pendingWrites.length > 0) {
      const batch = this.pendingWrites;
      this.pendingWrites = [];
      try {
        await this.store.batch(batch.map((w) => w.op));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    this.flushing = null;
  }
}

function walKey(seq: number): Buffer {
  return key(Column.mempool, u64(seq));
}
