// Block-header commitments (Starknet 0.13.2+): transactions, events, receipts, state diff,
// and the concatenated counts. A client holding a block's data can recompute each of them.
//
// Formulas (starkware-libs/sequencer crates/starknet_api/src/block_hash/*.rs; the same in
// eqlabs/pathfinder crates/block-commitments/src/lib.rs):
//   tx / event / receipt commitment = root of a height-64 Poseidon Patricia trie keyed by index
//   tx leaf      = poseidon(tx_hash, signature...)   (before 0.13.4 an empty signature hashed as [0])
//   event leaf   = poseidon(from_address, tx_hash, #keys, keys..., #data, data...)
//   receipt leaf = poseidon(tx_hash, actual_fee, messages_hash, revert_reason_hash, 0, l1_gas, l1_data_gas)
//                  messages_hash = poseidon(#msgs, (from, to, #payload, payload...)...)
//                  revert_reason_hash = sn_keccak(reason) or 0 when the tx succeeded
//   state diff   = poseidon("STARKNET_STATE_DIFF0", #deployed, (addr, class)..., #declared,
//                  (class, compiled)..., #deprecated, class..., 1, 0, #contracts with storage,
//                  (addr, #writes, (key, value)...)..., #nonces, (addr, nonce)...), all sorted by key
//   concatenated counts = tx_count (64 bit) | event_count (64) | state_diff_length (64) |
//                  da byte (0x80 for BLOB, 0 for CALLDATA) | 7 zero bytes
//
// Inputs are plain data; ordering inside a block is by index (given), the state diff is sorted here.
// Never reads the clock, randomness or the environment.

import { P, encodeShortString, type Felt } from "./felt.js";
import { snKeccak } from "./crypto/hash.js";
import { evalPlan, evalPlans, many, type ManyPlan } from "./crypto/hash-plan.js";
import { computeRootFromLeaves, hashNodeTableOffThread } from "./patricia-trie.js";
import type { StateDiff } from "./state-diff.js";

export const COMMITMENT_TRIE_HEIGHT = 64;
export const STATE_DIFF_PREFIX: Felt = encodeShortString("STARKNET_STATE_DIFF0");

export type L1DataAvailabilityMode = "CALLDATA" | "BLOB";

export interface TransactionForCommitment {
  hash: Felt;
  /** Empty for transaction types without a signature (L1_HANDLER, DEPLOY). */
  signature: readonly Felt[];
}

export interface EventForCommitment {
  fromAddress: Felt;
  /** Hash of the transaction that emitted it. */
  transactionHash: Felt;
  keys: readonly Felt[];
  data: readonly Felt[];
}

export interface MessageToL1 {
  fromAddress: Felt;
  /** L1 address (160 bit), as a felt. */
  toAddress: Felt;
  payload: readonly Felt[];
}

export interface ReceiptForCommitment {
  transactionHash: Felt;
  actualFee: bigint;
  messagesSent: readonly MessageToL1[];
  /** Present (even empty) exactly when the transaction reverted. */
  revertReason?: string;
  /** Total gas consumed: L1 gas and L1 data gas (L2 gas is hashed as 0 by Starknet). */
  l1Gas: bigint;
  l1DataGas: bigint;
}

/** Changes of a block as the state-diff commitment sees them. */
export interface StateDiffForCommitment extends StateDiff {
  /** Cairo 0 classes declared in the block (none on this chain). */
  deprecatedDeclared?: readonly Felt[];
}

/** Invalid commitment input (a field that is not a felt, a count too large). */
export class CommitmentInputError extends RangeError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "CommitmentInputError";
  }
}

// --------------------------------------------------------------------------------------- leaves

/**
 * Leaf of the transaction commitment. Since Starknet 0.13.4 an empty signature hashes as
 * poseidon(tx_hash); in 0.13.2–0.13.3 it hashed as poseidon(tx_hash, 0).
 */
export function transactionLeaf(tx: TransactionForCommitment, starknetVersion: string): Felt {
  return evalPlan(transactionLeafPlan(tx, starknetVersion));
}

/** transactionLeaf as a plan (inputs checked here); see state/crypto/hash-plan.ts. */
export function transactionLeafPlan(tx: TransactionForCommitment, starknetVersion: string): ManyPlan {
  checkFelt(tx.hash, "transaction.hash");
  checkFelts(tx.signature, "transaction.signature");
  const signature = tx.signature.length === 0 && compareStarknetVersions(starknetVersion, "0.13.4") < 0 ? [0n] : tx.signature;
  return many([tx.hash, ...signature]);
}

