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
  private sorted: string[] | null = null;
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
    if (this.sorted === null) this.sorted = [...this.map.keys()].sort();
    const keys = this.sorted;
    const gte = range.gte ? keyString(range.gte) : null;
    const lt = range.lt ? keyString(range.lt) : null;
    const selected = keys.filter((k) => (gte === null || k >= gte) && (lt === null || k < lt));
    if (range.reverse) selected.reverse();
    const limit = range.limit ?? Infinity;
    let n = 0;
    for (const k of selected) {
      if (n++ >= limit) break;
      const v = this.map.get(k);
      if (v !== undefined) yield [Buffer.from(k, "latin1"), v];
    }
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
      if (!this.map.has(k)) this.sorted = null;
      this.map.set(k, value);
    };
    for (const op of ops) {
      if (op.type === "put") put(op.key, op.value);
      else if (op.type === "putRecords") forEachRecord(op, put);
      else if (this.map.delete(keyString(op.key))) this.sorted = null;
    }
  }

  async close() {
    this.closed = true;
  }

  private assertOpen() {
    if (this.closed) throw new Error("store is closed");
  }
}
