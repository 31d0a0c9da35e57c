// Benchmark: cluster mode on a 3-member etcd (loopback, real processes).
//   etcd_commit_p50_ms / p99   one coordinator's conditional block commits (--commits, 200)
//                               of records of --record-kb (100) KB
//   included_tx_per_s           --txs (400) signed transfers from 4 accounts, all sent at once
//                               (batches of JSON-RPC), until all are ACCEPTED_ON_L2: a single
//                               embedded node, then the leader of a 3-node cluster
//   failover_ms                 kill -9 of the leader → first block committed by another node, with
//                               its breakdown (failover_breakdown): lease_gone_ms (kill → leader
//                               key deleted by etcd), campaign_won_ms (→ new leader key),
//                               first_block_ms (→ its first block in etcd), seen by an etcd watch;
//                               and the new leader's own log: campaign, adoption of replicated
//                               transactions, first block after takeover
//   zombie_write_refused        leader SIGSTOPped past its lease, SIGCONTed: it comes back as a
//                               follower and no block carries its token after the takeover
//   handoff_ms                  appchain_stepDown → a transfer sent right after is ACCEPTED_ON_L2
// Lease TTL --ttl (2) s. Progress on stderr; last stdout line: one JSON object.

import { ClusterCoordinator } from "../../sequencer/cluster/coordinator.js";
import { rpc, rpcBatch, signedTransfer, sleep, spawnNode, killAllChildren, type PredeployedAccount } from "../crash/child-node.js";
import { fakeBlock, fakeTx } from "../cluster/fake-block.js";
import { FailoverProbe, NodeCluster, TransferLoad } from "../cluster/node-cluster.js";
import { startEtcd, stopAllEtcd } from "../support/etcd.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intArg } from "./bench-args.js";

const COMMITS = intArg("commits", 200);
const RECORD_KB = intArg("record-kb", 100);
const TXS = intArg("txs", 400);
const TTL_S = intArg("ttl", 2);
const SEED = 5;
const ACCOUNTS = 4;

