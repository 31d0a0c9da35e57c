import { describe, expect, it } from "vitest";
import { pedersen, poseidon } from "../../state/crypto/hash.js";
import { P } from "../../state/felt.js";
import {
  computeRootFromLeaves,
  hashPendingTries,
  trieGet,
  TrieUpdate,
  type TrieNode,
  type TrieNodeSource,
} from "../../state/patricia-trie.js";
import { seededRandom } from "../support/seeded-random.js";

/** Independent reference: the Starknet definition applied recursively to a sorted leaf list. */
function referenceRoot(height: number, h: (a: bigint, b: bigint) => bigint, leaves: Array<[bigint, bigint]>): bigint {
  const live = leaves.filter(([, v]) => v !== 0n).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  if (live.length === 0) return 0n;
  // Returns [hash, edgePath, edgeLen, childHash] of the subtree at depth for keys in live.
  const bit = (k: bigint, d: number) => (k >> BigInt(height - d - 1)) & 1n;
  const sub = (d: number, ks: Array<[bigint, bigint]>): { hash: bigint } => {
    if (d === height) return { hash: ks[0]![1] };
    const left = ks.filter(([k]) => bit(k, d) === 0n);
    const right = ks.filter(([k]) => bit(k, d) === 1n);
    if (left.length > 0 && right.length > 0) return { hash: h(node(d + 1, left), node(d + 1, right)) };
    throw new Error("unreachable");
  };
  // node(): hash of the subtree at depth d, compressing single-child chains into edges.
  const node = (d: number, ks: Array<[bigint, bigint]>): bigint => {
    let len = 0;
    let path = 0n;
    while (d + len < height) {
      const b0 = bit(ks[0]![0], d + len);
      if (!ks.every(([k]) => bit(k, d + len) === b0)) break;
      path = (path << 1n) | b0;
      len++;
    }
    const child = sub(d + len, ks).hash;
    if (len === 0) return child;
    return (h(child, path) + BigInt(len)) % P;
  };
  return node(0, live);
}

class MapSource implements TrieNodeSource {
  readonly nodes = new Map<bigint, TrieNode>();
  getNode(hash: bigint) {
    return this.nodes.get(hash);
  }
}

async function commit(source: MapSource, height: number, root: bigint, writes: Array<[bigint, bigint]>, kind: "pedersen" | "poseidon" = "pedersen") {
  const u = new TrieUpdate(height, source, root);
  u.apply(writes);
  const { tries } = await hashPendingTries([u], kind);
  for (const [hsh, n] of tries[0]!.newNodes) source.nodes.set(hsh, n);
  return tries[0]!.root;
}

describe("patricia trie", () => {
  it("is 0 when empty and for deletions of absent keys", async () => {
    expect(await computeRootFromLeaves(251, "pedersen", [])).toBe(0n);
    expect(await computeRootFromLeaves(251, "pedersen", [[5n, 0n]])).toBe(0n);
  });

  it("hashes a single leaf as an edge of length 251 from the root", async () => {
    const root = await computeRootFromLeaves(251, "pedersen", [[0x1234n, 0x99n]]);
    expect(root).toBe((pedersen(0x99n, 0x1234n) + 251n) % P);
  });

  it("hashes two leaves differing in the last bit as edge over binary", async () => {
    const root = await computeRootFromLeaves(251, "pedersen", [
      [2n, 7n],
      [3n, 9n],
    ]);
    const bin = pedersen(7n, 9n);
    expect(root).toBe((pedersen(bin, 1n) + 250n) % P);
  });

  it("matches an independent recursive definition on random leaf sets (pedersen, height 251 and poseidon, height 64)", async () => {
    const rnd = seededRandom(7);
    for (let round = 0; round < 6; round++) {
      const height = round % 2 === 0 ? 251 : 64;
      const kind = round % 2 === 0 ? "pedersen" : "poseidon";
      const n = 1 + Math.floor(rnd.next() * 12);
      const leaves: Array<[bigint, bigint]> = [];
      for (let i = 0; i < n; i++) {
        // cluster some keys so long shared prefixes occur
        const k = i % 3 === 0 ? BigInt(i) : rnd.bits(height);
        leaves.push([k, rnd.bits(250) + 1n]);
      }
      const dedup = [...new Map(leaves).entries()];
      const ref = referenceRoot(height, kind === "pedersen" ? pedersen : poseidon, dedup);
      expect(await computeRootFromLeaves(height, kind, dedup)).toBe(ref);
    }
  });

  it("does not depend on insertion order or on how writes are split into blocks", async () => {
    const rnd = seededRandom(11);
    const leaves: Array<[bigint, bigint]> = [];
    for (let i = 0; i < 40; i++) leaves.push([rnd.bits(251), rnd.bits(200) + 1n]);
    const oneShot = await computeRootFromLeaves(251, "pedersen", leaves);
    const src = new MapSource();
    let root = 0n;
    const shuffled = rnd.shuffle([...leaves]);
    for (let i = 0; i < shuffled.length; i += 7) root = await commit(src, 251, root, shuffled.slice(i, i + 7));
    expect(root).toBe(oneShot);
  });

  it("returns to the previous root when inserted keys are deleted again", async () => {
    const rnd = seededRandom(3);
    const src = new MapSource();
    const base: Array<[bigint, bigint]> = [];
    for (let i = 0; i < 30; i++) base.push([rnd.bits(251), rnd.bits(200) + 1n]);
    const r0 = await commit(src, 251, 0n, base);
    const extra: Array<[bigint, bigint]> = [];
    for (let i = 0; i < 10; i++) extra.push([rnd.bits(251), rnd.bits(200) + 1n]);
    // also a key sharing a long prefix with an existing key
    extra.push([base[0]![0] ^ 1n, 5n]);
    const r1 = await commit(src, 251, r0, extra);
    expect(r1).not.toBe(r0);
    const r2 = await commit(src, 251, r1, extra.map(([k]) => [k, 0n]));
    expect(r2).toBe(r0);
    const r3 = await commit(src, 251, r2, base.map(([k]) => [k, 0n]));
    expect(r3).toBe(0n);
  });

  it("reads leaves at old and new roots after an update", async () => {
    const src = new MapSource();
    const r0 = await commit(src, 251, 0n, [
      [10n, 1n],
      [11n, 2n],
      [1n << 250n, 3n],
    ]);
    const r1 = await commit(src, 251, r0, [
      [10n, 0n],
      [12n, 4n],
    ]);
    expect(trieGet(src, 251, r0, 10n)).toBe(1n);
    expect(trieGet(src, 251, r1, 10n)).toBe(0n);
    expect(trieGet(src, 251, r1, 12n)).toBe(4n);
    expect(trieGet(src, 251, r1, 1n << 250n)).toBe(3n);
    expect(trieGet(src, 251, r1, 13n)).toBe(0n);
  });

  it("refuses keys outside the height and values not below P", () => {
    const u = new TrieUpdate(64, new MapSource(), 0n);
    expect(() => u.apply([[1n << 64n, 1n]])).toThrow(/out of range/);
    expect(() => u.apply([[1n, P]])).toThrow(/not a felt/);
  });
});
