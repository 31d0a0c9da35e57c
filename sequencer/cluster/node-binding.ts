// Binds a PerpchainNode to its ClusterController, both ways:
//  - the node → cluster gate (NodeClusterGate): may this node write now; commit a built block
//    through etcd before the local batch; replicate an admitted transaction before its hash is
//    returned; run an operator rollback as a cluster rollback;
//  - the cluster → node port (ClusterNodePort): local head, apply a block from etcd (or a
//    peer) by re-executing it, roll back locally, start/stop production, adopt replicated
//    txs, list the txs a rollback requeues.
// Also the translation between a built block and its etcd record (ClusterBlockRecord: every
// header input, typed transactions), and the local blocks a peer serves (localClusterBlocks).
//
// Never decides roles (the controller does) and never writes etcd (the coordinator does).

import type { GasPrices } from "../../contracts/runtime/gas.js";
import { toHex, type Felt } from "../../state/felt.js";
import { blockInputsOf, type BlockInputs, type CandidateBlock } from "../block-builder.js";
import { NotLeaderError } from "../errors.js";
import type { BroadcastedTxn } from "../rpc/params.js";
import { broadcastJson } from "../tx-intake.js";
import type { NodeClusterGate, PerpchainNode } from "../node.js";
import type { ClusterBlock, ClusterBlockRecord, ClusterHeaderInputs, GasPricesHex, TxBatchRecord } from "./cluster-records.js";
import { BlockMismatchError, type ClusterController, type ClusterNodePort } from "./cluster-controller.js";

/** The etcd record of a built block: header inputs, its transactions in order (typed), results. */
export function blockRecordOf(candidate: CandidateBlock, token: string): ClusterBlockRecord {
  const i = candidate.inputs;
  return {
    block_number: i.number,
    block_hash: toHex(candidate.blockHash),
    parent_hash: candidate.block.header.parent_hash as string,
    state_root: toHex(candidate.stateRoot),
    timestamp_s: i.timestamp,
    token,
    header_inputs: headerInputsOf(i),
    txs: candidate.included.map((i) => i.tx.broadcast),
  };
}

/** Every BlockInputs field besides number and timestamp, as the record carries it. */
function headerInputsOf(i: BlockInputs): ClusterHeaderInputs {
  const hex = (p: GasPrices): GasPricesHex => ({ l1_gas: toHex(p.l1_gas), l1_data_gas: toHex(p.l1_data_gas), l2_gas: toHex(p.l2_gas) });
  const out: ClusterHeaderInputs = { sequencer_address: toHex(i.sequencerAddress), gas_prices_fri: hex(i.gasPrices), gas_prices_wei: hex(i.gasPricesWei ?? i.gasPrices) };
  const u = i.unvalidatedSenders;
  if (u === "all") out.unvalidated_senders = "all";
  else if (u !== undefined && u.size > 0) out.unvalidated_senders = [...u].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(toHex);
  return out;
}

/** The builder inputs of a block record (the inverse of blockRecordOf's header_inputs). */
export function blockInputsOfRecord(r: ClusterBlock): BlockInputs {
  const h = r.header_inputs;
  const prices = (p: GasPricesHex): GasPrices => ({ l1_gas: BigInt(p.l1_gas), l1_data_gas: BigInt(p.l1_data_gas), l2_gas: BigInt(p.l2_gas) });
  const u = h.unvalidated_senders;
  return {
    number: r.block_number,
    timestamp: r.timestamp_s,
    gasPrices: prices(h.gas_prices_fri),
    gasPricesWei: prices(h.gas_prices_wei),
    sequencerAddress: BigInt(h.sequencer_address),
    ...(u === "all" ? { unvalidatedSenders: "all" as const } : u !== undefined ? { unvalidatedSenders: new Set(u.map((a) => BigInt(a))) } : {}),
  };
}

/** A ClusterBlock as JSON-RPC carries it: the transactions as broadcast JSON. */
export type ClusterBlockJson = Omit<ClusterBlock, "txs"> & { txs: Array<Record<string, unknown>> };

/**
 * Blocks from..from+count-1 of the local chain (up to the head) as a peer that etcd can no
 * longer feed re-executes them (appchain_getClusterBlocks). Impersonation is not stored
 * locally: a block that ran a transaction without __validate__ (an --in-memory devnet cheat)
 * does not re-execute from this (the follower halts on it).
 */
