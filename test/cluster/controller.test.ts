// The cluster controller's role logic against a real etcd, with a small in-memory chain as
// the node (blocks are hashes chained by parent; "re-execution" recomputes the hash from the
// parent and the transactions, so a tampered record does not re-execute to its hash). The
// real node is exercised by test/cluster/nodes.test.ts; here: a follower catches up and
// follows, a leader's blocks reach the follower, step-down hands over, a cluster rollback is
// followed by a local reorg, a corrupted block halts the follower for good, and replicated
// transactions are adopted by the next leader.

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClusterBlockRecord, TxBatchRecord } from "../../sequencer/cluster/cluster-records.js";
import { BlockMismatchError, ClusterController, FollowerBehindPruningError, type ClusterNodePort } from "../../sequencer/cluster/cluster-controller.js";
import { ClusterCoordinator } from "../../sequencer/cluster/coordinator.js";
import type { PeerBlockFetcher } from "../../sequencer/cluster/peer-blocks.js";
import { FAKE_HEADER_INPUTS, fakeTx, tagOf } from "./fake-block.js";
import { sleep, startEtcd, stopAllEtcd, type EtcdCluster } from "../support/etcd.js";

let etcd: EtcdCluster;
const controllers: ClusterController[] = [];
let chainSeq = 0;

beforeAll(async () => {
  etcd = await startEtcd({ members: 1 });
});
afterAll(async () => {
  for (const c of controllers) await c.stop().catch(() => {});
  await etcd?.stop();
  await stopAllEtcd();
});

const GENESIS_HASH = "0x9e0";

/** Blocks hold transaction tags (fake-block.ts: fakeTx/tagOf carry them through etcd as typed transactions). */
function hashOf(parent: string, txs: string[]): string {
  return "0x" + createHash("sha256").update(parent + JSON.stringify(txs)).digest("hex").slice(0, 16).replace(/^0+/, "");
}

/** An in-memory chain playing the node. */
class MemoryChain implements ClusterNodePort {
  blocks: Array<{ hash: string; txs: string[] }> = [{ hash: GENESIS_HASH, txs: [] }];
  writer: string | null = null;
  mempool = new Map<string, unknown>();
  rolledBackTo: number[] = [];
  localHead() {
    return { number: this.blocks.length - 1, hash: this.blocks[this.blocks.length - 1]!.hash };
  }
  async localBlockHash(n: number) {
    return this.blocks[n]?.hash;
  }
  async applyBlock(r: ClusterBlockRecord) {
    const tags = r.txs.map(tagOf);
    const h = hashOf(this.localHead().hash, tags);
    if (h !== r.block_hash) throw new BlockMismatchError(r.block_number, `hash ${h}, expected ${r.block_hash}`);
    this.blocks.push({ hash: h, txs: tags });
    for (const t of tags) this.mempool.delete(t);
  }
  async rollbackLocal(target: number) {
    this.rolledBackTo.push(target);
    this.blocks.length = target + 1;
  }
  setWriter(token: string | null) {
    this.writer = token;
  }
  async quiesce() {}
  async adoptTxs(txs: TxBatchRecord["txs"]) {
    for (const t of txs) this.mempool.set(t.hash, t.tx);
    return txs.length;
  }
  async txSettled(hash: string) {
    return this.blocks.some((b) => b.txs.includes(hash));
  }
  async txsAbove(target: number) {
    return this.blocks.slice(target + 1).flatMap((b) => b.txs.map((t) => ({ hash: t, tx: fakeTx(t) })));
  }
  /** Leader side: build the next block from the mempool and commit it through `ctl`. */
  async produce(ctl: ClusterController): Promise<ClusterBlockRecord> {
    const txs = [...this.mempool.keys()];
    const head = this.localHead();
    const rec: ClusterBlockRecord = {
      block_number: head.number + 1,
      block_hash: hashOf(head.hash, txs),
      parent_hash: head.hash,
      state_root: "0x1",
      timestamp_s: 1,
      token: ctl.token!,
      header_inputs: FAKE_HEADER_INPUTS,
      txs: txs.map(fakeTx),
    };
    await ctl.commitBlock(rec);
    this.blocks.push({ hash: rec.block_hash, txs });
    for (const t of txs) this.mempool.delete(t);
    return rec;
  }
}

/** Members' chains by RPC URL: what the in-memory peer fetcher serves from. */
const chainsByUrl = new Map<string, MemoryChain>();