export function eventLeaf(e: EventForCommitment): Felt {
  return evalPlan(eventLeafPlan(e));
}

export function eventLeafPlan(e: EventForCommitment): ManyPlan {
  checkFelt(e.fromAddress, "event.from_address");
  checkFelt(e.transactionHash, "event.transaction_hash");
  checkFelts(e.keys, "event.keys");
  checkFelts(e.data, "event.data");
  return many([e.fromAddress, e.transactionHash, BigInt(e.keys.length), ...e.keys, BigInt(e.data.length), ...e.data]);
}

export function messagesSentHash(messages: readonly MessageToL1[]): Felt {
  return evalPlan(messagesSentPlan(messages));
}

function messagesSentPlan(messages: readonly MessageToL1[]): ManyPlan {
  const elements: Felt[] = [BigInt(messages.length)];
  for (const m of messages) {
    checkFelt(m.fromAddress, "message.from_address");
    checkFelt(m.toAddress, "message.to_address");
    checkFelts(m.payload, "message.payload");
    elements.push(m.fromAddress, m.toAddress, BigInt(m.payload.length), ...m.payload);
  }
  return many(elements);
}

/** sn_keccak of the revert reason's bytes (UTF-8), 0 for a successful transaction. */
export function revertReasonHash(revertReason: string | undefined): Felt {
  return revertReason === undefined ? 0n : snKeccak(revertReason);
}

export function receiptLeaf(r: ReceiptForCommitment): Felt {
  return evalPlan(receiptLeafPlan(r));
}

export function receiptLeafPlan(r: ReceiptForCommitment): ManyPlan {
  checkFelt(r.transactionHash, "receipt.transaction_hash");
  checkFelt(r.actualFee, "receipt.actual_fee");
  checkFelt(r.l1Gas, "receipt.l1_gas");
  checkFelt(r.l1DataGas, "receipt.l1_data_gas");
  return many([
    r.transactionHash,
    r.actualFee,
    messagesSentPlan(r.messagesSent),
    revertReasonHash(r.revertReason),
    0n, // L2 gas consumed: Starknet hashes 0 here
    r.l1Gas,
    r.l1DataGas,
  ]);
}

// --------------------------------------------------------------------------------------- commitments

export async function transactionCommitment(txs: readonly TransactionForCommitment[], starknetVersion: string): Promise<Felt> {
  return indexTrieRoot(await evalPlans(txs.map((tx) => transactionLeafPlan(tx, starknetVersion))));
}

export async function eventCommitment(events: readonly EventForCommitment[]): Promise<Felt> {
  return indexTrieRoot(await evalPlans(events.map(eventLeafPlan)));
}

export async function receiptCommitment(receipts: readonly ReceiptForCommitment[]): Promise<Felt> {
  return indexTrieRoot(await evalPlans(receipts.map(receiptLeafPlan)));
}

/**
 * The three index commitments of a block at once: every leaf in one batch of Poseidon
 * (on the backend's hash thread when it has one), then the three tries. Same values as the
 * three functions above.
 */
export async function blockCommitments(
  txs: readonly TransactionForCommitment[],
  events: readonly EventForCommitment[],
  receipts: readonly ReceiptForCommitment[],
  starknetVersion: string,
): Promise<{ transactionCommitment: Felt; eventCommitment: Felt; receiptCommitment: Felt }> {
  const plans = [...txs.map((tx) => transactionLeafPlan(tx, starknetVersion)), ...events.map(eventLeafPlan), ...receipts.map(receiptLeafPlan)];
  const leaves = await evalPlans(plans);
  const e0 = txs.length, r0 = e0 + events.length;
  const [transactionCommitment, eventCommitment, receiptCommitment] = await Promise.all([
    indexTrieRoot(leaves.slice(0, e0)),
    indexTrieRoot(leaves.slice(e0, r0)),
    indexTrieRoot(leaves.slice(r0)),
  ]);
  return { transactionCommitment, eventCommitment, receiptCommitment };
}

/** Number of entries the state diff contributes to `state_diff_length`. */
export function stateDiffLength(diff: StateDiffForCommitment): number {
  let n = diff.deployed.size + diff.declared.size + (diff.deprecatedDeclared?.length ?? 0) + diff.nonces.size;
  for (const writes of diff.storage.values()) n += writes.size;
  return n;
}

