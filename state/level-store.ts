// LevelDB-backed KvStore (classic-level through `level`), the embedded default.
// One `batch` call is one LevelDB write batch: atomic across a crash.

import { open } from "node:fs/promises";
import { join } from "node:path";
import { Level } from "level";
import { forEachRecord, StoreWriteError, type KvOp, type KvRange, type KvStore } from "./kv-store.js";

type Db = Level<Uint8Array, Uint8Array>;

/**
 * LevelDB's memtable (its `write_buffer_size`; LevelDB's default is 4 MB). Most of what a block
 * writes is keyed by hash (transactions, trie nodes), so every table flushed from the memtable
 * overlaps every table below it, and LevelDB rewrites the levels beneath again and again; and a
 * mempool entry (put at admission, deleted when its block commits) that outlives one memtable
 * goes to disk twice and its tombstone down every level. With 4 MB the node wrote ~72 KB to
 * disk per crossing order (24,000 orders: ~9 KB of records each, 8x written) and LevelDB's
 * threads took 13 % of the node's CPU; with 32 MB, ~39 KB and 9 % (64 MB: ~25 KB and 7.5 %).
 * The cost: up to twice this in memory (the memtable and the one being flushed), and after a
 * kill -9 up to this much log to replay when the store opens (a clean close leaves it empty).
 */
export const WRITE_BUFFER_BYTES = 32 * 2 ** 20;

/** A key range that holds no key (column 0x00 is never written), for `close`'s settling. */
const SETTLE_RANGE = [new Uint8Array([0x00]), new Uint8Array([0x00, 0x00])] as const;
/**
 * Settling at close stops after this many passes (each waits for one compaction at most: tens
 * of ms) or this long, whichever comes first: a stop should not wait out a long backlog (what
 * is cut short is deleted at the next open, as before).
 */
const SETTLE_MAX_PASSES = 256;
const SETTLE_MAX_MS = 5_000;
const SETTLE_YIELD_MS = 5;

export class LevelKvStore implements KvStore {
  private constructor(private readonly db: Db) {}

  /** Open (creating if needed) the LevelDB at `dir`. Fails if another process holds its lock. */
  static async open(dir: string): Promise<LevelKvStore> {
    // No Snappy: what we store is hashes and felts (trie nodes, records of them), which it
    // cannot shrink. A 6,000-block longrun measured 1,397 B/block with it and 1,400 without,
    // while compressing every table block (and the reads' checks) cost the LevelDB threads
    // CPU the node needs. Tables written with it by earlier versions still read (LevelDB
    // marks each block).
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view", compression: false, writeBufferSize: WRITE_BUFFER_BYTES });
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

  /**
   * Close after LevelDB's background work has settled. LevelDB stops a compaction that is
   * running when the database closes, and leaves the files it had written on disk until the
   * next open deletes them: with hash-keyed columns a compaction rewrites most of a level, so a
   * stop at an unlucky instant left up to ~10 MB of such files (issue 14's disk figure swung by
   * that much). A manual compaction of a range no file holds first writes the memtable to a
   * table (the log is then empty) and waits for the compaction in progress, since LevelDB runs
   * them one at a time. A compaction scheduled right after (a flushed 32 MB memtable starts a
   * cascade down the levels) could still be cut short, hence passes until no level is over
   * LevelDB's limit and its own log shows no compaction running (at most SETTLE_MAX_PASSES
   * or SETTLE_MAX_MS); each costs only the wait.
   * Measured with 4 MB memtables and three passes: 45-110 ms at 5-9 MB, and no orphaned files
   * in 6 of 6 trials, against one 3.5 MB orphan in 6 without; a fixed three passes were not
   * enough once the memtable was 32 MB (level-store.test.ts).
   */
  async close() {
    // `level` types the database for browsers too; on Node it is classic-level's, which compacts.
    const db = this.db as Db & { compactRange?: (start: Uint8Array, end: Uint8Array) => Promise<void> };
    if (db.status === "open" && db.compactRange) {
      // A timer, not a clock read: settling stops after SETTLE_MAX_MS whatever is left.
      let late = false;
      const timer = setTimeout(() => (late = true), SETTLE_MAX_MS);
      try {
        for (let pass = 0; pass < SETTLE_MAX_PASSES && !late; pass++) {
          await db.compactRange(SETTLE_RANGE[0], SETTLE_RANGE[1]);
          if (pass > 0 && !(await compactionRunning(db.location))) {
            if (!compactionDue(db)) break;
            // Let LevelDB's own compaction of the level start: back-to-back manual passes
            // would take its thread before it does.
            await new Promise((r) => setTimeout(r, SETTLE_YIELD_MS));
          }
        }
      } catch {
        // Settling is tidiness: a store that cannot compact (a failed disk) still closes.
      } finally {
        clearTimeout(timer);
      }
    }
    await this.db.close();
  }
}

/**
 * Whether a level is over LevelDB's limit for it, so a compaction is due (LevelDB's own
 * scores: 4 tables in level 0, 10 MB × 10^(L−1) in level L ≥ 1), from the table list LevelDB
 * gives ("leveldb.sstables": a "--- level L ---" line, then a line per table, "number:bytes[...]").
 * A database without getProperty says no.
 */
function compactionDue(db: Db): boolean {
  const get = (db as Db & { getProperty?: (p: string) => string }).getProperty;
  if (get === undefined) return false;
  let tables: string;
  try {
    tables = get.call(db, "leveldb.sstables");
  } catch {
    return false;
  }
  let level = -1;
  let files = 0;
  let bytes = 0;
  const over = () => (level === 0 ? files >= 4 : level > 0 && bytes >= 10 * 2 ** 20 * 10 ** (level - 1));
  for (const line of tables.split("\n")) {
    const heading = /^--- level (\d+) ---/.exec(line);
    if (heading) {
      if (over()) return true;
      level = Number(heading[1]);
      files = 0;
      bytes = 0;
      continue;
    }
    const table = /^\s*\d+:(\d+)\[/.exec(line);
    if (table) {
      files++;
      bytes += Number(table[1]);
    }
  }
  return over();
}

/**
 * Whether LevelDB's info log (LOG in the directory) says a compaction is under way: its last
 * "Compacting ..." line comes after the last "Compacted ..." or "Compaction error" line.
 * Only the log's tail is read; a log that cannot be read says no.
 */
async function compactionRunning(dir: string): Promise<boolean> {
  let tail: string;
  try {
    const f = await open(join(dir, "LOG"), "r");
    try {
      const { size } = await f.stat();
      const n = Math.min(size, LOG_TAIL_BYTES);
      const b = Buffer.alloc(n);
      await f.read(b, 0, n, size - n);
      tail = b.toString("latin1");
    } finally {
      await f.close();
    }
  } catch {
    return false;
  }
  return tail.lastIndexOf("Compacting ") > Math.max(tail.lastIndexOf("Compacted "), tail.lastIndexOf("Compaction error"));
}
const LOG_TAIL_BYTES = 16 * 1024;