/** appchain_getClusterBlocks of an in-memory member. */
const memoryPeerFetcher: PeerBlockFetcher = async (url, from, count) => {
  const c = chainsByUrl.get(url);
  if (c === undefined) throw new Error(`no member at ${url}`);
  return c.blocks.slice(from, from + count).map((b, i) => ({
    block_number: from + i,
    block_hash: b.hash,
    parent_hash: c.blocks[from + i - 1]!.hash,
    state_root: "0x1",
    timestamp_s: 1,
    header_inputs: FAKE_HEADER_INPUTS,
    txs: b.txs.map(fakeTx),
  }));
};

function member(chain: string, nodeId: string, opts: { fetchPeerBlocks?: PeerBlockFetcher; pollMs?: number } = {}): { ctl: ClusterController; node: MemoryChain; coordinator: ClusterCoordinator; rpcUrl: string } {
  const node = new MemoryChain();
  const rpcUrl = `http://127.0.0.1:1/${chain}/${nodeId}`;
  chainsByUrl.set(rpcUrl, node);
  const coordinator = ClusterCoordinator.create({ endpoints: etcd.endpoints, chainId: chain, nodeId, rpcUrl, leaseTtlS: 2, callDeadlineMs: 1_000 });
  const ctl = new ClusterController({
    coordinator,
    port: node,
    pollMs: opts.pollMs ?? 100,
    maintenanceEveryMs: 300,
    retentionBlocks: 2,
    fetchPeerBlocks: opts.fetchPeerBlocks ?? memoryPeerFetcher,
    log: process.env.CLUSTER_DEBUG ? (e, f) => console.log(nodeId, e, JSON.stringify(f)) : undefined,
  });
  controllers.push(ctl);
  return { ctl, node, coordinator, rpcUrl };
}

