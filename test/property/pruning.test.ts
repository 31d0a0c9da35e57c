// Property: pruning never removes a record (trie node, contract preimage) still reachable from
// the state of a block inside the retention window or pinned by a snapshot, and removes every
// other one (no leak) as long as nothing was rolled back. Checked against a model of the state
// at every block, by walking every retained state's tries straight from the store (no cache)
// and rebuilding its roots from scratch. Rollback inside the window after pruning restores
// exact roots; reads and rollbacks past the window are refused.

import { describe, expect, it } from "vitest";
import { Column, columnRange, key, keys, u64 } from "../../state/columns.js";
import type { Felt } from "../../state/felt.js";
import { MemoryKvStore, type KvOp } from "../../state/kv-store.js";
import { emptyStateDiff, type StateDiff } from "../../state/state-diff.js";
import { computeStateRoots } from "../../state/state-root-input.js";
import { HistoryPrunedError, WorldState } from "../../state/world-state.js";
import { storedRecords, walkState } from "../support/retained-records.js";
import { seededRandom, type SeededRandom } from "../support/seeded-random.js";

/** The whole state after a block, as the model keeps it. */
interface ModelState {
  contracts: Map<Felt, { classHash: Felt; nonce: Felt; storage: Map<Felt, Felt> }>;
  classes: Map<Felt, Felt>;
}

function applyToModel(prev: ModelState, d: StateDiff): ModelState {
  const contracts = new Map([...prev.contracts].map(([a, c]) => [a, { ...c, storage: new Map(c.storage) }]));
  const get = (a: Felt) => {
    let c = contracts.get(a);
    if (!c) contracts.set(a, (c = { classHash: 0n, nonce: 0n, storage: new Map() }));
    return c;
  };
  for (const [a, ch] of d.deployed) get(a).classHash = ch;
  for (const [a, n] of d.nonces) get(a).nonce = n;
  for (const [a, m] of d.storage) for (const [k, v] of m) v === 0n ? get(a).storage.delete(k) : get(a).storage.set(k, v);
  for (const [a, c] of [...contracts]) if (c.classHash === 0n && c.nonce === 0n && c.storage.size === 0) contracts.delete(a);
  const classes = new Map(prev.classes);
  for (const [c, cc] of d.declared) cc === 0n ? classes.delete(c) : classes.set(c, cc);
  return { contracts, classes };
}

function modelAsDiff(s: ModelState): StateDiff {
  const d = emptyStateDiff();
  for (const [a, c] of s.contracts) {
    d.deployed.set(a, c.classHash);
    d.nonces.set(a, c.nonce);
    d.storage.set(a, new Map(c.storage));
  }
  for (const [c, cc] of s.classes) d.declared.set(c, cc);
  return d;
}

/**
 * Small key and value spaces on purpose: identical subtrees (same hash) then appear in several
 * tries and several places, which is what makes counting references necessary.
 */
function randomDiff(rnd: SeededRandom, block: number): StateDiff {
  const d = emptyStateDiff();
  const contracts = [0x100n, 0x200n, 0x300n, 0x400n];
  if (block === 0) for (const c of contracts) d.deployed.set(c, 0x77n);
  const writes = 1 + rnd.int(6);
  for (let i = 0; i < writes; i++) {
    const c = contracts[rnd.int(contracts.length)]!;
    let m = d.storage.get(c);
    if (!m) d.storage.set(c, (m = new Map()));
    m.set(BigInt(rnd.int(12)), BigInt(rnd.int(3))); // 0 deletes
  }
  if (rnd.int(3) === 0) d.nonces.set(contracts[rnd.int(contracts.length)]!, BigInt(block));
  if (rnd.int(4) === 0) d.declared.set(BigInt(1 + rnd.int(4)), BigInt(rnd.int(3)));
  return d;
}

