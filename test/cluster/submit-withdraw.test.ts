// A transaction a cluster node refuses is never included later by that node (node.submit in
// cluster mode): when its replication to etcd fails, it leaves the mempool and the WAL before
// the client gets the error — unless a block committed meanwhile already holds it, and then
// the client gets its hash. The node runs in-process with a stand-in cluster gate (no etcd):
// what is under test is the node's side of the contract.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { selectorFromName } from "../../state/crypto/hash.js";
import type { Felt } from "../../state/felt.js";
import type { CandidateBlock } from "../../sequencer/block-builder.js";
import { ClusterUnavailableError, NotLeaderError } from "../../sequencer/errors.js";
import { PerpchainNode, type NodeClusterGate } from "../../sequencer/node.js";

class StandInGate implements NodeClusterGate {
  replicate: (hash: Felt) => Promise<void> = async () => {};
  committed: number[] = [];
  canWrite(): boolean {
    return true;
  }
  notLeader(what: string): NotLeaderError {
    return new NotLeaderError(`${what}: not the leader`);
  }
  async commitBlock(candidate: CandidateBlock): Promise<void> {
    this.committed.push(candidate.inputs.number);
  }
  replicateTx(hash: Felt): Promise<void> {
    return this.replicate(hash);
  }
  rollback<T>(_target: number, _policy: "requeue" | "drop", local: () => Promise<T>): Promise<T> {
    return local();
  }
}

const dirs: string[] = [];
const nodes: PerpchainNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(dbPath: string, gate: StandInGate): Promise<PerpchainNode> {
  const node = await PerpchainNode.open({ dbPath, seed: 5, accounts: 2, blockGeneration: { mode: "demand" }, clusterGate: gate, clock: () => 1_700_000_000_000 });
  nodes.push(node);
  return node;
}

function transfer(node: PerpchainNode, amount: bigint): Promise<Felt> {
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  return node.submitSignedInvoke(node.genesis.accounts[0]!.address, node.accountKeys[0]!.privateKey, [
    { to: strk, selector: selectorFromName("transfer"), calldata: [node.genesis.accounts[1]!.address, amount, 0n] },
  ]);
}

describe("cluster submit: an error answer means the node never includes the transaction", () => {
  it("replication refused: the transaction leaves the mempool and the WAL, and no later block holds it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-withdraw-"));
    dirs.push(dir);
    const gate = new StandInGate();
    let node = await open(dir, gate);
    let refusedHash: Felt | undefined;
    gate.replicate = async (hash) => {
      refusedHash = hash;
      throw new NotLeaderError("transaction replication refused: leader changed");
    };
    await expect(transfer(node, 7n)).rejects.toMatchObject({ code: -32013 });
    expect(refusedHash).toBeDefined();
    expect(node.mempool.has(refusedHash!)).toBe(false);

    // The node leads again: its next block does not hold the refused transaction.
    gate.replicate = async () => {};
    const block = await node.createBlock();
    expect(block.txHashes).toEqual([]);
    expect(await node.chain.getTx(refusedHash!)).toBeUndefined();

    // Nor does the WAL bring it back after a restart.
    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
    node = await open(dir, gate);
    expect(node.mempool.has(refusedHash!)).toBe(false);
    expect(node.mempool.size).toBe(0);
  });

  it("replication unanswered but a committed block already holds the transaction: the client gets its hash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-withdraw-"));
    dirs.push(dir);
    const gate = new StandInGate();
    const node = await open(dir, gate);
    // The block in progress (committed through etcd) takes the transaction before etcd's answer to its replication times out.
    gate.replicate = async () => {
      await node.createBlock();
      throw new ClusterUnavailableError("etcd tx replication did not answer within 1500 ms");
    };
    const hash = await transfer(node, 9n);
    expect(await node.chain.getTx(hash)).toBeDefined();
    expect(gate.committed).toEqual([1]);
    expect(node.mempool.size).toBe(0);
  });

  it("a withdrawal waits for the block in progress: the refused transaction is either in that block (hash) or in no block (error)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-withdraw-"));
    dirs.push(dir);
    const gate = new StandInGate();
    const node = await open(dir, gate);
    // The block starts while the replication is in flight and commits after the refusal arrives.
    let releaseCommit!: () => void;
    const commitHeld = new Promise<void>((r) => (releaseCommit = r));
    gate.commitBlock = async (c) => {
      await commitHeld;
      gate.committed.push(c.inputs.number);
    };
    let building: Promise<unknown> | undefined;
    gate.replicate = async () => {
      building = node.createBlock();
      await new Promise((r) => setTimeout(r, 20));
      releaseCommit();
      throw new NotLeaderError("transaction replication refused: leader changed");
    };
    const outcome = await transfer(node, 11n).then(
      (hash) => ({ hash }),
      (e: Error) => ({ error: e }),
    );
    await building;
    expect(gate.committed).toEqual([1]);
    // The block got it (its commit was under way when the refusal came): the answer is the hash.
    expect("hash" in outcome).toBe(true);
    expect(await node.chain.getTx((outcome as { hash: Felt }).hash)).toBeDefined();
  });
});
