// Starknet block hash (0.13.2+) and the full block header the RPC returns.
//
// Formula (starkware-libs/sequencer crates/starknet_api/src/block_hash/block_hash_calculator.rs;
// eqlabs/pathfinder crates/block-commitments/src/lib.rs compute_final_hash_v0/v1):
//   block_hash = poseidon_many([
//     prefix, number, state_root, sequencer_address, timestamp, concatenated_counts,
//     state_diff_commitment, transaction_commitment, event_commitment, receipt_commitment,
//     gas_prices..., starknet_version (ASCII felt), 0, parent_hash])
//   0.13.2 ≤ v < 0.13.4: prefix "STARKNET_BLOCK_HASH0",
//                        gas_prices = l1_wei, l1_fri, l1_data_wei, l1_data_fri (4 felts)
//   v ≥ 0.13.4 (incl. 0.14): prefix "STARKNET_BLOCK_HASH1",
//                        gas_prices = poseidon("STARKNET_GAS_PRICES0", l1_wei, l1_fri,
//                                              l1_data_wei, l1_data_fri, l2_wei, l2_fri) (1 felt)
// Older versions (Pedersen-based) are not supported: this chain starts at the current formula.
// Never reads the clock, randomness or the environment.

import { P, encodeShortString, type Felt } from "./felt.js";
import { poseidonMany } from "./crypto/hash.js";
import {
  CommitmentInputError,
  compareStarknetVersions,
  blockCommitments,
  concatenatedCounts,
  stateDiffCommitmentAsync,
  stateDiffLength,
  type EventForCommitment,
  type L1DataAvailabilityMode,
  type ReceiptForCommitment,
  type StateDiffForCommitment,
  type TransactionForCommitment,
} from "./commitments.js";

export const BLOCK_HASH_PREFIX_V0: Felt = encodeShortString("STARKNET_BLOCK_HASH0");
export const BLOCK_HASH_PREFIX_V1: Felt = encodeShortString("STARKNET_BLOCK_HASH1");
export const GAS_PRICES_PREFIX: Felt = encodeShortString("STARKNET_GAS_PRICES0");

/** Version our blocks are produced under (0.14 rules for hashes and the global root). */
export const CURRENT_STARKNET_VERSION = "0.14.0";

export interface GasPrice {
  priceInWei: bigint;
  priceInFri: bigint;
}

/** Every header field that enters the block hash. */
export interface BlockHashInput {
  blockNumber: number;
  parentHash: Felt;
  stateRoot: Felt;
  sequencerAddress: Felt;
  /** Seconds since the epoch (given by the caller; never read here). */
  timestamp: number;
  transactionCount: number;
  eventCount: number;
  stateDiffLength: number;
  l1DaMode: L1DataAvailabilityMode;
  stateDiffCommitment: Felt;
  transactionCommitment: Felt;
  eventCommitment: Felt;
  receiptCommitment: Felt;
  l1GasPrice: GasPrice;
  l1DataGasPrice: GasPrice;
  /** Hashed from 0.13.4 on. */
  l2GasPrice: GasPrice;
  starknetVersion: string;
}

export function blockHash(h: BlockHashInput): Felt {
  const v1 = isBlockHashV1(h.starknetVersion);
  checkFelt(h.parentHash, "parent_hash");
  checkFelt(h.stateRoot, "state_root");
  checkFelt(h.sequencerAddress, "sequencer_address");
  for (const [name, value] of [
    ["state_diff_commitment", h.stateDiffCommitment],
    ["transaction_commitment", h.transactionCommitment],
    ["event_commitment", h.eventCommitment],
    ["receipt_commitment", h.receiptCommitment],
  ] as const) checkFelt(value, name);
  return poseidonMany([
    v1 ? BLOCK_HASH_PREFIX_V1 : BLOCK_HASH_PREFIX_V0,
    nonNegative(h.blockNumber, "block_number"),
    h.stateRoot,
    h.sequencerAddress,
    nonNegative(h.timestamp, "timestamp"),
    concatenatedCounts(h.transactionCount, h.eventCount, h.stateDiffLength, h.l1DaMode),
    h.stateDiffCommitment,
    h.transactionCommitment,
    h.eventCommitment,
    h.receiptCommitment,
    ...gasPricesElements(h, v1),
    starknetVersionFelt(h.starknetVersion),
    0n,
    h.parentHash,
  ]);
}

/** poseidon("STARKNET_GAS_PRICES0", l1 wei, l1 fri, l1 data wei, l1 data fri, l2 wei, l2 fri). */
export function gasPricesHash(l1: GasPrice, l1Data: GasPrice, l2: GasPrice): Felt {
  return poseidonMany([GAS_PRICES_PREFIX, ...priceFelts(l1, "l1_gas_price"), ...priceFelts(l1Data, "l1_data_gas_price"), ...priceFelts(l2, "l2_gas_price")]);
}

/** The version string as an ASCII felt ("0.13.4" → 0x302e31332e34). */
export function starknetVersionFelt(version: string): Felt {
  compareStarknetVersions(version, "0"); // validates the form
  return encodeShortString(version);
}

