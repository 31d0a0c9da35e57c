// Typed records → the JSON shapes of the Starknet RPC spec (0.10.3): block headers, state
// diffs, transactions, receipts, traces, and the appchain's snapshots. The store keeps
// typed values (stored-records.ts); this module renders them when they are read (and once
// at block time for the caches and listeners), so a spec bump changes this file, not the
// data on disk. Pure: no I/O, no clock.

import type { TransactionExecution } from "../contracts/runtime/transaction-executor.js";
import type { BlockHeader } from "../state/block-hash.js";
import { toHex, type Felt } from "../state/felt.js";
import type { StateDiff } from "../state/state-diff.js";
import type { BlockHeaderJson, BlockRecord, EventJson, TxRecord } from "./chain-store.js";
import type { Snapshot } from "./snapshots.js";
import type { StoredBlock, StoredSnapshot, StoredTx } from "./stored-records.js";
import { transactionJson } from "./tx-intake.js";

type TxType = "INVOKE" | "DEPLOY_ACCOUNT";

/** A stored block as the RPC layer reads it. */
export function blockRecordOf(b: StoredBlock): BlockRecord {
  return { header: blockJson(b.header), txHashes: b.txHashes.map(toHex), stateDiff: stateDiffJson(b.stateDiff), oldRoot: toHex(b.oldRoot) };
}

/**
 * A stored transaction as the RPC layer reads it. Its JSON (transaction, receipt, trace) is
 * rendered on first read, once: a block's records are made for every transaction, most of
 * which nobody asks about over RPC.
 */
export function txRecordOf(t: StoredTx): TxRecord {
  return new LazyTxRecord(t);
}

/**
 * One class for every record, its lazy fields as getters on the prototype: accessors defined
 * on each object (with closures of its own) gave every record a hidden class of its own, so
 * the code reading records went megamorphic and each block made hundreds of V8 maps. JSON
 * (toJSON) and the fields read are as before.
 */
class LazyTxRecord implements TxRecord {
  readonly blockNumber: number;
  readonly index: number;
  readonly #stored: StoredTx;
  #transaction: TxRecord["transaction"] | undefined;
  #receipt: TxRecord["receipt"] | undefined;
  #trace: unknown;

  constructor(t: StoredTx) {
    this.blockNumber = t.blockNumber;
    this.index = t.index;
    this.#stored = t;
  }

