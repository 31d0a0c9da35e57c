// Store write failures (fault injection with the store's `failNextBatch` hook), on a real
// LevelDB in a temp dir with the devnet's JSON-RPC in front:
//   - a failed block write stops block production with a clear error (node.fatalError,
//     JSON-RPC UNEXPECTED_ERROR) and leaves the last committed block intact: after a
//     reopen the head, its hash and its roots are the same, the transactions of the failed
//     block are still in the WAL, and they are included by the next block;
//   - a failed WAL write refuses the transaction (no hash is acknowledged, nothing queued).
// Blocks are made on demand so the test decides which batch is the block's.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectorFromName } from "../../state/crypto/hash.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { toHex, type Felt } from "../../state/felt.js";
import { StoreWriteError } from "../../state/kv-store.js";
import type { LevelKvStore } from "../../state/level-store.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { DuplicateTxError } from "../../sequencer/errors.js";
import { parseBroadcastedTxn } from "../../sequencer/rpc/params.js";
import { broadcastJson } from "../../sequencer/tx-intake.js";

const dirs: string[] = [];
const running: Devnet[] = [];

async function start(dbPath: string): Promise<Devnet> {
  const d = await startDevnet({ dbPath, port: 0, seed: 5, accounts: 2, blockGeneration: { mode: "demand" }, bootstrapMarketData: false, triggerEngine: false });
  running.push(d);
  return d;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "perpchain-durability-"));
  dirs.push(d);
  return d;
}

async function call(d: Devnet, method: string, params: unknown = []): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
}

/** A signed STRK transfer from predeployed account `i`, submitted through the node. */
function transfer(d: Devnet, i: number, amount: bigint): Promise<Felt> {
  const node = d.node;
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  const to = node.genesis.accounts[(i + 1) % node.genesis.accounts.length]!.address;
  return node.submitSignedInvoke(node.genesis.accounts[i]!.address, node.accountKeys[i]!.privateKey, [{ to: strk, selector: selectorFromName("transfer"), calldata: [to, amount, 0n] }]);
}

function injectFailure(d: Devnet, message: string): void {
  (d.node.store as LevelKvStore).failNextBatch = new Error(message);
}

beforeAll(() => {
  selectHashBackend({ prefer: "auto" });
});

