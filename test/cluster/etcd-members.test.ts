// The coordinator on a 3-member etcd cluster: leadership is still decided by exactly one
// conditional write, and when the etcd member that leads Raft is killed with SIGKILL in the
// middle of a run of block commits, commits continue (each stalls at most the commit
// budget), the perpchain leader keeps its leadership, and every height holds one block.

import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterCoordinator, type Demotion } from "../../sequencer/cluster/coordinator.js";
import { startEtcd, stopAllEtcd, type EtcdCluster } from "../support/etcd.js";
import { fakeBlock } from "./fake-block.js";

let etcd: EtcdCluster;
const coordinators: ClusterCoordinator[] = [];

beforeAll(async () => {
  etcd = await startEtcd({ members: 3 });
});
afterAll(async () => {
  for (const c of coordinators) c.close();
  await etcd?.stop();
  await stopAllEtcd();
});

function coordinator(chainId: string, nodeId: string): ClusterCoordinator {
  const c = ClusterCoordinator.create({ endpoints: etcd.endpoints, chainId, nodeId, rpcUrl: `http://127.0.0.1:1/${nodeId}`, leaseTtlS: 2, callDeadlineMs: 1_000 });
  coordinators.push(c);
  return c;
}

/** Index of the member that leads Raft now. */
async function raftLeaderIndex(): Promise<number> {
  const ids: string[] = [];
  let leader = "";
  for (const url of etcd.endpoints) {
    const c = new Etcd3({ hosts: url });
    try {
      const s = await c.maintenance.status({});
      ids.push(s.header.member_id);
      leader = s.leader;
    } finally {
      c.close();
    }
  }
  const i = ids.indexOf(leader);
  if (i < 0) throw new Error(`no member reports itself as the Raft leader (${leader} not in ${ids.join(",")})`);
  return i;
}

describe("3-member etcd", () => {
  it("two coordinators racing: exactly one wins", async () => {
    const a = coordinator("RACE3", "a");
    const b = coordinator("RACE3", "b");
    await a.ensureGenesis("0x1");
    const [ta, tb] = await Promise.all([a.campaign(0), b.campaign(0)]);
    expect([ta, tb].filter((t) => t !== null)).toHaveLength(1);
    expect((await b.leader())!.token).toBe(ta ?? tb);
  });

  it("kill -9 of the Raft-leading etcd member: block commits continue, each within the commit budget", async () => {
    const a = coordinator("KILL3", "a");
    await a.ensureGenesis("0x1");
    const demotions: Demotion[] = [];
    a.onDemoted((d) => demotions.push(d));
    const t = (await a.campaign(0))!;
    const commit_ms: number[] = [];
    let killed = -1;
    for (let n = 1; n <= 40; n++) {
      if (n === 11) {
        killed = await raftLeaderIndex();
        await etcd.killMember(killed);
      }
      const t0 = performance.now();
      await a.commitBlock(fakeBlock(n, "a", t));
      commit_ms.push(performance.now() - t0);
    }
    const stall_ms = Math.max(...commit_ms.slice(10));
    console.log(`etcd member ${killed} (Raft leader) killed before block 11: longest commit after it ${Math.round(stall_ms)} ms, commit budget ${a.commitBudgetMs} ms`);
    expect(demotions).toEqual([]);
    expect(a.isLeader).toBe(true);
    expect(stall_ms).toBeLessThanOrEqual(a.commitBudgetMs + 100);
    expect(await a.head()).toBe(40);
    const blocks = await a.readBlocks(1, 40);
    expect(blocks.map((b) => [b.block_number, b.token])).toEqual(Array.from({ length: 40 }, (_, i) => [i + 1, t]));
    await etcd.restartMember(killed);
  });
});