export function stateDiffCommitment(diff: StateDiffForCommitment): Felt {
  return evalPlan(stateDiffCommitmentPlan(diff));
}

/** stateDiffCommitment hashed on the backend's hash thread when it has one (a block's diff can be thousands of felts). */
export async function stateDiffCommitmentAsync(diff: StateDiffForCommitment): Promise<Felt> {
  const [h] = await evalPlans([stateDiffCommitmentPlan(diff)]);
  return h!;
}

export function stateDiffCommitmentPlan(diff: StateDiffForCommitment): ManyPlan {
  const out: Felt[] = [STATE_DIFF_PREFIX];
  pushSortedPairs(out, diff.deployed, "deployed");
  pushSortedPairs(out, diff.declared, "declared");
  const deprecated = [...(diff.deprecatedDeclared ?? [])].sort(cmp);
  checkFelts(deprecated, "deprecated_declared");
  out.push(BigInt(deprecated.length), ...deprecated);
  out.push(1n, 0n); // placeholders fixed by the protocol
  const contracts = [...diff.storage.entries()].filter(([, writes]) => writes.size > 0).sort((a, b) => cmp(a[0], b[0]));
  out.push(BigInt(contracts.length));
  for (const [address, writes] of contracts) {
    checkFelt(address, "storage.address");
    out.push(address);
    pushSortedPairs(out, writes, "storage");
  }
  pushSortedPairs(out, diff.nonces, "nonces");
  return many(out);
}

/** tx_count | event_count | state_diff_length (64 bits each) | DA byte | 7 zero bytes. */
export function concatenatedCounts(
  transactionCount: number,
  eventCount: number,
  stateDiffLength: number,
  l1DaMode: L1DataAvailabilityMode,
): Felt {
  const u64 = (n: number, field: string): bigint => {
    if (!Number.isSafeInteger(n) || n < 0) throw new CommitmentInputError(field, `expected a non-negative integer, got ${n}`);
    return BigInt(n);
  };
  if (l1DaMode !== "CALLDATA" && l1DaMode !== "BLOB") {
    throw new CommitmentInputError("l1_da_mode", `expected "CALLDATA" or "BLOB", got ${JSON.stringify(l1DaMode)}`);
  }
  const daByte = l1DaMode === "BLOB" ? 0x80n : 0n;
  return (
    (u64(transactionCount, "transaction_count") << 192n) |
    (u64(eventCount, "event_count") << 128n) |
    (u64(stateDiffLength, "state_diff_length") << 64n) |
    (daByte << 56n)
  );
}

/**
 * Compare dotted Starknet versions ("0.13.4" < "0.14.0"; missing parts count as 0).
 * Throws CommitmentInputError on anything that is not digits and dots.
 */
export function compareStarknetVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

// --------------------------------------------------------------------------------------- helpers

function parseVersion(v: string): number[] {
  if (typeof v !== "string" || !/^\d+(\.\d+){0,3}$/.test(v)) {
    throw new CommitmentInputError("starknet_version", `expected a dotted version like "0.13.4", got ${JSON.stringify(v)}`);
  }
  return v.split(".").map(Number);
}

function indexTrieRoot(leaves: Felt[]): Promise<Felt> {
  // Zero-valued leaves cannot occur in practice (Poseidon outputs), and the trie drops zeros.
  return computeRootFromLeaves(COMMITMENT_TRIE_HEIGHT, "poseidon", leaves.map((v, i) => [BigInt(i), v] as [Felt, Felt]), hashNodeTableOffThread);
}

function pushSortedPairs(out: Felt[], map: ReadonlyMap<Felt, Felt>, field: string): void {
  const entries = [...map.entries()].sort((a, b) => cmp(a[0], b[0]));
  out.push(BigInt(entries.length));
  for (const [k, v] of entries) {
    checkFelt(k, `${field}.key`);
    checkFelt(v, `${field}.value`);
    out.push(k, v);
  }
}

function cmp(a: Felt, b: Felt): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkFelt(v: bigint, field: string): void {
  if (typeof v !== "bigint" || v < 0n || v >= P) throw new CommitmentInputError(field, "not a felt (must be a bigint in [0, P))");
}

function checkFelts(vs: readonly Felt[], field: string): void {
  for (let i = 0; i < vs.length; i++) checkFelt(vs[i]!, `${field}[${i}]`);
}