  get transaction(): TxRecord["transaction"] {
    return (this.#transaction ??= transactionJson(this.#stored.tx, this.#stored.hash));
  }

  get receipt(): TxRecord["receipt"] {
    return (this.#receipt ??= receiptJson(this.#stored.hash, this.#stored.tx.type, this.#stored.exec));
  }

  get trace(): unknown {
    return (this.#trace ??= traceJson(this.#stored.tx.type, this.#stored.exec));
  }

  toJSON(): Pick<TxRecord, "blockNumber" | "index" | "transaction" | "receipt" | "trace"> {
    return { blockNumber: this.blockNumber, index: this.index, transaction: this.transaction, receipt: this.receipt, trace: this.trace };
  }
}

/** appchain_* snapshot JSON. */
export function snapshotJson(s: StoredSnapshot): Snapshot {
  return {
    name: s.name,
    block_number: s.blockNumber,
    block_hash: toHex(s.blockHash),
    global_root: toHex(s.globalRoot),
    contracts_root: toHex(s.contractsRoot),
    classes_root: toHex(s.classesRoot),
    created_at: s.createdAt,
  };
}

const price = (p: { priceInFri: bigint; priceInWei: bigint }) => ({ price_in_fri: toHex(p.priceInFri), price_in_wei: toHex(p.priceInWei) });

export function blockJson(h: BlockHeader): BlockHeaderJson {
  return {
    block_hash: toHex(h.blockHash),
    parent_hash: toHex(h.parentHash),
    block_number: h.blockNumber,
    new_root: toHex(h.stateRoot),
    timestamp: h.timestamp,
    sequencer_address: toHex(h.sequencerAddress),
    l1_gas_price: price(h.l1GasPrice),
    l2_gas_price: price(h.l2GasPrice),
    l1_data_gas_price: price(h.l1DataGasPrice),
    l1_da_mode: h.l1DaMode,
    starknet_version: h.starknetVersion,
    event_commitment: toHex(h.eventCommitment),
    transaction_commitment: toHex(h.transactionCommitment),
    receipt_commitment: toHex(h.receiptCommitment),
    state_diff_commitment: toHex(h.stateDiffCommitment),
    event_count: h.eventCount,
    transaction_count: h.transactionCount,
    state_diff_length: h.stateDiffLength,
  };
}

/** STATE_DIFF of starknet_getStateUpdate. */
export function stateDiffJson(d: StateDiff) {
  return {
    storage_diffs: [...d.storage].map(([address, writes]) => ({
      address: toHex(address),
      storage_entries: [...writes].map(([key, value]) => ({ key: toHex(key), value: toHex(value) })),
    })),
    deprecated_declared_classes: [] as string[],
    declared_classes: [...d.declared].map(([c, cc]) => ({ class_hash: toHex(c), compiled_class_hash: toHex(cc) })),
    deployed_contracts: [...d.deployed].map(([address, classHash]) => ({ address: toHex(address), class_hash: toHex(classHash) })),
    replaced_classes: [] as Array<{ contract_address: string; class_hash: string }>,
    nonces: [...d.nonces].map(([contract_address, nonce]) => ({ contract_address: toHex(contract_address), nonce: toHex(nonce) })),
  };
}

export function eventsJson(events: TransactionExecution["events"]): EventJson[] {
  return events.map((e) => ({ from_address: toHex(e.from_address), keys: e.keys.map(toHex), data: e.data.map(toHex) }));
}

/** Receipt without block_hash / block_number (added when read). */
export function receiptJson(hash: Felt, type: TxType, exec: TransactionExecution): TxRecord["receipt"] {
  const r: TxRecord["receipt"] = {
    type,
    transaction_hash: toHex(hash),
    actual_fee: { amount: toHex(exec.actualFee), unit: "FRI" },
    execution_status: exec.status,
    finality_status: "ACCEPTED_ON_L2",
    messages_sent: [],
    events: eventsJson(exec.events),
    execution_resources: { l1_gas: Number(exec.gas.l1_gas), l1_data_gas: Number(exec.gas.l1_data_gas), l2_gas: Number(exec.gas.l2_gas) },
  };
  if (exec.revertReason !== undefined) r.revert_reason = exec.revertReason;
  if (type === "DEPLOY_ACCOUNT") r.contract_address = toHex(exec.senderAddress);
  return r;
}

/** FUNCTION_INVOCATION and TRANSACTION_TRACE with felts as hex. */
export function traceJson(type: TxType, exec: TransactionExecution): unknown {
  const t = exec.trace;
  const out: Record<string, unknown> = { type: t.type };
  if (t.validate_invocation) out.validate_invocation = invocationJson(t.validate_invocation);
  if (t.execute_invocation) out.execute_invocation = "revert_reason" in t.execute_invocation ? { revert_reason: t.execute_invocation.revert_reason } : invocationJson(t.execute_invocation);
  if (t.constructor_invocation) out.constructor_invocation = invocationJson(t.constructor_invocation);
  if (t.fee_transfer_invocation) out.fee_transfer_invocation = invocationJson(t.fee_transfer_invocation);
  out.state_diff = stateDiffJson(exec.stateDiff);
  out.execution_resources = { l1_gas: Number(exec.gas.l1_gas), l1_data_gas: Number(exec.gas.l1_data_gas), l2_gas: Number(exec.gas.l2_gas) };
  if (type === "DEPLOY_ACCOUNT" && !out.execute_invocation) delete out.execute_invocation;
  return out;
}

type Invocation = NonNullable<TransactionExecution["trace"]["validate_invocation"]>;

export function invocationJson(inv: Invocation): unknown {
  return {
    contract_address: toHex(inv.contract_address),
    entry_point_selector: toHex(inv.entry_point_selector),
    calldata: inv.calldata.map(toHex),
    caller_address: toHex(inv.caller_address),
    class_hash: toHex(inv.class_hash),
    entry_point_type: inv.entry_point_type,
    call_type: inv.call_type,
    result: inv.result.map(toHex),
    calls: inv.calls.map(invocationJson),
    events: inv.events.map((e) => ({ order: e.order, keys: e.keys.map(toHex), data: e.data.map(toHex) })),
    messages: [],
    execution_resources: { l1_gas: Number(inv.execution_resources.l1_gas), l2_gas: Number(inv.execution_resources.l2_gas) },
    is_reverted: inv.is_reverted,
  };
}

export function hex(v: Felt): string {
  return toHex(v);
}
