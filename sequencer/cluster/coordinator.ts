// The cluster coordinator: this node's view of, and only path of writing to, the chain's
// etcd keys (DESIGN §11). It holds the right to write, and every write depends on it:
//
//  - Leadership: a `leader` key bound to a lease of this node, created only if absent and
//    only while the etcd head equals the caller's applied height ("only a follower at the
//    etcd head may take over"). The fencing token is that key's create revision; it grows
//    with every new leader. The right to write is this successful conditional write, never
//    an "elected" event.
//  - Every write (block commit, admitted-transaction batch, rollback, pruning) is one etcd
//    transaction whose first compare is `leader.create_revision == token`. A refused compare
//    demotes this node; nothing of the write exists anywhere.
//  - Self-fence: no write is attempted once the lease could be near expiry (LeaseKeeper).
//  - Every call has a deadline. A timed-out commit is resolved by reading back: our block is
//    there (committed), someone else's is (demoted), or the compare can still succeed (the
//    identical transaction is sent again, so whichever copy lands the result is the same).
//    When even the read-back fails the node demotes: it never guesses.
//
// Never writes the local store, never executes blocks: the node does, after this returns.

import { Etcd3, type Namespace } from "etcd3";
import { ClusterUnavailableError, NotLeaderError } from "../errors.js";
import {
  auditKey,
  BLOCKS_PREFIX,
  blockKey,
  chainPrefix,
  GENESIS_KEY,
  HEAD_KEY,
  LEADER_KEY,
  prefixEnd,
  TXS_PREFIX,
  txBatchKey,
} from "./cluster-keys.js";
import {
  decodeBlockRecord,
  decodeLeaderRecord,
  decodeTxBatchRecord,
  encodeRecord,
  type ClusterBlockRecord,
  type LeaderRecord,
  type TxBatchRecord,
} from "./cluster-records.js";
import { withDeadline } from "./etcd-deadline.js";
import { LeaseKeeper } from "./lease-keeper.js";

export interface CoordinatorOptions {
  /** etcd client URLs (http://127.0.0.1:2379, ...). */
  endpoints: readonly string[];
  /** The chain id short string: keys live under /perpchain/<chainId>/. */
  chainId: string;
  nodeId: string;
  /** This node's JSON-RPC URL, published with its leadership and membership. */
  rpcUrl: string;
  /** Lease TTL in whole seconds (default 5). */
  leaseTtlS?: number;
  /** Deadline of every etcd call (default 1500 ms). */
  callDeadlineMs?: number;
  /** Time a block commit may take, retries and read-backs included, before the leader demotes (default 2 × callDeadlineMs). */
  commitBudgetMs?: number;
  /** Fraction of the TTL after the last confirmed keepalive past which the leader stops writing (default 0.6). */
  fenceFraction?: number;
  /** Monotonic clock in ms (self-fence). */
  now?: () => number;
  /** Wall clock in ms (audit records). */
  wallClock?: () => number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface LeaderView {
  record: LeaderRecord;
  token: string;
}

/** Why this node stopped being the leader. */
export interface Demotion {
  reason: string;
  /** The leader etcd shows now, when the refusal told us. */
  leader?: LeaderView | null;
}

/** etcd's default --max-txn-ops is 128: bulk deletes go in chunks below it. */
const MAX_OPS_PER_TXN = 100;

export class ClusterCoordinator {
  readonly nodeId: string;
  readonly rpcUrl: string;
  readonly leaseTtlS: number;
  readonly callDeadlineMs: number;
  readonly commitBudgetMs: number;
  private leaderLease: LeaseKeeper | null = null;
  private myToken: string | null = null;
  private txBatchSeq = 0;
  private readonly demotionListeners: Array<(d: Demotion) => void> = [];
  private readonly now: () => number;
  private readonly wallClock: () => number;
  private readonly log: (event: string, fields?: Record<string, unknown>) => void;
  private closed = false;

