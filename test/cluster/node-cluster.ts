// Harness for the cluster scenarios with real node processes: N devnet CLIs started with
// --cluster-etcd/--node-id/--lease-ttl on their own LevelDB directories, talked to only over
// JSON-RPC (black box), killed with SIGKILL, frozen with SIGSTOP, restarted on the same
// directory; and a client load that sends signed STRK transfers to random nodes and keeps
// the hashes each node acknowledged. `checkInvariants` asserts what every scenario must
// keep: every acknowledged transaction ACCEPTED_ON_L2 on every node, one block hash per
// height across etcd and every node, equal state roots.
//
// Every process started here is killed by `stopAll()` (afterAll), also after a failure.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { blockKey, chainPrefix } from "../../sequencer/cluster/cluster-keys.js";
import { decodeBlockRecord } from "../../sequencer/cluster/cluster-records.js";
import type { ClusterStatus } from "../../sequencer/cluster/cluster-controller.js";
import { kill9, killAllChildren, rpc, rpcBatch, RpcCallError, signedTransfer, sleep, spawnNode, stopGracefully, type ChildNode, type PredeployedAccount } from "../crash/child-node.js";
import { pauseGroup, resumeGroup } from "../support/etcd.js";

export interface ClusterNodeOptions {
  endpoints: string[];
  seed: number;
  accounts: number;
  leaseTtlS: number;
  chainId: string;
  /** Extra flags for every node (e.g. --block-batch-ms). */
  extraArgs?: string[];
}

export interface Member {
  id: string;
  dbPath: string;
  node: ChildNode | null;
}

export class NodeCluster {
  readonly members = new Map<string, Member>();
  readonly dir = mkdtempSync(join(tmpdir(), "perpchain-cluster-"));

  constructor(readonly opts: ClusterNodeOptions) {}

  /** Start (or restart on its directory) node `id`; resolves once it printed its RPC URL. */
  async start(id: string): Promise<ChildNode> {
    let m = this.members.get(id);
    if (m === undefined) {
      m = { id, dbPath: join(this.dir, id), node: null };
      this.members.set(id, m);
    }
    if (m.node !== null) throw new Error(`node ${id} is running`);
    m.node = await spawnNode({
      dbPath: m.dbPath,
      seed: this.opts.seed,
      accounts: this.opts.accounts,
      timeout_ms: 60_000,
      extraArgs: ["--chain-id", this.opts.chainId, "--cluster-etcd", this.opts.endpoints.join(","), "--node-id", id, "--lease-ttl", String(this.opts.leaseTtlS), ...(this.opts.extraArgs ?? [])],
    });
    return m.node;
  }

  url(id: string): string {
    const n = this.members.get(id)?.node;
    if (!n) throw new Error(`node ${id} is not running`);
    return n.rpcUrl;
  }

  running(): string[] {
    return [...this.members.values()].filter((m) => m.node !== null).map((m) => m.id);
  }

  async kill9(id: string): Promise<void> {
    const m = this.members.get(id)!;
    await kill9(m.node!);
    m.node = null;
  }

  async stop(id: string): Promise<void> {
    const m = this.members.get(id)!;
    await stopGracefully(m.node!);
    m.node = null;
  }

  private readonly frozen = new Set<string>();

  freeze(id: string): void {
    pauseGroup(this.members.get(id)!.node!.proc.pid!);
    this.frozen.add(id);
  }

  thaw(id: string): void {
    resumeGroup(this.members.get(id)!.node!.proc.pid!);
    this.frozen.delete(id);
  }

  /** Running and not frozen: where the client load sends (a frozen node would hold its requests). */
  reachable(): string[] {
    return this.running().filter((i) => !this.frozen.has(i));
  }

  status(id: string): Promise<ClusterStatus> {
    return rpc<ClusterStatus>(this.url(id), "appchain_getClusterStatus", [], 5_000);
  }

  /** Wait until one running node reports role leader and every other running node names it. */
  async waitForLeader(timeout_ms: number, exclude: readonly string[] = []): Promise<string> {
    const until = performance.now() + timeout_ms;
    let last = "";
    for (;;) {
      const ids = this.running().filter((i) => !exclude.includes(i));
      const st = await Promise.all(ids.map((i) => this.status(i).catch((e: Error) => e)));
      const leaders = st.filter((s): s is ClusterStatus => !(s instanceof Error) && s.role === "leader");
      if (leaders.length === 1 && st.every((s) => !(s instanceof Error) && s.leader_id === leaders[0]!.node_id)) return leaders[0]!.node_id;
      last = JSON.stringify(st.map((s) => (s instanceof Error ? s.message : { id: s.node_id, role: s.role, leader: s.leader_id, head: s.head.block_number })));
      if (performance.now() > until) throw new Error(`no agreed leader within ${timeout_ms} ms: ${last}`);
      await sleep(50);
    }
  }

