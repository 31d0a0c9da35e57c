// The cluster role of one node (DESIGN §11): starting → follower ⇄ leader, or halted.
//
//  - Follower: applies the blocks etcd holds, in order, by re-executing them (the node's
//    block builder) and requiring the same state root and block hash; a block whose parent
//    is not the local head is a reorg (cluster rollback): roll back to the common ancestor
//    and go on. A re-execution mismatch halts the node for good (no campaign, /ready 503).
//    A follower whose next blocks etcd pruned takes them from a peer's RPC (re-executed the
//    same way, anchored to etcd's lowest block), or halts saying what the operator must do.
//  - Campaign: only when there is no leader and the local head is the etcd head (the
//    coordinator's campaign transaction checks the head too).
//  - Leader: adopts the transactions the previous leader replicated but did not include,
//    then produces; each block goes through `commitBlock` (etcd first, local store after).
//    Periodic maintenance deletes settled transaction batches and prunes old blocks.
//  - Demotion (refused write, lost lease, step-down) stops production at once.
//
// The node is reached only through ClusterNodePort, so this file never touches the store,
// the mempool or the RPC server.

import { ClusterUnavailableError, NotLeaderError } from "../errors.js";
import type { BroadcastedTxn } from "../rpc/params.js";
import type { ClusterBlock, ClusterBlockRecord, MemberRecord, MemberRole, TxBatchRecord } from "./cluster-records.js";
import type { ClusterCoordinator, LeaderView } from "./coordinator.js";
import { MemberRegistry } from "./member-registry.js";
import { PEER_BLOCKS_MAX, peerBlockFetcher, type PeerBlockFetcher } from "./peer-blocks.js";
import { retentionFloor } from "./retention.js";
import { TxReplicator } from "./tx-replicator.js";

export type ClusterRole = MemberRole;

/** A block from etcd re-executed to a different state root or block hash. */
export class BlockMismatchError extends Error {
  constructor(
    readonly blockNumber: number,
    detail: string,
  ) {
    super(`block ${blockNumber} does not re-execute to the committed result: ${detail}`);
    this.name = "BlockMismatchError";
  }
}

/**
 * This node's head is below what etcd still holds (pruned while the node was away) and no
 * live member could serve the blocks in between.
 */
export class FollowerBehindPruningError extends Error {
  constructor(
    readonly localHead: number,
    readonly etcdLowest: number,
    readonly peerFailures: readonly string[],
  ) {
    super(
      `this node is at block ${localHead} but etcd keeps blocks from ${etcdLowest} up only (older ones were pruned), and ` +
        (peerFailures.length === 0 ? "no live member has blocks up to " + (etcdLowest - 1) : `no member could serve blocks ${localHead + 1}..${etcdLowest - 1} (${peerFailures.join("; ")})`) +
        `. Stop this node, replace its --db with a copy of a stopped member's --db (or a chain dump of a member), and start it again: it then follows from etcd.`,
    );
    this.name = "FollowerBehindPruningError";
  }
}

/** What the controller needs from the node. */
export interface ClusterNodePort {
  localHead(): { number: number; hash: string };
  localBlockHash(n: number): Promise<string | undefined>;
  /** Re-execute `block` (from etcd or a peer) on the local head; commit it iff root and hash match, else throw BlockMismatchError. */
  applyBlock(block: ClusterBlock): Promise<void>;
  /** Roll the local chain back to `target` (reverse diffs, reorg notifications). */
  rollbackLocal(target: number): Promise<void>;
  /** Produce blocks and admit transactions with this fencing token, or stop (null). */
  setWriter(token: string | null): void;
  /** Resolves when no block is being produced. */
  quiesce(): Promise<void>;
  /** Queue transactions a previous leader admitted (skipping known ones); returns how many were queued. */
  adoptTxs(txs: TxBatchRecord["txs"]): Promise<number>;
  /** True once `hash` is in a block or was dropped (its replicated copy may go). */
  txSettled(hash: string): Promise<boolean>;
  /** The transactions of the local blocks above `target`, in chain order (what a rollback to it requeues). */
  txsAbove(target: number): Promise<TxBatchRecord["txs"]>;
}