// --------------------------------------------------------------------------------------- full header

/** One executed transaction as the header commitments need it. */
export interface ExecutedTransactionForBlock {
  hash: Felt;
  signature: readonly Felt[];
  /** Events in emission order (from_address, keys, data); the tx hash is added here. */
  events: ReadonlyArray<Omit<EventForCommitment, "transactionHash">>;
  actualFee: bigint;
  messagesSent: ReceiptForCommitment["messagesSent"];
  revertReason?: string;
  l1Gas: bigint;
  l1DataGas: bigint;
}

export interface BlockHeaderInput {
  blockNumber: number;
  parentHash: Felt;
  /** Global state root after this block. */
  stateRoot: Felt;
  sequencerAddress: Felt;
  timestamp: number;
  l1DaMode: L1DataAvailabilityMode;
  l1GasPrice: GasPrice;
  l1DataGasPrice: GasPrice;
  l2GasPrice: GasPrice;
  /** Defaults to CURRENT_STARKNET_VERSION. */
  starknetVersion?: string;
  transactions: readonly ExecutedTransactionForBlock[];
  stateDiff: StateDiffForCommitment;
}

/** Every header field (what starknet_getBlockWith* returns plus the commitments) and the hash. */
export interface BlockHeader extends BlockHashInput {
  blockHash: Felt;
}

/** Computes all commitments, counts and the block hash of a block. */
export async function computeBlockHeader(input: BlockHeaderInput): Promise<BlockHeader> {
  const starknetVersion = input.starknetVersion ?? CURRENT_STARKNET_VERSION;
  isBlockHashV1(starknetVersion); // reject unsupported versions before hashing anything
  const txs: TransactionForCommitment[] = input.transactions.map((t) => ({ hash: t.hash, signature: t.signature }));
  const events: EventForCommitment[] = input.transactions.flatMap((t) => t.events.map((e) => ({ ...e, transactionHash: t.hash })));
  const receipts: ReceiptForCommitment[] = input.transactions.map((t) => ({
    transactionHash: t.hash,
    actualFee: t.actualFee,
    messagesSent: t.messagesSent,
    ...(t.revertReason !== undefined ? { revertReason: t.revertReason } : {}),
    l1Gas: t.l1Gas,
    l1DataGas: t.l1DataGas,
  }));
  const [c, stateDiffCommitment] = await Promise.all([blockCommitments(txs, events, receipts, starknetVersion), stateDiffCommitmentAsync(input.stateDiff)]);
  const fields: BlockHashInput = {
    blockNumber: input.blockNumber,
    parentHash: input.parentHash,
    stateRoot: input.stateRoot,
    sequencerAddress: input.sequencerAddress,
    timestamp: input.timestamp,
    transactionCount: txs.length,
    eventCount: events.length,
    stateDiffLength: stateDiffLength(input.stateDiff),
    l1DaMode: input.l1DaMode,
    stateDiffCommitment,
    transactionCommitment: c.transactionCommitment,
    eventCommitment: c.eventCommitment,
    receiptCommitment: c.receiptCommitment,
    l1GasPrice: input.l1GasPrice,
    l1DataGasPrice: input.l1DataGasPrice,
    l2GasPrice: input.l2GasPrice,
    starknetVersion,
  };
  return { ...fields, blockHash: blockHash(fields) };
}

// --------------------------------------------------------------------------------------- helpers

function isBlockHashV1(version: string): boolean {
  if (compareStarknetVersions(version, "0.13.2") < 0) {
    throw new CommitmentInputError("starknet_version", `block hashes before Starknet 0.13.2 are not supported (got ${version})`);
  }
  return compareStarknetVersions(version, "0.13.4") >= 0;
}

function gasPricesElements(h: BlockHashInput, v1: boolean): Felt[] {
  if (v1) return [gasPricesHash(h.l1GasPrice, h.l1DataGasPrice, h.l2GasPrice)];
  return [...priceFelts(h.l1GasPrice, "l1_gas_price"), ...priceFelts(h.l1DataGasPrice, "l1_data_gas_price")];
}

function priceFelts(p: GasPrice, field: string): [Felt, Felt] {
  if (p === undefined || p === null) throw new CommitmentInputError(field, "missing");
  const U128 = 1n << 128n;
  for (const [k, v] of [["price_in_wei", p.priceInWei], ["price_in_fri", p.priceInFri]] as const) {
    if (typeof v !== "bigint" || v < 0n || v >= U128) throw new CommitmentInputError(`${field}.${k}`, "expected a u128 bigint");
  }
  return [p.priceInWei, p.priceInFri];
}

function nonNegative(n: number, field: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new CommitmentInputError(field, `expected a non-negative integer, got ${n}`);
  return BigInt(n);
}

function checkFelt(v: bigint, field: string): void {
  if (typeof v !== "bigint" || v < 0n || v >= P) throw new CommitmentInputError(field, "not a felt (must be a bigint in [0, P))");
}