  async head(id: string): Promise<number> {
    return rpc<number>(this.url(id), "starknet_blockNumber", [], 5_000);
  }

  /** Wait until every running node's head is at least `n` (bounded). */
  async waitForHeight(n: number, timeout_ms: number): Promise<void> {
    const until = performance.now() + timeout_ms;
    for (;;) {
      const heads = await Promise.all(this.running().map((i) => this.head(i).catch(() => -1)));
      if (heads.every((h) => h >= n)) return;
      if (performance.now() > until) throw new Error(`nodes not at height ${n} within ${timeout_ms} ms: ${JSON.stringify(heads)}`);
      await sleep(50);
    }
  }

  /** Kill every node process and remove the data directories. */
  async stopAll(): Promise<void> {
    for (const m of this.members.values()) {
      if (m.node) {
        try {
          resumeGroup(m.node.proc.pid!);
        } catch {
          /* gone */
        }
      }
    }
    await killAllChildren();
    for (const m of this.members.values()) m.node = null;
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- invariants -------------------------------------------------------------------------

  /**
   * At every height up to the lowest head: one block hash and one state root across every
   * running node and etcd. Every `acked` hash ACCEPTED_ON_L2 on every running node.
   */
  async checkInvariants(acked: readonly string[]): Promise<{ heights: number; nodes: number }> {
    const ids = this.running();
    const heads = await Promise.all(ids.map((i) => this.head(i)));
    const top = Math.min(...heads);
    const byNode = await Promise.all(
      ids.map(async (i) =>
        (await rpcBatch(this.url(i), Array.from({ length: top + 1 }, (_, n) => ({ method: "starknet_getBlockWithTxHashes", params: [{ block_number: n }] })))).map((r) => {
          if (r.error) throw new Error(`node ${i}: ${r.error.message}`);
          return r.result as { block_hash: string; new_root: string };
        }),
      ),
    );
    const problems: string[] = [];
    const etcdBlocks = await this.etcdBlocks(1, top);
    for (let n = 0; n <= top; n++) {
      const hashes = new Set(byNode.map((b) => b[n]!.block_hash));
      const roots = new Set(byNode.map((b) => b[n]!.new_root));
      const e = etcdBlocks.get(n);
      if (e !== undefined) {
        hashes.add(e.block_hash);
        roots.add(e.state_root);
      }
      if (hashes.size !== 1) problems.push(`height ${n}: ${hashes.size} block hashes ${[...hashes].join(" ")}`);
      if (roots.size !== 1) problems.push(`height ${n}: ${roots.size} state roots ${[...roots].join(" ")}`);
    }
    for (const i of ids) {
      const st = await rpcBatch(this.url(i), acked.map((h) => ({ method: "starknet_getTransactionStatus", params: [h] })));
      st.forEach((r, k) => {
        const f = (r.result as { finality_status?: string } | undefined)?.finality_status;
        if (f !== "ACCEPTED_ON_L2") problems.push(`node ${i}: acknowledged ${acked[k]} is ${f ?? JSON.stringify(r.error)}`);
      });
    }
    if (problems.length > 0) throw new Error(`cluster invariants violated:\n${problems.slice(0, 20).join("\n")}`);
    return { heights: top + 1, nodes: ids.length };
  }

  /** Blocks etcd holds in [from, to] (pruned ones are simply absent). */
  async etcdBlocks(from: number, to: number): Promise<Map<number, { block_hash: string; state_root: string }>> {
    const c = new Etcd3({ hosts: this.opts.endpoints });
    try {
      const res = await c.namespace(chainPrefix(this.opts.chainId)).getAll().inRange({ start: blockKey(from), end: blockKey(to + 1) }).exec();
      return new Map(res.kvs.map((kv) => {
        const b = decodeBlockRecord(kv.value);
        return [b.block_number, { block_hash: b.block_hash, state_root: b.state_root }];
      }));
    } finally {
      c.close();
    }
  }

  /** Blocks etcd holds from `from` up, with the token of the leader that committed each. */
  async etcdBlocksWithToken(from: number): Promise<Array<{ block_number: number; token: string }>> {
    const c = new Etcd3({ hosts: this.opts.endpoints });
    try {
      const res = await c.namespace(chainPrefix(this.opts.chainId)).getAll().inRange({ start: blockKey(from), end: blockKey(Number.MAX_SAFE_INTEGER) }).exec();
      return res.kvs.map((kv) => decodeBlockRecord(kv.value)).map((b) => ({ block_number: b.block_number, token: b.token }));
    } finally {
      c.close();
    }
  }

  /** Wait until every `hash` is ACCEPTED_ON_L2 on node `id` (bounded). */
  async waitIncluded(id: string, hashes: readonly string[], timeout_ms: number): Promise<void> {
    const until = performance.now() + timeout_ms;
    let pending = [...hashes];
    while (pending.length > 0) {
      const st = await rpcBatch(this.url(id), pending.map((h) => ({ method: "starknet_getTransactionStatus", params: [h] }))).catch(() => null);
      if (st) pending = pending.filter((_, k) => (st[k]!.result as { finality_status?: string } | undefined)?.finality_status !== "ACCEPTED_ON_L2");
      if (pending.length === 0) return;
      if (performance.now() > until) throw new Error(`${pending.length} transactions not ACCEPTED_ON_L2 on ${id} within ${timeout_ms} ms: ${pending.slice(0, 5).join(" ")}`);
      await sleep(50);
    }
  }
}

/**
 * Clients sending signed STRK transfers, one account each, sequentially, to random running
 * nodes. A transfer is re-sent (same signed transaction) until a node acknowledges it or its
 * nonce is used; the acknowledged hashes are the ones no scenario may lose.
 */
export class TransferLoad {
  readonly acked: string[] = [];
  readonly errors: string[] = [];
  /**
   * NOT_LEADER / CLUSTER_UNAVAILABLE answers (the transfer is then sent again). A leader
   * change must not cause them: a follower's forward waits for the next leader, and so does
   * a write that reaches a leader handing over.
   */
  readonly refusals: string[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];
  private readonly nonces: bigint[];
  sent = 0;

