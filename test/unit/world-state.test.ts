import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryKvStore, StoreWriteError } from "../../state/kv-store.js";
import { LevelKvStore } from "../../state/level-store.js";
import { emptyStateDiff, type StateDiff } from "../../state/state-diff.js";
import { computeStateRoots } from "../../state/state-root-input.js";
import { hashNodeTable, type NodeTableHasher } from "../../state/patricia-trie.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { Column, columnRange, readFelt } from "../../state/columns.js";
import { NODE_CACHE_ENTRY_BYTES, NoStateAtBlockError, WorldState } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";

// The native backend when it loads (as a node runs): the cache test hashes some 150k nodes.
beforeAll(() => {
  selectHashBackend({ prefer: "auto" });
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), "perpchain-ws-"));
  dirs.push(d);
  return d;
}

function randomDiff(rnd: ReturnType<typeof seededRandom>, contracts: bigint[], slots: number, block: number): StateDiff {
  const d = emptyStateDiff();
  for (const c of contracts) if (block === 0) d.deployed.set(c, 0x1234n + c);
  for (let i = 0; i < slots; i++) {
    const c = contracts[rnd.int(contracts.length)]!;
    let m = d.storage.get(c);
    if (!m) d.storage.set(c, (m = new Map()));
    // small key space so keys are overwritten and deleted across blocks
    m.set(BigInt(rnd.int(64)), rnd.int(5) === 0 ? 0n : rnd.bits(200));
  }
  if (block > 0) d.nonces.set(contracts[block % contracts.length]!, BigInt(block));
  return d;
}

const sorted = (xs: Array<[bigint, bigint]>) => [...xs].sort((a, b) => (a[0] < b[0] ? -1 : 1));

async function commitBlock(ws: WorldState, diff: StateDiff) {
  const p = await ws.prepareCommit(ws.nextBlockNumber(), diff);
  await ws.commit(p, { blockHash: BigInt(p.blockNumber + 1000) });
  return p.roots;
}

/** Full state of a world state as a diff from empty (for independent recomputation). */
function fullState(ws: WorldState): StateDiff {
  const d = emptyStateDiff();
  for (const a of ws.contractAddresses()) {
    const c = ws.getContract(a);
    d.deployed.set(a, c.classHash);
    d.nonces.set(a, c.nonce);
    d.storage.set(a, new Map(ws.storageEntries(a)));
  }
  return d;
}

