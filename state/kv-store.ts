// The small key-value interface every store implements (LevelDB on disk, memory in tests
// and --in-memory). Keys are byte strings whose first byte names the column (columns.ts).
// A batch is atomic: all of it lands or none of it does.

export type KvOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array } | PutRecords;

/**
 * Many puts carved from one buffer of `recordLength`-byte records: a record's first
 * `keyLength` bytes are its key and the rest its value, one byte shorter when `trimZeroTail`
 * is set and the record ends in 0 (trie-node records: a binary node has no length byte).
 * One operation instead of one object and two views per record until the batch is written.
 */
export interface PutRecords {
  type: "putRecords";
  records: Uint8Array;
  recordLength: number;
  keyLength: number;
  trimZeroTail: boolean;
}

/** Calls `put` for each record of a PutRecords operation (views into its buffer). */
export function forEachRecord(op: PutRecords, put: (key: Uint8Array, value: Uint8Array) => void): void {
  const { records, recordLength: size, keyLength } = op;
  for (let at = 0; at + size <= records.length; at += size) {
    const end = op.trimZeroTail && records[at + size - 1] === 0 ? at + size - 1 : at + size;
    put(records.subarray(at, at + keyLength), records.subarray(at + keyLength, end));
  }
}

/** Bytes of keys and values an operation list writes. */
export function opsBytes(ops: readonly KvOp[]): number {
  let n = 0;
  for (const op of ops) {
    if (op.type === "putRecords") forEachRecord(op, (k, v) => (n += k.byteLength + v.byteLength));
    else n += op.key.byteLength + (op.type === "put" ? op.value.byteLength : 0);
  }
  return n;
}

export interface KvRange {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

export interface KvStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  /** Entries in key order (or reverse) within the range. */
  iterator(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]>;
  batch(ops: readonly KvOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when a store write fails; the previous state is intact. */
export class StoreWriteError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = "StoreWriteError";
  }
}

function keyString(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString("latin1");
}

/** In-memory store with the same semantics (ordered iteration, atomic batches). */
export class MemoryKvStore implements KvStore {
  private readonly map = new Map<string, Uint8Array>();
  /** Keys in order as of the last iteration (may still hold keys deleted since). */
  private sorted: string[] = [];
  /** Keys added since `sorted` was built, merged in at the next iteration. */
  private added: string[] = [];
  private deletedSinceSort = 0;
  private closed = false;
  /** Test hook: when set, the next batch fails after validating (fault injection). */
  failNextBatch: Error | null = null;

  async get(key: Uint8Array) {
    this.assertOpen();
    return this.map.get(keyString(key));
  }

  async getMany(keys: readonly Uint8Array[]) {
    this.assertOpen();
    return keys.map((k) => this.map.get(keyString(k)));
  }

  async *iterator(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    const keys = this.sortedKeys();
    const gte = range.gte ? keyString(range.gte) : null;
    const lt = range.lt ? keyString(range.lt) : null;
    // [first, end): the keys inside the range, found by binary search.
    const first = gte === null ? 0 : lowerBound(keys, gte);
    const end = lt === null ? keys.length : lowerBound(keys, lt);
    const limit = range.limit ?? Infinity;
    let n = 0;
    for (let i = range.reverse ? end - 1 : first; range.reverse ? i >= first : i < end; range.reverse ? i-- : i++) {
      if (n >= limit) break;
      const k = keys[i]!;
      const v = this.map.get(k);
      if (v === undefined) continue; // deleted since the keys were sorted
      n++;
      yield [Buffer.from(k, "latin1"), v];
    }
  }

  /** The keys in order: new keys merged in, deleted ones dropped (amortized, not a full sort per batch). */
  private sortedKeys(): string[] {
    if (this.added.length === 0 && this.deletedSinceSort * 2 <= this.sorted.length) return this.sorted;
    const add = this.added.sort();
    const old = this.sorted;
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < add.length) {
      const k = j >= add.length || (i < old.length && old[i]! < add[j]!) ? old[i++]! : add[j++]!;
      if (out.length > 0 && out[out.length - 1] === k) continue;
      if (this.map.has(k)) out.push(k);
    }
    this.sorted = out;
    this.added = [];
    this.deletedSinceSort = 0;
    return out;
  }

  async batch(ops: readonly KvOp[]) {
    this.assertOpen();
    if (this.failNextBatch) {
      const e = this.failNextBatch;
      this.failNextBatch = null;
      throw new StoreWriteError(`store write failed: ${e.message}`, e);
    }
    const put = (key: Uint8Array, value: Uint8Array) => {
      const k = keyString(key);
      if (!this.map.has(k)) this.added.push(k);
      this.map.set(k, value);
    };
    for (const op of ops) {
      if (op.type === "put") put(op.key, op.value);
      else if (op.type === "putRecords") forEachRecord(op, put);
      else if (this.map.delete(keyString(op.key))) this.deletedSinceSort++;
    }
  }

  async close() {
    this.closed = true;
  }

  private assertOpen() {
    if (this.closed) throw new Error("store is closed");
  }
}

/** First index of `keys` (sorted) whose key is >= `k`. */
function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
