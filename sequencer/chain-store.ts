// Blocks, transactions, receipts and events on disk. Values are typed records
// (stored-records.ts: felts as bigints, never RPC JSON); reads render them into the JSON
// shapes the RPC returns (rpc-json.ts), and recent blocks stay rendered in a cache.
// The chain store only builds batch operations; the world state writes them in the same
// atomic batch as the block's state (head pointer last), so a block is all there or not.

import { pack, unpack } from "msgpackr";
import { keys } from "../state/columns.js";
import type { Felt } from "../state/felt.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { blockRecordOf, txRecordOf } from "./rpc-json.js";
import { decodeBlock, decodeTx, encodeBlock, encodeTx, type StoredBlock, type StoredTx } from "./stored-records.js";

export interface ResourcePrice {
  price_in_fri: string;
  price_in_wei: string;
}

/** The block header as starknet_getBlockWith* returns it (status added on read). */
export interface BlockHeaderJson {
  block_hash: string;
  parent_hash: string;
  block_number: number;
  new_root: string;
  timestamp: number;
  sequencer_address: string;
  l1_gas_price: ResourcePrice;
  l2_gas_price: ResourcePrice;
  l1_data_gas_price: ResourcePrice;
  l1_da_mode: "BLOB" | "CALLDATA";
  starknet_version: string;
  [extra: string]: unknown;
}

export interface EventJson {
  from_address: string;
  keys: string[];
  data: string[];
}

export interface BlockRecord {
  header: BlockHeaderJson;
  txHashes: string[];
  /** starknet_getStateUpdate's state_diff */
  stateDiff: unknown;
  oldRoot: string;
}

export interface TxRecord {
  /** The transaction as starknet_getTransactionByHash returns it (with transaction_hash). */
  transaction: Record<string, unknown> & { transaction_hash: string; type: string };
  /** The receipt without block_hash/block_number (added on read). */
  receipt: Record<string, unknown> & { transaction_hash: string; events: EventJson[]; execution_status: string };
  blockNumber: number;
  index: number;
  /** TRANSACTION_TRACE for the trace API. */
  trace?: unknown;
}

export interface EventQuery {
  fromBlock: number;
  toBlock: number;
  address?: Felt[];
  /** keys[i] = allowed values at position i ([] = any) */
  keys?: Felt[][];
  chunkSize: number;
  continuation?: { block: number; tx: number; event: number };
}

export interface EmittedEvent extends EventJson {
  block_hash: string;
  block_number: number;
  transaction_hash: string;
  transaction_index: number;
  event_index: number;
}

export class ChainStore {
  /** Recent blocks and their txs (the head's neighbourhood is read most). */
  private readonly blockCache = new Map<number, BlockRecord>();
  private readonly txCache = new Map<string, TxRecord>();
  private static readonly BLOCK_CACHE = 512;
  /**
   * Transactions (with receipt and trace: a few KB each on the heap) of the last few blocks:
   * 8,192 is four full blocks. It was 50,000, which held ~10 KB a block of heap for the first
   * 50,000 one-transaction blocks of a long run (bench longrun's memory_by_block).
   */
  private static readonly TX_CACHE = 8_192;

  constructor(private readonly store: KvStore) {}

  /** Operations that write a block and its transactions. */
  opsForBlock(block: StoredBlock, txs: readonly StoredTx[]): KvOp[] {
    const ops: KvOp[] = [
      { type: "put", key: keys.blockByNumber(block.header.blockNumber), value: encodeBlock(block) },
      { type: "put", key: keys.blockNumberByHash(block.header.blockHash), value: pack(block.header.blockNumber) },
    ];
    for (const tx of txs) ops.push({ type: "put", key: keys.txByHash(tx.hash), value: encodeTx(tx) });
    return ops;
  }

  /** Remember a block that has just been committed (after its batch landed). */
  cacheBlock(block: BlockRecord, txs: readonly TxRecord[]): void {
    this.blockCache.set(block.header.block_number, block);
    txs.forEach((tx, i) => this.txCache.set(block.txHashes[i]!, tx)); // txs are in the block's order
    if (this.blockCache.size > ChainStore.BLOCK_CACHE) this.blockCache.delete(this.blockCache.keys().next().value!);
    while (this.txCache.size > ChainStore.TX_CACHE) this.txCache.delete(this.txCache.keys().next().value!);
  }

  /** Operations that delete blocks (and their txs) — used by rollback. */
  async opsForRemovingBlocks(numbers: readonly number[]): Promise<{ ops: KvOp[]; removed: BlockRecord[] }> {
    const ops: KvOp[] = [];
    const removed: BlockRecord[] = [];
    for (const n of numbers) {
      const b = await this.getBlock(n);
      if (b === undefined) continue;
      removed.push(b);
      ops.push({ type: "del", key: keys.blockByNumber(n) });
      ops.push({ type: "del", key: keys.blockNumberByHash(BigInt(b.header.block_hash)) });
      for (const h of b.txHashes) ops.push({ type: "del", key: keys.txByHash(BigInt(h)) });
    }
    return { ops, removed };
  }