export interface ClusterControllerOptions {
  coordinator: ClusterCoordinator;
  port: ClusterNodePort;
  /** Blocks kept in etcd below the head even when every member has them (default 1000). */
  retentionBlocks?: number;
  /** Deepest local reorg a follower performs to follow a cluster rollback (default 10,000). */
  maxReorgBlocks?: number;
  /** Leader housekeeping period (default 2000 ms). */
  maintenanceEveryMs?: number;
  /** Blocks from a peer's RPC when etcd pruned them (default: appchain_getClusterBlocks over HTTP). */
  fetchPeerBlocks?: PeerBlockFetcher;
  /** Fallback poll of etcd besides the watch (default 500 ms). */
  pollMs?: number;
  now?: () => number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface ClusterStatus {
  node_id: string;
  role: ClusterRole;
  leader_id: string | null;
  token: string | null;
  head: { block_number: number; block_hash: string };
  members: Array<Pick<MemberRecord, "node_id" | "rpc_url" | "role" | "applied_height">>;
  halt_reason?: string;
}

/** Where a write goes: this node (it leads and may write) or the leader's RPC URL. */
export type WriteTarget = { local: true } | { local: false; url: string; token: string };

const APPLY_BATCH = 64;

export class ClusterController {
  private currentRole: ClusterRole = "starting";
  private haltReason: string | null = null;
  private leaderView: LeaderView | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private stopWatch: (() => Promise<void>) | null = null;
  private maintenanceTimer: NodeJS.Timeout | null = null;
  private campaignCooldownUntil = 0;
  private lastPublishAt = -Infinity;
  private verified: { number: number; hash: string } | null = null;
  /** Set on becoming the leader until its first block is committed (logged: takeover timing). */
  private leadingSince: { token: string; at: number } | null = null;
  private stopped = false;
  readonly members: MemberRegistry;
  readonly replicator: TxReplicator;
  readonly stats = { leaderChanges: 0, blocksApplied: 0, reorgs: 0, lastEtcdHead: 0 };
  private readonly roleListeners: Array<(role: ClusterRole) => void> = [];
  private readonly coordinator: ClusterCoordinator;
  private readonly port: ClusterNodePort;
  private readonly now: () => number;
  private readonly log: (event: string, fields?: Record<string, unknown>) => void;

  constructor(private readonly opts: ClusterControllerOptions) {
    this.coordinator = opts.coordinator;
    this.port = opts.port;
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? (() => {});
    this.members = new MemberRegistry(this.coordinator);
    this.replicator = new TxReplicator({ write: (txs) => this.coordinator.replicateTxs(txs) });
    this.coordinator.onDemoted((d) => {
      if (this.currentRole !== "leader") return;
      this.setWriter(null);
      this.leaderView = d.leader ?? null;
      this.setRole("follower", d.reason);
      this.requestSync();
    });
  }

  get role(): ClusterRole {
    return this.currentRole;
  }

  get nodeId(): string {
    return this.coordinator.nodeId;
  }

  /** Ready to serve: following at the etcd head or leading (never while starting or halted). */
  get ready(): boolean {
    return this.currentRole === "leader" || this.currentRole === "follower";
  }

  onRoleChange(f: (role: ClusterRole) => void): void {
    this.roleListeners.push(f);
  }