afterAll(async () => {
  for (const d of running) await d.stop().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("a failed block write", () => {
  it("stops block production with a clear error and keeps the last committed block; the WAL txs are included after restart", async () => {
    const dir = tempDir();
    const d = await start(dir);
    const first = await transfer(d, 0, 1_000n);
    await call(d, "devnet_createBlock");
    const committed = d.node.world.head()!;
    expect(committed.blockNumber).toBe(1);

    // Two transactions are acknowledged (in the WAL), then the block that would include them fails to land.
    const pending = [await transfer(d, 0, 2_000n), await transfer(d, 1, 3_000n)];
    injectFailure(d, "disk full (injected)");
    const failed = await call(d, "devnet_createBlock");
    expect(failed.error).toEqual({ code: 63, message: "An unexpected error occurred", data: "block 2 could not be written; block production stopped: store write failed: disk full (injected)" });
    expect(d.node.fatalError).toBeInstanceOf(StoreWriteError);
    expect(d.node.fatalError!.message).toBe("store write failed: disk full (injected)");

    // Production stays stopped (the hook fired once; the refusal is the node's own).
    const again = await call(d, "devnet_createBlock");
    expect(again.error).toEqual({
      code: 63,
      message: "An unexpected error occurred",
      data: "block production stopped after a store failure: store write failed: disk full (injected)",
    });

    // New transactions are refused while production is stopped (they could not be included before a restart).
    const refused = await call(d, "starknet_addInvokeTransaction", [{ ...(broadcastJson(d.node.mempool.get(pending[0]!)!.payload.tx.broadcast)), nonce: "0x9" }]);
    expect(refused.error).toEqual({
      code: 63,
      message: "An unexpected error occurred",
      data: "block production stopped after a store failure: store write failed: disk full (injected)",
    });

    // Memory and disk still say block 1; the failed block is nowhere; the txs are still pending.
    expect(d.node.world.head()).toEqual(committed);
    expect((await call(d, "starknet_blockNumber")).result).toBe(1);
    expect((await call(d, "starknet_getBlockWithTxHashes", [{ block_number: 2 }])).error).toEqual({ code: 24, message: "Block not found" });
    for (const h of pending) expect((await call(d, "starknet_getTransactionStatus", [toHex(h)])).result).toEqual({ finality_status: "RECEIVED" });
    await d.stop();

    // Reopen: same head, same roots (recovery verified them against the tries), WAL replayed.
    const d2 = await start(dir);
    expect(d2.node.world.head()).toEqual(committed);
    expect(d2.node.fatalError).toBeNull();
    expect(d2.node.mempool.all().map((e) => e.hash)).toEqual(pending);
    const header1 = (await call(d2, "starknet_getBlockWithTxHashes", [{ block_number: 1 }])).result as { block_hash: string; new_root: string; transactions: string[] };
    expect(header1).toMatchObject({ block_hash: toHex(committed.blockHash), new_root: toHex(committed.roots.globalRoot), transactions: [toHex(first)] });

    const created = (await call(d2, "devnet_createBlock")).result as { block_hash: string };
    const block2 = (await call(d2, "starknet_getBlockWithTxHashes", [{ block_number: 2 }])).result as { block_hash: string; parent_hash: string; transactions: string[] };
    expect(block2.block_hash).toBe(created.block_hash);
    expect(block2.parent_hash).toBe(toHex(committed.blockHash));
    expect(block2.transactions).toEqual(pending.map(toHex));
    for (const h of pending) {
      const receipt = (await call(d2, "starknet_getTransactionReceipt", [toHex(h)])).result as { execution_status: string; block_number: number };
      expect(receipt).toMatchObject({ execution_status: "SUCCEEDED", block_number: 2 });
    }
    expect(d2.node.mempool.size).toBe(0);
    await d2.stop();

    // And the WAL entries went with the block: a third start has nothing to replay.
    const d3 = await start(dir);
    expect(d3.node.mempool.size).toBe(0);
    expect(d3.node.headNumber()).toBe(2);
    await d3.stop();
  });
});

describe("the WAL holds each acknowledged transaction once", () => {
  it("acknowledges the same transaction sent twice at once only once, and the block leaves no WAL entry behind", async () => {
    const dir = tempDir();
    const d = await start(dir);
    // Sign one transaction (demand mode: it stays queued), keep its broadcast JSON, restart to empty the mempool.
    const hash = await transfer(d, 0, 42n);
    const raw = broadcastJson(d.node.mempool.get(hash)!.payload.tx.broadcast);
    await d.node.createBlock();
    const strk = d.node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
    const to = d.node.genesis.accounts[1]!.address;
    const second = await d.node.submitSignedInvoke(d.node.genesis.accounts[0]!.address, d.node.accountKeys[0]!.privateKey, [{ to: strk, selector: selectorFromName("transfer"), calldata: [to, 43n, 0n] }]);
    const secondRaw = broadcastJson(d.node.mempool.get(second)!.payload.tx.broadcast);
    await d.stop();
    rmSync(dir, { recursive: true, force: true });

    const fresh = await start(dir);
    expect((await call(fresh, "starknet_addInvokeTransaction", [raw])).result).toEqual({ transaction_hash: toHex(hash) });
    await fresh.node.createBlock();
    // Two submissions in the same tick (a client retrying at once): both pass any check made
    // before the first WAL write lands unless the node tracks the one in flight.
    const answers = await Promise.allSettled([0, 1].map(() => fresh.node.submit(parseBroadcastedTxn(secondRaw, "invoke_transaction"))));
    expect(answers.filter((a) => a.status === "fulfilled").map((a) => (a as PromiseFulfilledResult<Felt>).value)).toEqual([second]);
    expect(answers.filter((a) => a.status === "rejected").map((a) => (a as PromiseRejectedResult).reason)).toEqual([new DuplicateTxError()]);
    expect(fresh.node.mempool.all().map((e) => e.hash)).toEqual([second]);
    const block = await fresh.node.createBlock();
    expect(block.txHashes).toEqual([toHex(second)]);
    expect(fresh.node.rejectionOf(second)).toBeUndefined();
    await fresh.stop();

    const reopened = await start(dir);
    expect(reopened.node.mempool.size).toBe(0);
    await reopened.stop();
  });
});

describe("a failed WAL write", () => {
  it("refuses the transaction: no hash acknowledged, nothing queued, the next one goes through", async () => {
    const dir = tempDir();
    const d = await start(dir);
    injectFailure(d, "I/O error (injected)");
    await expect(transfer(d, 0, 10n)).rejects.toThrow("store write failed: I/O error (injected)");
    expect(d.node.mempool.size).toBe(0);
    expect(d.node.fatalError).toBeNull();

    const ok = await transfer(d, 0, 11n);
    expect(d.node.mempool.all().map((e) => e.hash)).toEqual([ok]);
    const block = await d.node.createBlock();
    expect(block.txHashes).toEqual([toHex(ok)]);
    await d.stop();

    const d2 = await start(dir);
    expect(d2.node.mempool.size).toBe(0);
    expect(d2.node.headNumber()).toBe(1);
    await d2.stop();
  });
});