  constructor(
    private readonly cluster: NodeCluster,
    private readonly accounts: PredeployedAccount[],
    private readonly token: string,
    private readonly chainIdHex: string,
    private readonly pause_ms = 20,
  ) {
    this.nonces = accounts.map(() => 0n);
  }

  start(): void {
    this.stopped = false;
    this.running = this.accounts.map((_, a) => this.loop(a));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  /** One transfer from account `a`, acknowledged by some node; resolves with its hash. */
  async sendOne(a: number, timeout_ms = 20_000): Promise<{ hash: string; acked_ms: number }> {
    const t0 = performance.now();
    const to = this.accounts[(a + 1) % this.accounts.length]!.address;
    const t = signedTransfer({ from: this.accounts[a]!, to, token: this.token, amount: 1n + BigInt(this.sent++), nonce: this.nonces[a]!, chainId: this.chainIdHex });
    for (;;) {
      const ids = this.cluster.reachable();
      const id = ids[Math.floor(Math.random() * ids.length)];
      if (id !== undefined) {
        try {
          const res = await rpc<{ transaction_hash: string }>(this.cluster.url(id), "starknet_addInvokeTransaction", [t.tx], 5_000);
          if (res.transaction_hash !== t.hash) this.errors.push(`${t.hash} acknowledged as ${res.transaction_hash}`);
          this.acked.push(t.hash);
          this.nonces[a]!++;
          return { hash: t.hash, acked_ms: performance.now() - t0 };
        } catch (e) {
          // Known already (59), or its nonce is used: it was admitted before an answer got
          // lost. The cluster has it; it is not counted as acknowledged.
          if (e instanceof RpcCallError && e.code === 59) {
            this.nonces[a]!++;
            return { hash: t.hash, acked_ms: performance.now() - t0 };
          }
          if (e instanceof RpcCallError && e.code === 52) {
            const used = await rpc<string>(this.cluster.url(id), "starknet_getNonce", ["latest", this.accounts[a]!.address]).then((n) => BigInt(n) > this.nonces[a]!, () => false);
            if (used) {
              this.nonces[a]!++;
              return { hash: t.hash, acked_ms: performance.now() - t0 };
            }
          }
          if (e instanceof RpcCallError && (e.code === -32013 || e.code === -32014)) this.refusals.push(`${t.hash} via ${id}: ${e.code} ${JSON.stringify(e.data)}`);
          if (e instanceof RpcCallError && e.code !== -32013 && e.code !== -32014 && e.code !== -32001) this.errors.push(`${t.hash}: ${e.code} ${e.message} ${JSON.stringify(e.data)}`);
        }
      }
      if (performance.now() - t0 > timeout_ms) throw new Error(`transfer ${t.hash} from account ${a} not acknowledged within ${timeout_ms} ms; errors ${this.errors.slice(-3).join(" | ")}`);
      await sleep(50);
    }
  }

  /** Take each account's next nonce from the chain again (after a rollback dropped transactions). */
  async resyncNonces(): Promise<void> {
    const id = this.cluster.running()[0]!;
    for (let a = 0; a < this.accounts.length; a++) this.nonces[a] = BigInt(await rpc<string>(this.cluster.url(id), "starknet_getNonce", ["latest", this.accounts[a]!.address]));
  }

  private async loop(a: number): Promise<void> {
    while (!this.stopped) {
      await this.sendOne(a, 30_000).catch((e: Error) => this.errors.push(e.message));
      await sleep(this.pause_ms);
    }
  }
}

/**
 * What etcd shows of a failover, seen from outside with a watch on the chain's leader key and
 * blocks: when the old leader key went (its lease expired, or was revoked), when a new one was
 * created (a campaign won: the new token), and when the first block with another token was
 * committed. Times are performance.now() of this process, when the watch event arrived.
 */
export class FailoverProbe {
  leaderDeletedAt: number | null = null;
  leaderCreatedAt: number | null = null;
  newToken: string | null = null;
  firstBlockAt: number | null = null;
  firstBlock: number | null = null;
  private constructor(
    private readonly client: Etcd3,
    private readonly watchers: Array<{ cancel(): Promise<void> }>,
  ) {}

