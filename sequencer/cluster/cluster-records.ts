// The typed values a cluster keeps in etcd and their msgpack encoding: a committed block
// (everything a follower needs to re-execute it; a peer serves the same over JSON-RPC),
// the leader key, a member's registration, a batch of admitted transactions, a rollback
// audit record. Decoding checks the shape and throws a RangeError naming the key, so a
// foreign or corrupted value is never half-read.
//
// Never talks to etcd; never renders JSON-RPC.

import { Packr } from "msgpackr";
import type { BroadcastedTxn } from "../rpc/params.js";

/** The local stores' msgpack settings (stored-records.ts): felts stay bigints, transactions stay typed. */
const packr = new Packr({ useBigIntExtension: true, useRecords: false });

/** Block n as a follower re-executes it: its inputs and the results to compare. */
export interface ClusterBlock {
  block_number: number;
  block_hash: string;
  parent_hash: string;
  state_root: string;
  timestamp_s: number;
  /** The other inputs the block was built from (node-binding.ts maps them to BlockInputs). */
  header_inputs: ClusterHeaderInputs;
  /** Ordered transactions as broadcast, typed (operator market-data invokes included). */
  txs: BroadcastedTxn[];
}

/** Block n as committed through etcd: the block and the fencing token of the leader that committed it. */
export interface ClusterBlockRecord extends ClusterBlock {
  token: string;
}

/**
 * Every input of a block besides its number, timestamp and transactions: the header fields
 * that are not derived from the transactions (a follower that missed one computes another
 * block hash and halts), as 0x-hex felts.
 */
export interface ClusterHeaderInputs {
  sequencer_address: string;
  /** Gas prices in FRI: the header's price_in_fri, and the fees of the block's transactions. */
  gas_prices_fri: GasPricesHex;
  /** Gas prices in WEI: the header's price_in_wei (hashed, fees unaffected). */
  gas_prices_wei: GasPricesHex;
  /** Senders whose transactions ran without __validate__ (devnet impersonation): "all", or addresses; absent: none. */
  unvalidated_senders?: "all" | string[];
}

export interface GasPricesHex {
  l1_gas: string;
  l1_data_gas: string;
  l2_gas: string;
}

export interface LeaderRecord {
  node_id: string;
  rpc_url: string;
}

export type MemberRole = "leader" | "follower" | "halted" | "starting";

export interface MemberRecord {
  node_id: string;
  rpc_url: string;
  role: MemberRole;
  applied_height: number;
  applied_hash: string;
}

/** Transactions a leader admitted (and acknowledged) but whose block may not exist yet. */
export interface TxBatchRecord {
  token: string;
  txs: Array<{ hash: string; tx: BroadcastedTxn }>;
}

export interface RollbackAuditRecord {
  node_id: string;
  token: string;
  from_height: number;
  to_height: number;
  reason: string;
  at_ms: number;
}

export function encodeRecord(v: ClusterBlockRecord | LeaderRecord | MemberRecord | TxBatchRecord | RollbackAuditRecord): Buffer {
  return packr.pack(v);
}

