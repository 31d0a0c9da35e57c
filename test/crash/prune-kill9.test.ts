// kill -9 during pruning: a devnet child on LevelDB with --retention-blocks 2 builds blocks
// while a snapshot holds pruning back; the snapshot is deleted (a backlog of blocks to prune,
// pruned in steps after the next commit) and the node is SIGKILLed at a seeded random instant
// while it works through it. After every kill the node starts and answers /ready. At the
// end, the LevelDB directory is opened here: every state from the pruning cursor to the head
// is whole (every trie node and preimage it reaches is stored, read without any cache) and
// nothing else is stored, so a kill neither lost a record nor left one behind.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keys } from "../../state/columns.js";
import { LevelKvStore } from "../../state/level-store.js";
import { WorldState } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";
import { storedRecords, walkState } from "../support/retained-records.js";
import { kill9, killAllChildren, rpc, sleep, spawnNode, stopGracefully, type ChildNode } from "./child-node.js";

const ROUNDS = 5;
const BLOCKS_PER_ROUND = 40;
const ARGS = { seed: 4, accounts: 2, extraArgs: ["--retention-blocks", "2"] };

const dirs: string[] = [];
afterAll(async () => {
  await killAllChildren();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function readCursorAndHead(dbPath: string): Promise<{ cursor: number; head: number }> {
  const store = await LevelKvStore.open(dbPath);
  try {
    const ws = await WorldState.open(store);
    const raw = await store.get(keys.pruneCursor());
    return { cursor: raw === undefined ? -1 : Number(Buffer.from(raw).readBigUInt64BE(0)), head: ws.head()!.blockNumber };
  } finally {
    await store.close();
  }
}

describe("kill -9 during pruning", () => {
  it("the node restarts after every kill, and the retained states are whole with nothing left behind", async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), "perpchain-prune-kill-")), "db");
    dirs.push(dbPath);
    const rnd = seededRandom(0x9e11);
    let killedWithBacklog = 0;
    let node: ChildNode = await spawnNode({ dbPath, ...ARGS });
    const accounts = await rpc<Array<{ address: string }>>(node.rpcUrl, "devnet_getPredeployedAccounts", {});
    const mint = (n: ChildNode, i: number) => rpc(n.rpcUrl, "devnet_mint", { address: accounts[i % accounts.length]!.address, amount: 1000 + i, unit: "FRI" });
    for (let round = 0; round < ROUNDS; round++) {
      await rpc(node.rpcUrl, "appchain_createSnapshot", { name: `hold-${round}` });
      for (let i = 0; i < BLOCKS_PER_ROUND; i++) await mint(node, i);
      await rpc(node.rpcUrl, "appchain_deleteSnapshot", { name: `hold-${round}` });
      // The next block's commit starts the pruning steps; kill somewhere in them.
      void mint(node, round).catch(() => {});
      await sleep(5 + rnd.int(60));
      await kill9(node);
      const { cursor, head } = await readCursorAndHead(dbPath);
      if (cursor < head - 2) killedWithBacklog++;
      node = await spawnNode({ dbPath, ...ARGS });
      const ready = await fetch(`${node.baseUrl}/ready`);
      expect(ready.status, node.output()).toBe(200);
    }
    // Let pruning finish, then stop cleanly.
    await mint(node, 99);
    await sleep(300);
    expect(await stopGracefully(node)).toBe(0);
    expect(killedWithBacklog, "kills that landed with pruning still to do").toBeGreaterThan(0);

    const store = await LevelKvStore.open(dbPath);
    try {
      const ws = await WorldState.open(store);
      const head = ws.head()!.blockNumber;
      const oldest = ws.oldestStateBlock(); // the pruning cursor: no window given here
      expect(oldest).toBeGreaterThan(BLOCKS_PER_ROUND);
      const seen = new Set<string>();
      for (let b = oldest; b <= head; b++) await walkState(store, b === head ? ws.head()!.roots : (await ws.rootsAt(b))!, seen);
      expect(await storedRecords(store)).toEqual(seen);
    } finally {
      await store.close();
    }
  });
});