  /** Start watching before the fault; `oldToken` is the leader's token at that moment. */
  static async start(endpoints: string[], chainId: string, oldToken: string): Promise<FailoverProbe> {
    const client = new Etcd3({ hosts: endpoints });
    const ns = client.namespace(chainPrefix(chainId));
    const leaderW = await ns.watch().key("leader").create();
    const blocksW = await ns.watch().prefix("blocks/").create();
    const probe = new FailoverProbe(client, [leaderW, blocksW]);
    leaderW.on("delete", () => (probe.leaderDeletedAt ??= performance.now()));
    leaderW.on("put", (kv) => {
      if (kv.create_revision === oldToken || probe.leaderCreatedAt !== null) return;
      probe.leaderCreatedAt = performance.now();
      probe.newToken = kv.create_revision;
    });
    blocksW.on("put", (kv) => {
      if (probe.firstBlockAt !== null) return;
      const b = decodeBlockRecord(kv.value);
      if (b.token === oldToken) return;
      probe.firstBlockAt = performance.now();
      probe.firstBlock = b.block_number;
    });
    for (const w of [leaderW, blocksW]) w.on("error", () => {});
    return probe;
  }

  /** Wait (bounded) until a block by a new leader was committed. */
  async waitFirstBlock(timeout_ms: number): Promise<void> {
    const until = performance.now() + timeout_ms;
    while (this.firstBlockAt === null) {
      if (performance.now() > until) throw new Error(`no block by a new leader within ${timeout_ms} ms (leader key deleted: ${this.leaderDeletedAt !== null}, recreated: ${this.leaderCreatedAt !== null})`);
      await sleep(5);
    }
  }

  /** Phases from `faultAt` (ms): lease expiry → campaign win → first block. */
  breakdown(faultAt: number): { total_ms: number; lease_gone_ms: number | null; campaign_won_ms: number | null; first_block_ms: number | null } {
    const r = (x: number) => Math.round(x);
    return {
      total_ms: r(this.firstBlockAt! - faultAt),
      lease_gone_ms: this.leaderDeletedAt === null ? null : r(this.leaderDeletedAt - faultAt),
      campaign_won_ms: this.leaderCreatedAt === null || this.leaderDeletedAt === null ? null : r(this.leaderCreatedAt - this.leaderDeletedAt),
      first_block_ms: this.leaderCreatedAt === null ? null : r(this.firstBlockAt! - this.leaderCreatedAt),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => {})));
    this.client.close();
  }
}
