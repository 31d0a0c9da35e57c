// Replication of admitted transactions before they are acknowledged (cluster mode): each
// submission waits until etcd holds it under txs/, so a transaction hash returned to a
// client survives the leader's death (the next leader includes it). Submissions arriving
// while a batch is in flight are grouped into the next one (group commit): one etcd
// transaction per batch, at most `maxBatchTxs` transactions and about `maxBatchBytes`.
//
// Never acknowledges on its own: a failed batch rejects every submission in it.

import type { BroadcastedTxn } from "../rpc/params.js";
import { encodeRecord, type TxBatchRecord } from "./cluster-records.js";

export interface TxReplicatorOptions {
  /** Store one batch (the coordinator's conditional put). */
  write: (txs: TxBatchRecord["txs"]) => Promise<unknown>;
  maxBatchTxs?: number;
  maxBatchBytes?: number;
}

interface Waiting {
  tx: TxBatchRecord["txs"][number];
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class TxReplicator {
  private queue: Waiting[] = [];
  private flushing = false;
  private readonly maxBatchTxs: number;
  private readonly maxBatchBytes: number;
  readonly stats = { batches: 0, txs: 0 };

  constructor(private readonly opts: TxReplicatorOptions) {
    this.maxBatchTxs = opts.maxBatchTxs ?? 256;
    // etcd refuses requests above --max-request-bytes (1.5 MiB by default).
    this.maxBatchBytes = opts.maxBatchBytes ?? 512 * 1024;
  }

  /** Resolves once etcd holds `tx`. */
  replicate(hash: string, tx: BroadcastedTxn): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = { hash, tx };
      this.queue.push({ tx: entry, bytes: encodeRecord({ token: "1", txs: [entry] }).length, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.queue.length && n < this.maxBatchTxs && (n === 0 || bytes + this.queue[n]!.bytes <= this.maxBatchBytes)) bytes += this.queue[n++]!.bytes;
        const batch = this.queue.splice(0, n);
        try {
          await this.opts.write(batch.map((w) => w.tx));
          this.stats.batches++;
          this.stats.txs += batch.length;
          for (const w of batch) w.resolve();
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
