// The typed records the sequencer keeps on disk (chain store: blocks and transactions;
// mempool WAL; named snapshots) and their one codec. Values are msgpack with felts as
// bigints (msgpackr's bigint extension above 64 bits), never RPC JSON: the shape on disk
// follows our types, not the RPC spec version, and JSON is rendered at read time
// (rpc-json.ts). STORAGE_FORMAT_VERSION names this shape; a store written with another
// shape is refused at open (node.ts) with what to do.
//
// Never reads the clock, randomness or env; never formats JSON.

import { Packr } from "msgpackr";
import type { TransactionExecution } from "../contracts/runtime/transaction-executor.js";
import type { BlockHeader } from "../state/block-hash.js";
import type { Felt } from "../state/felt.js";
import type { StateDiff } from "../state/state-diff.js";
import { packRecord } from "./msgpack-writer.js";
import type { BroadcastedTxn } from "./rpc/params.js";

/**
 * 1: RPC JSON records (blocks, transactions with receipts and traces, WAL broadcasts,
 *    snapshots), no version key. 2: typed records (this module).
 */
export const STORAGE_FORMAT_VERSION = 2;

// Reads go through msgpackr; writes through packRecord, which writes the very bytes this
// Packr would (msgpack-writer.ts) with felts about 20x faster.
const packr = new Packr({ useBigIntExtension: true, useRecords: false });

/** A block as stored: its header (with the hash and commitments), tx hashes, normalized state diff. */
export interface StoredBlock {
  header: BlockHeader;
  txHashes: Felt[];
  stateDiff: StateDiff;
  /** Global root before the block. */
  oldRoot: Felt;
}

/** A transaction as stored: what was broadcast, its hash, where it is, and what running it did. */
export interface StoredTx {
  hash: Felt;
  tx: BroadcastedTxn;
  blockNumber: number;
  index: number;
  exec: TransactionExecution;
}

/** A mempool WAL entry: the transaction as broadcast (the hash is recomputed and checked on recovery). */
export interface StoredWalEntry {
  hash: Felt;
  tx: BroadcastedTxn;
}

/** A named snapshot: a name pinned to a block and its roots. */
export interface StoredSnapshot {
  name: string;
  blockNumber: number;
  blockHash: Felt;
  globalRoot: Felt;
  contractsRoot: Felt;
  classesRoot: Felt;
  /** Chain time (seconds) when taken. */
  createdAt: number;
}

export function encodeBlock(b: StoredBlock): Buffer {
  return packRecord({ h: b.header, t: b.txHashes, d: diffToArrays(b.stateDiff), o: b.oldRoot });
}

export function decodeBlock(v: Uint8Array): StoredBlock {
  const o = packr.unpack(v) as { h: BlockHeader; t: Felt[]; d: DiffArrays; o: Felt };
  return { header: o.h, txHashes: o.t, stateDiff: diffFromArrays(o.d), oldRoot: o.o };
}

export function encodeTx(t: StoredTx): Buffer {
  return packRecord({ h: t.hash, x: t.tx, b: t.blockNumber, i: t.index, e: { ...t.exec, stateDiff: diffToArrays(t.exec.stateDiff) } });
}

export function decodeTx(v: Uint8Array): StoredTx {
  const o = packr.unpack(v) as { h: Felt; x: BroadcastedTxn; b: number; i: number; e: Omit<TransactionExecution, "stateDiff"> & { stateDiff: DiffArrays } };
  return { hash: o.h, tx: o.x, blockNumber: o.b, index: o.i, exec: { ...o.e, stateDiff: diffFromArrays(o.e.stateDiff) } };
}

export function encodeWalEntry(e: StoredWalEntry): Buffer {
  return packRecord({ h: e.hash, x: e.tx });
}

export function decodeWalEntry(v: Uint8Array): StoredWalEntry {
  const o = packr.unpack(v) as { h: Felt; x: BroadcastedTxn };
  if (typeof o?.h !== "bigint" || typeof o.x !== "object") throw new Error("mempool WAL entry is not a typed (format 2) record");
  return { hash: o.h, tx: o.x };
}

export function encodeSnapshot(s: StoredSnapshot): Buffer {
  return packRecord(s);
}

export function decodeSnapshot(v: Uint8Array): StoredSnapshot {
  return packr.unpack(v) as StoredSnapshot;
}

export function encodeFormatVersion(version: number): Buffer {
  return packRecord(version);
}

export function decodeFormatVersion(v: Uint8Array): number {
  return packr.unpack(v) as number;
}

/** A state diff without Maps (msgpack maps would turn bigint keys into strings). */
interface DiffArrays {
  s: Array<[Felt, Array<[Felt, Felt]>]>;
  n: Array<[Felt, Felt]>;
  d: Array<[Felt, Felt]>;
  c: Array<[Felt, Felt]>;
}

function diffToArrays(d: StateDiff): DiffArrays {
  return {
    s: [...d.storage].map(([a, m]) => [a, [...m]]),
    n: [...d.nonces],
    d: [...d.deployed],
    c: [...d.declared],
  };
}

function diffFromArrays(o: DiffArrays): StateDiff {
  return {
    storage: new Map(o.s.map(([a, kv]) => [a, new Map(kv)])),
    nonces: new Map(o.n),
    deployed: new Map(o.d),
    declared: new Map(o.c),
  };
}
