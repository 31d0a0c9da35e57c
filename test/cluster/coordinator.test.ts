// The cluster coordinator against a real single-member etcd (DESIGN §11): leadership is
// decided by one conditional write (exactly one of two racing nodes wins, tokens grow),
// every write is conditional on the token and on the head (a wrong head or a stale token is
// refused, and the refused node is demoted), a killed leader is replaced within TTL + 1 s, a
// frozen (SIGSTOP) leader's next write is refused after it resumes, admitted transactions
// survive a change of leader, rollback and pruning move etcd as one transaction each.

import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AUDIT_PREFIX, chainPrefix } from "../../sequencer/cluster/cluster-keys.js";
import { decodeAuditRecord } from "../../sequencer/cluster/cluster-records.js";
import { ClusterCoordinator, type Demotion } from "../../sequencer/cluster/coordinator.js";
import { MemberRegistry } from "../../sequencer/cluster/member-registry.js";
import { ClusterUnavailableError, NotLeaderError } from "../../sequencer/errors.js";
import { killAndWait, pauseGroup, resumeGroup, sleep, startEtcd, stopAllEtcd, type EtcdCluster } from "../support/etcd.js";
import { fakeBlock, fakeTx } from "./fake-block.js";

const CHILD = resolve(import.meta.dirname, "coordinator-child.ts");
const GENESIS = "0xabc";

let etcd: EtcdCluster;
const coordinators: ClusterCoordinator[] = [];
const children = new Set<ChildProcess>();
let chainSeq = 0;

beforeAll(async () => {
  etcd = await startEtcd({ members: 1 });
});
afterAll(async () => {
  for (const c of coordinators) c.close();
  await Promise.all([...children].map((p) => killGroup(p)));
  await etcd?.stop();
  await stopAllEtcd();
});

/** A fresh chain id per test, so tests share the etcd member but not keys. */
function newChain(): string {
  return `TEST_${process.pid}_${++chainSeq}`;
}

function coordinator(chainId: string, nodeId: string, leaseTtlS = 2): ClusterCoordinator {
  const c = ClusterCoordinator.create({ endpoints: etcd.endpoints, chainId, nodeId, rpcUrl: `http://127.0.0.1:1/${nodeId}`, leaseTtlS, callDeadlineMs: 1_000 });
  coordinators.push(c);
  return c;
}

function rawClient(): Etcd3 {
  return new Etcd3({ hosts: etcd.endpoints });
}

interface ChildEvent {
  event: string;
  token?: string;
  n?: number;
  error?: string;
  at_ms: number;
}

/** The coordinator child process, with its stdout events. */
function spawnChild(chainId: string, nodeId: string, leaseTtlS: number): { proc: ChildProcess; events: ChildEvent[]; waitFor(e: string, timeout_ms: number): Promise<ChildEvent> } {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify({ endpoints: etcd.endpoints, chainId, nodeId, leaseTtlS })], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    cwd: resolve(import.meta.dirname, "../.."),
  });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  const events: ChildEvent[] = [];
  let buf = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      events.push(JSON.parse(buf.slice(0, i)) as ChildEvent);
      buf = buf.slice(i + 1);
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return {
    proc,
    events,
    async waitFor(e, timeout_ms) {
      const until = performance.now() + timeout_ms;
      for (;;) {
        const found = events.find((x) => x.event === e);
        if (found) return found;
        if (performance.now() > until) throw new Error(`child ${nodeId}: no '${e}' within ${timeout_ms} ms; events ${JSON.stringify(events)}; stderr ${err}`);
        await sleep(20);
      }
    },
  };
}

async function killGroup(p: ChildProcess): Promise<void> {
  try {
    process.kill(-p.pid!, "SIGCONT");
  } catch {
    /* already gone */
  }
  await killAndWait(p, "SIGKILL");
}

/** Campaign every 50 ms until this coordinator leads; bounded. */
async function campaignUntilLeader(c: ClusterCoordinator, timeout_ms: number): Promise<string> {
  const until = performance.now() + timeout_ms;
  for (;;) {
    const t = await c.campaign(await c.head()).catch(() => null);
    if (t !== null) return t;
    if (performance.now() > until) throw new Error(`${c.nodeId} did not become leader within ${timeout_ms} ms`);
    await sleep(50);
  }
}

