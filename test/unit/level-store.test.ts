// LevelKvStore.close leaves no half-written compaction behind: the files on disk after a close
// are exactly the ones LevelDB keeps, so `du` of a stopped node's data directory measures its
// data (issue 14). Random 33-byte keys, like trie nodes, make each level-1 compaction rewrite
// most of level 2. The store is closed while LevelDB's LOG shows a compaction started and not
// finished. Without the settling in close, the reopen deleted a table the close had left (three
// runs of three), and the memtable stayed in the log.

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LevelKvStore } from "../../state/level-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tables(dir: string): Map<string, number> {
  return new Map(readdirSync(dir).filter((f) => f.endsWith(".ldb")).map((f) => [f, statSync(join(dir, f)).size]));
}

/** Deterministic pseudo-random bytes (xorshift), so the test writes the same data every run. */
function filler(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

describe("LevelKvStore.close", () => {
  it("leaves only the tables LevelDB keeps, and an empty log, after heavy random-key writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-level-"));
    dirs.push(dir);
    const bytes = filler(14);
    const store = await LevelKvStore.open(dir);
    // Random keys in 100-entry batches until LevelDB's own log says a compaction has started and
    // not finished: the store is closed right then.
    const running = () => {
      const log = readFileSync(join(dir, "LOG"), "utf8");
      return (log.match(/Compacting /g) ?? []).length > (log.match(/Compacted /g) ?? []).length;
    };
    let caught = false;
    for (let b = 0; b < 3000 && !caught; b++) {
      await store.batch(Array.from({ length: 100 }, () => ({ type: "put" as const, key: bytes(33), value: bytes(1000) })));
      caught = running();
    }
    expect(caught).toBe(true);
    await store.close();
    const afterClose = tables(dir);
    const logBytes = readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => statSync(join(dir, f)).size);

    // Opening deletes every table the manifest does not name: none may go.
    const again = await LevelKvStore.open(dir);
    await again.close();
    const afterReopen = tables(dir);
    expect([...afterClose.keys()].filter((f) => !afterReopen.has(f))).toEqual([]);
    expect(logBytes).toEqual([0]);
  });
});

describe("LevelKvStore without Snappy", () => {
  it("writes uncompressed tables, and reads a directory an earlier version wrote compressed", async () => {
    const { Level } = await import("level");
    const dir = mkdtempSync(join(tmpdir(), "perpchain-level-compress-"));
    dirs.push(dir);
    // Very compressible values, written the way earlier versions opened the store (Snappy on).
    const value = (i: number) => new TextEncoder().encode(`record ${i} `.repeat(40));
    const key = (i: number) => new Uint8Array([0x05, i >> 8, i & 0xff]);
    const old = new Level<Uint8Array, Uint8Array>(join(dir, "old"), { keyEncoding: "view", valueEncoding: "view" });
    await old.open();
    await old.batch(Array.from({ length: 3000 }, (_, i) => ({ type: "put" as const, key: key(i), value: value(i) })));
    // Into tables, compressed ones (classic-level has compactRange; level's types do not say so).
    await (old as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(key(0), key(3000));
    await old.close();
    const bytes = (d: string) => [...tables(d).values()].reduce((a, b) => a + b, 0);
    const compressed = bytes(join(dir, "old"));

    const store = await LevelKvStore.open(join(dir, "old"));
    expect(Buffer.from((await store.get(key(1234)))!).toString()).toBe(Buffer.from(value(1234)).toString());
    await store.close();

    const fresh = await LevelKvStore.open(join(dir, "new"));
    await fresh.batch(Array.from({ length: 3000 }, (_, i) => ({ type: "put" as const, key: key(i), value: value(i) })));
    await fresh.close(); // close settles: the memtable goes to a table
    // The same data takes several times the bytes uncompressed: these tables are not Snappy's.
    expect(bytes(join(dir, "new"))).toBeGreaterThan(4 * compressed);
  });
});
