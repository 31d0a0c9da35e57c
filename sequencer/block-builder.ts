// Building a block, as a subsystem of its own: run ordered transactions against a pending
// state, compute the roots, the header and the chain records, then write it all in one
// atomic batch. It knows nothing of the RPC, the mempool or scheduling, so the sequencer
// and a cluster follower re-executing a leader's block use the same code and get the same
// roots and block hash from the same inputs.
//
//   const builder = new BlockBuilder({ world, chain, registry, chainId, feeTokenAddress });
//   const candidate = await builder.execute(inputs, txs);   // nothing written yet
//   //  candidate.blockHash / .stateRoot: compare with a leader's; .dropped: refused txs
//   await builder.commit(candidate, extraOps);               // one batch, head last
//
// To re-execute a stored block n (a follower, a check): inputs = blockInputsOf(header) and
// txs = the block's stored transactions through intake (reexecutionOf does both).
//
// `inputs` are the header fields that are not derived from the transactions: number,
// timestamp, gas prices and sequencer address. A transaction the block must refuse (its
// pre-check failed against the state left by the transactions before it) is listed in
// `dropped` with its typed error and changes nothing; a follower treats any drop as a
// mismatch. A candidate is discarded by not committing it; committing one whose parent is
// no longer the head is refused by the world state.
//
// Never reads the clock: the timestamp is an input.

import { erc20BalanceOf } from "../contracts/erc20.js";
import type { ClassRegistry } from "../contracts/runtime/class-registry.js";
import { RpcError } from "../contracts/runtime/errors.js";
import type { GasPrices } from "../contracts/runtime/gas.js";
import { executeTransaction, type BlockContext, type TransactionExecution } from "../contracts/runtime/transaction-executor.js";
import { computeBlockHeader, CURRENT_STARKNET_VERSION, type BlockHeader } from "../state/block-hash.js";
import type { Felt } from "../state/felt.js";
import type { KvOp } from "../state/kv-store.js";
import type { StateDiff } from "../state/state-diff.js";
import type { PreparedCommit, WorldState } from "../state/world-state.js";
import type { BlockRecord, ChainStore, TxRecord } from "./chain-store.js";
import { PendingState } from "./pending-state.js";
import { blockRecordOf, txRecordOf } from "./rpc-json.js";
import type { StoredBlock, StoredTx } from "./stored-records.js";
import { intake, type IntakeTx } from "./tx-intake.js";

/** Header fields a block is built from (everything else follows from the transactions). */
export interface BlockInputs {
  number: number;
  /** Seconds since the epoch. */
  timestamp: number;
  gasPrices: GasPrices;
  /** The WEI prices of the header (default: `gasPrices`); fees are paid in STRK. */
  gasPricesWei?: GasPrices;
  sequencerAddress: Felt;
  /** Devnet impersonation: senders whose transactions run without __validate__ (default none). */
  unvalidatedSenders?: ReadonlySet<Felt> | "all";
}

export interface IncludedTx {
  tx: IntakeTx;
  exec: TransactionExecution;
}

export interface DroppedTx {
  tx: IntakeTx;
  /** Why the block refused it (the spec's typed error). */
  error: RpcError;
}

/** A block executed and hashed, not yet written. */
export interface CandidateBlock {
  readonly inputs: BlockInputs;
  readonly included: readonly IncludedTx[];
  readonly dropped: readonly DroppedTx[];
  /**
   * How many of the given transactions the block took (included or dropped), in order: all
   * of them unless the execution budget ran out first; the rest were not looked at.
   */
  readonly considered: number;
  /** What the chain store writes (typed). */
  readonly stored: { readonly block: StoredBlock; readonly txs: readonly StoredTx[] };
  /** The same, rendered as the RPC returns it (for caches and listeners). */
  readonly block: BlockRecord;
  readonly txs: readonly TxRecord[];
  readonly blockHash: Felt;
  readonly stateRoot: Felt;
  readonly prepared: PreparedCommit;
}