describe("leadership", () => {
  it("two coordinators racing for the leader key: exactly one wins, five times over, with growing tokens", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    const b = coordinator(chain, "b");
    await a.ensureGenesis(GENESIS);
    await b.ensureGenesis(GENESIS);
    const tokens: bigint[] = [];
    for (let round = 0; round < 5; round++) {
      const [ta, tb] = await Promise.all([a.campaign(0), b.campaign(0)]);
      expect([ta, tb].filter((t) => t !== null)).toHaveLength(1);
      const winner = ta !== null ? a : b;
      const token = (ta ?? tb)!;
      const seen = await a.leader();
      expect(seen).toEqual({ record: { node_id: winner.nodeId, rpc_url: winner.rpcUrl }, token });
      expect(a.isLeader !== b.isLeader).toBe(true);
      tokens.push(BigInt(token));
      await winner.stepDown();
      expect(await a.leader()).toBeNull();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]! > tokens[i - 1]!).toBe(true);
  });

  it("only a node at the etcd head may take over", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    const b = coordinator(chain, "b");
    await a.ensureGenesis(GENESIS);
    const ta = (await a.campaign(0))!;
    for (let n = 1; n <= 3; n++) await a.commitBlock(fakeBlock(n, "a", ta));
    await a.stepDown();
    expect(await b.campaign(2)).toBeNull();
    expect(await b.campaign(3)).not.toBeNull();
  });

  it("refuses to join a cluster whose genesis differs", async () => {
    const chain = newChain();
    await coordinator(chain, "a").ensureGenesis("0x1");
    await expect(coordinator(chain, "b").ensureGenesis("0x2")).rejects.toThrow(/cluster genesis 0x1 differs from this node's 0x2/);
  });
});

describe("conditional block commit", () => {
  it("commits blocks in order and refuses a block whose parent is not the head (the node is demoted)", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    await a.ensureGenesis(GENESIS);
    const demotions: Demotion[] = [];
    a.onDemoted((d) => demotions.push(d));
    const t = (await a.campaign(0))!;
    await a.commitBlock(fakeBlock(1, "a", t));
    await a.commitBlock(fakeBlock(2, "a", t));
    expect(await a.head()).toBe(2);
    await expect(a.commitBlock(fakeBlock(4, "a", t))).rejects.toThrow(NotLeaderError);
    expect(demotions.map((d) => d.reason)).toEqual(["etcd head is 2, expected 3"]);
    expect(a.isLeader).toBe(false);
    expect(await a.head()).toBe(2);
    expect(await a.readBlock(4)).toBeUndefined();
    expect((await a.readBlocks(1, 10)).map((b) => b.block_hash)).toEqual([fakeBlock(1, "a", t).block_hash, fakeBlock(2, "a", t).block_hash]);
  });

  it("refuses at etcd the commit of a leader whose lease was revoked behind its back (stale token)", async () => {
    const chain = newChain();
    // A long TTL: the old leader's keeper will not notice the revocation before it commits.
    const a = coordinator(chain, "a", 30);
    const b = coordinator(chain, "b", 30);
    await a.ensureGenesis(GENESIS);
    const ta = (await a.campaign(0))!;
    await a.commitBlock(fakeBlock(1, "a", ta));
    const raw = rawClient();
    try {
      const kv = (await raw.namespace(chainPrefix(chain)).get("leader").exec()).kvs[0]!;
      await raw.leaseClient.leaseRevoke({ ID: kv.lease });
    } finally {
      raw.close();
    }
    const tb = (await b.campaign(1))!;
    expect(BigInt(tb) > BigInt(ta)).toBe(true);
    expect(a.isLeader).toBe(true); // a still believes it leads...
    await expect(a.commitBlock(fakeBlock(2, "a", ta))).rejects.toThrow(/leader key is b \(token \d+\), not token/);
    expect(a.isLeader).toBe(false);
    await b.commitBlock(fakeBlock(2, "b", tb));
    expect((await b.readBlock(2))!.token).toBe(tb);
  });

  it("a killed leader's lease expires and another node commits the next block within TTL + 1 s", async () => {
    const chain = newChain();
    const ttl = 2;
    const b = coordinator(chain, "b", ttl);
    await b.ensureGenesis(GENESIS);
    const child = spawnChild(chain, "a", ttl);
    await child.waitFor("leader", 15_000);
    await child.waitFor("committed", 10_000);
    const killedAt = performance.now();
    await killAndWait(child.proc, "SIGKILL");
    const tb = await campaignUntilLeader(b, ttl * 1000 + 3_000);
    const head = await b.head();
    await b.commitBlock(fakeBlock(head + 1, "b", tb));
    const failover_ms = performance.now() - killedAt;
    console.log(`failover_ms=${Math.round(failover_ms)} (lease TTL ${ttl} s)`);
    expect(failover_ms).toBeLessThan(ttl * 1000 + 1_000);
    expect((await b.readBlock(head + 1))!.token).toBe(tb);
  });

  it("a leader frozen (SIGSTOP) past its lease has its next write refused after SIGCONT, and its block exists nowhere", async () => {
    const chain = newChain();
    const ttl = 2;
    const b = coordinator(chain, "b", ttl);
    await b.ensureGenesis(GENESIS);
    const child = spawnChild(chain, "a", ttl);
    const leader = await child.waitFor("leader", 15_000);
    await child.waitFor("committed", 10_000);
    pauseGroup(child.proc.pid!);
    const frozenAt = Date.now();
    const tb = await campaignUntilLeader(b, ttl * 1000 + 3_000);
    const headB = await b.head();
    for (let n = headB + 1; n <= headB + 3; n++) await b.commitBlock(fakeBlock(n, "b", tb));
    resumeGroup(child.proc.pid!);
    const refused = await child.waitFor("refused", 5_000);
    console.log(`frozen leader resumed: write refused (${refused.error})`);
    // Nothing the child committed after it froze; its refused height holds b's block.
    const committedAfterFreeze = child.events.filter((e) => e.event === "committed" && e.at_ms > frozenAt);
    expect(committedAfterFreeze).toEqual([]);
    expect(refused.n).toBeGreaterThan(0);
    const blocks = await b.readBlocks(1, await b.head(), 1_000);
    const lastOfA = Math.max(...child.events.filter((e) => e.event === "committed").map((e) => e.n!));
    for (const blk of blocks) expect(blk.token).toBe(blk.block_number <= lastOfA ? leader.token : tb);
    expect(blocks.map((x) => x.block_number)).toEqual(Array.from({ length: blocks.length }, (_, i) => i + 1));
  });
});

