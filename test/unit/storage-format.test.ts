// Typed storage (format 2) on a real LevelDB in a temp dir:
//   - blocks, transactions, the mempool WAL and snapshots are stored as typed records (felts
//     as bigints), not RPC JSON, and render to the same JSON the RPC answered before;
//   - a data directory of the previous format (1: RPC JSON records, no version key) is
//     refused at open with a message saying what to do, and is left untouched; a directory
//     of a newer format too; a dump of another format is refused by devnet_load's loader.
// The format-1 directory is made with this code path and rewritten the way the previous
// version wrote it: JSON records packed with msgpack, and no storage_format key.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { afterEach, describe, expect, it } from "vitest";
import { loadStore, DumpFormatError } from "../../sequencer/chain-dump.js";
import { PerpchainNode, StorageFormatError } from "../../sequencer/node.js";
import { decodeBlock, decodeSnapshot, decodeTx, decodeWalEntry, encodeFormatVersion } from "../../sequencer/stored-records.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { Column, columnRange, key, keys } from "../../state/columns.js";
import { toHex } from "../../state/felt.js";
import { MemoryKvStore } from "../../state/kv-store.js";
import { LevelKvStore } from "../../state/level-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const OPTIONS = { seed: 3, accounts: 2, clock: () => 1_700_000_000_000, blockGeneration: { mode: "demand" } as const };
const FORMAT_KEY = key(Column.nodeMeta, Buffer.from("storage_format"));
const EPOCH_KEY = key(Column.nodeMeta, Buffer.from("epoch"));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "perpchain-format-"));
  dirs.push(dir);
  return dir;
}

async function transfer(node: PerpchainNode, amount: bigint): Promise<bigint> {
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  return node.submitSignedInvoke(node.genesis.accounts[0]!.address, node.accountKeys[0]!.privateKey, [
    { to: strk, selector: selectorFromName("transfer"), calldata: [node.genesis.accounts[1]!.address, amount, 0n] },
  ]);
}

/** A chain with one block holding one transfer, a second transfer queued in the WAL, and a snapshot. */
async function chainDir(): Promise<{ dir: string; included: bigint; queued: bigint; block1: unknown; tx1: unknown }> {
  const dir = tempDir();
  const node = await PerpchainNode.open({ dbPath: dir, ...OPTIONS });
  const included = await transfer(node, 1_000n);
  await node.createBlock();
  const head = node.world.head()!;
  await node.snapshots.put({ name: "one", blockNumber: 1, blockHash: head.blockHash, globalRoot: head.roots.globalRoot, contractsRoot: head.roots.contractsRoot, classesRoot: head.roots.classesRoot, createdAt: 5 });
  const queued = await transfer(node, 2_000n);
  const block1 = await node.chain.getBlock(1);
  const tx1 = await node.chain.getTx(included);
  await node.stop();
  return { dir, included, queued, block1: JSON.parse(JSON.stringify(block1)), tx1: JSON.parse(JSON.stringify(tx1)) };
}

describe("typed storage (format 2)", () => {
  it("stores blocks, transactions, WAL entries and snapshots as typed records and reads back the same JSON", async () => {
    const { dir, included, queued, block1, tx1 } = await chainDir();
    const store = await LevelKvStore.open(dir);
    try {
      expect(unpack((await store.get(FORMAT_KEY))!)).toBe(2);
      const block = decodeBlock((await store.get(keys.blockByNumber(1)))!);
      expect(block.header.blockNumber).toBe(1);
      expect(typeof block.header.blockHash).toBe("bigint");
      expect(block.txHashes).toEqual([included]);
      const tx = decodeTx((await store.get(keys.txByHash(included)))!);
      expect(tx.hash).toBe(included);
      expect(tx.tx.type).toBe("INVOKE");
      expect(typeof tx.exec.actualFee).toBe("bigint");
      const wal: unknown[] = [];
      for await (const [, v] of store.iterator(columnRange(Column.mempool))) wal.push(decodeWalEntry(v));
      expect(wal).toHaveLength(1);
      expect((wal[0] as { hash: bigint }).hash).toBe(queued);
      const snaps: unknown[] = [];
      for await (const [, v] of store.iterator(columnRange(Column.snapshot))) snaps.push(decodeSnapshot(v));
      expect(snaps).toEqual([expect.objectContaining({ name: "one", blockNumber: 1, createdAt: 5 })]);
    } finally {
      await store.close();
    }

    // Reopened: the same JSON (block, tx with receipt and trace), the WAL tx is queued again.
    const node = await PerpchainNode.open({ dbPath: dir, ...OPTIONS });
    try {
      expect(JSON.parse(JSON.stringify(await node.chain.getBlock(1)))).toEqual(block1);
      expect(JSON.parse(JSON.stringify(await node.chain.getTx(included)))).toEqual(tx1);
      expect((tx1 as { trace: { type: string } }).trace.type).toBe("INVOKE");
      expect(node.mempool.has(queued)).toBe(true);
      expect(node.snapshots.get("one")?.block_hash).toBe((block1 as { header: { block_hash: string } }).header.block_hash);
      const block2 = await node.createBlock();
      expect(block2.txHashes).toEqual([toHex(queued)]);
    } finally {
      await node.stop();
    }
  });

  it("refuses a format-1 data directory (RPC JSON records, no version key) with what to do, and leaves it untouched", async () => {
    const { dir, block1 } = await chainDir();
    const store = await LevelKvStore.open(dir);
    const epochBefore = Buffer.from((await store.get(EPOCH_KEY))!);
    // What the previous version wrote: JSON records, no storage_format key.
    await store.batch([
      { type: "del", key: FORMAT_KEY },
      { type: "put", key: keys.blockByNumber(1), value: pack(block1) },
    ]);
    await store.close();

    const err = await PerpchainNode.open({ dbPath: dir, ...OPTIONS }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageFormatError);
    expect((err as Error).message).toBe(
      `data directory ${dir} uses storage format 1 (RPC JSON records, written by a perpchain before typed storage); ` +
        "this perpchain reads format 2 only and does not convert it. Start this version with a new data directory " +
        "(--db-path) or remove this one; to keep serving that chain, run the perpchain version that wrote it.",
    );
    const after = await LevelKvStore.open(dir);
    try {
      expect(Buffer.from((await after.get(EPOCH_KEY))!)).toEqual(epochBefore);
      expect(await after.get(FORMAT_KEY)).toBeUndefined();
    } finally {
      await after.close();
    }
  });

  it("refuses a data directory of a newer format", async () => {
    const { dir } = await chainDir();
    const store = await LevelKvStore.open(dir);
    await store.batch([{ type: "put", key: FORMAT_KEY, value: encodeFormatVersion(3) }]);
    await store.close();
    await expect(PerpchainNode.open({ dbPath: dir, ...OPTIONS })).rejects.toThrow(
      `data directory ${dir} uses storage format 3, newer than this perpchain's 2; run the perpchain version that wrote it.`,
    );
  });

  it("refuses to load a dump of another storage format", async () => {
    const path = join(tempDir(), "old.dump");
    const header = pack({ head_block: 1, head_hash: "0x1", global_root: "0x2" }); // format 1: no storage_format
    const len = Buffer.alloc(4);
    len.writeUInt32BE(header.length);
    writeFileSync(path, Buffer.concat([Buffer.from("PERPCHAIN-DUMP-1\n"), len, header]));
    const err = await loadStore(path, new MemoryKvStore()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DumpFormatError);
    expect((err as Error).message).toBe(`${path} holds storage format 1; this perpchain loads format 2 only (load it with the perpchain version that wrote it)`);
  });
});
