// A member that joins after etcd pruned the blocks it needs: a leader in this process on a
// 1-member etcd keeps 2 blocks below its head in etcd; a new member (empty chain) fetches the
// pruned blocks from the leader's JSON-RPC (appchain_getClusterBlocks), re-executes them to
// the leader's hashes and roots, then follows from etcd. Also the method's answer and its
// bad params.

import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { BLOCKS_PREFIX, chainPrefix } from "../../sequencer/cluster/cluster-keys.js";
import { decodeBlockRecord } from "../../sequencer/cluster/cluster-records.js";
import type { Devnet } from "../../sequencer/devnet.js";
import { rpc, RpcCallError, signedTransfer, type PredeployedAccount } from "../crash/child-node.js";
import { inProcessCluster, until } from "../support/in-process-cluster.js";

const CHAIN = "PERP_PRUNED";
const cluster = inProcessCluster();

function member(nodeId: string, events: string[] = []): Promise<Devnet> {
  return cluster.member(nodeId, { seed: 6, accounts: 2, chainId: CHAIN, log: (event) => void events.push(event) }, { retentionBlocks: 2 });
}

async function etcdLowestBlock(): Promise<number | undefined> {
  const c = new Etcd3({ hosts: cluster.etcd().endpoints });
  try {
    const res = await c.namespace(chainPrefix(CHAIN)).getAll().prefix(BLOCKS_PREFIX).sort("Key", "Ascend").limit(1).exec();
    return res.kvs[0] ? decodeBlockRecord(res.kvs[0].value).block_number : undefined;
  } finally {
    c.close();
  }
}

describe("a member below etcd's pruning floor", () => {
  it("catches up from the leader's RPC, with the leader's hashes and roots, then follows from etcd", async () => {
    const leader = await member("p1");
    const [acct, other] = await rpc<PredeployedAccount[]>(leader.rpcUrl, "devnet_getPredeployedAccounts");
    const strk = (await rpc<{ fee_token_address: string }>(leader.rpcUrl, "devnet_getConfig")).fee_token_address;
    const chainId = await rpc<string>(leader.rpcUrl, "starknet_chainId");
    for (let i = 0; i < 6; i++) {
      const t = signedTransfer({ from: acct!, to: other!.address, token: strk, amount: BigInt(i + 1), nonce: BigInt(i), chainId });
      await rpc(leader.rpcUrl, "starknet_addInvokeTransaction", [t.tx]);
      await leader.node.waitForTx(BigInt(t.hash), 10_000);
    }
    const head = leader.node.headNumber();
    await until("etcd pruned", async () => ((await etcdLowestBlock()) ?? 0) >= head - 1, 15_000);
    const lowest = (await etcdLowestBlock())!;
    expect(lowest).toBeGreaterThan(2);

    const events: string[] = [];
    const late = await member("p2", events);
    expect(events).toContain("cluster_peer_catchup_done");
    expect((await rpc<{ role: string }>(late.rpcUrl, "appchain_getClusterStatus")).role).toBe("follower");
    for (let n = 0; n <= head; n++) {
      const [mine, theirs] = await Promise.all([late.node.chain.getBlock(n), leader.node.chain.getBlock(n)]);
      expect(mine?.header.block_hash).toBe(theirs?.header.block_hash);
      expect(mine?.header.new_root).toBe(theirs?.header.new_root);
    }
    const t = signedTransfer({ from: acct!, to: other!.address, token: strk, amount: 99n, nonce: 6n, chainId });
    await rpc(late.rpcUrl, "starknet_addInvokeTransaction", [t.tx]); // forwarded to the leader
    const r = await leader.node.waitForTx(BigInt(t.hash), 10_000);
    await until("the late member follows from etcd", () => late.node.headNumber() >= r.blockNumber, 15_000);
    expect((await late.node.chain.getBlock(r.blockNumber))?.header.block_hash).toBe((await leader.node.chain.getBlock(r.blockNumber))?.header.block_hash);
  }, 60_000);

  it("appchain_getClusterBlocks answers up to the head and refuses bad params", async () => {
    const leader = cluster.started()[0]!;
    const head = leader.node.headNumber();
    const blocks = await rpc<Array<{ block_number: number; txs: unknown[] }>>(leader.rpcUrl, "appchain_getClusterBlocks", { from: head - 1, count: 5 });
    expect(blocks.map((b) => b.block_number)).toEqual([head - 1, head]);
    await expect(rpc(leader.rpcUrl, "appchain_getClusterBlocks", { from: -1 })).rejects.toMatchObject({ code: -32602 });
    await expect(rpc(leader.rpcUrl, "appchain_getClusterBlocks", { from: 0, count: 33 })).rejects.toBeInstanceOf(RpcCallError);
  });
});