describe("admitted transactions, rollback, retention, members", () => {
  it("replicated transaction batches survive a change of leader; a demoted node's batch is refused", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    const b = coordinator(chain, "b");
    await a.ensureGenesis(GENESIS);
    const ta = (await a.campaign(0))!;
    const k1 = await a.replicateTxs([{ hash: "0x11", tx: fakeTx("0x11") }, { hash: "0x12", tx: fakeTx("0x12") }]);
    const k2 = await a.replicateTxs([{ hash: "0x13", tx: fakeTx("0x13") }]);
    await a.stepDown();
    await expect(a.replicateTxs([{ hash: "0x14", tx: fakeTx("0x14") }])).rejects.toThrow(NotLeaderError);
    const tb = (await b.campaign(0))!;
    const batches = await b.txBatches();
    expect(batches.map((x) => x.key)).toEqual([k1, k2]);
    expect(batches.flatMap((x) => x.batch.txs.map((t) => t.hash))).toEqual(["0x11", "0x12", "0x13"]);
    expect(batches.every((x) => x.batch.token === ta)).toBe(true);
    await b.deleteTxBatches([k1]);
    expect((await b.txBatches()).map((x) => x.key)).toEqual([k2]);
    expect(tb).not.toBe(ta);
  });

  it("a replication whose answer is lost is settled by etcd, never guessed: landed (even if the leader changed since), refused, or unknown", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    await a.ensureGenesis(GENESIS);
    await a.campaign(0);
    const raw = rawClient();
    const ns = raw.namespace(chainPrefix(chain));
    try {
      // `mode`: what the next "tx replication" call does before its answer is lost.
      let mode: "land" | "land-then-leader-gone" | "lost" | "silent" | "real" = "real";
      const realCall = a.call.bind(a);
      vi.spyOn(a, "call").mockImplementation(async (what, f) => {
        if (what !== "tx replication" || mode === "real") return realCall(what, f);
        const m = mode;
        if (m !== "silent") mode = "real";
        if (m === "land" || m === "land-then-leader-gone") await realCall(what, f);
        if (m === "land-then-leader-gone") await ns.delete().key("leader");
        throw new ClusterUnavailableError(`etcd ${what} did not answer within 1000 ms`);
      });

      // The first copy landed, its answer was lost: the copy sent again finds the batch stored.
      mode = "land";
      const k1 = await a.replicateTxs([{ hash: "0x21", tx: fakeTx("0x21") }]);
      // Landed, then the leader key went before the copy sent again: refused, but the batch is there.
      mode = "land-then-leader-gone";
      const k2 = await a.replicateTxs([{ hash: "0x22", tx: fakeTx("0x22") }]);
      const stored = (await ns.getAll().prefix("txs/").keys()).sort();
      expect(stored).toEqual([k1, k2].sort());

      // Never landed, and the leader changed: definitely not replicated (NOT_LEADER).
      const c = coordinator(chain, "c");
      // c believes it leads with a token etcd no longer has (its key was deleted behind its back).
      await ns.delete().key("leader");
      await c.campaign(0);
      const cCall = c.call.bind(c);
      let lost = true;
      vi.spyOn(c, "call").mockImplementation(async (what, f) => {
        if (what === "tx replication" && lost) {
          lost = false;
          await ns.delete().key("leader");
          throw new ClusterUnavailableError(`etcd ${what} did not answer within 1000 ms`);
        }
        return cCall(what, f);
      });
      await expect(c.replicateTxs([{ hash: "0x23", tx: fakeTx("0x23") }])).rejects.toThrow(NotLeaderError);
      expect((await ns.getAll().prefix("txs/").keys()).length).toBe(2);

      // etcd never answers: the error says the outcome is unknown.
      const d = coordinator(chain, "d");
      await d.campaign(0);
      vi.spyOn(d, "call").mockImplementation(async (what) => {
        throw new ClusterUnavailableError(`etcd ${what} did not answer within 1000 ms`);
      });
      await expect(d.replicateTxs([{ hash: "0x24", tx: fakeTx("0x24") }])).rejects.toMatchObject({ code: -32014, data: { outcome: "unknown" } });
    } finally {
      raw.close();
    }
  });

  it("cluster rollback moves the head back in one transaction with an audit record; the chain continues from there", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    await a.ensureGenesis(GENESIS);
    const t = (await a.campaign(0))!;
    for (let n = 1; n <= 5; n++) await a.commitBlock(fakeBlock(n, "a", t));
    await expect(a.rollback(4, 2, "wrong head")).rejects.toThrow(ClusterUnavailableError);
    await a.rollback(5, 2, "drill");
    expect(await a.head()).toBe(2);
    expect((await a.readBlocks(1, 10)).map((x) => x.block_number)).toEqual([1, 2]);
    const raw = rawClient();
    try {
      const audits = await raw.namespace(chainPrefix(chain)).getAll().prefix(AUDIT_PREFIX).buffers();
      expect(Object.values(audits).map(decodeAuditRecord)).toMatchObject([{ node_id: "a", token: t, from_height: 5, to_height: 2, reason: "drill" }]);
    } finally {
      raw.close();
    }
    await a.commitBlock({ ...fakeBlock(3, "a", t), block_hash: "0x3bb" });
    expect((await a.readBlock(3))!.block_hash).toBe("0x3bb");
  });

  it("prunes blocks below the retention floor and lists live members with their applied heights", async () => {
    const chain = newChain();
    const a = coordinator(chain, "a");
    const b = coordinator(chain, "b");
    await a.ensureGenesis(GENESIS);
    const t = (await a.campaign(0))!;
    for (let n = 1; n <= 10; n++) await a.commitBlock(fakeBlock(n, "a", t));
    const ra = new MemberRegistry(a);
    const rb = new MemberRegistry(b);
    await ra.publish({ role: "leader", applied_height: 10, applied_hash: "0xa" });
    await rb.publish({ role: "follower", applied_height: 6, applied_hash: "0x6" });
    expect(await ra.list()).toEqual([
      { node_id: "a", rpc_url: a.rpcUrl, role: "leader", applied_height: 10, applied_hash: "0xa" },
      { node_id: "b", rpc_url: b.rpcUrl, role: "follower", applied_height: 6, applied_hash: "0x6" },
    ]);
    await a.pruneBlocksBelow(7);
    expect(await a.lowestBlock()).toBe(7);
    expect((await a.readBlocks(1, 10)).map((x) => x.block_number)).toEqual([7, 8, 9, 10]);
    await rb.leave();
    expect((await ra.list()).map((m) => m.node_id)).toEqual(["a"]);
    await ra.leave();
  });
});