async function until(what: string, f: () => boolean | Promise<boolean>, timeout_ms = 8_000): Promise<void> {
  const end = performance.now() + timeout_ms;
  while (!(await f())) {
    if (performance.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

describe("cluster controller", () => {
  it("first member leads, the second follows and re-executes its blocks; step-down hands over with the replicated transactions", async () => {
    const chain = `CTL_${process.pid}_${++chainSeq}`;
    const a = member(chain, "a");
    await a.ctl.start(GENESIS_HASH);
    expect(a.ctl.role).toBe("leader");
    expect(a.node.writer).toBe(a.ctl.token);
    const b = member(chain, "b");
    await b.ctl.start(GENESIS_HASH);
    expect(b.ctl.role).toBe("follower");
    a.node.mempool.set("0xa1", {});
    await a.ctl.replicateTx("0xa1", fakeTx("0xa1"));
    await a.node.produce(a.ctl);
    await a.ctl.replicateTx("0xa2", fakeTx("0xa2"));
    a.node.mempool.set("0xa2", {});
    await a.node.produce(a.ctl);
    await a.ctl.replicateTx("0xa3", fakeTx("0xa3")); // acknowledged, not yet in a block
    await until("b at height 2", () => b.node.localHead().number === 2);
    expect(b.node.blocks.map((x) => x.hash)).toEqual(a.node.blocks.map((x) => x.hash));
    const st = await b.ctl.status();
    expect(st).toMatchObject({ node_id: "b", role: "follower", leader_id: "a", head: { block_number: 2, block_hash: a.node.localHead().hash } });
    expect(st.members.map((m) => m.node_id)).toEqual(["a", "b"]);

    await a.ctl.stepDown();
    await until("b leads", () => b.ctl.role === "leader");
    expect(a.ctl.role).toBe("follower");
    expect(a.node.writer).toBeNull();
    // b adopted what a acknowledged but had not included (0xa3); 0xa1/0xa2 are in blocks already and were settled.
    expect([...b.node.mempool.keys()]).toContain("0xa3");
    const rec = await b.node.produce(b.ctl);
    expect(rec.txs.map(tagOf)).toContain("0xa3");
    await until("a follows b's block", () => a.node.localHead().hash === rec.block_hash);
    // housekeeping removes settled batches and prunes below the members' heights and the window
    await until("settled batches deleted", async () => (await coordinatorOf(chain).txBatches()).length === 0);
  });

  it("a cluster rollback is followed by a local reorg on the follower", async () => {
    const chain = `CTL_${process.pid}_${++chainSeq}`;
    const a = member(chain, "a");
    await a.ctl.start(GENESIS_HASH);
    const b = member(chain, "b");
    await b.ctl.start(GENESIS_HASH);
    for (let i = 0; i < 4; i++) {
      a.node.mempool.set(`0xb${i}`, {});
      await a.node.produce(a.ctl);
    }
    await until("b at 4", () => b.node.localHead().number === 4);
    await a.ctl.rollback(1, "drill", async () => a.node.rollbackLocal(1));
    a.node.mempool.set("0xc0", {});
    await a.node.produce(a.ctl);
    await until("b on the new block 2", () => b.node.localHead().hash === a.node.localHead().hash);
    expect(b.node.rolledBackTo).toEqual([1]);
    expect(b.node.blocks.map((x) => x.hash)).toEqual(a.node.blocks.map((x) => x.hash));
  });

  it("a follower handed a corrupted block halts and never campaigns", async () => {
    const chain = `CTL_${process.pid}_${++chainSeq}`;
    const a = member(chain, "a");
    await a.ctl.start(GENESIS_HASH);
    const b = member(chain, "b");
    await b.ctl.start(GENESIS_HASH);
    const good = await a.node.produce(a.ctl);
    await until("b at 1", () => b.node.localHead().number === 1);
    // The leader commits a block 2 whose transactions do not produce its hash (a corrupted
    // record, as a buggy or malicious leader would hand it over).
    const head = a.node.localHead();
    await a.ctl.commitBlock({ block_number: 2, block_hash: hashOf(head.hash, ["0xd0"]), parent_hash: head.hash, state_root: "0x1", timestamp_s: 1, token: a.ctl.token!, header_inputs: FAKE_HEADER_INPUTS, txs: [fakeTx("0xf0")] });
    await until("b halted", () => b.ctl.role === "halted");
    expect(b.ctl.haltedBecause).toMatch(/block 2 does not re-execute to the committed result/);
    expect(b.node.localHead().hash).toBe(good.block_hash);
    expect(b.ctl.ready).toBe(false);
    await a.ctl.stepDown();
    await sleep(1_000);
    expect(b.ctl.role).toBe("halted");
    expect((await b.ctl.status()).members.find((m) => m.node_id === "b")?.role).toBe("halted");
  });
});

/** Where `ctl` sends a write now: the leader's RPC URL, or null when it takes the write itself. */
async function leaderUrl(ctl: ClusterController): Promise<string | null> {
  const t = await ctl.writeTarget(performance.now() + 1_000);
  return t.local ? null : t.url;
}

/**
 * Counts the etcd leader reads the forwarding path (writeTarget) makes. The controller's own
 * sync also reads the leader whenever a block lands; counting all calls made this test flaky
 * (CI: 3 reads where the forwarding path made 2).
 */
function forwardingReads(coordinator: { leader(): Promise<unknown> }): { count: number } {
  const reads = { count: 0 };
  const leader = coordinator.leader.bind(coordinator);
  vi.spyOn(coordinator, "leader").mockImplementation(() => {
    if (new Error().stack!.includes("writeTarget")) reads.count++;
    return leader();
  });
  return reads;
}

describe("forwarding target", () => {
  it("a follower names the leader its watch reported, reading etcd only when it does not know one", async () => {
    const chain = `CTL_${process.pid}_${++chainSeq}`;
    const a = member(chain, "a");
    await a.ctl.start(GENESIS_HASH);
    // No fallback polls: what b and c know of the leader comes from their watches.
    const b = member(chain, "b", { pollMs: 600_000 });
    await b.ctl.start(GENESIS_HASH);
    const c = member(chain, "c", { pollMs: 600_000 });
    await c.ctl.start(GENESIS_HASH);
    const reads = forwardingReads(c.coordinator);
    for (let i = 0; i < 50; i++) expect(await leaderUrl(c.ctl)).toBe(a.rpcUrl);
    expect(reads.count).toBe(0);

    // a hands over; b or c takes over, and the other one names it.
    await a.ctl.stepDown();
    await until("b or c leads", () => b.ctl.role === "leader" || c.ctl.role === "leader");
    const [leader, other] = b.ctl.role === "leader" ? [b, c] : [c, b];
    expect(await leaderUrl(leader.ctl)).toBeNull();
    await until("the other names the new leader", async () => (await leaderUrl(other.ctl)) === leader.rpcUrl);

    // A failed forward makes it ask etcd again (once), which confirms the leader.
    const otherReads = other === c ? reads : forwardingReads(b.coordinator);
    other.ctl.forgetLeader(leader.rpcUrl);
    const before = otherReads.count;
    expect(await leaderUrl(other.ctl)).toBe(leader.rpcUrl);
    expect(otherReads.count).toBe(before + 1);
    expect(await leaderUrl(other.ctl)).toBe(leader.rpcUrl);
    expect(otherReads.count).toBe(before + 1);
  });
});

describe("a member whose next blocks etcd pruned", () => {
  /** A leader with 8 blocks of which etcd keeps the last few (window 2, housekeeping every 300 ms). */
  async function prunedChain(): Promise<{ chain: string; a: ReturnType<typeof member>; lowest: number }> {
    const chain = `CTL_${process.pid}_${++chainSeq}`;
    const a = member(chain, "a");
    await a.ctl.start(GENESIS_HASH);
    for (let i = 0; i < 8; i++) {
      a.node.mempool.set(`0xe${i}`, {});
      await a.node.produce(a.ctl);
    }
    let lowest = 0;
    await until("etcd pruned below block 5", async () => (lowest = (await coordinatorOf(chain).lowestBlock()) ?? 0) >= 5);
    return { chain, a, lowest };
  }

  it("catches up from a peer's blocks (re-executed, anchored to etcd's lowest block), then follows from etcd", async () => {
    const { chain, a, lowest } = await prunedChain();
    const b = member(chain, "b");
    await b.ctl.start(GENESIS_HASH);
    expect(b.ctl.role).toBe("follower");
    expect(b.node.blocks.map((x) => x.hash)).toEqual(a.node.blocks.map((x) => x.hash));
    expect(lowest).toBeGreaterThan(1);
    a.node.mempool.set("0xf1", {});
    const next = await a.node.produce(a.ctl);
    await until("b follows the next block from etcd", () => b.node.localHead().hash === next.block_hash);
  });

  it("halts with FollowerBehindPruningError, saying what to do, when no peer can serve the blocks", async () => {
    const { chain, lowest } = await prunedChain();
    const b = member(chain, "b", { fetchPeerBlocks: async (url) => Promise.reject(new Error(`connection refused by ${url}`)) });
    await expect(b.ctl.start(GENESIS_HASH)).rejects.toThrow(/cluster member halted during start-up: this node is at block 0 but etcd keeps blocks from \d+ up only/);
    expect(b.ctl.role).toBe("halted");
    expect(b.ctl.haltedBecause).toContain(`no member could serve blocks 1..${lowest - 1} (a: connection refused by`);
    expect(b.ctl.haltedBecause).toContain("replace its --db with a copy of a stopped member's --db");
    expect(b.node.localHead().number).toBe(0);
  });

  it("refuses a peer whose chain does not lead to etcd's lowest block", async () => {
    const { chain, a, lowest } = await prunedChain();
    // A peer on another chain from block 3 on (other transactions, consistent hashes): its
    // blocks would re-execute, but its block below etcd's lowest is not the parent etcd names.
    const fork = new MemoryChain();
    fork.blocks = a.node.blocks.slice(0, 3);
    for (let n = 3; n < lowest; n++) fork.blocks.push({ hash: hashOf(fork.localHead().hash, [`0xf0${n}`]), txs: [`0xf0${n}`] });
    const forkUrl = `http://127.0.0.1:1/fork-${chain}`;
    chainsByUrl.set(forkUrl, fork);
    const b = member(chain, "b", { fetchPeerBlocks: (_url, from, count) => memoryPeerFetcher(forkUrl, from, count) });
    const err = await b.ctl.start(GENESIS_HASH).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(b.ctl.role).toBe("halted");
    expect(b.ctl.haltedBecause).toContain(`a: its block ${lowest - 1} is ${fork.localHead().hash}, etcd's block ${lowest} follows ${a.node.blocks[lowest - 1]!.hash}`);
    expect(b.node.localHead().number).toBe(0);
    expect(a.ctl.role).toBe("leader");
    expect(new FollowerBehindPruningError(0, lowest, []).message).toContain(`no live member has blocks up to ${lowest - 1}`);
  });
});

const extra: ClusterCoordinator[] = [];
afterAll(() => extra.forEach((c) => c.close()));
function coordinatorOf(chain: string): ClusterCoordinator {
  const c = ClusterCoordinator.create({ endpoints: etcd.endpoints, chainId: chain, nodeId: "observer", rpcUrl: "http://127.0.0.1:1/", callDeadlineMs: 1_000 });
  extra.push(c);
  return c;
}