  private constructor(
    private readonly client: Etcd3,
    readonly ns: Namespace,
    private readonly opts: CoordinatorOptions,
  ) {
    this.nodeId = opts.nodeId;
    this.rpcUrl = opts.rpcUrl;
    this.leaseTtlS = opts.leaseTtlS ?? 5;
    this.callDeadlineMs = opts.callDeadlineMs ?? 1_500;
    this.commitBudgetMs = opts.commitBudgetMs ?? 2 * this.callDeadlineMs;
    this.now = opts.now ?? (() => performance.now());
    this.wallClock = opts.wallClock ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** A coordinator bound to the chain's prefix (connections are made lazily by the client). */
  static create(opts: CoordinatorOptions): ClusterCoordinator {
    if (opts.endpoints.length === 0) throw new RangeError("cluster mode needs at least one etcd endpoint");
    for (const e of opts.endpoints) if (!/^https?:\/\/[^/\s]+\/?$/.test(e)) throw new RangeError(`etcd endpoint '${e}' is not http(s)://host:port`);
    if (!Number.isInteger(opts.leaseTtlS ?? 5) || (opts.leaseTtlS ?? 5) < 1) throw new RangeError("lease TTL must be a whole number of seconds ≥ 1");
    const client = new Etcd3({ hosts: opts.endpoints.map((e) => e.replace(/\/$/, "")) });
    return new ClusterCoordinator(client, client.namespace(chainPrefix(opts.chainId)), opts);
  }

  // --- the chain in etcd ------------------------------------------------------------------

  /**
   * Initialise the cluster's chain (head 0, genesis hash) if nobody has, else check that
   * ours is the same genesis: nodes started with different genesis flags must not join.
   */
  async ensureGenesis(genesisHash: string): Promise<void> {
    const res = await this.call("genesis init", (o) =>
      this.ns
        .if(GENESIS_KEY, "Version", "==", 0)
        .then(this.ns.put(GENESIS_KEY).value(genesisHash), this.ns.put(HEAD_KEY).value("0"))
        .else(this.ns.get(GENESIS_KEY))
        .options(o)
        .commit(),
    );
    if (res.succeeded) return this.log("cluster_initialised", { genesis: genesisHash });
    const kv = res.responses[0]?.response_range.kvs[0];
    const theirs = kv?.value.toString();
    if (theirs !== genesisHash) throw new Error(`cluster genesis ${theirs} differs from this node's ${genesisHash}: start every member with the same genesis flags (--seed, --accounts, --chain-id, ...)`);
  }

  /** The etcd head block number. */
  async head(): Promise<number> {
    const v = await this.call("head read", (o) => this.ns.get(HEAD_KEY).options(o).string());
    if (v === null) throw new Error("cluster is not initialised (no head key)");
    return parseHead(v);
  }

  async readBlock(n: number): Promise<ClusterBlockRecord | undefined> {
    const v = await this.call("block read", (o) => this.ns.get(blockKey(n)).options(o).buffer());
    return v === null ? undefined : decodeBlockRecord(v, `etcd block ${n}`);
  }

  /** Blocks from..to inclusive that etcd holds, in order, at most `limit`. */
  async readBlocks(from: number, to: number, limit = 64): Promise<ClusterBlockRecord[]> {
    if (to < from) return [];
    const res = await this.call("blocks read", (o) =>
      this.ns.getAll().inRange({ start: blockKey(from), end: blockKey(to + 1) }).sort("Key", "Ascend").limit(limit).options(o).exec(),
    );
    return res.kvs.map((kv) => decodeBlockRecord(kv.value, `etcd ${kv.key.toString()}`));
  }

  /** Lowest block number etcd still holds (after pruning), or undefined when none. */
  async lowestBlock(): Promise<number | undefined> {
    const res = await this.call("blocks read", (o) => this.ns.getAll().prefix(BLOCKS_PREFIX).sort("Key", "Ascend").limit(1).options(o).exec());
    const kv = res.kvs[0];
    return kv ? decodeBlockRecord(kv.value).block_number : undefined;
  }

  // --- leadership -------------------------------------------------------------------------

  /** The leader etcd shows now (null: none). */
  async leader(): Promise<LeaderView | null> {
    const res = await this.call("leader read", (o) => this.ns.get(LEADER_KEY).options(o).exec());
    const kv = res.kvs[0];
    return kv ? { record: decodeLeaderRecord(kv.value), token: kv.create_revision } : null;
  }

  /** This node's fencing token while it leads (and its lease is fresh), else null. */
  get token(): string | null {
    return this.myToken !== null && this.leaderLease !== null && this.leaderLease.fresh() ? this.myToken : null;
  }

  get isLeader(): boolean {
    return this.token !== null;
  }

  /** Called once per demotion (refused write, lost lease, unresolvable commit, step-down). */
  onDemoted(f: (d: Demotion) => void): void {
    this.demotionListeners.push(f);
  }

  /**
   * Try to become the leader: create the leader key bound to a new lease, if there is no
   * leader and the etcd head is `appliedHeight`. Returns the fencing token, or null.
   */
  async campaign(appliedHeight: number): Promise<string | null> {
    if (this.token !== null) return this.myToken;
    const lease = await LeaseKeeper.grant(this.ns, {
      ttl_s: this.leaseTtlS,
      deadline_ms: this.callDeadlineMs,
      fenceFraction: this.opts.fenceFraction,
      now: this.now,
      onLost: (reason) => this.demote(`leader lease lost: ${reason}`),
    });
    const value = encodeRecord({ node_id: this.nodeId, rpc_url: this.rpcUrl });
    let won: string | null = null;
    try {
      const res = await this.call("campaign", (o) =>
        this.ns
          .if(LEADER_KEY, "Version", "==", 0)
          .and(HEAD_KEY, "Value", "==", String(appliedHeight))
          .then(this.ns.put(LEADER_KEY).value(value).lease(lease.id))
          .options(o)
          .commit(),
      );
      if (res.succeeded) won = res.header.revision;
    } catch (e) {
      // Ambiguous: our key may exist. Read back: it is ours iff it is bound to our lease.
      const kv = await this.call("campaign read-back", (o) => this.ns.get(LEADER_KEY).options(o).exec())
        .then((r) => r.kvs[0])
        .catch(() => undefined);
      if (kv && kv.lease === lease.id) won = kv.create_revision;
      else {
        await lease.revoke().catch(() => lease.release());
        throw e;
      }
    }
    if (won === null) {
      await lease.revoke().catch(() => lease.release());
      return null;
    }
    this.leaderLease = lease;
    this.myToken = won;
    this.txBatchSeq = 0;
    this.log("cluster_leader", { node_id: this.nodeId, token: won, head: appliedHeight });
    return won;
  }

  /** Give up leadership now: revoke the lease (the leader key goes with it). */
  async stepDown(reason = "step-down"): Promise<void> {
    const lease = this.leaderLease;
    this.demote(reason);
    if (lease) await lease.revoke();
  }

  private demote(reason: string, leader?: LeaderView | null): void {
    if (this.myToken === null) return;
    const token = this.myToken;
    this.myToken = null;
    const lease = this.leaderLease;
    this.leaderLease = null;
    // Let the key go as fast as etcd allows (best effort: if etcd is unreachable the lease
    // simply expires); we stop renewing it either way.
    if (lease && lease.lost === null) void lease.revoke().catch(() => lease.release());
    this.log("cluster_demoted", { node_id: this.nodeId, token, reason });
    for (const l of [...this.demotionListeners]) l({ reason, ...(leader !== undefined ? { leader } : {}) });
  }

  /**
   * The token, or throw: the check every write starts with (the self-fence). While the lease
   * is not fresh but not yet lost (a keepalive is being retried across an etcd failover),
   * wait for it until `wait_ms` has passed, then demote.
   */
  private async writerToken(what: string, wait_ms: number): Promise<string> {
    const until = this.now() + wait_ms;
    for (;;) {
      if (this.myToken === null) throw new NotLeaderError(`${what}: this node is not the leader`);
      const t = this.token;
      if (t !== null) return t;
      if (this.now() >= until) {
        this.demote(`${what}: leader lease not confirmed recently enough (self-fence)`);
        throw new NotLeaderError(`${what}: leader lease not confirmed recently enough (self-fence)`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // --- writes -----------------------------------------------------------------------------

  /**
   * Commit block n: one transaction `leader.create_revision == token AND head == n-1 →
   * put blocks/n, head = n`. Resolves once etcd holds the block; throws NotLeaderError
   * (demoted) when the compare is refused, ClusterUnavailableError (demoted) when etcd
   * cannot tell us what happened.
   */
  async commitBlock(block: ClusterBlockRecord): Promise<void> {
    const n = block.block_number;
    const token = await this.writerToken(`commit of block ${n}`, this.commitBudgetMs);
    if (block.token !== token) throw new RangeError(`block ${n} carries token ${block.token}, this leader's is ${token}`);
    if (n < 1) throw new RangeError("block 0 is the genesis: it is not committed through etcd");
    const bytes = encodeRecord(block);
    // Attempts are bounded in time, not only in count: during an etcd leader election calls
    // fail fast ("no leader"), and the commit should ride the election out, not demote.
    const until = this.now() + this.commitBudgetMs;
    for (let attempt = 1; ; attempt++) {
      if ((await this.writerToken(`commit of block ${n}`, Math.max(0, until - this.now()))) !== token) throw new NotLeaderError(`commit of block ${n}: token changed`);
      try {
        const res = await this.call("block commit", (o) =>
          this.ns
            .if(LEADER_KEY, "Create", "==", token)
            .and(HEAD_KEY, "Value", "==", String(n - 1))
            .then(this.ns.put(blockKey(n)).value(bytes), this.ns.put(HEAD_KEY).value(String(n)))
            .else(this.ns.get(LEADER_KEY), this.ns.get(HEAD_KEY))
            .options(o)
            .commit(),
        );
        if (res.succeeded) return;
      } catch (e) {
        if (!(e instanceof ClusterUnavailableError)) throw e;
        this.log("cluster_commit_ambiguous", { block: n, attempt, error: e.message });
      }
      // Refused or unanswered: what does etcd hold? (A retried copy of a transaction that
      // did land is refused, so a refusal alone does not mean someone else won.)
      const state = await this.commitState(n, block.block_hash, token).catch((e: Error) => ({ unknown: e.message }));
      if (state === "committed") return;
      if (state !== "retry" && !("unknown" in state)) {
        this.demote(state.reason, state.leader);
        throw new NotLeaderError(`block ${n} refused: ${state.reason}`, state.leader?.record.node_id);
      }
      if (this.now() >= until) {
        const why = state === "retry" ? "etcd did not confirm it" : `outcome unknown, etcd unreachable (${state.unknown})`;
        this.demote(`block ${n}: commit unresolved within ${this.commitBudgetMs} ms: ${why}`);
        throw new ClusterUnavailableError(`block ${n}: commit unresolved within ${this.commitBudgetMs} ms: ${why}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Read back after an ambiguous or refused commit of block n with hash `hash`. */
  private async commitState(n: number, hash: string, token: string): Promise<"committed" | "retry" | { reason: string; leader: LeaderView | null }> {
    const [head, stored, leader] = await Promise.all([this.head(), this.readBlock(n), this.leader()]);
    if (stored !== undefined && head >= n) {
      if (stored.block_hash === hash && stored.token === token) return "committed";
      return { reason: `block ${n} in etcd is ${stored.block_hash} (token ${stored.token})`, leader };
    }
    if (leader === null || leader.token !== token) return { reason: `leader key is ${leader ? `${leader.record.node_id} (token ${leader.token})` : "absent"}, not token ${token}`, leader };
    if (head !== n - 1) return { reason: `etcd head is ${head}, expected ${n - 1}`, leader };
    return "retry";
  }

  /**
   * Store a batch of admitted transactions under txs/ (conditional on the token), so that a
   * new leader includes them if this one dies. Resolves once etcd holds them.
   *
   * The outcome is never guessed. A call that did not answer may still land, so it is sent
   * again, identical (same key, same value: whichever copy lands, the result is the same),
   * until etcd answers within the commit budget. The answer settles it: stored (by this or an
   * earlier copy: a refused compare reads the batch key back), or refused while the batch key
   * is absent — the leader key is no longer this token, and as create revisions never repeat,
   * no copy still in flight can land later (NotLeaderError: definitely not replicated). When
   * etcd never answers, ClusterUnavailableError with `outcome: "unknown"`.
   */
  async replicateTxs(txs: TxBatchRecord["txs"]): Promise<string> {
    const token = await this.writerToken("transaction replication", this.callDeadlineMs);
    const key = txBatchKey(token, this.txBatchSeq++);
    const value = encodeRecord({ token, txs });
    const until = this.now() + this.commitBudgetMs;
    for (let attempt = 1; ; attempt++) {
      let unanswered: string;
      try {
        const res = await this.call("tx replication", (o) =>
          this.ns
            .if(LEADER_KEY, "Create", "==", token)
            .then(this.ns.put(key).value(value))
            .else(this.ns.get(LEADER_KEY), this.ns.get(key))
            .options(o)
            .commit(),
        );
        if (res.succeeded) return key;
        const kv = res.responses[0]?.response_range.kvs[0];
        const leader = kv ? { record: decodeLeaderRecord(kv.value), token: kv.create_revision } : null;
        // An earlier copy that did not answer landed before the leader changed: replicated (and this node no longer leads).
        if ((res.responses[1]?.response_range.kvs.length ?? 0) > 0) {
          this.demote("leader changed after a transaction batch was replicated", leader);
          return key;
        }
        this.demote("transaction replication refused: leader changed", leader);
        throw new NotLeaderError("transaction replication refused: leader changed", leader?.record.node_id);
      } catch (e) {
        if (!(e instanceof ClusterUnavailableError)) throw e;
        unanswered = e.message;
      }
      this.log("cluster_tx_replication_ambiguous", { key, attempt, error: unanswered });
      // At least one copy is sent again: after a pause (SIGSTOP, GC) the budget may be spent
      // before etcd was asked twice, and one answer settles it.
      if (this.now() >= until && attempt >= 2) {
        throw new ClusterUnavailableError(`transaction replication unresolved within ${this.commitBudgetMs} ms: ${unanswered}`, {
          outcome: "unknown",
          advice: "etcd did not answer: the transaction may still be included; check starknet_getTransactionStatus before sending it again",
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Every replicated transaction batch still in etcd, oldest first. A batch that does not
   * decode is logged and left out (it cannot be included; it must not stop a takeover).
   */
  async txBatches(): Promise<Array<{ key: string; batch: TxBatchRecord }>> {
    const res = await this.call("tx batches read", (o) => this.ns.getAll().prefix(TXS_PREFIX).sort("Key", "Ascend").options(o).exec());
    const out: Array<{ key: string; batch: TxBatchRecord }> = [];
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      try {
        out.push({ key, batch: decodeTxBatchRecord(kv.value) });
      } catch (e) {
        this.log("cluster_tx_batch_malformed", { key, error: (e as Error).message });
      }
    }
    return out;
  }

  /** Delete batches whose transactions are all resolved (in a block or rejected). Leader only. */
  async deleteTxBatches(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_OPS_PER_TXN) {
      const token = await this.writerToken("tx batch cleanup", this.callDeadlineMs);
      const chunk = keys.slice(i, i + MAX_OPS_PER_TXN);
      const res = await this.call("tx batch cleanup", (o) =>
        this.ns
          .if(LEADER_KEY, "Create", "==", token)
          .then(...chunk.map((k) => this.ns.delete().key(k)))
          .options(o)
          .commit(),
      );
      if (!res.succeeded) {
        this.demote("tx batch cleanup refused: leader changed");
        throw new NotLeaderError("tx batch cleanup refused: leader changed");
      }
    }
  }

  /**
   * Cluster rollback: one transaction moving the head from `fromHead` back to `target`,
   * deleting the later blocks and storing an audit record. Leader only.
   */
  async rollback(fromHead: number, target: number, reason: string): Promise<void> {
    const token = await this.writerToken("cluster rollback", this.callDeadlineMs);
    if (!Number.isSafeInteger(target) || target < 0 || target > fromHead) throw new RangeError(`rollback target ${target} is not in [0, ${fromHead}]`);
    const at_ms = this.wallClock();
    const audit = encodeRecord({ node_id: this.nodeId, token, from_height: fromHead, to_height: target, reason, at_ms });
    const res = await this.call("cluster rollback", (o) =>
      this.ns
        .if(LEADER_KEY, "Create", "==", token)
        .and(HEAD_KEY, "Value", "==", String(fromHead))
        .then(
          this.ns.put(HEAD_KEY).value(String(target)),
          this.ns.delete().inRange({ start: blockKey(target + 1), end: prefixEnd(BLOCKS_PREFIX) }),
          this.ns.put(auditKey(at_ms, this.nodeId)).value(audit),
        )
        .options(o)
        .commit(),
    );
    if (!res.succeeded) {
      const head = await this.head().catch(() => undefined);
      const leader = await this.leader().catch(() => undefined);
      if (leader !== undefined && (leader === null || leader.token !== token)) {
        this.demote("cluster rollback refused: leader changed", leader);
        throw new NotLeaderError("cluster rollback refused: leader changed", leader?.record.node_id);
      }
      throw new ClusterUnavailableError(`cluster rollback refused: etcd head is ${head ?? "unknown"}, expected ${fromHead}`);
    }
    this.log("cluster_rollback", { from: fromHead, to: target, token, reason });
  }

  /** Delete blocks below `below` (retention). Leader only; block 0 is never stored. */
  async pruneBlocksBelow(below: number): Promise<void> {
    if (below <= 1) return;
    const token = await this.writerToken("block pruning", this.callDeadlineMs);
    const res = await this.call("block pruning", (o) =>
      this.ns
        .if(LEADER_KEY, "Create", "==", token)
        .then(this.ns.delete().inRange({ start: BLOCKS_PREFIX, end: blockKey(below) }))
        .options(o)
        .commit(),
    );
    if (!res.succeeded) {
      this.demote("block pruning refused: leader changed");
      throw new NotLeaderError("block pruning refused: leader changed");
    }
  }

  // --- watching ---------------------------------------------------------------------------

  /**
   * Call `onChange` whenever the head or the leader key changes (etcd watch), and at least
   * every `poll_ms` (a watch can stall silently while etcd members fail over); `onLeader`
   * with the leader key's new value (null: deleted) as the watch reports it.
   * Returns the function that stops watching.
   */
  async watch(onChange: () => void, poll_ms = 1_000, onLeader?: (leader: LeaderView | null) => void): Promise<() => Promise<void>> {
    const watchers = await Promise.all(
      [HEAD_KEY, LEADER_KEY].map(async (k) => {
        const w = await withDeadline("watch", this.callDeadlineMs * 4, () => this.ns.watch().key(k).create()).catch((e: Error) => {
          this.log("cluster_watch_failed", { key: k, error: e.message });
          return null;
        });
        w?.on("put", (kv) => {
          if (k === LEADER_KEY && onLeader) {
            try {
              onLeader({ record: decodeLeaderRecord(kv.value), token: kv.create_revision });
            } catch (e) {
              this.log("cluster_leader_malformed", { error: (e as Error).message });
            }
          }
          onChange();
        });
        w?.on("delete", () => {
          if (k === LEADER_KEY) onLeader?.(null);
          onChange();
        });
        w?.on("error", () => {});
        return w;
      }),
    );
    const timer = setInterval(onChange, poll_ms);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await Promise.all(watchers.map((w) => w?.cancel().catch(() => {})));
    };
  }

  // --- plumbing ---------------------------------------------------------------------------

  /** One etcd call under this coordinator's deadline. */
  call<T>(what: string, f: (o: { deadline: Date }) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClusterUnavailableError(`etcd ${what}: coordinator closed`));
    return withDeadline(what, this.callDeadlineMs, f);
  }

  /** A lease of this node's own (membership), kept alive like the leader's. */
  grantLease(onLost: (reason: string) => void): Promise<LeaseKeeper> {
    return LeaseKeeper.grant(this.ns, { ttl_s: this.leaseTtlS, deadline_ms: this.callDeadlineMs, fenceFraction: this.opts.fenceFraction, now: this.now, onLost });
  }

  /** Stop renewing leases (they expire by themselves) and close the client. */
  close(): void {
    if (this.closed) return;
    this.leaderLease?.release();
    this.leaderLease = null;
    this.myToken = null;
    this.closed = true;
    this.client.close();
  }
}

function parseHead(v: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(v)) throw new RangeError(`etcd head '${v}' is not a block number`);
  return Number(v);
}