export async function localClusterBlocks(node: PerpchainNode, from: number, count: number): Promise<ClusterBlockJson[]> {
  const out: ClusterBlockJson[] = [];
  for (let n = from; n < from + count && n <= node.headNumber(); n++) {
    const stored = await node.chain.getStoredBlock(n);
    if (stored === undefined) throw new Error(`invariant violated: block ${n} below the head is missing`);
    const h = stored.header;
    const txs = await node.chain.getStoredTxs(stored.txHashes);
    out.push({
      block_number: n,
      block_hash: toHex(h.blockHash),
      parent_hash: toHex(h.parentHash),
      state_root: toHex(h.stateRoot),
      timestamp_s: h.timestamp,
      header_inputs: headerInputsOf(blockInputsOf(h)),
      txs: txs.map((t) => broadcastJson(t.tx)),
    });
  }
  return out;
}

/**
 * The gate the node is opened with. Until `bind` it refuses to write (the role is not known
 * yet), so a restarted node never produces a block from its recovered mempool on its own.
 */
export class ClusterGate implements NodeClusterGate {
  private ctl: ClusterController | null = null;
  private writerToken: string | null = null;

  bind(ctl: ClusterController): void {
    this.ctl = ctl;
  }

  /** Set by the port when the controller makes this node the writer (or stops it). */
  setWriter(token: string | null): void {
    this.writerToken = token;
  }

  canWrite(): boolean {
    return this.writerToken !== null && this.ctl?.role === "leader";
  }

  notLeader(what: string): NotLeaderError {
    const role = this.ctl?.role ?? "starting";
    // Still "leader" without the right to write: a step-down (or a cluster rollback) is under way.
    if (role === "leader") return new NotLeaderError(`${what}: this node is handing over or pausing its leadership (step-down or cluster rollback in progress)`);
    return new NotLeaderError(`${what}: this node is ${role} in the cluster`, this.ctl?.leaderId ?? undefined);
  }

  async commitBlock(candidate: CandidateBlock): Promise<void> {
    const token = this.writerToken;
    if (this.ctl === null || token === null) throw this.notLeader(`block ${candidate.inputs.number}`);
    await this.ctl.commitBlock(blockRecordOf(candidate, token));
  }

  replicateTx(hash: Felt, tx: BroadcastedTxn): Promise<void> {
    if (this.ctl === null) return Promise.reject(this.notLeader("transaction"));
    return this.ctl.replicateTx(toHex(hash), tx);
  }

  rollback<T>(target: number, policy: "requeue" | "drop", local: () => Promise<T>): Promise<T> {
    if (this.ctl === null) return Promise.reject(this.notLeader("rollback"));
    return this.ctl.rollback(target, `appchain_rollback to block ${target} (${policy})`, local, { requeue: policy === "requeue" });
  }
}

/** The controller's view of the node. */
export class NodeClusterPort implements ClusterNodePort {
  constructor(
    private readonly node: PerpchainNode,
    private readonly gate: ClusterGate,
  ) {}

  localHead(): { number: number; hash: string } {
    const h = this.node.world.head()!;
    return { number: h.blockNumber, hash: toHex(h.blockHash) };
  }

  async localBlockHash(n: number): Promise<string | undefined> {
    return (await this.node.chain.getBlock(n))?.header.block_hash;
  }

  applyBlock(record: ClusterBlock): Promise<void> {
    let inputs: BlockInputs;
    try {
      inputs = blockInputsOfRecord(record);
    } catch (e) {
      return Promise.reject(new BlockMismatchError(record.block_number, `its header inputs are unusable: ${(e as Error).message}`));
    }
    return this.node.applyClusterBlock(record, inputs);
  }

  async rollbackLocal(target: number): Promise<void> {
    await this.node.rollbackLocally(target, "drop");
  }

  setWriter(token: string | null): void {
    this.gate.setWriter(token);
    this.node.clusterWriterChanged(token);
  }

  quiesce(): Promise<void> {
    return this.node.quiesce();
  }

  adoptTxs(txs: TxBatchRecord["txs"]): Promise<number> {
    // Through the node's submission path, which parses (and so checks) the broadcast JSON.
    return this.node.adoptReplicatedTxs(txs.map((t) => broadcastJson(t.tx)));
  }

  async txSettled(hash: string): Promise<boolean> {
    return this.node.txSettled(BigInt(hash));
  }

  async txsAbove(target: number): Promise<TxBatchRecord["txs"]> {
    const out: TxBatchRecord["txs"] = [];
    for (let n = target + 1; n <= this.node.headNumber(); n++) {
      const block = await this.node.chain.getStoredBlock(n);
      if (block === undefined) throw new Error(`invariant violated: block ${n} below the head is missing`);
      for (const t of await this.node.chain.getStoredTxs(block.txHashes)) out.push({ hash: toHex(t.hash), tx: t.tx });
    }
    return out;
  }
}
