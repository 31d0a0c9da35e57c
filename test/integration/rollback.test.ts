// Rollback end to end on a real node: random block sequences rolled back and rebuilt with
// every root checked against an independent recomputation over the full state
// (state/state-root-input.ts); rollback across a restart (LevelDB, reverse diffs on disk);
// the starknet_subscriptionReorg notification received by starknet.js' WebSocketChannel;
// dump → load round trip; and the refusals (codes from sequencer/errors.ts).
import "./ws-global.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocketChannel } from "starknet";
import { erc20 } from "../../contracts/erc20.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { toHex } from "../../state/felt.js";
import { LevelKvStore } from "../../state/level-store.js";
import { computeStateRoots } from "../../state/state-root-input.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { dumpStore, loadStore } from "../../sequencer/chain-dump.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { RollbackRefusedError, SnapshotNotFoundError, toJsonRpcError } from "../../sequencer/errors.js";
import { parseBroadcastedTxn } from "../../sequencer/rpc/params.js";
import type { RpcContext } from "../../sequencer/rpc/registry.js";
import { seededUnit } from "../../sequencer/seeded-random.js";

const LOOPBACK: RpcContext = { transport: "http", remoteAddress: "127.0.0.1", isLoopback: true };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "perpchain-rollback-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function demandDevnet(extra: Parameters<typeof startDevnet>[0] = {}): Promise<Devnet> {
  let now = 1_768_435_200_000;
  return startDevnet({ inMemory: true, seed: 11, accounts: 4, blockGeneration: { mode: "demand" }, bootstrapMarketData: false, triggerEngine: false, clock: () => (now += 1000), ...extra });
}

/** The global root recomputed from scratch over the node's whole current state. */
async function independentRoot(d: Devnet): Promise<string> {
  const w = d.node.world;
  const diff = emptyStateDiff();
  for (const a of w.contractAddresses()) {
    const c = w.getContract(a);
    diff.deployed.set(a, c.classHash);
    diff.nonces.set(a, c.nonce);
    const entries = w.storageEntries(a);
    if (entries.length > 0) diff.storage.set(a, new Map(entries));
  }
  for (const [classHash, compiled] of d.node.genesis.stateDiff.declared) diff.declared.set(classHash, compiled);
  return (await computeStateRoots(diff)).global_root;
}

/** Random STRK transfers between the predeployed accounts: 1–3 per block. */
async function randomBlock(d: Devnet, rnd: () => number): Promise<void> {
  const strk = BigInt(d.contracts.STRK!.address);
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const from = d.accounts[Math.floor(rnd() * d.accounts.length)]!;
    const to = d.accounts[Math.floor(rnd() * d.accounts.length)]!;
    const amount = BigInt(1 + Math.floor(rnd() * 1_000_000));
    await d.node.submitSignedInvoke(BigInt(from.address), BigInt(from.private_key), [
      { to: strk, selector: erc20.transfer.selector, calldata: encodeArgs(erc20.transfer.inputs, { recipient: BigInt(to.address), amount }) },
    ]);
  }
  await d.node.createBlock();
}

const headRoot = (d: Devnet) => toHex(d.node.world.head()!.roots.globalRoot);