  /**
   * Join the cluster: check (or write) the genesis, catch up to the etcd head, then follow
   * (and campaign when there is no leader). Resolves once the node is a follower or leader.
   */
  async start(genesisHash: string, timeout_ms = 30_000): Promise<void> {
    await this.coordinator.ensureGenesis(genesisHash);
    await this.publish(true).catch((e: Error) => this.log("cluster_publish_failed", { error: e.message }));
    this.stopWatch = await this.coordinator.watch(
      () => this.requestSync(),
      this.opts.pollMs ?? 500,
      // Forwarded writes go to the leader the watch last reported: no etcd read per write.
      (leader) => {
        if (this.currentRole !== "leader") this.leaderView = leader;
      },
    );
    this.maintenanceTimer = setInterval(() => void this.maintenance(), this.opts.maintenanceEveryMs ?? 2_000);
    this.maintenanceTimer.unref();
    const until = this.now() + timeout_ms;
    while (this.currentRole === "starting") {
      await this.sync();
      if (this.currentRole !== "starting") break;
      if (this.now() > until) throw new ClusterUnavailableError(`could not catch up with the cluster within ${timeout_ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.currentRole === "halted") throw new Error(`cluster member halted during start-up: ${this.haltReason}`);
  }

  /** Run a sync now (watch events, polls, demotion); runs are serialized and coalesced. */
  requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    void this.sync();
  }

  private sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.syncOnce();
        } catch (e) {
          this.log("cluster_sync_failed", { error: (e as Error).message });
        }
      } while (this.syncAgain && !this.stopped);
    })().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped || this.currentRole === "halted" || this.currentRole === "leader") return;
    const etcdHead = await this.coordinator.head();
    this.stats.lastEtcdHead = etcdHead;
    if (!(await this.catchUp(etcdHead))) return;
    if (this.currentRole === "starting") this.setRole("follower", "caught up with the etcd head");
    await this.publish(false).catch((e: Error) => this.log("cluster_publish_failed", { error: e.message }));
    this.leaderView = await this.coordinator.leader();
    if (this.leaderView !== null || this.now() < this.campaignCooldownUntil) return;
    if (this.port.localHead().number !== etcdHead) return;
    const campaign_t0 = this.now();
    const token = await this.coordinator.campaign(etcdHead);
    if (token !== null) await this.becomeLeader(token, campaign_t0);
  }

  /** Apply etcd's blocks up to `etcdHead` (following reorgs). False when the node halted. */
  private async catchUp(etcdHeadAtStart: number): Promise<boolean> {
    let etcdHead = etcdHeadAtStart;
    let emptyReads = 0;
    for (let rounds = 0; rounds < 10_000 && !this.stopped; rounds++) {
      // The head may move while we apply (new blocks, or a cluster rollback): re-read it.
      if (rounds > 0) etcdHead = this.stats.lastEtcdHead = await this.coordinator.head();
      const local = this.port.localHead();
      if (local.number > etcdHead) {
        await this.reorgTo(await this.commonAncestor(Math.min(local.number, etcdHead)));
        continue;
      }
      if (local.number === etcdHead) {
        if (local.number === 0 || (this.verified?.number === local.number && this.verified.hash === local.hash)) return true;
        const rec = await this.coordinator.readBlock(local.number);
        if (rec !== undefined && rec.block_hash === local.hash) {
          this.verified = local;
          return true;
        }
        // Gone (a rollback deleted it since we read the head): look again next round.
        if (rec === undefined) continue;
        await this.reorgTo(await this.commonAncestor(local.number - 1));
        continue;
      }
      const recs = await this.coordinator.readBlocks(local.number + 1, etcdHead, APPLY_BATCH);
      if (recs[0] === undefined) {
        // The head moved back meanwhile (a cluster rollback): read it again, a few times at most.
        if (++emptyReads > 3) throw new ClusterUnavailableError(`etcd head is ${etcdHead} but etcd holds no block in ${local.number + 1}..${etcdHead}`);
        continue;
      }
      if (recs[0].block_number !== local.number + 1) {
        // etcd pruned the blocks right above our head: take them from a peer, then go on from etcd.
        if (!(await this.catchUpFromPeers(recs[0]))) return false;
        continue;
      }
      for (const rec of recs) {
        const l = this.port.localHead();
        if (rec.parent_hash !== l.hash) {
          await this.reorgTo(await this.commonAncestor(l.number));
          break;
        }
        try {
          await this.port.applyBlock(rec);
        } catch (e) {
          if (!(e instanceof BlockMismatchError)) throw e;
          this.halt(e.message);
          return false;
        }
        this.stats.blocksApplied++;
      }
      await this.publish(false).catch(() => {});
    }
    return this.currentRole !== "halted";
  }

  /**
   * etcd holds blocks from `lowest` up only, and this node's head is below `lowest − 1`: fetch
   * the blocks in between from a live member that has them (the leader first), block by
   * block re-executed like etcd's. The peer's chain is anchored to etcd's first: its block
   * `lowest − 1` must be the parent etcd's block `lowest` names. True once the local head is
   * that parent; false when the node halted (a re-execution mismatch, or no member could
   * serve the blocks: FollowerBehindPruningError, whose message says what the operator does).
   */
  private async catchUpFromPeers(lowest: ClusterBlockRecord): Promise<boolean> {
    const to = lowest.block_number - 1;
    const fetchBlocks = this.opts.fetchPeerBlocks ?? peerBlockFetcher();
    const members = await this.members.list().catch(() => []);
    const peers = members
      .filter((m) => m.node_id !== this.coordinator.nodeId && (m.role === "leader" || m.role === "follower") && m.applied_height >= to)
      .sort((a, b) => (a.role === "leader" ? 0 : 1) - (b.role === "leader" ? 0 : 1));
    const from = this.port.localHead().number + 1;
    this.log("cluster_peer_catchup", { from, to, etcd_lowest: lowest.block_number, peers: peers.map((p) => p.node_id) });
    const failures: string[] = [];
    for (const peer of peers) {
      try {
        const [top] = await fetchBlocks(peer.rpc_url, to, 1);
        if (top?.block_hash !== lowest.parent_hash) throw new Error(`its block ${to} is ${top?.block_hash ?? "missing"}, etcd's block ${lowest.block_number} follows ${lowest.parent_hash}`);
        for (let rounds = 0; this.port.localHead().number < to && !this.stopped; rounds++) {
          if (rounds > to) throw new Error("invariant violated: peer catch-up makes no progress");
          const head = this.port.localHead();
          const blocks = await fetchBlocks(peer.rpc_url, head.number + 1, Math.min(PEER_BLOCKS_MAX, to - head.number));
          if (blocks.length === 0) throw new Error(`it returned no block ${head.number + 1}`);
          for (const b of blocks) {
            if (b.parent_hash !== this.port.localHead().hash) throw new Error(`its block ${b.block_number} follows ${b.parent_hash}, not this node's head ${this.port.localHead().hash}`);
            try {
              await this.port.applyBlock(b);
            } catch (e) {
              if (!(e instanceof BlockMismatchError)) throw e;
              this.halt(`${e.message} (served by ${peer.node_id})`);
              return false;
            }
            this.stats.blocksApplied++;
          }
          await this.publish(false).catch(() => {});
        }
        if (this.stopped) return false;
        this.log("cluster_peer_catchup_done", { from, to, peer: peer.node_id });
        return true;
      } catch (e) {
        failures.push(`${peer.node_id}: ${(e as Error).message}`);
        this.log("cluster_peer_catchup_failed", { peer: peer.node_id, error: (e as Error).message });
      }
    }
    const err = new FollowerBehindPruningError(this.port.localHead().number, lowest.block_number, failures);
    this.log("cluster_behind_pruning", { head: err.localHead, etcd_lowest: err.etcdLowest, failures });
    this.halt(err.message);
    return false;
  }

