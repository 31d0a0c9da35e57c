// The retention window end to end, over HTTP on a real node with LevelDB: state reads at a
// block older than the window are refused with the STATE_PRUNED code naming the window (never
// answered from another state), a snapshot pins its block (reads and rollback work there
// while pruning went on around it, also after a restart), and blocks, transactions and
// receipts outside the window stay readable.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { erc20 } from "../../contracts/erc20.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { toHex } from "../../state/felt.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { OPERATOR_ERRORS } from "../../sequencer/errors.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let now = 1_768_435_200_000;
function devnet(dbPath: string): Promise<Devnet> {
  return startDevnet({ dbPath, seed: 5, accounts: 2, retentionBlocks: 3, blockGeneration: { mode: "demand" }, bootstrapMarketData: false, triggerEngine: false, clock: () => (now += 1000) });
}

async function rpc(d: Devnet, method: string, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }> {
  const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as never;
}

/** One block with one STRK transfer from account 0 (its nonce goes up by one). */
async function transferBlock(d: Devnet): Promise<string> {
  const from = d.accounts[0]!;
  const hash = await d.node.submitSignedInvoke(BigInt(from.address), BigInt(from.private_key), [
    { to: BigInt(d.contracts.STRK!.address), selector: erc20.transfer.selector, calldata: encodeArgs(erc20.transfer.inputs, { recipient: BigInt(d.accounts[1]!.address), amount: 7n }) },
  ]);
  await d.node.createBlock();
  return toHex(hash);
}

describe("retention window over RPC", () => {
  it("refuses state reads past the window, serves a snapshot's block, and keeps blocks and receipts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-retention-"));
    dirs.push(dir);
    const account = () => d.accounts[0]!.address;
    let d = await devnet(dir);
    let snapBlock: number;
    let snapNonce: unknown;
    let earlyTx: string;
    try {
      earlyTx = await transferBlock(d);
      const early = d.node.headNumber();
      await transferBlock(d);
      snapBlock = d.node.headNumber();
      expect((await rpc(d, "appchain_createSnapshot", { name: "keep" })).error).toBeUndefined();
      snapNonce = (await rpc(d, "starknet_getNonce", { block_id: { block_number: snapBlock }, contract_address: account() })).result;
      for (let i = 0; i < 8; i++) await transferBlock(d);
      await d.node.world.settle();
      // The snapshot holds pruning at its block: blocks from it on are still readable.
      expect(d.node.world.oldestStateBlock()).toBe(snapBlock);
      const refused = await rpc(d, "starknet_getNonce", { block_id: { block_number: early }, contract_address: account() });
      expect(refused.error?.code).toBe(OPERATOR_ERRORS.STATE_PRUNED.code);
      expect(refused.error?.data).toMatchObject({ block_number: early, oldest_block: snapBlock, retention_blocks: 3 });
      const storageRefused = await rpc(d, "starknet_getStorageAt", { contract_address: d.contracts.STRK!.address, key: "0x1", block_id: { block_number: early } });
      expect(storageRefused.error?.code).toBe(OPERATOR_ERRORS.STATE_PRUNED.code);
      const proofRefused = await rpc(d, "starknet_getStorageProof", { block_id: { block_number: early }, contract_addresses: [account()] });
      expect(proofRefused.error?.code).toBe(OPERATOR_ERRORS.STATE_PRUNED.code);
      // Blocks and receipts outside the window stay.
      expect((await rpc(d, "starknet_getTransactionReceipt", { transaction_hash: earlyTx })).result).toMatchObject({ block_number: early });
      expect((await rpc(d, "starknet_getBlockWithTxHashes", { block_id: { block_number: early } })).result).toMatchObject({ block_number: early });
    } finally {
      await d.stop();
    }

    // After a restart: the snapshot's block still reads right and rolls back to its root.
    d = await devnet(dir);
    try {
      expect((await rpc(d, "starknet_getNonce", { block_id: { block_number: snapBlock }, contract_address: account() })).result).toBe(snapNonce);
      const proof = await rpc(d, "starknet_getStorageProof", { block_id: { block_number: snapBlock }, contract_addresses: [account()] });
      expect(proof.error).toBeUndefined();
      const rolled = await rpc(d, "appchain_rollback", { snapshot: "keep" });
      expect(rolled.error).toBeUndefined();
      expect(d.node.headNumber()).toBe(snapBlock);
      expect((await rpc(d, "starknet_getNonce", { block_id: "latest", contract_address: account() })).result).toBe(snapNonce);
      // Without the snapshot, the window moves on and the old block is refused too.
      expect((await rpc(d, "appchain_deleteSnapshot", { name: "keep" })).error).toBeUndefined();
      for (let i = 0; i < 5; i++) await transferBlock(d);
      await d.node.world.settle();
      expect(d.node.world.oldestStateBlock()).toBe(d.node.headNumber() - 3);
      const refused = await rpc(d, "starknet_getNonce", { block_id: { block_number: snapBlock }, contract_address: account() });
      expect(refused.error?.code).toBe(OPERATOR_ERRORS.STATE_PRUNED.code);
      const deep = await rpc(d, "appchain_rollback", { block_id: { block_number: snapBlock } });
      expect(deep.error?.code).toBe(OPERATOR_ERRORS.ROLLBACK_REFUSED.code);
    } finally {
      await d.stop();
    }
  });
});