  /** Forget cached blocks at or above `fromNumber` (after a rollback landed). */
  forgetFrom(fromNumber: number, removed: readonly BlockRecord[]): void {
    for (const n of [...this.blockCache.keys()]) if (n >= fromNumber) this.blockCache.delete(n);
    for (const b of removed) for (const h of b.txHashes) this.txCache.delete(h);
  }

  async getBlock(n: number): Promise<BlockRecord | undefined> {
    const hit = this.blockCache.get(n);
    if (hit) return hit;
    const v = await this.store.get(keys.blockByNumber(n));
    return v === undefined ? undefined : blockRecordOf(decodeBlock(v));
  }

  /** The typed record of block `n` (re-execution, followers). */
  async getStoredBlock(n: number): Promise<StoredBlock | undefined> {
    const v = await this.store.get(keys.blockByNumber(n));
    return v === undefined ? undefined : decodeBlock(v);
  }

  async getBlockNumberByHash(hash: Felt): Promise<number | undefined> {
    const v = await this.store.get(keys.blockNumberByHash(hash));
    return v === undefined ? undefined : (unpack(v) as number);
  }

  async getTx(hash: Felt): Promise<TxRecord | undefined> {
    const hex = "0x" + hash.toString(16);
    const hit = this.txCache.get(hex);
    if (hit) return hit;
    const v = await this.store.get(keys.txByHash(hash));
    return v === undefined ? undefined : txRecordOf(decodeTx(v));
  }

  async getTxs(hashes: readonly string[]): Promise<TxRecord[]> {
    const out: TxRecord[] = new Array(hashes.length);
    const missing: number[] = [];
    hashes.forEach((h, i) => {
      const hit = this.txCache.get(h);
      if (hit) out[i] = hit;
      else missing.push(i);
    });
    if (missing.length > 0) {
      const vals = await this.store.getMany(missing.map((i) => keys.txByHash(BigInt(hashes[i]!))));
      vals.forEach((v, j) => {
        if (v === undefined) throw new Error(`transaction ${hashes[missing[j]!]} of a stored block is missing`);
        out[missing[j]!] = txRecordOf(decodeTx(v));
      });
    }
    return out;
  }

  /** Typed records of stored transactions (re-queueing after a rollback, re-execution). */
  async getStoredTxs(hashes: readonly Felt[]): Promise<StoredTx[]> {
    const vals = await this.store.getMany(hashes.map((h) => keys.txByHash(h)));
    return vals.map((v, i) => {
      if (v === undefined) throw new Error(`transaction 0x${hashes[i]!.toString(16)} of a stored block is missing`);
      return decodeTx(v);
    });
  }

  /** Events matching the query, in chain order, one page. */
  async getEvents(q: EventQuery): Promise<{ events: EmittedEvent[]; continuation?: { block: number; tx: number; event: number } }> {
    const addrSet = q.address && q.address.length > 0 ? new Set(q.address.map((a) => "0x" + a.toString(16))) : null;
    const keySets = (q.keys ?? []).map((alts) => (alts.length === 0 ? null : new Set(alts.map((k) => "0x" + k.toString(16)))));
    const events: EmittedEvent[] = [];
    const start = q.continuation ?? { block: q.fromBlock, tx: 0, event: 0 };
    for (let n = start.block; n <= q.toBlock; n++) {
      const block = await this.getBlock(n);
      if (block === undefined) break;
      const txs = await this.getTxs(block.txHashes);
      for (let ti = n === start.block ? start.tx : 0; ti < txs.length; ti++) {
        const tx = txs[ti]!;
        const evs = tx.receipt.events;
        for (let ei = n === start.block && ti === start.tx ? start.event : 0; ei < evs.length; ei++) {
          const e = evs[ei]!;
          if (addrSet && !addrSet.has(normalizeHex(e.from_address))) continue;
          if (!keysMatch(e.keys, keySets)) continue;
          if (events.length === q.chunkSize) return { events, continuation: { block: n, tx: ti, event: ei } };
          events.push({
            ...e,
            block_hash: block.header.block_hash,
            block_number: n,
            transaction_hash: tx.transaction.transaction_hash,
            transaction_index: ti,
            event_index: ei,
          });
        }
      }
    }
    return { events };
  }
}

function normalizeHex(h: string): string {
  return "0x" + BigInt(h).toString(16);
}

function keysMatch(eventKeys: readonly string[], filter: ReadonlyArray<Set<string> | null>): boolean {
  if (filter.length > eventKeys.length) {
    // positions beyond the event's keys must be wildcards
    for (let i = eventKeys.length; i < filter.length; i++) if (filter[i] !== null) return false;
  }
  for (let i = 0; i < filter.length && i < eventKeys.length; i++) {
    const f = filter[i];
    if (f && !f.has(normalizeHex(eventKeys[i]!))) return false;
  }
  return true;
}
