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
      await store.batch(Array.from({ length: 100 }, () => ({ type: "put" as const, key: bytes(33), value: bytes(100) })));
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