/** Everything reachable from the state of `block`, checked against the model's state. */
async function checkRetainedState(ws: WorldState, block: number, model: ModelState, seen: Set<string>, rebuild: boolean): Promise<void> {
  const roots = block === ws.head()!.blockNumber ? ws.head()!.roots : (await ws.rootsAt(block))!;
  expect(roots, `roots of block ${block}`).toBeDefined();
  if (rebuild) {
    // Hashing from scratch is the slow part: done for the oldest retained state and the head.
    const rebuilt = await computeStateRoots(modelAsDiff(model));
    expect(roots.globalRoot, `global root of block ${block} rebuilt from scratch`).toBe(BigInt(rebuilt.global_root));
  }
  const state = await walkState(ws.store, roots, seen);
  expect([...state.contracts.keys()].sort()).toEqual([...model.contracts.keys()].sort());
  for (const [addr, c] of state.contracts) expect(c.storage).toEqual(model.contracts.get(addr)!.storage);
  // The reverse-diff reader agrees with the model too.
  const reader = await ws.readerAt(block);
  for (const [addr, c] of model.contracts) {
    expect(reader.getNonce(addr)).toBe(c.nonce);
    for (const k of [0n, 1n, 5n, 11n]) expect(reader.getStorage(addr, k)).toBe(c.storage.get(k) ?? 0n);
  }
}

async function commit(ws: WorldState, diff: StateDiff): Promise<void> {
  const p = await ws.prepareCommit(ws.nextBlockNumber(), diff);
  await ws.commit(p, { blockHash: BigInt(p.blockNumber + 1000) });
  await ws.settle();
}

