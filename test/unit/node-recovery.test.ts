// Recovery refuses a store whose flat state or trie disagrees with the stored head root
// (DESIGN §8: "recovering loads the head, checks the stored root against the trie").

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PerpchainNode } from "../../sequencer/node.js";
import { Column, columnRange, keys, readFelt } from "../../state/columns.js";
import { LevelKvStore } from "../../state/level-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function chainDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "perpchain-recovery-"));
  dirs.push(dir);
  const node = await PerpchainNode.open({ dbPath: dir, seed: 3, accounts: 2, clock: () => 1_700_000_000_000 });
  await node.stop();
  return dir;
}

describe("node recovery", () => {
  it("reopens an intact store", async () => {
    const dir = await chainDir();
    const node = await PerpchainNode.open({ dbPath: dir });
    expect(node.lifecycle.state).toBe("ready");
    await node.stop();
  });

  it("refuses a flat contract record that is not the leaf in the contracts trie", async () => {
    const dir = await chainDir();
    const store = await LevelKvStore.open(dir);
    let first: [Uint8Array, Uint8Array] | undefined;
    for await (const kv of store.iterator({ ...columnRange(Column.flatContract), limit: 1 })) first = kv;
    const record = Buffer.from(first![1]);
    record[63] ^= 1; // flip a bit of the nonce
    await store.batch([{ type: "put", key: first![0], value: record }]);
    await store.close();
    await expect(PerpchainNode.open({ dbPath: dir })).rejects.toThrow(/disagrees with the contracts trie/);
  });

  it("refuses a trie node whose content does not hash to its key", async () => {
    const dir = await chainDir();
    const store = await LevelKvStore.open(dir);
    const head = (await store.get(keys.head()))!;
    const contractsRoot = readFelt(head, 8 + 32 + 32);
    const rootKey = keys.trieNode("pedersen", contractsRoot);
    const node = Buffer.from((await store.get(rootKey))!);
    node[31] ^= 1; // corrupt the root node's left / child hash
    await store.batch([{ type: "put", key: rootKey, value: node }]);
    await store.close();
    await expect(PerpchainNode.open({ dbPath: dir })).rejects.toThrow(/does not hash to its key|missing/);
  });
});