const progress = (s: string) => process.stderr.write(`cluster bench: ${s}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const round = (x: number) => Math.round(x * 10) / 10;

async function commitLatency(endpoints: string[]): Promise<{ p50: number; p99: number }> {
  const c = ClusterCoordinator.create({ endpoints, chainId: "BENCH_COMMIT", nodeId: "bench", rpcUrl: "http://127.0.0.1:1/", leaseTtlS: TTL_S });
  try {
    await c.ensureGenesis("0x1");
    const token = (await c.campaign(0))!;
    // About RECORD_KB KB of transactions: each carries ~1 KB of calldata.
    const payload = Array.from({ length: RECORD_KB }, (_, i) => ({ ...fakeTx(`0x${(i + 1).toString(16)}`), calldata: Array.from({ length: 32 }, (_, k) => BigInt(i * 32 + k) * 2n ** 200n) }));
    const ms: number[] = [];
    for (let n = 1; n <= COMMITS; n++) {
      const t0 = performance.now();
      await c.commitBlock({ ...fakeBlock(n, "bench", token), txs: payload });
      ms.push(performance.now() - t0);
    }
    return { p50: round(pct(ms, 50)), p99: round(pct(ms, 99)) };
  } finally {
    await c.stepDown().catch(() => {});
    c.close();
  }
}

/** Send `TXS` transfers at once (4 accounts × consecutive nonces) to `send`, wait until all are included on `check`. */
async function throughput(send: () => string, check: string, accounts: PredeployedAccount[], token: string, chainId: string): Promise<number> {
  const nonces = await Promise.all(accounts.map(async (a) => BigInt(await rpc<string>(check, "starknet_getNonce", ["latest", a.address]))));
  const txs = Array.from({ length: TXS }, (_, k) => {
    const a = k % ACCOUNTS;
    const t = signedTransfer({ from: accounts[a]!, to: accounts[(a + 1) % ACCOUNTS]!.address, token, amount: BigInt(k + 1), nonce: nonces[a]!++, chainId });
    return t;
  });
  const t0 = performance.now();
  // In nonce order per account: chunks of 4 × 16 so the mempool's nonce window is never exceeded.
  for (let i = 0; i < txs.length; i += 64) {
    const r = await rpcBatch(send(), txs.slice(i, i + 64).map((t) => ({ method: "starknet_addInvokeTransaction", params: [t.tx] })), 60_000);
    const bad = r.filter((x) => x.error);
    if (bad.length > 0) throw new Error(`throughput: ${bad.length} refused, e.g. ${JSON.stringify(bad[0]!.error)}`);
  }
  let pending = txs.map((t) => t.hash);
  const until = performance.now() + 120_000;
  while (pending.length > 0) {
    const st = await rpcBatch(check, pending.map((h) => ({ method: "starknet_getTransactionStatus", params: [h] })));
    pending = pending.filter((_, i) => (st[i]!.result as { finality_status?: string } | undefined)?.finality_status !== "ACCEPTED_ON_L2");
    if (performance.now() > until) throw new Error(`throughput: ${pending.length} not included within 120 s`);
    if (pending.length > 0) await sleep(20);
  }
  return round(TXS / ((performance.now() - t0) / 1000));
}

async function main(): Promise<void> {
  const etcd = await startEtcd({ members: 3 });
  // --verbose: the new leader's takeover timing lines (cluster_takeover, cluster_first_block).
  const cluster = new NodeCluster({ endpoints: etcd.endpoints, seed: SEED, accounts: ACCOUNTS, leaseTtlS: TTL_S, chainId: "BENCH_CLUSTER", extraArgs: ["--verbose"] });
  const singleDir = mkdtempSync(join(tmpdir(), "perpchain-bench-single-"));
  try {
    progress(`etcd commit latency: ${COMMITS} commits of ${RECORD_KB} KB`);
    const commit = await commitLatency(etcd.endpoints);

    progress(`single node: ${TXS} transfers`);
    const single = await spawnNode({ dbPath: singleDir, seed: SEED, accounts: ACCOUNTS, timeout_ms: 60_000 });
    const accounts = await rpc<PredeployedAccount[]>(single.rpcUrl, "devnet_getPredeployedAccounts");
    const strk = (await rpc<{ fee_token_address: string }>(single.rpcUrl, "devnet_getConfig")).fee_token_address;
    const chainIdSingle = await rpc<string>(single.rpcUrl, "starknet_chainId");
    const singleTps = await throughput(() => single.rpcUrl, single.rpcUrl, accounts, strk, chainIdSingle);
    await killAllChildren();

    progress("3-node cluster: starting");
    await Promise.all(["n1", "n2", "n3"].map((id) => cluster.start(id)));
    let leader = await cluster.waitForLeader(30_000);
    const chainId = await rpc<string>(cluster.url(leader), "starknet_chainId");
    progress(`3-node cluster: ${TXS} transfers to the leader ${leader}`);
    const clusterTps = await throughput(() => cluster.url(leader), cluster.url(leader), accounts, strk, chainId);

    const load = new TransferLoad(cluster, accounts, strk, chainId);
    // The throughput phase used these accounts' nonces: a load starting from nonce 0 would
    // spend seconds stepping over used nonces, and the new leader would have nothing to
    // include (that, not the takeover, was most of the 7-11 s failover figure measured before).
    await load.resyncNonces();
    progress("failover: kill -9 of the leader");
    load.start();
    await sleep(500);
    let token = (await cluster.status(leader)).token!;
    let h = await cluster.head(leader);
    const followerLag = await Promise.all(cluster.running().filter((i) => i !== leader).map(async (i) => h - (await cluster.head(i))));
    const probe = await FailoverProbe.start(etcd.endpoints, "BENCH_CLUSTER", token);
    let t0 = performance.now();
    await cluster.kill9(leader);
    await probe.waitFirstBlock(20_000).finally(() => probe.stop());
    const breakdown = probe.breakdown(t0);
    // The new leader logs its first block right after etcd took it: give the line a moment.
    let takeover = takeoverLog(cluster, probe.newToken!);
    for (let i = 0; i < 40 && takeover.new_leader_first_block_after_takeover_ms == null; i++) {
      await sleep(25);
      takeover = takeoverLog(cluster, probe.newToken!);
    }
    progress(`failover: ${JSON.stringify({ ...breakdown, ...takeover, follower_lag_at_kill: followerLag })}`);
    const newBlock = async (tok: string, from: number) => {
      for (let i = 0; i < 2_000; i++) {
        const b = (await cluster.etcdBlocksWithToken(from)).find((x) => x.token !== tok);
        if (b) return b.block_number;
        await sleep(10);
      }
      throw new Error("no new leader block within 20 s");
    };
    const failover_ms = breakdown.total_ms;
    await cluster.start(leader);

    progress("zombie: SIGSTOP of the leader past its lease");
    leader = await cluster.waitForLeader(10_000);
    token = (await cluster.status(leader)).token!;
    h = await cluster.head(leader);
    cluster.freeze(leader);
    const n = await newBlock(token, h);
    cluster.thaw(leader);
    let zombie_write_refused = false;
    for (let i = 0; i < 100; i++) {
      if ((await cluster.status(leader).catch(() => null))?.role === "follower") {
        zombie_write_refused = (await cluster.etcdBlocksWithToken(n)).every((b) => b.token !== token);
        break;
      }
      await sleep(50);
    }

    progress("handoff: appchain_stepDown");
    leader = await cluster.waitForLeader(10_000);
    await load.stop();
    await rpc(cluster.url(leader), "appchain_stepDown");
    t0 = performance.now();
    const { hash } = await load.sendOne(0, 10_000);
    const next = await cluster.waitForLeader(10_000);
    await cluster.waitIncluded(next, [hash], 10_000);
    const handoff_ms = Math.round(performance.now() - t0);
    await cluster.waitIncluded(next, load.acked, 30_000);
    await cluster.checkInvariants(load.acked);

    const result = {
      bench: "cluster",
      lease_ttl_s: TTL_S,
      failover_ms,
      failover_breakdown: { ...breakdown, ...takeover, follower_lag_at_kill: followerLag },
      failover_first_block: probe.firstBlock,
      zombie_write_refused,
      handoff_ms,
      etcd_commit_p50_ms: commit.p50,
      etcd_commit_p99_ms: commit.p99,
      etcd_commit_record_kb: RECORD_KB,
      included_tx_per_s: { single_node: singleTps, cluster_3_nodes: clusterTps },
      acked_during_faults: load.acked.length,
    };
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    await cluster.stopAll();
    await killAllChildren();
    rmSync(singleDir, { recursive: true, force: true });
    await etcd.stop();
    await stopAllEtcd();
  }
}

/** The new leader's own account of its takeover (its cluster_takeover and cluster_first_block log lines, --verbose). */
function takeoverLog(cluster: NodeCluster, token: string): Record<string, number | null> {
  for (const m of cluster.members.values()) {
    const events = (m.node?.output() ?? "")
      .split("\n")
      .filter((l) => l.startsWith("{") && l.endsWith("}") && l.includes(`"token":"${token}"`))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const take = events.find((e) => e.event === "cluster_takeover");
    if (take === undefined) continue;
    const first = events.find((e) => e.event === "cluster_first_block");
    return {
      new_leader_campaign_ms: take.campaign_ms as number,
      new_leader_adopt_ms: take.adopt_ms as number,
      new_leader_replicated_txs: take.replicated as number,
      new_leader_adopted_txs: take.adopted as number,
      new_leader_first_block_after_takeover_ms: (first?.ms_after_takeover as number | undefined) ?? null,
    };
  }
  return {};
}

main().catch((e) => {
  process.stderr.write(`cluster bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
