// A cluster rollback with policy "requeue" puts the removed blocks' transactions back in the
// leader's mempool; they had been acknowledged, so they must survive the leader as every
// acknowledged transaction does: replicated to etcd again before the rollback answers. Two
// members in this process on a 1-member etcd, blocks on demand (so the leader cannot include
// the requeued transactions again before it goes): the leader rolls back with requeue and
// leaves; the other member takes over and includes every requeued transaction.

import { describe, expect, it } from "vitest";
import { Etcd3 } from "etcd3";
import { toHex } from "../../state/felt.js";
import { chainPrefix, TXS_PREFIX } from "../../sequencer/cluster/cluster-keys.js";
import type { Devnet } from "../../sequencer/devnet.js";
import { rpc, signedTransfer, type PredeployedAccount } from "../crash/child-node.js";
import { inProcessCluster, until } from "../support/in-process-cluster.js";

const cluster = inProcessCluster();

function member(nodeId: string): Promise<Devnet> {
  return cluster.member(nodeId, { seed: 4, accounts: 2, chainId: "PERP_REQUEUE", blockGeneration: { mode: "demand" } });
}

const roleOf = async (d: Devnet) => (await rpc<{ role: string }>(d.rpcUrl, "appchain_getClusterStatus")).role;

describe("cluster rollback with policy requeue", () => {
  it("the requeued transactions survive the leader: the next leader includes them", async () => {
    const a = await member("r1");
    const b = await member("r2");
    expect(await roleOf(a)).toBe("leader");
    expect(await roleOf(b)).toBe("follower");
    await a.node.createBlock(); // the genesis market data of the first leader
    const base = a.node.headNumber();

    const [acct, other] = await rpc<PredeployedAccount[]>(a.rpcUrl, "devnet_getPredeployedAccounts");
    const strk = (await rpc<{ fee_token_address: string }>(a.rpcUrl, "devnet_getConfig")).fee_token_address;
    const chainId = await rpc<string>(a.rpcUrl, "starknet_chainId");
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = signedTransfer({ from: acct!, to: other!.address, token: strk, amount: BigInt(i + 1), nonce: BigInt(i), chainId });
      acked.push((await rpc<{ transaction_hash: string }>(b.rpcUrl, "starknet_addInvokeTransaction", [t.tx])).transaction_hash);
      await a.node.createBlock();
    }
    await until("b at a's head", () => b.node.headNumber() === a.node.headNumber(), 10_000);
    // The leader's housekeeping deletes the replicated copies of included (settled)
    // transactions, as it does on a long-running cluster.
    const c = new Etcd3({ hosts: cluster.etcd().endpoints });
    try {
      const ns = c.namespace(chainPrefix("PERP_REQUEUE"));
      await until("settled tx batches deleted", async () => (await ns.getAll().prefix(TXS_PREFIX).keys()).length === 0, 10_000);
    } finally {
      c.close();
    }

    const r = await a.node.rollbackTo(base, "requeue");
    expect(r.requeued.sort()).toEqual([...acked].sort());
    await until("b rolled back", () => b.node.headNumber() === base, 10_000);

    // The leader goes before it built another block: its mempool goes with it.
    await a.stop();
    await until("b leads", async () => (await roleOf(b)) === "leader", 10_000);
    expect(acked.map((h) => b.node.mempool.has(BigInt(h)))).toEqual([true, true, true]);
    await b.node.createBlock();
    for (const h of acked) expect(await b.node.transactionStatus(BigInt(h))).toMatchObject({ finality_status: "ACCEPTED_ON_L2" });
    expect(toHex(b.node.world.getNonce(BigInt(acct!.address)))).toBe("0x3");
  }, 60_000);
});
