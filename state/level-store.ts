// LevelDB-backed KvStore (classic-level through `level`), the embedded default.
// One `batch` call is one LevelDB write batch: atomic across a crash.

import { Level } from "level";
import { forEachRecord, StoreWriteError, type KvOp, type KvRange, type KvStore } from "./kv-store.js";

type Db = Level<Uint8Array, Uint8Array>;

export class LevelKvStore implements KvStore {
  private constructor(private readonly db: Db) {}

  /** Open (creating if needed) the LevelDB at `dir`. Fails if another process holds its lock. */
  static async open(dir: string): Promise<LevelKvStore> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    return new LevelKvStore(db);
  }

  /** Test hook: when set, the next batch fails without writing (fault injection). */
  failNextBatch: Error | null = null;

  async get(key: Uint8Array) {
    return (await this.db.get(key)) ?? undefined;
  }

  async getMany(keys: readonly Uint8Array[]) {
    if (keys.length === 0) return [];
    const vals = await this.db.getMany(keys as Uint8Array[]);
    return vals.map((v) => v ?? undefined);
  }

  async *iterator(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const opts: Record<string, unknown> = { reverse: range.reverse ?? false };
    if (range.gte) opts.gte = range.gte;
    if (range.lt) opts.lt = range.lt;
    if (range.limit !== undefined) opts.limit = range.limit;
    for await (const [k, v] of this.db.iterator(opts)) yield [k, v];
  }

  async batch(ops: readonly KvOp[]) {
    if (this.failNextBatch) {
      const e = this.failNextBatch;
      this.failNextBatch = null;
      throw new StoreWriteError(`store write failed: ${e.message}`, e);
    }
    // A chained batch is one atomic LevelDB write like the array form, and measured ~1.8×
    // faster to build for large batches (a rollback writes hundreds of thousands of keys).
    const batch = this.db.batch();
    try {
      for (const op of ops) {
        if (op.type === "put") batch.put(op.key, op.value);
        else if (op.type === "putRecords") forEachRecord(op, (k, v) => batch.put(k, v));
        else batch.del(op.key);
      }
      await batch.write();
    } catch (e) {
      await batch.close().catch(() => {});
      throw new StoreWriteError(`store write failed: ${(e as Error).message}`, e);
    }
  }

  async close() {
    await this.db.close();
  }
}