  /** Highest block ≤ `from` whose hash is the same locally and in etcd (genesis at worst). */
  private async commonAncestor(from: number): Promise<number> {
    const limit = this.opts.maxReorgBlocks ?? 10_000;
    for (let n = from; n > 0 && from - n <= limit; n--) {
      const [rec, mine] = await Promise.all([this.coordinator.readBlock(n), this.port.localBlockHash(n)]);
      if (rec === undefined) throw new ClusterUnavailableError(`cannot find the common ancestor with etcd: block ${n} is pruned there`);
      if (rec.block_hash === mine) return n;
    }
    if (from - limit > 0) throw new ClusterUnavailableError(`no common ancestor with etcd within ${limit} blocks`);
    return 0;
  }

  private async reorgTo(target: number): Promise<void> {
    this.log("cluster_reorg", { from: this.port.localHead().number, to: target });
    this.stats.reorgs++;
    this.verified = null;
    await this.port.rollbackLocal(target);
  }

  private async becomeLeader(token: string, campaign_t0: number): Promise<void> {
    this.stats.leaderChanges++;
    const won_at = this.now();
    let adopted = 0;
    let replicated = 0;
    try {
      for (const { batch } of await this.coordinator.txBatches()) {
        replicated += batch.txs.length;
        adopted += await this.port.adoptTxs(batch.txs);
      }
    } catch (e) {
      // Without the replicated transactions this node must not lead: someone else will.
      this.log("cluster_adopt_failed", { error: (e as Error).message });
      await this.coordinator.stepDown("could not read the replicated transactions").catch(() => {});
      return;
    }
    this.leaderView = { record: { node_id: this.coordinator.nodeId, rpc_url: this.coordinator.rpcUrl }, token };
    this.setRole("leader", `token ${token}, ${adopted} replicated transactions adopted`);
    this.leadingSince = { token, at: this.now() };
    this.log("cluster_takeover", { token, campaign_ms: Math.round(won_at - campaign_t0), adopt_ms: Math.round(this.now() - won_at), replicated, adopted });
    this.setWriter(token);
    await this.publish(true).catch(() => {});
  }

  // --- leader -----------------------------------------------------------------------------