describe("rollback: random sequences against an independent root", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: k blocks, roll back j, every root equals the from-scratch recomputation; re-executing the same txs gives the same roots`, async () => {
      const rnd = seededUnit(seed);
      const d = await demandDevnet();
      try {
        const base = d.node.headNumber();
        const k = 4 + Math.floor(rnd() * 4);
        const roots = new Map<number, string>([[base, headRoot(d)]]);
        for (let i = 0; i < k; i++) {
          await randomBlock(d, rnd);
          expect(await independentRoot(d)).toBe(headRoot(d));
          roots.set(d.node.headNumber(), headRoot(d));
        }
        const j = 1 + Math.floor(rnd() * k);
        const target = d.node.headNumber() - j;
        const removedBlocks = [];
        for (let n = target + 1; n <= d.node.headNumber(); n++) removedBlocks.push(await d.node.chain.getTxs((await d.node.chain.getBlock(n))!.txHashes));
        const r = await d.node.rollbackTo(target, "drop");
        expect(d.node.headNumber()).toBe(target);
        expect(headRoot(d)).toBe(roots.get(target));
        expect(await independentRoot(d)).toBe(roots.get(target));
        expect(r.removedTxs.length).toBe(removedBlocks.flat().length);
        // Rebuild: the same signed transactions, block by block.
        for (const txs of removedBlocks) {
          for (const t of txs) {
            const { transaction_hash: _h, ...raw } = t.transaction;
            await d.node.submit(parseBroadcastedTxn(raw, "rebuild"));
          }
          await d.node.createBlock();
          expect(headRoot(d)).toBe(roots.get(d.node.headNumber()));
        }
        expect(d.node.headNumber()).toBe(target + j);
      } finally {
        await d.stop();
      }
    });
  }
});

describe("rollback across a restart", () => {
  it("reverse diffs are on disk: a reopened LevelDB node rolls back to a root it recorded before the restart", async () => {
    const dbPath = join(tempDir(), "db");
    const rnd = seededUnit(9);
    let d = await demandDevnet({ inMemory: false, dbPath });
    const roots = new Map<number, string>();
    try {
      for (let i = 0; i < 3; i++) {
        await randomBlock(d, rnd);
        roots.set(d.node.headNumber(), headRoot(d));
      }
    } finally {
      await d.stop();
    }
    d = await demandDevnet({ inMemory: false, dbPath });
    try {
      const head = d.node.headNumber();
      expect(headRoot(d)).toBe(roots.get(head));
      await d.node.rollbackTo(head - 2, "drop");
      expect(headRoot(d)).toBe(roots.get(head - 2));
      expect(await independentRoot(d)).toBe(roots.get(head - 2));
    } finally {
      await d.stop();
    }
  });
});

describe("reorg notification over WebSocket", () => {
  it("a starknet.js WebSocketChannel newHeads subscriber receives starknet_subscriptionReorg naming the removed blocks", async () => {
    const d = await demandDevnet();
    const channel = new WebSocketChannel({ nodeUrl: d.wsUrl, websocket: WebSocket as never, autoReconnect: false });
    try {
      await channel.waitForConnection();
      const rnd = seededUnit(4);
      for (let i = 0; i < 3; i++) await randomBlock(d, rnd);
      const head = d.node.headNumber();
      const removed = [(await d.node.chain.getBlock(head - 1))!.header.block_hash, (await d.node.chain.getBlock(head))!.header.block_hash];
      const sub = await channel.subscribeNewHeads();
      const raw: Array<{ method: string; params: { result: Record<string, unknown> } }> = [];
      (channel as unknown as { websocket: { addEventListener(t: string, f: (e: { data: string }) => void): void } }).websocket.addEventListener("message", (e) => {
        const m = JSON.parse(String(e.data));
        if (m.method === "starknet_subscriptionReorg") raw.push(m);
      });
      const reorg = new Promise<Record<string, unknown>>((resolve) => sub.on((r: unknown) => {
        if (r && typeof r === "object" && "starting_block_hash" in r) resolve(r as Record<string, unknown>);
      }));
      await d.node.rollbackTo(head - 2, "drop");
      expect(await reorg).toEqual({ starting_block_hash: removed[0], starting_block_number: head - 1, ending_block_hash: removed[1], ending_block_number: head });
      expect(raw.map((m) => m.method)).toEqual(["starknet_subscriptionReorg"]);
      await sub.unsubscribe();
    } finally {
      channel.disconnect();
      await channel.waitForDisconnection();
      await d.stop();
    }
  });
});

describe("dump → load", () => {
  it("a loaded store has the same head, hash and roots, and the loaded node can roll back", async () => {
    const dir = tempDir();
    const rnd = seededUnit(5);
    const d = await demandDevnet({ inMemory: false, dbPath: join(dir, "a") });
    const roots = new Map<number, string>();
    let dump;
    try {
      for (let i = 0; i < 3; i++) {
        await randomBlock(d, rnd);
        roots.set(d.node.headNumber(), headRoot(d));
      }
      dump = await dumpStore(d.node.store, join(dir, "chain.dump"));
    } finally {
      await d.stop();
    }
    const store = await LevelKvStore.open(join(dir, "b"));
    const loaded = await loadStore(join(dir, "chain.dump"), store);
    await store.close();
    expect(loaded).toMatchObject({ head_block: dump.head_block, head_hash: dump.head_hash, global_root: dump.global_root, entries: dump.entries });
    const e = await demandDevnet({ inMemory: false, dbPath: join(dir, "b") });
    try {
      expect(headRoot(e)).toBe(dump.global_root);
      await e.node.rollbackTo(dump.head_block - 1, "drop");
      expect(headRoot(e)).toBe(roots.get(dump.head_block - 1));
    } finally {
      await e.stop();
    }
  });
});

describe("rollback refusals", () => {
  const refusal = async (p: Promise<unknown>): Promise<{ code: number; reason: string }> => {
    try {
      await p;
    } catch (e) {
      if (e instanceof RollbackRefusedError || e instanceof SnapshotNotFoundError) {
        return { code: e.code, reason: String((toJsonRpcError(e) as { data?: { reason?: string } }).data?.reason) };
      }
      throw e;
    }
    throw new Error("rollback was not refused");
  };

  it("refuses past genesis, above the head, beyond the retention window, while draining, and an unknown snapshot", async () => {
    const d = await demandDevnet({ retentionBlocks: 2 });
    try {
      const rnd = seededUnit(6);
      for (let i = 0; i < 3; i++) await randomBlock(d, rnd);
      const head = d.node.headNumber();
      expect(await refusal(d.node.rollbackTo(-1))).toEqual({ code: -32003, reason: "block -1 is before genesis" });
      expect(await refusal(d.node.rollbackTo(head + 1))).toEqual({ code: -32003, reason: `block ${head + 1} is above the head ${head}` });
      expect(await refusal(d.node.rollbackTo(head - 3))).toEqual({ code: -32003, reason: `block ${head - 3} is outside the retention window (the state of the last 2 blocks and of snapshots is kept; oldest: block ${head - 2})` });
      expect(await refusal(d.registry.dispatch("appchain_rollback", { snapshot: "no-such-snapshot" }, LOOPBACK))).toEqual({ code: -32006, reason: "no snapshot named 'no-such-snapshot'" });
      expect(headRoot(d)).toBe(toHex(d.node.world.head()!.roots.globalRoot));
      expect(d.node.headNumber()).toBe(head);
      d.node.lifecycle.advance("draining");
      expect(await refusal(d.node.rollbackTo(head - 1))).toEqual({ code: -32003, reason: "node is draining" });
      expect(d.node.headNumber()).toBe(head);
    } finally {
      await d.stop();
    }
  });
});