export interface BlockBuilderDeps {
  world: WorldState;
  chain: ChainStore;
  registry: ClassRegistry;
  chainId: Felt;
  feeTokenAddress: Felt;
}

/**
 * The header inputs a block was built from: every header field `seal` does not derive from
 * the transactions and the state (both price tables: the WEI prices are hashed too).
 * Impersonation is not in the header: a block that skipped validation cannot be re-executed
 * from its header alone.
 */
export function blockInputsOf(header: BlockHeader): BlockInputs {
  return {
    number: header.blockNumber,
    timestamp: header.timestamp,
    gasPrices: { l1_gas: header.l1GasPrice.priceInFri, l1_data_gas: header.l1DataGasPrice.priceInFri, l2_gas: header.l2GasPrice.priceInFri },
    gasPricesWei: { l1_gas: header.l1GasPrice.priceInWei, l1_data_gas: header.l1DataGasPrice.priceInWei, l2_gas: header.l2GasPrice.priceInWei },
    sequencerAddress: header.sequencerAddress,
  };
}

/** What re-executing a stored block needs: its inputs and its transactions in order. */
export function reexecutionOf(block: StoredBlock, txs: readonly StoredTx[], chainId: Felt): { inputs: BlockInputs; txs: IntakeTx[] } {
  if (txs.length !== block.txHashes.length || txs.some((t, i) => t.hash !== block.txHashes[i])) {
    throw new Error(`invariant violated: transactions do not match block ${block.header.blockNumber}`);
  }
  return { inputs: blockInputsOf(block.header), txs: txs.map((t) => intake(t.tx, chainId)) };
}

export class BlockBuilder {
  constructor(private readonly deps: BlockBuilderDeps) {}

  /** What the executor sees of a block with these inputs. */
  context(inputs: Pick<BlockInputs, "number" | "timestamp" | "gasPrices" | "sequencerAddress">): BlockContext {
    return {
      blockNumber: BigInt(inputs.number),
      blockTimestamp: BigInt(inputs.timestamp),
      sequencerAddress: inputs.sequencerAddress,
      chainId: this.deps.chainId,
      gasPrices: inputs.gasPrices,
      feeTokenAddress: this.deps.feeTokenAddress,
      feeBalanceOf: erc20BalanceOf,
    };
  }

  /**
   * Execute `txs` in order on top of the head and seal the result. A transaction whose
   * pre-check or validation fails is dropped; any other exception is a bug and propagates.
   * `budget`: stop taking transactions once executing them has taken `ms` by `now()` (at
   * least one is taken), so a block's execution stalls the event loop for a bounded time
   * whatever the backlog; `considered` says how many were taken. With `budget.sliceMs`, the
   * executing yields to the event loop after each slice that long, so requests are answered
   * while a big block executes (the block sees only its own pending state: nothing it reads
   * can change meanwhile, since blocks, rollbacks and resets wait for the production lock).
   * Re-execution (followers, replay) passes no budget: it takes the block's list whole.
   */
  async execute(inputs: BlockInputs, txs: readonly IntakeTx[], budget?: { ms: number; now: () => number; sliceMs?: number }): Promise<CandidateBlock> {
    const ctx = this.context(inputs);
    const pending = new PendingState(this.deps.world);
    const included: IncludedTx[] = [];
    const dropped: DroppedTx[] = [];
    const deadline = budget ? budget.now() + budget.ms : Infinity;
    let sliceEnd = budget?.sliceMs !== undefined ? budget.now() + budget.sliceMs : Infinity;
    let considered = 0;
    for (const tx of txs) {
      if (considered > 0 && budget) {
        const now = budget.now();
        if (now >= deadline) break;
        if (now >= sliceEnd) {
          await new Promise<void>((r) => setImmediate(r));
          sliceEnd = budget.now() + budget.sliceMs!;
        }
      }
      considered++;
      let exec: TransactionExecution;
      try {
        const skipValidate = inputs.unvalidatedSenders === "all" || (inputs.unvalidatedSenders?.has(tx.sender) ?? false);
        exec = executeTransaction(pending, this.deps.registry, ctx, tx.exec, { skipValidate });
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        dropped.push({ tx, error: e });
        continue;
      }
      pending.apply(exec.stateDiff);
      included.push({ tx, exec });
    }
    return this.seal(inputs, included, dropped, pending.diff, considered);
  }

