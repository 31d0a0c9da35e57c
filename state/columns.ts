// Column prefixes and key builders of the store. One byte names the column; the rest of
// the key is fixed-width big-endian so LevelDB's key order is numeric order.
// Every writer of the store builds its keys here, so the layout is in one place.

import type { Felt } from "./felt.js";

export const Column = {
  /** The chain head: written last in every block batch. */
  head: 0x01,
  /** Block record by number (sequencer's format). */
  blockByNumber: 0x02,
  /** Block number by block hash. */
  blockNumberByHash: 0x03,
  /** Transaction + receipt by hash. */
  txByHash: 0x04,
  /** Trie nodes by hash, Pedersen tries (storage, contracts). */
  pedersenNode: 0x10,
  /** Trie nodes by hash, Poseidon tries (classes). */
  poseidonNode: 0x11,
  /** Contract state preimage by contract state hash: {class_hash, storage_root, nonce}. */
  contractStatePreimage: 0x12,
  /**
   * Legacy (first pruning format): birth markers, one empty-valued key per time a block created
   * a record, column | record key | block | sequence. Converted to recordExtraRefs when the
   * store is opened (WorldState.open); never written.
   */
  recordBirth: 0x13,
  /**
   * References of a record (trie node, preimage) beyond its first: column | record key (the
   * record's own 33-byte key) → u32. Absent for a record referenced once, which is nearly every
   * record; see world-state.ts "Record references".
   */
  recordExtraRefs: 0x14,
  /** Flat current state: contract → {class_hash, nonce, storage_root}. */
  flatContract: 0x20,
  /** Flat current state: (contract, key) → value. */
  flatStorage: 0x21,
  /** Flat current state: class hash → compiled class hash. */
  flatClass: 0x22,
  /** Per-block forward state diff. */
  forwardDiff: 0x30,
  /** Per-block reverse diff (the values a block overwrote). */
  reverseDiff: 0x31,
  /** Per-block state roots. */
  blockRoots: 0x32,
  /** Legacy (first pruning format): per-block death lists. Never written; deleted as blocks are pruned. */
  recordDeaths: 0x33,
  /** Pruning cursor: every block up to this number has been pruned. */
  pruneCursor: 0x34,
  /** Durable mempool (write-ahead log of accepted transactions). */
  mempool: 0x40,
  /** Named snapshots. */
  snapshot: 0x50,
  /** Node epoch / data-dir lease. */
  nodeMeta: 0x60,
  /** Quarantined (rejected) market-data updates. */
  quarantine: 0x70,
  /** Operator/runtime metadata (e.g. pause state mirrors, counters). */
  meta: 0x71,
} as const;

export type ColumnId = (typeof Column)[keyof typeof Column];

/** Felt → 32 bytes big-endian. */
export function felt32(v: Felt): Buffer {
  const hex = v.toString(16);
  return Buffer.from(hex.length === 64 ? hex : hex.padStart(64, "0"), "hex");
}

/** Write a felt as 32 big-endian bytes into `buf` at `offset` (no intermediate buffer). */
export function writeFelt(buf: Buffer, offset: number, v: Felt): void {
  let hex = v.toString(16);
  if (hex.length & 1) hex = "0" + hex;
  const pad = 32 - hex.length / 2;
  if (pad > 0) buf.fill(0, offset, offset + pad);
  buf.write(hex, offset + pad, "hex");
}

/** 32 bytes (or any length) big-endian → bigint. */
export function readFelt(b: Uint8Array, offset = 0, length = 32): Felt {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (length === 32) {
    // four 64-bit words: about twice as fast as a hex round trip
    return (
      (buf.readBigUInt64BE(offset) << 192n) |
      (buf.readBigUInt64BE(offset + 8) << 128n) |
      (buf.readBigUInt64BE(offset + 16) << 64n) |
      buf.readBigUInt64BE(offset + 24)
    );
  }
  const hex = buf.toString("hex", offset, offset + length);
  return hex.length === 0 ? 0n : BigInt("0x" + hex);
}

export function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export function key(column: ColumnId, ...parts: Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from([column]), ...parts]);
}

/** A column byte followed by felts, written in place (one allocation). */
function feltKey(column: ColumnId, ...felts: Felt[]): Buffer {
  const b = Buffer.allocUnsafe(1 + 32 * felts.length);
  b[0] = column;
  for (let i = 0; i < felts.length; i++) writeFelt(b, 1 + 32 * i, felts[i]!);
  return b;
}

export const keys = {
  head: () => key(Column.head),
  blockByNumber: (n: number) => key(Column.blockByNumber, u64(n)),
  blockNumberByHash: (h: Felt) => key(Column.blockNumberByHash, felt32(h)),
  txByHash: (h: Felt) => key(Column.txByHash, felt32(h)),
  trieNode: (kind: "pedersen" | "poseidon", h: Felt) => feltKey(kind === "pedersen" ? Column.pedersenNode : Column.poseidonNode, h),
  contractStatePreimage: (h: Felt) => feltKey(Column.contractStatePreimage, h),
  flatContract: (a: Felt) => feltKey(Column.flatContract, a),
  flatStorage: (a: Felt, k: Felt) => feltKey(Column.flatStorage, a, k),
  flatClass: (c: Felt) => feltKey(Column.flatClass, c),
  forwardDiff: (n: number) => key(Column.forwardDiff, u64(n)),
  reverseDiff: (n: number) => key(Column.reverseDiff, u64(n)),
  blockRoots: (n: number) => key(Column.blockRoots, u64(n)),
  recordDeaths: (n: number) => key(Column.recordDeaths, u64(n)),
  /** Extra references of the record stored at `recordKey` (a 33-byte trie-node or preimage key). */
  recordExtraRefs: (recordKey: Uint8Array) => key(Column.recordExtraRefs, recordKey),
  pruneCursor: () => key(Column.pruneCursor),
};

/** Bytes of a record key (trie node, preimage): record column, hash. */
export const RECORD_REF_BYTES = 33;

/** [gte, lt) range covering one column. */
export function columnRange(column: ColumnId): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([column]), lt: Buffer.from([column + 1]) };
}