describe("pruning", () => {
  for (const seed of [1, 3]) {
    it(`keeps exactly the records of the window and of pinned blocks, seed ${seed}`, async () => {
      const rnd = seededRandom(seed);
      const retention = 3;
      const ws = await WorldState.open(new MemoryKvStore(), { retentionBlocks: retention });
      const pins = new Set<number>();
      ws.setHistoryPins(() => pins);
      const models: ModelState[] = [];
      let prev: ModelState = { contracts: new Map(), classes: new Map() };
      for (let b = 0; b < 26; b++) {
        const d = randomDiff(rnd, b);
        await commit(ws, d);
        models.push((prev = applyToModel(prev, d)));
        // A snapshot now and then (at the head, as the node takes them), dropped later.
        if (rnd.int(9) === 0) pins.add(b);
        if (pins.size > 0 && rnd.int(4) === 0) pins.delete([...pins][rnd.int(pins.size)]!);
        // Deleting a pin may leave several steps of pruning to do: run them all.
        while ((await ws.pruneStep()) > 0);

        const oldest = ws.oldestStateBlock();
        const floor = Math.min(Math.max(0, b - retention), ...pins);
        expect(oldest).toBe(floor);
        const seen = new Set<string>();
        for (let n = oldest; n <= b; n++) await checkRetainedState(ws, n, models[n]!, seen, n === oldest || n === b);
        // No loss (checked above) and no leak: what is stored is what retained states reach.
        expect(await storedRecords(ws.store)).toEqual(seen);
        // Forward diffs: block 0's (never pruned: no state precedes it) and those of the
        // blocks after the pruning cursor; a pruned block's went with it.
        const fwdBlocks: number[] = [];
        for await (const [k] of ws.store.iterator(columnRange(Column.forwardDiff))) fwdBlocks.push(Number(Buffer.from(k).readBigUInt64BE(1)));
        expect(fwdBlocks).toEqual([0, ...Array.from({ length: b - oldest }, (_, i) => oldest + 1 + i)]);
        // Reference counts only for records that are stored.
        for await (const [k] of ws.store.iterator(columnRange(Column.recordExtraRefs))) expect(await ws.store.get(k.subarray(1))).toBeDefined();
        if (oldest > 0) {
          await expect(ws.readerAt(oldest - 1)).rejects.toBeInstanceOf(HistoryPrunedError);
          await expect(ws.proofSource(oldest - 1)).rejects.toBeInstanceOf(HistoryPrunedError);
          await expect(ws.prepareRollback(oldest - 1)).rejects.toBeInstanceOf(HistoryPrunedError);
        }
      }
    });
  }

  it("rolls back inside the window after pruning to exact roots, and keeps every record it needs", async () => {
    const rnd = seededRandom(9);
    const ws = await WorldState.open(new MemoryKvStore(), { retentionBlocks: 6 });
    const models: ModelState[] = [];
    let prev: ModelState = { contracts: new Map(), classes: new Map() };
    for (let round = 0; round < 4; round++) {
      while (ws.nextBlockNumber() < 25 + round * 10) {
        const d = randomDiff(rnd, ws.nextBlockNumber());
        await commit(ws, d);
        models[ws.head()!.blockNumber] = prev = applyToModel(prev, d);
      }
      const head = ws.head()!.blockNumber;
      const target = head - 1 - rnd.int(6);
      expect(target).toBeGreaterThanOrEqual(ws.oldestStateBlock());
      const expectedRoots = (await ws.rootsAt(target))!;
      const p = await ws.prepareRollback(target);
      await ws.rollback(p, { blockHash: BigInt(target + 1000) });
      expect(ws.head()!.roots).toEqual(expectedRoots);
      expect(BigInt((await computeStateRoots(modelAsDiff(models[target]!))).global_root)).toBe(expectedRoots.globalRoot);
      prev = models[target]!;
      models.length = target + 1;
      // Every retained state is still whole (records born in removed blocks may stay: a leak, never a loss).
      const seen = new Set<string>();
      for (let n = ws.oldestStateBlock(); n <= target; n++) await checkRetainedState(ws, n, models[n]!, seen, false);
      const stored = await storedRecords(ws.store);
      for (const r of seen) expect(stored.has(r)).toBe(true);
    }
  });

  it("converts a store of the first pruning format (birth markers) and prunes it exactly", async () => {
    const rnd = seededRandom(17);
    const store = new MemoryKvStore();
    let ws = await WorldState.open(store);
    const models: ModelState[] = [];
    let prev: ModelState = { contracts: new Map(), classes: new Map() };
    for (let b = 0; b < 20; b++) {
      const d = randomDiff(rnd, b);
      await commit(ws, d);
      models.push((prev = applyToModel(prev, d)));
    }
    // Rewrite the reference counts the way the first format kept them: one birth marker per
    // reference not yet matched by a pruned death (column | record key | block | sequence), and
    // per-block death lists.
    const ops: KvOp[] = [];
    let extras = 0;
    const counts = new Map<string, number>();
    for await (const [k, v] of store.iterator(columnRange(Column.recordExtraRefs))) {
      counts.set(Buffer.from(k.subarray(1)).toString("latin1"), Buffer.from(v).readUInt32BE(0));
      ops.push({ type: "del", key: k });
      extras++;
    }
    expect(extras, "the random states share records (else the test proves little)").toBeGreaterThan(0);
    let seq = 0;
    for (const c of [Column.pedersenNode, Column.poseidonNode, Column.contractStatePreimage]) {
      for await (const [k] of store.iterator(columnRange(c))) {
        const refs = 1 + (counts.get(Buffer.from(k).toString("latin1")) ?? 0);
        for (let i = 0; i < refs; i++) ops.push({ type: "put", key: key(Column.recordBirth, k, u64(i), Buffer.from([0, 0, 0, seq++ & 0xff])), value: Buffer.alloc(0) });
      }
    }
    for (let b = 1; b < 20; b++) ops.push({ type: "put", key: keys.recordDeaths(b), value: Buffer.alloc(33) });
    await store.batch(ops);

    ws = await WorldState.open(store, { retentionBlocks: 4 });
    for await (const _ of store.iterator(columnRange(Column.recordBirth))) expect.fail("a birth marker was left after open");
    ws.setHistoryPins(() => []);
    while ((await ws.pruneStep()) > 0);
    for (let b = 20; b < 30; b++) {
      const d = randomDiff(rnd, b);
      await commit(ws, d);
      models.push((prev = applyToModel(prev, d)));
      while ((await ws.pruneStep()) > 0);
      const seen = new Set<string>();
      for (let n = ws.oldestStateBlock(); n <= b; n++) await checkRetainedState(ws, n, models[n]!, seen, false);
      expect(await storedRecords(ws.store)).toEqual(seen);
    }
    for await (const [k] of store.iterator(columnRange(Column.recordDeaths))) expect(Buffer.from(k).readBigUInt64BE(1)).toBeGreaterThan(BigInt(ws.oldestStateBlock()));
  });
});