  /** A block with no transactions whose state change is `diff` (genesis). */
  fromDiff(inputs: BlockInputs, diff: StateDiff): Promise<CandidateBlock> {
    return this.seal(inputs, [], [], diff, 0);
  }

  /**
   * Write the candidate in one atomic batch with `extraOps` (e.g. the mempool's WAL
   * deletions), head pointer last; then cache its records. Throws if the write fails
   * (nothing is then written, memory stays at the old head).
   */
  async commit(candidate: CandidateBlock, extraOps: readonly KvOp[] = []): Promise<void> {
    const ops = [...this.deps.chain.opsForBlock(candidate.stored.block, candidate.stored.txs), ...extraOps];
    await this.deps.world.commit(candidate.prepared, { blockHash: candidate.blockHash, extraOps: ops });
    this.deps.chain.cacheBlock(candidate.block, candidate.txs);
  }

  private async seal(inputs: BlockInputs, included: IncludedTx[], dropped: DroppedTx[], diff: StateDiff, considered: number): Promise<CandidateBlock> {
    const { world } = this.deps;
    const parent = world.head();
    if (inputs.number !== world.nextBlockNumber()) throw new Error(`invariant violated: block ${inputs.number} built on head ${parent?.blockNumber ?? "none"}`);
    const prepared = await world.prepareCommit(inputs.number, diff);
    const prices = inputs.gasPrices;
    const wei = inputs.gasPricesWei ?? prices;
    const header = await computeBlockHeader({
      blockNumber: inputs.number,
      parentHash: parent?.blockHash ?? 0n,
      stateRoot: prepared.roots.globalRoot,
      sequencerAddress: inputs.sequencerAddress,
      timestamp: inputs.timestamp,
      l1DaMode: "BLOB",
      l1GasPrice: { priceInFri: prices.l1_gas, priceInWei: wei.l1_gas },
      l1DataGasPrice: { priceInFri: prices.l1_data_gas, priceInWei: wei.l1_data_gas },
      l2GasPrice: { priceInFri: prices.l2_gas, priceInWei: wei.l2_gas },
      starknetVersion: CURRENT_STARKNET_VERSION,
      transactions: included.map(({ tx, exec }) => ({
        hash: tx.hash,
        signature: tx.exec.signature,
        events: exec.events.map((e) => ({ fromAddress: e.from_address, keys: e.keys, data: e.data })),
        actualFee: exec.actualFee,
        messagesSent: [],
        ...(exec.revertReason !== undefined ? { revertReason: exec.revertReason } : {}),
        l1Gas: exec.gas.l1_gas,
        l1DataGas: exec.gas.l1_data_gas,
      })),
      stateDiff: prepared.diff,
    });
    const storedBlock: StoredBlock = {
      header,
      txHashes: included.map(({ tx }) => tx.hash),
      stateDiff: prepared.diff,
      oldRoot: parent?.roots.globalRoot ?? 0n,
    };
    const storedTxs: StoredTx[] = included.map(({ tx, exec }, index) => ({ hash: tx.hash, tx: tx.broadcast, blockNumber: inputs.number, index, exec }));
    return {
      inputs,
      included,
      dropped,
      considered,
      stored: { block: storedBlock, txs: storedTxs },
      block: blockRecordOf(storedBlock),
      txs: storedTxs.map(txRecordOf),
      blockHash: header.blockHash,
      stateRoot: prepared.roots.globalRoot,
      prepared,
    };
  }
}