function decodeObject(bytes: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    throw new RangeError(`${what}: not msgpack (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new RangeError(`${what}: not a record`);
  return v as Record<string, unknown>;
}

const HEX = /^0x[0-9a-f]+$/;

function field<T>(o: Record<string, unknown>, name: string, what: string, ok: (v: unknown) => boolean): T {
  if (!ok(o[name])) throw new RangeError(`${what}: field ${name} is missing or malformed`);
  return o[name] as T;
}
const isHex = (v: unknown) => typeof v === "string" && HEX.test(v);
const isHeight = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown) => typeof v === "string";
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const isToken = (v: unknown) => typeof v === "string" && /^[1-9][0-9]*$/.test(v);

export function decodeBlockRecord(bytes: Buffer, what = "etcd block"): ClusterBlockRecord {
  const o = decodeObject(bytes, what);
  return { ...clusterBlockOf(o, what), token: field(o, "token", what, isToken) };
}

/**
 * A block as a peer's JSON-RPC returns it (appchain_getClusterBlocks: the same fields, the
 * transactions as broadcast JSON): checked the same way, each transaction through `txOf`.
 */
export function decodeClusterBlock(v: unknown, what: string, txOf: (raw: unknown, field: string) => BroadcastedTxn): ClusterBlock {
  if (!isObject(v)) throw new RangeError(`${what}: not a record`);
  const o = v as Record<string, unknown>;
  const raws = field<unknown[]>(o, "txs", what, Array.isArray);
  const txs = raws.map((raw, i) => {
    try {
      return txOf(raw, `txs[${i}]`);
    } catch (e) {
      throw new RangeError(`${what}: transaction ${i} is malformed: ${(e as Error).message}`);
    }
  });
  return clusterBlockOf({ ...o, txs }, what);
}

function clusterBlockOf(o: Record<string, unknown>, what: string): ClusterBlock {
  return {
    block_number: field(o, "block_number", what, isHeight),
    block_hash: field(o, "block_hash", what, isHex),
    parent_hash: field(o, "parent_hash", what, isHex),
    state_root: field(o, "state_root", what, isHex),
    timestamp_s: field(o, "timestamp_s", what, isHeight),
    header_inputs: decodeHeaderInputs(field(o, "header_inputs", what, isObject), `${what}: header_inputs`),
    txs: field(o, "txs", what, (v) => Array.isArray(v) && v.every(isTypedTx)),
  };
}

/**
 * The shape of a typed transaction (its fields are checked where it is used: hashing and
 * executing it on re-execution or adoption, which refuse a malformed one).
 */
function isTypedTx(v: unknown): boolean {
  if (!isObject(v)) return false;
  const t = v as Record<string, unknown>;
  return (t.type === "INVOKE" || t.type === "DEPLOY_ACCOUNT") && typeof t.nonce === "bigint" && typeof t.version === "bigint" && Array.isArray(t.signature);
}

function decodeHeaderInputs(o: Record<string, unknown>, what: string): ClusterHeaderInputs {
  const prices = (name: string): GasPricesHex => {
    const p = field<Record<string, unknown>>(o, name, what, isObject);
    return { l1_gas: field(p, "l1_gas", `${what}.${name}`, isHex), l1_data_gas: field(p, "l1_data_gas", `${what}.${name}`, isHex), l2_gas: field(p, "l2_gas", `${what}.${name}`, isHex) };
  };
  const out: ClusterHeaderInputs = { sequencer_address: field(o, "sequencer_address", what, isHex), gas_prices_fri: prices("gas_prices_fri"), gas_prices_wei: prices("gas_prices_wei") };
  if (o.unvalidated_senders !== undefined) {
    out.unvalidated_senders = field(o, "unvalidated_senders", what, (v) => v === "all" || (Array.isArray(v) && v.every(isHex)));
  }
  return out;
}

export function decodeLeaderRecord(bytes: Buffer): LeaderRecord {
  const o = decodeObject(bytes, "etcd leader");
  return { node_id: field(o, "node_id", "etcd leader", isString), rpc_url: field(o, "rpc_url", "etcd leader", isString) };
}

const ROLES: readonly string[] = ["leader", "follower", "halted", "starting"];

export function decodeMemberRecord(bytes: Buffer): MemberRecord {
  const w = "etcd member";
  const o = decodeObject(bytes, w);
  return {
    node_id: field(o, "node_id", w, isString),
    rpc_url: field(o, "rpc_url", w, isString),
    role: field(o, "role", w, (v) => typeof v === "string" && ROLES.includes(v)),
    applied_height: field(o, "applied_height", w, isHeight),
    applied_hash: field(o, "applied_hash", w, isHex),
  };
}

export function decodeTxBatchRecord(bytes: Buffer): TxBatchRecord {
  const w = "etcd tx batch";
  const o = decodeObject(bytes, w);
  const txs = field<unknown[]>(o, "txs", w, Array.isArray);
  for (const t of txs) {
    if (!isObject(t) || !isHex((t as { hash?: unknown }).hash) || !isTypedTx((t as { tx?: unknown }).tx)) throw new RangeError(`${w}: malformed transaction entry`);
  }
  return { token: field(o, "token", w, isToken), txs: txs as TxBatchRecord["txs"] };
}

export function decodeAuditRecord(bytes: Buffer): RollbackAuditRecord {
  const w = "etcd audit";
  const o = decodeObject(bytes, w);
  return {
    node_id: field(o, "node_id", w, isString),
    token: field(o, "token", w, isToken),
    from_height: field(o, "from_height", w, isHeight),
    to_height: field(o, "to_height", w, isHeight),
    reason: field(o, "reason", w, isString),
    at_ms: field(o, "at_ms", w, isHeight),
  };
}