  /** Leader: commit block n through etcd (before the local store). Throws when not leading. */
  async commitBlock(record: ClusterBlockRecord): Promise<void> {
    if (this.currentRole !== "leader") throw new NotLeaderError(`node is ${this.currentRole}`, this.leaderView?.record.node_id);
    await this.coordinator.commitBlock(record);
    const since = this.leadingSince;
    if (since !== null && since.token === record.token) {
      this.leadingSince = null;
      this.log("cluster_first_block", { token: record.token, block: record.block_number, ms_after_takeover: Math.round(this.now() - since.at) });
    }
  }

  /** Leader: replicate an admitted transaction before it is acknowledged. */
  replicateTx(hash: string, tx: BroadcastedTxn): Promise<void> {
    if (this.currentRole !== "leader") return Promise.reject(new NotLeaderError(`node is ${this.currentRole}`, this.leaderView?.record.node_id));
    return this.replicator.replicate(hash, tx);
  }

  /** The fencing token while leading. */
  get token(): string | null {
    return this.currentRole === "leader" ? this.coordinator.token : null;
  }

  /**
   * appchain_stepDown: finish the block in progress, revoke the lease; a caught-up
   * follower takes over (this node does not campaign for two lease TTLs).
   */
  async stepDown(): Promise<{ token: string }> {
    const token = this.token;
    if (token === null) throw new NotLeaderError(`node is ${this.currentRole}`, this.leaderView?.record.node_id);
    this.setWriter(null);
    await this.port.quiesce();
    this.campaignCooldownUntil = this.now() + 2 * this.coordinator.leaseTtlS * 1000;
    await this.coordinator.stepDown("appchain_stepDown");
    return { token };
  }

  /**
   * Cluster rollback (leader): move the etcd head back in one transaction (with an audit
   * record), then roll back locally with `local`; followers follow on their own.
   *
   * With `requeue` the removed blocks' transactions go back to this leader's mempool. They
   * were acknowledged, and their replicated copies went once they were in a block, so they
   * are replicated again first, before etcd's head moves: at every moment each one is in an
   * etcd block or an etcd batch, and a leader dying right after the rollback loses none.
   * Housekeeping is held off meanwhile (it would delete those copies as settled: their
   * transactions are still in blocks until the local rollback).
   */
  async rollback<T>(target: number, reason: string, local: () => Promise<T>, opts: { requeue?: boolean } = {}): Promise<T> {
    const token = this.token;
    if (token === null) throw new NotLeaderError(`node is ${this.currentRole}`, this.leaderView?.record.node_id);
    this.setWriter(null);
    try {
      await this.port.quiesce();
      return await this.exclusive(async () => {
        if (opts.requeue === true) {
          const txs = await this.port.txsAbove(target);
          await Promise.all(txs.map((t) => this.replicateTx(t.hash, t.tx)));
          if (txs.length > 0) this.log("cluster_rollback_requeue_replicated", { target, txs: txs.length });
        }
        await this.coordinator.rollback(this.port.localHead().number, target, reason);
        this.verified = null;
        return await local();
      });
    } finally {
      if (this.currentRole === "leader" && this.coordinator.token === token) this.setWriter(token);
    }
  }

  /** Housekeeping and rollbacks run one at a time (see rollback). */
  private exclusiveChain: Promise<unknown> = Promise.resolve();
  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.exclusiveChain.then(f);
    this.exclusiveChain = run.catch(() => {});
    return run;
  }

  private maintenance(): Promise<void> {
    return this.exclusive(() => this.maintenanceOnce());
  }

  private async maintenanceOnce(): Promise<void> {
    if (this.stopped) return;
    await this.publish(false).catch(() => {});
    if (this.currentRole !== "leader") return;
    try {
      const settled: string[] = [];
      for (const { key, batch } of await this.coordinator.txBatches()) {
        let all = true;
        for (const t of batch.txs) if (!(await this.port.txSettled(t.hash))) all = false;
        if (all) settled.push(key);
      }
      if (settled.length > 0) await this.coordinator.deleteTxBatches(settled);
      const head = this.port.localHead().number;
      const floor = retentionFloor(head, await this.members.list(), this.opts.retentionBlocks ?? 1_000);
      const lowest = await this.coordinator.lowestBlock();
      if (lowest !== undefined && lowest < floor) await this.coordinator.pruneBlocksBelow(floor);
    } catch (e) {
      this.log("cluster_maintenance_failed", { error: (e as Error).message });
    }
  }

  // --- status -----------------------------------------------------------------------------