describe("world state", () => {
  it("keeps the same roots and values after closing and reopening LevelDB", async () => {
    const dir = tempDir();
    const rnd = seededRandom(1);
    const contracts = [0x100n, 0x200n, 0x300n];
    let ws = await WorldState.open(await LevelKvStore.open(dir));
    let roots;
    for (let b = 0; b < 5; b++) roots = await commitBlock(ws, randomDiff(rnd, contracts, 40, b));
    const before = sorted(ws.storageEntries(0x200n));
    await ws.store.close();
    ws = await WorldState.open(await LevelKvStore.open(dir));
    expect(ws.head()!.roots).toEqual(roots);
    expect(ws.head()!.blockNumber).toBe(4);
    expect(sorted(ws.storageEntries(0x200n))).toEqual(before);
    // and the trie nodes on disk serve the next block
    const next = randomDiff(rnd, contracts, 20, 5);
    const r = await commitBlock(ws, next);
    const independent = await computeStateRoots(fullState(ws));
    expect(BigInt(independent.global_root)).toBe(r.globalRoot);
    await ws.store.close();
  });

  it("leaves the previous head intact when the block batch fails", async () => {
    const store = new MemoryKvStore();
    const ws = await WorldState.open(store);
    const rnd = seededRandom(2);
    const roots = await commitBlock(ws, randomDiff(rnd, [1n, 2n], 10, 0));
    const p = await ws.prepareCommit(1, randomDiff(rnd, [1n, 2n], 10, 1));
    store.failNextBatch = new Error("disk full");
    await expect(ws.commit(p, { blockHash: 7n })).rejects.toBeInstanceOf(StoreWriteError);
    expect(ws.head()!.blockNumber).toBe(0);
    expect(ws.head()!.roots).toEqual(roots);
    const reopened = await WorldState.open(store);
    expect(reopened.head()!.roots).toEqual(roots);
    expect(sorted(reopened.storageEntries(1n))).toEqual(sorted(ws.storageEntries(1n)));
  });

  it("rolls back k blocks to roots and values equal to an independent recomputation, and rebuilds identically", async () => {
    const rnd = seededRandom(5);
    const contracts = [11n, 22n, 33n, 44n];
    for (let round = 0; round < 4; round++) {
      const ws = await WorldState.open(new MemoryKvStore());
      const diffs: StateDiff[] = [];
      const roots = [];
      const k = 3 + rnd.int(6);
      for (let b = 0; b < k; b++) {
        diffs.push(randomDiff(rnd, contracts, 30, b));
        roots.push(await commitBlock(ws, diffs[b]!));
      }
      const target = rnd.int(k);
      const atTarget = await ws.readerAt(target);
      const expectedSlots = contracts.map((c) => [0n, 1n, 5n, 17n, 63n].map((key) => atTarget.getStorage(c, key)));
      const p = await ws.prepareRollback(target);
      await ws.rollback(p, { blockHash: BigInt(target + 1000) });
      expect(ws.head()!.roots).toEqual(roots[target]);
      const independent = await computeStateRoots(fullState(ws));
      expect(BigInt(independent.global_root)).toBe(roots[target]!.globalRoot);
      expect(contracts.map((c) => [0n, 1n, 5n, 17n, 63n].map((key) => ws.getStorage(c, key)))).toEqual(expectedSlots);
      // re-executing the same diffs gives the same roots
      for (let b = target + 1; b < k; b++) expect(await commitBlock(ws, diffs[b]!)).toEqual(roots[b]);
    }
  });

  it("a historical reader never mixes two heads: blocks committed or rolled back while it reads its diffs", async () => {
    // getMany (the reverse-diff read) waits at a gate, so a block commits while it is in flight.
    class GatedStore extends MemoryKvStore {
      gate: Promise<void> | null = null;
      override async getMany(keys: readonly Uint8Array[]) {
        const gate = this.gate;
        if (gate) await gate;
        return super.getMany(keys);
      }
    }
    const store = new GatedStore();
    const ws = await WorldState.open(store);
    const write = (key: bigint, v: bigint) => {
      const d = emptyStateDiff();
      if (ws.nextBlockNumber() === 0) d.deployed.set(7n, 0x77n);
      d.storage.set(7n, new Map([[key, v]]));
      return d;
    };
    for (const v of [1n, 2n, 3n]) await commitBlock(ws, write(1n, v)); // blocks 0..2 write slot 1
    let open!: () => void;
    store.gate = new Promise((r) => (open = r));
    const reading = ws.readerAt(0);
    store.gate = null;
    await commitBlock(ws, write(2n, 9n)); // block 3 writes slot 2 while the read of block 0's state waits
    open();
    const atZero = await reading;
    expect([atZero.getStorage(7n, 1n), atZero.getStorage(7n, 2n)]).toEqual([1n, 0n]);

    // A rollback below the block being read: the block is gone, a typed error says so.
    store.gate = new Promise((r) => (open = r));
    const gone = ws.readerAt(2);
    store.gate = null;
    await ws.rollback(await ws.prepareRollback(1), { blockHash: 1001n });
    open();
    await expect(gone).rejects.toBeInstanceOf(NoStateAtBlockError);
  });

  it("a historical read that lands between a rollback's batch and its head update waits for the rollback, then answers from the new head", async () => {
    // The batch applies at once, but resolves only at a second gate: the reverse diffs are
    // gone from the store while the head in memory is still the old one.
    class GatedStore extends MemoryKvStore {
      readGate: Promise<void> | null = null;
      writeGate: Promise<void> | null = null;
      override async getMany(keys: readonly Uint8Array[]) {
        const gate = this.readGate;
        if (gate) await gate;
        return super.getMany(keys);
      }
      override async batch(ops: Parameters<MemoryKvStore["batch"]>[0]) {
        await super.batch(ops);
        const gate = this.writeGate;
        if (gate) await gate;
      }
    }
    const store = new GatedStore();
    const ws = await WorldState.open(store);
    for (const v of [1n, 2n, 3n, 4n]) {
      const d = emptyStateDiff();
      if (ws.nextBlockNumber() === 0) d.deployed.set(7n, 0x77n);
      d.storage.set(7n, new Map([[1n, v]]));
      await commitBlock(ws, d); // blocks 0..3 write slot 1 = 1..4
    }
    let openRead!: () => void, openWrite!: () => void;
    store.readGate = new Promise((r) => (openRead = r));
    const reading = ws.readerAt(1);
    store.readGate = null;
    store.writeGate = new Promise((r) => (openWrite = r));
    const rollingBack = ws.rollback(await ws.prepareRollback(2), { blockHash: 1002n }); // removes block 3 and its diff
    await new Promise((r) => setImmediate(r)); // the rollback's batch has landed; its head update waits
    openRead(); // the read finds block 3's diff missing while the head still says 3
    await new Promise((r) => setImmediate(r));
    store.writeGate = null;
    openWrite();
    await rollingBack;
    const atOne = await reading;
    expect(ws.head()!.blockNumber).toBe(2);
    expect(atOne.getStorage(7n, 1n)).toBe(2n);
  });

  it("refuses rollback past genesis or to a future block", async () => {
    const ws = await WorldState.open(new MemoryKvStore());
    await commitBlock(ws, randomDiff(seededRandom(9), [1n], 3, 0));
    await expect(ws.prepareRollback(-1)).rejects.toThrow(/before genesis/);
    await expect(ws.prepareRollback(5)).rejects.toThrow(/head is 0/);
  });

  it("drops no-op writes from the committed diff", async () => {
    const ws = await WorldState.open(new MemoryKvStore());
    const d = emptyStateDiff();
    d.deployed.set(5n, 9n);
    d.storage.set(5n, new Map([[1n, 2n]]));
    await commitBlock(ws, d);
    const again = emptyStateDiff();
    again.storage.set(5n, new Map([[1n, 2n], [3n, 4n]]));
    const p = await ws.prepareCommit(1, again);
    expect([...p.diff.storage.get(5n)!]).toEqual([[3n, 4n]]);
  });

  it("stages blocks on blocks not yet committed: same roots, diffs and state as committing one by one", async () => {
    const contracts = [0x100n, 0x200n, 0x300n, 0x400n];
    const diffs = (() => {
      const rnd = seededRandom(9);
      return Array.from({ length: 12 }, (_, b) => randomDiff(rnd, contracts, 40, b));
    })();
    const serial = await WorldState.open(new MemoryKvStore());
    const serialRoots = [];
    for (const d of diffs) serialRoots.push(await commitBlock(serial, d));

    // Each block staged on the previous one while that one is still being finished and
    // written (the small key space makes later blocks rewrite and delete earlier writes).
    // The hasher answers on a later turn of the event loop, as a hash thread does.
    const later: NodeTableHasher = (k, t, f, p) => new Promise((resolve) => setImmediate(() => resolve(hashNodeTable(k, t, f, p))));
    const ws = await WorldState.open(new MemoryKvStore(), { nodeTableHasher: later });
    let prev: Awaited<ReturnType<WorldState["stageCommit"]>> | undefined;
    let commits: Promise<void> = Promise.resolve();
    const roots: unknown[] = [];
    for (let b = 0; b < diffs.length; b++) {
      const staged = await ws.stageCommit(b, diffs[b]!, { after: prev });
      commits = commits.then(async () => {
        const p = await staged.prepared;
        roots.push(p.roots);
        await ws.commit(p, { blockHash: BigInt(b + 1000) });
      });
      prev = staged;
    }
    await commits;
    expect(roots).toEqual(serialRoots);
    expect(ws.head()!.roots).toEqual(serial.head()!.roots);
    expect(fullState(ws)).toEqual(fullState(serial));
    for (let b = 1; b < diffs.length; b++) expect(await ws.forwardDiffAt(b)).toEqual(await serial.forwardDiffAt(b));
    expect(await ws.reverseDiffAt(7)).toEqual(await serial.reverseDiffAt(7));
  });

  it("refuses to commit a staged block before its parent, and to stage on a block behind the head", async () => {
    const rnd = seededRandom(10);
    const ws = await WorldState.open(new MemoryKvStore());
    await commitBlock(ws, randomDiff(rnd, [1n, 2n], 10, 0));
    const s1 = await ws.stageCommit(1, randomDiff(rnd, [1n, 2n], 10, 1));
    const s2 = await ws.stageCommit(2, randomDiff(rnd, [1n, 2n], 10, 2), { after: s1 });
    await expect(ws.commit(await s2.prepared, { blockHash: 3n })).rejects.toThrow(/head moved/);
    await ws.commit(await s1.prepared, { blockHash: 2n });
    await ws.commit(await s2.prepared, { blockHash: 3n });
    const old = await ws.stageCommit(3, randomDiff(rnd, [1n, 2n], 10, 3));
    await ws.commit(await old.prepared, { blockHash: 4n });
    await expect(ws.stageCommit(3, emptyStateDiff(), { after: s2 })).rejects.toThrow(/behind the head/);
  });
  it("reads the store for the new records at the bottom of written paths only, climbing further only where records already existed", async () => {
    const ws = await WorldState.open(new MemoryKvStore(), { retentionBlocks: 1 });
    const rnd = seededRandom(5);
    const c = 0x4242n;
    const genesis = emptyStateDiff();
    genesis.deployed.set(c, 0x1234n);
    genesis.storage.set(c, new Map(Array.from({ length: 2000 }, () => [rnd.bits(251), rnd.bits(100) + 1n] as [bigint, bigint])));
    await commitBlock(ws, genesis);
    const fresh = Array.from({ length: 50 }, () => rnd.bits(251));
    const lookupsOf = async (d: StateDiff) => {
      const before = ws.birthLookups;
      const p = await ws.prepareCommit(ws.nextBlockNumber(), d);
      await ws.commit(p, { blockHash: BigInt(p.blockNumber + 1000) });
      return { lookups: ws.birthLookups - before, records: p.births.index().size };
    };
    // 50 new leaves: about ten new nodes on each path, and at most two reads: the edge above
    // the new leaf and the shortened edge of the split branch, neither found.
    const add = emptyStateDiff();
    add.storage.set(c, new Map(fresh.map((k) => [k, 7n] as [bigint, bigint])));
    const added = await lookupsOf(add);
    expect(added.lookups).toBeGreaterThan(0);
    expect(added.lookups).toBeLessThanOrEqual(100);
    expect(added.records).toBeGreaterThan(3 * added.lookups);
    // The same leaves deleted: the trie is the genesis trie again, every record it needs exists
    // (genesis is still inside the window), so every one of them is read and counted.
    const del = emptyStateDiff();
    del.storage.set(c, new Map(fresh.map((k) => [k, 0n] as [bigint, bigint])));
    const deleted = await lookupsOf(del);
    expect(deleted.lookups).toBe(deleted.records);
    expect(ws.head()!.roots).toEqual((await ws.rootsAt(0))!);
    // Pruning blocks 1 and 2 keeps the genesis trie whole: a fresh world state on the same store (no cache) extends it to the right root.
    await commitBlock(ws, emptyStateDiff());
    await ws.settle();
    expect(ws.oldestStateBlock()).toBe(2);
    const reopened = await WorldState.open(ws.store);
    const more = emptyStateDiff();
    more.storage.set(c, new Map(Array.from({ length: 200 }, () => [rnd.bits(251), rnd.bits(100) + 1n] as [bigint, bigint])));
    const roots = await commitBlock(reopened, more);
    expect(BigInt((await computeStateRoots(fullState(reopened))).global_root)).toBe(roots.globalRoot);
  });
  it("holds at most the trie nodes its byte budget buys, plus the block in progress, and reads between blocks add none past it", async () => {
    const budget = 16 * 2 ** 20; // --node-cache-mb's minimum
    const ws = await WorldState.open(new MemoryKvStore(), { nodeCacheBytes: budget });
    const capacity = Math.floor(budget / NODE_CACHE_ENTRY_BYTES);
    expect(ws.nodeCacheCapacity()).toBe(capacity);
    const rnd = seededRandom(11);
    const contracts = [0x1000n, 0x2000n, 0x3000n, 0x4000n];
    let created = 0;
    let largest = 0;
    for (let b = 0; b < 6; b++) {
      const d = emptyStateDiff();
      for (const c of contracts) {
        if (b === 0) d.deployed.set(c, 0x1234n);
        d.storage.set(c, new Map(Array.from({ length: 1500 }, () => [rnd.bits(251), rnd.bits(120) + 1n] as [bigint, bigint])));
      }
      const reads = ws.nodeReads;
      const p = await ws.prepareCommit(b, d);
      await ws.commit(p, { blockHash: BigInt(b + 1) });
      created += p.hashCount;
      // Trimmed to the capacity when the block started; since then only its own nodes came in.
      expect(ws.nodeCacheSize()).toBeLessThanOrEqual(capacity + p.hashCount + (ws.nodeReads - reads));
      largest = Math.max(largest, ws.nodeCacheSize());
    }
    expect(created).toBeGreaterThan(2 * capacity); // kept, they would not fit
    expect(largest).toBeGreaterThan(capacity / 2);
    // Stored nodes read through a fresh world state (proof and recovery reads), more than it
    // holds: the cache stops at its capacity, and every node still reads.
    const fresh = await WorldState.open(ws.store, { nodeCacheBytes: budget });
    let read = 0;
    for await (const [k] of ws.store.iterator(columnRange(Column.pedersenNode))) {
      expect(await fresh.getNode("pedersen", readFelt(k, 1))).toBeDefined();
      if (++read === capacity + 5_000) break;
    }
    expect(read).toBe(capacity + 5_000);
    expect(fresh.nodeCacheSize()).toBe(capacity);
  });

  it("commits a block that splits hundreds of edges whose children are not cached (a cold cache after a restart)", async () => {
    const store = new MemoryKvStore();
    const ws = await WorldState.open(store);
    const c = 0x7777n;
    // 300 pairs of keys differing in their last bit: under each pair's branch an edge runs down
    // to a binary node at depth 250, whose hash the trie holds only in that edge.
    const genesis = emptyStateDiff();
    genesis.deployed.set(c, 0x1234n);
    const pairs = new Map<bigint, bigint>();
    for (let i = 1n; i <= 300n; i++) {
      pairs.set((i << 200n) | 0x400n, i);
      pairs.set((i << 200n) | 0x401n, i + 1000n);
    }
    genesis.storage.set(c, pairs);
    await commitBlock(ws, genesis);
    // Reopened (nothing cached), a block adds one key per pair that leaves each edge half way down.
    const reopened = await WorldState.open(store);
    const split = emptyStateDiff();
    split.storage.set(c, new Map(Array.from({ length: 300 }, (_, i) => [(BigInt(i + 1) << 200n) | (1n << 120n), 5n] as [bigint, bigint])));
    const roots = await commitBlock(reopened, split);
    expect(BigInt((await computeStateRoots(fullState(reopened))).global_root)).toBe(roots.globalRoot);
  });

});
