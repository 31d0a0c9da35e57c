// The typed records the sequencer keeps on disk (chain store: blocks and transactions;
// mempool WAL; named snapshots) and their one codec. Values are msgpack with felts as
// bigints (msgpackr's bigint extension above 64 bits), never RPC JSON: the shape on disk
// follows our types, not the RPC spec version, and JSON is rendered at read time
// (rpc-json.ts). STORAGE_FORMAT_VERSION names this shape; a store written with another
// shape is refused at open (node.ts) with what to do.
//
// Never reads the clock, randomness or env; never formats JSON.

import { Packr } from "msgpackr";
import type { EntryPointType } from "../contracts/runtime/contract-class.js";
import type { FunctionInvocation } from "../contracts/runtime/execution.js";
import type { EmittedEvent } from "../contracts/runtime/journaled-state.js";
import type { TransactionExecution, TransactionTrace } from "../contracts/runtime/transaction-executor.js";
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

/**
 * A transaction record. Its execution's events and trace are stored compactly (key "c"):
 * events as [from, keys, data]; each trace invocation as a positional array (call_type is
 * always "CALL", messages always empty); a trace event as [order, index of the same event in
 * the execution's events] (events are emitted once and listed twice); an invocation's calldata
 * equal to the transaction's own as 0. About half the bytes of the same record with named
 * fields. Records written before (events and trace inline, no "c") still decode.
 */
export function encodeTx(t: StoredTx): Buffer {
  const { events, trace, ...rest } = t.exec;
  const calldata = "calldata" in t.tx ? (t.tx.calldata as Felt[]) : undefined;
  return packRecord({
    h: t.hash,
    x: t.tx,
    b: t.blockNumber,
    i: t.index,
    e: { ...rest, stateDiff: diffToArrays(t.exec.stateDiff) },
    c: { ev: events.map((e) => [e.from_address, e.keys, e.data]), tr: compactTrace(trace, events, calldata) },
  });
}

export function decodeTx(v: Uint8Array): StoredTx {
  const o = packr.unpack(v) as {
    h: Felt;
    x: BroadcastedTxn;
    b: number;
    i: number;
    e: Omit<TransactionExecution, "stateDiff" | "events" | "trace"> & { stateDiff: DiffArrays; events?: EmittedEvent[]; trace?: TransactionTrace };
    c?: { ev: Array<[Felt, Felt[], Felt[]]>; tr: CompactTrace };
  };
  const { stateDiff, events, trace, ...rest } = o.e;
  let exec: TransactionExecution;
  if (o.c === undefined) exec = { ...rest, stateDiff: diffFromArrays(stateDiff), events: events!, trace: trace! };
  else {
    const ev = o.c.ev.map(([from_address, keys, data]) => ({ from_address, keys, data }));
    const calldata = "calldata" in o.x ? (o.x.calldata as Felt[]) : undefined;
    exec = { ...rest, stateDiff: diffFromArrays(stateDiff), events: ev, trace: expandTrace(o.c.tr, ev, calldata) };
  }
  return { hash: o.h, tx: o.x, blockNumber: o.b, index: o.i, exec };
}

/** Trace invocations by position: [address, selector, calldata | 0, caller, class, type, result, calls, events, l1_gas, l2_gas, reverted]. */
type CompactInvocation = [Felt, Felt, Felt[] | 0, Felt, Felt, number, Felt[], CompactInvocation[], CompactEvent[], bigint, bigint, boolean];
/** [order, index into the execution's events] or, for an event not found there, [order, keys, data]. */
type CompactEvent = [number, number] | [number, Felt[], Felt[]];
interface CompactTrace {
  t: TransactionTrace["type"];
  v?: CompactInvocation;
  x?: CompactInvocation | { revert_reason: string };
  k?: CompactInvocation;
  f?: CompactInvocation;
}

const ENTRY_POINT_TYPES: readonly EntryPointType[] = ["EXTERNAL", "L1_HANDLER", "CONSTRUCTOR"];

function sameFelts(a: readonly Felt[], b: readonly Felt[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compactTrace(t: TransactionTrace, events: readonly EmittedEvent[], calldata: Felt[] | undefined): CompactTrace {
  const used = new Set<number>();
  const inv = (i: FunctionInvocation): CompactInvocation => {
    const ev: CompactEvent[] = i.events.map((e) => {
      for (let j = 0; j < events.length; j++) {
        const x = events[j]!;
        if (!used.has(j) && x.from_address === i.contract_address && sameFelts(e.keys, x.keys) && sameFelts(e.data, x.data)) {
          used.add(j);
          return [e.order, j];
        }
      }
      return [e.order, e.keys, e.data];
    });
    return [
      i.contract_address,
      i.entry_point_selector,
      sameFelts(i.calldata, calldata) ? 0 : i.calldata,
      i.caller_address,
      i.class_hash,
      ENTRY_POINT_TYPES.indexOf(i.entry_point_type),
      i.result,
      i.calls.map(inv),
      ev,
      i.execution_resources.l1_gas,
      i.execution_resources.l2_gas,
      i.is_reverted,
    ];
  };
  const out: CompactTrace = { t: t.type };
  if (t.validate_invocation) out.v = inv(t.validate_invocation);
  if (t.execute_invocation) out.x = "revert_reason" in t.execute_invocation ? { revert_reason: t.execute_invocation.revert_reason } : inv(t.execute_invocation);
  if (t.constructor_invocation) out.k = inv(t.constructor_invocation);
  if (t.fee_transfer_invocation) out.f = inv(t.fee_transfer_invocation);
  return out;
}

function expandTrace(c: CompactTrace, events: readonly EmittedEvent[], calldata: Felt[] | undefined): TransactionTrace {
  const inv = (a: CompactInvocation): FunctionInvocation => ({
    contract_address: a[0],
    entry_point_selector: a[1],
    calldata: a[2] === 0 ? [...calldata!] : a[2],
    caller_address: a[3],
    class_hash: a[4],
    entry_point_type: ENTRY_POINT_TYPES[a[5]]!,
    call_type: "CALL",
    result: a[6],
    calls: a[7].map(inv),
    events: a[8].map((e) => (e.length === 2 ? { order: e[0], keys: [...events[e[1]]!.keys], data: [...events[e[1]]!.data] } : { order: e[0], keys: e[1], data: e[2] })),
    messages: [],
    execution_resources: { l1_gas: a[9], l2_gas: a[10] },
    is_reverted: a[11],
  });
  const t: TransactionTrace = { type: c.t };
  if (c.v) t.validate_invocation = inv(c.v);
  if (c.x) t.execute_invocation = Array.isArray(c.x) ? inv(c.x) : { revert_reason: c.x.revert_reason };
  if (c.k) t.constructor_invocation = inv(c.k);
  if (c.f) t.fee_transfer_invocation = inv(c.f);
  return t;
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