  /**
   * Where a write goes now (write-forwarder.ts): "local" while this node leads and may write;
   * else the other leader, from the watch's view or etcd. Waits while there is none — a
   * failover, or this node handing over (still "leader", no longer writing) — and while the
   * only leader etcd shows holds `avoidToken` (a forward there just failed: it is dying or
   * stepping down). Throws NotLeaderError once `until` (performance.now() ms) has passed.
   */
  async writeTarget(until: number, avoidToken: string | null = null): Promise<WriteTarget> {
    for (;;) {
      if (this.currentRole === "leader" && this.writer !== null) return { local: true };
      if (this.currentRole !== "leader") {
        const usable = (l: LeaderView | null): l is LeaderView => l !== null && l.record.node_id !== this.coordinator.nodeId && l.token !== avoidToken;
        if (usable(this.leaderView)) return { local: false, url: this.leaderView.record.rpc_url, token: this.leaderView.token };
        const l = await this.coordinator.leader().catch(() => null);
        if (l !== null && this.role !== "leader") this.leaderView = l;
        if (usable(l) && this.role !== "leader") return { local: false, url: l.record.rpc_url, token: l.token };
      }
      if (this.now() > until) throw new NotLeaderError("no cluster leader to take the write (failover or hand-over still in progress)", this.leaderView?.record.node_id);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The leader token the watch last reported while following (null: none known, or this node leads). */
  get knownLeaderToken(): string | null {
    return this.currentRole === "leader" ? null : (this.leaderView?.token ?? null);
  }

  /** True while this node leads and may write (a write it takes is its own). */
  get writing(): boolean {
    return this.currentRole === "leader" && this.writer !== null;
  }

  /** The leader's node id as last seen (for NOT_LEADER answers). */
  get leaderId(): string | null {
    return this.leaderView?.record.node_id ?? null;
  }

  /** A forward to `rpcUrl` failed: do not send the next one there before etcd confirms it leads. */
  forgetLeader(rpcUrl: string): void {
    if (this.currentRole !== "leader" && this.leaderView?.record.rpc_url === rpcUrl) this.leaderView = null;
  }

  async status(): Promise<ClusterStatus> {
    const local = this.port.localHead();
    const [leader, members] = await Promise.all([this.coordinator.leader().catch(() => this.leaderView), this.members.list().catch(() => [])]);
    return {
      node_id: this.coordinator.nodeId,
      role: this.currentRole,
      leader_id: leader?.record.node_id ?? null,
      token: leader?.token ?? null,
      head: { block_number: local.number, block_hash: local.hash },
      members: members.map((m) => ({ node_id: m.node_id, rpc_url: m.rpc_url, role: m.role, applied_height: m.applied_height })),
      ...(this.haltReason !== null ? { halt_reason: this.haltReason } : {}),
    };
  }

  get haltedBecause(): string | null {
    return this.haltReason;
  }

  /** Blocks this node is behind the etcd head (as of the last sync). */
  get lag(): number {
    return Math.max(0, this.stats.lastEtcdHead - this.port.localHead().number);
  }

  // --- internals --------------------------------------------------------------------------

  /** The token this node writes with (the port's writer), null while it may not write. */
  private writer: string | null = null;

  private setWriter(token: string | null): void {
    this.writer = token;
    this.port.setWriter(token);
  }

  private halt(reason: string): void {
    this.haltReason = reason;
    this.setWriter(null);
    this.setRole("halted", reason);
    void this.publish(true).catch(() => {});
  }

  private setRole(role: ClusterRole, why: string): void {
    if (this.currentRole === role) return;
    this.log("cluster_role", { node_id: this.coordinator.nodeId, from: this.currentRole, to: role, why });
    this.currentRole = role;
    for (const l of [...this.roleListeners]) l(role);
  }

  private async publish(force: boolean): Promise<void> {
    if (!force && this.now() - this.lastPublishAt < 500) return;
    this.lastPublishAt = this.now();
    const h = this.port.localHead();
    await this.members.publish({ role: this.currentRole, applied_height: h.number, applied_hash: h.hash });
  }

  /** Leave the cluster: stop watching, give up leadership, remove the member record. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    await this.stopWatch?.().catch(() => {});
    await this.syncing?.catch(() => {});
    if (this.currentRole === "leader") {
      this.setWriter(null);
      await this.port.quiesce().catch(() => {});
      await this.coordinator.stepDown("node stopping").catch(() => {});
    }
    await this.members.leave().catch(() => {});
    this.coordinator.close();
  }
}
