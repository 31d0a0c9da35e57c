// Starknet binary Merkle-Patricia trie: node hashing, batched per-block updates, reads.
//
// Node hashing (Starknet docs "Merkle-Patricia trie", pathfinder crates/merkle-tree,
// juno core/trie):
//   leaf    : its value (leaves are not stored as nodes)
//   binary  : H(left, right)
//   edge    : H(child, path) + length   (mod P)
//   empty   : root 0
// H is Pedersen for storage tries and the contracts trie, Poseidon for the classes trie
// and for the height-64 commitment tries of block headers.
//
// Committed nodes are immutable and content-addressed by hash; an update copies the
// paths it touches (so every historical root stays readable) and hashes each new node
// exactly once, bottom-up, one batch per rank so a backend can hash a whole level at once.
// This module never reads the clock, randomness or the environment.

import { P, type Felt } from "./felt.js";
import { hashBackend } from "./crypto/hash.js";

export type TrieHashKind = "pedersen" | "poseidon";

/** A committed inner node, as stored (children by hash; at the bottom a child hash is a leaf value). */
export type TrieNode =
  | { readonly kind: "binary"; readonly left: Felt; readonly right: Felt }
  | { readonly kind: "edge"; readonly child: Felt; readonly path: Felt; readonly length: number };

/** Where committed nodes come from. `getNode` must return every node reachable from a root it was handed. */
export interface TrieNodeSource {
  getNode(hash: Felt): TrieNode | undefined;
}

/** A batch hasher: out[i] = H(a[i], b[i]). May be async (worker pool). */
export type PairHasher = (a: Felt[], b: Felt[]) => Felt[] | Promise<Felt[]>;

export function pairHasher(kind: TrieHashKind): PairHasher {
  return kind === "pedersen"
    ? (a, b) => hashBackend().pedersenBatch(a, b)
    : (a, b) => hashBackend().poseidonBatch(a, b);
}

export class TrieError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrieError";
  }
}

// ---------------------------------------------------------------------------------------
// Pending (not yet hashed) nodes built by an update.

class PendingBinary {
  hash: Felt = -1n;
  rank = 0;
  constructor(readonly left: Ref, readonly right: Ref) {}
}

class PendingEdge {
  hash: Felt = -1n;
  rank = 0;
  constructor(readonly child: Ref, readonly path: Felt, readonly length: number) {}
}

type Pending = PendingBinary | PendingEdge;
/** A subtree: a committed hash (or leaf value at the bottom), a pending node, or empty. */
type Ref = Felt | Pending | null;

interface EdgeView {
  path: Felt;
  length: number;
  child: Ref;
}

/** The result of hashing an update: the new root and the nodes to persist. */
export interface TrieUpdateResult {
  root: Felt;
  /** New nodes, children before parents; each hash appears once. */
  newNodes: Array<[Felt, TrieNode]>;
}

/**
 * One trie's pending update. `apply` is synchronous and only reads committed nodes
 * through the source; hashing happens later for many tries at once (see hashPendingTries).
 */
export class TrieUpdate {
  private root: Ref;

  constructor(
    readonly height: number,
    private readonly source: TrieNodeSource,
    root: Felt,
  ) {
    this.root = root === 0n ? null : root;
  }

  /** Apply writes (key → value; value 0 deletes). Keys must be < 2^height. */
  apply(writes: Iterable<[Felt, Felt]>): void {
    const changes = [...writes];
    if (changes.length === 0) return;
    const bound = 1n << BigInt(this.height);
    for (const [k, v] of changes) {
      if (k < 0n || k >= bound) throw new TrieError(`key ${k.toString(16)} out of range for height ${this.height}`);
      if (v < 0n || v >= P) throw new TrieError(`value ${v.toString(16)} is not a felt`);
    }
    changes.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    // Later writes to the same key win: keep the last of each run.
    const dedup: Array<[Felt, Felt]> = [];
    for (const c of changes) {
      if (dedup.length > 0 && dedup[dedup.length - 1]![0] === c[0]) dedup[dedup.length - 1] = c;
      else dedup.push(c);
    }
    this.root = this.update(this.root, 0, dedup, 0, dedup.length);
  }

  /** The pending root reference (for hashPendingTries). */
  rootRef(): Ref {
    return this.root;
  }

  private update(ref: Ref, depth: number, ch: Array<[Felt, Felt]>, lo: number, hi: number): Ref {
    if (lo === hi) return ref;
    const h = this.height;
    if (depth === h) {
      // A leaf: exactly one change can land here (keys are unique).
      const v = ch[lo]![1];
      return v === 0n ? null : v;
    }
    if (ref === null) return this.build(depth, ch, lo, hi);
    const edge = this.asEdge(ref, depth);
    if (edge !== null) {
      // How many leading bits of the edge path do all changed keys share?
      const first = ch[lo]![0];
      const last = ch[hi - 1]![0];
      const m = Math.min(
        this.commonPrefix(first, depth, edge.path, edge.length),
        this.commonPrefix(last, depth, edge.path, edge.length),
      );
      if (m === edge.length) {
        const child = this.update(edge.child, depth + edge.length, ch, lo, hi);
        return this.wrapEdge(edge.path, edge.length, child, depth + edge.length);
      }
      // Split the edge at bit m: a virtual binary node with the old remainder on one side.
      const restLen = edge.length - m - 1;
      const bit = (edge.path >> BigInt(restLen)) & 1n;
      const restPath = edge.path & ((1n << BigInt(restLen)) - 1n);
      const rest = restLen === 0 ? edge.child : this.wrapEdge(restPath, restLen, edge.child, depth + edge.length);
      const split = this.splitOn(depth + m, ch, lo, hi);
      const left = this.update(bit === 0n ? rest : null, depth + m + 1, ch, lo, split);
      const right = this.update(bit === 1n ? rest : null, depth + m + 1, ch, split, hi);
      const prefix = edge.path >> BigInt(edge.length - m);
      return this.wrapEdge(prefix, m, this.join(left, right, depth + m), depth + m);
    }
    const bin = this.asBinary(ref);
    const split = this.splitOn(depth, ch, lo, hi);
    const left = this.update(bin.left, depth + 1, ch, lo, split);
    const right = this.update(bin.right, depth + 1, ch, split, hi);
    return this.join(left, right, depth);
  }

  /** A fresh subtree holding the nonzero changes in [lo, hi). */
  private build(depth: number, ch: Array<[Felt, Felt]>, lo: number, hi: number): Ref {
    // Drop deletions of keys that do not exist.
    while (lo < hi && ch[lo]![1] === 0n) lo++;
    while (lo < hi && ch[hi - 1]![1] === 0n) hi--;
    if (lo === hi) return null;
    const h = this.height;
    if (depth === h) return ch[lo]![1];
    const first = ch[lo]![0];
    const last = ch[hi - 1]![0];
    const remaining = h - depth;
    const m = this.commonPrefix(first, depth, first & ((1n << BigInt(remaining)) - 1n), remaining);
    const mm = lo + 1 === hi ? remaining : Math.min(m, this.commonPrefix(last, depth, first & ((1n << BigInt(remaining)) - 1n), remaining));
    if (mm > 0) {
      const prefix = (first >> BigInt(h - depth - mm)) & ((1n << BigInt(mm)) - 1n);
      return this.wrapEdge(prefix, mm, this.build(depth + mm, ch, lo, hi), depth + mm);
    }
    const split = this.splitOn(depth, ch, lo, hi);
    return this.join(this.build(depth + 1, ch, lo, split), this.build(depth + 1, ch, split, hi), depth);
  }

  /** Binary node from two children at depth+1, normalizing when one side is empty. */
  private join(left: Ref, right: Ref, depth: number): Ref {
    if (left !== null && right !== null) return new PendingBinary(left, right);
    if (left === null && right === null) return null;
    const child = left ?? right;
    return this.wrapEdge(left === null ? 1n : 0n, 1, child, depth + 1);
  }

  /** Edge (path, length) above `child` (which sits at childDepth); merges with a child edge. */
  private wrapEdge(path: Felt, length: number, child: Ref, childDepth: number): Ref {
    if (child === null) return null;
    if (length === 0) return child;
    const inner = this.asEdge(child, childDepth);
    if (inner !== null) {
      return new PendingEdge(inner.child, (path << BigInt(inner.length)) | inner.path, length + inner.length);
    }
    return new PendingEdge(child, path, length);
  }

  private asEdge(ref: Ref, depth: number): EdgeView | null {
    if (ref === null || depth === this.height) return null;
    if (ref instanceof PendingEdge) return { path: ref.path, length: ref.length, child: ref.child };
    if (ref instanceof PendingBinary) return null;
    const node = this.load(ref);
    return node.kind === "edge" ? { path: node.path, length: node.length, child: node.child } : null;
  }

  private asBinary(ref: Felt | Pending): { left: Ref; right: Ref } {
    if (ref instanceof PendingBinary) return ref;
    if (ref instanceof PendingEdge) throw new TrieError("expected a binary node");
    const node = this.load(ref);
    if (node.kind !== "binary") throw new TrieError("expected a binary node");
    return node;
  }

  private load(hash: Felt): TrieNode {
    const node = this.source.getNode(hash);
    if (node === undefined) throw new TrieError(`missing trie node 0x${hash.toString(16)}`);
    return node;
  }

  /** Number of leading bits (from `depth`) that `key` shares with the edge path of `length` bits. */
  private commonPrefix(key: Felt, depth: number, path: Felt, length: number): number {
    const keyBits = (key >> BigInt(this.height - depth - length)) & ((1n << BigInt(length)) - 1n);
    const diff = keyBits ^ path;
    if (diff === 0n) return length;
    return length - bitLength(diff);
  }

  /** First index in [lo, hi) whose key has bit 1 at `depth`. */
  private splitOn(depth: number, ch: Array<[Felt, Felt]>, lo: number, hi: number): number {
    const shift = BigInt(this.height - depth - 1);
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (((ch[mid]![0] >> shift) & 1n) === 0n) a = mid + 1;
      else b = mid;
    }
    return a;
  }
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Hash the pending nodes of many tries sharing one hash kind, one batch per rank
 * (rank = height above the deepest pending descendant), each node exactly once.
 */
export async function hashPendingTries(updates: readonly TrieUpdate[], hasher: PairHasher): Promise<TrieUpdateResult[]> {
  const byRank: Pending[][] = [];
  const seen = new Set<Pending>();
  const visit = (ref: Ref): number => {
    if (ref === null || typeof ref === "bigint") return 0;
    if (seen.has(ref)) return ref.rank;
    seen.add(ref);
    const r = ref instanceof PendingBinary ? Math.max(visit(ref.left), visit(ref.right)) + 1 : visit(ref.child) + 1;
    ref.rank = r;
    (byRank[r] ??= []).push(ref);
    return r;
  };
  for (const u of updates) visit(u.rootRef());

  const perNode: Array<[Felt, TrieNode]> = [];
  const nodeOut = new Map<Pending, TrieNode>();
  for (let r = 1; r < byRank.length; r++) {
    const level = byRank[r];
    if (!level) continue;
    const a = new Array<Felt>(level.length);
    const b = new Array<Felt>(level.length);
    for (let i = 0; i < level.length; i++) {
      const n = level[i]!;
      if (n instanceof PendingBinary) {
        a[i] = refHash(n.left);
        b[i] = refHash(n.right);
      } else {
        a[i] = refHash(n.child);
        b[i] = n.path;
      }
    }
    const hashed = hasher(a, b);
    const out = Array.isArray(hashed) ? hashed : await hashed;
    for (let i = 0; i < level.length; i++) {
      const n = level[i]!;
      if (n instanceof PendingBinary) {
        n.hash = out[i]!;
        const node: TrieNode = { kind: "binary", left: a[i]!, right: b[i]! };
        nodeOut.set(n, node);
        perNode.push([n.hash, node]);
      } else {
        let h = out[i]! + BigInt(n.length);
        if (h >= P) h -= P;
        n.hash = h;
        const node: TrieNode = { kind: "edge", child: a[i]!, path: n.path, length: n.length };
        nodeOut.set(n, node);
        perNode.push([h, node]);
      }
    }
  }

  return updates.map((u) => {
    const root = u.rootRef();
    const newNodes: Array<[Felt, TrieNode]> = [];
    const collect = (ref: Ref, mark: Set<Pending>): void => {
      if (ref === null || typeof ref === "bigint" || mark.has(ref)) return;
      mark.add(ref);
      if (ref instanceof PendingBinary) {
        collect(ref.left, mark);
        collect(ref.right, mark);
      } else collect(ref.child, mark);
      newNodes.push([ref.hash, nodeOut.get(ref)!]);
    };
    collect(root, new Set());
    return { root: refHash(root), newNodes };
  });
}

function refHash(ref: Ref): Felt {
  if (ref === null) return 0n;
  if (typeof ref === "bigint") return ref;
  if (ref.hash < 0n) throw new TrieError("pending node used before it was hashed");
  return ref.hash;
}

/** An empty node source (for building tries from nothing). */
export const EMPTY_NODE_SOURCE: TrieNodeSource = { getNode: () => undefined };

/** Root of a trie holding exactly `leaves` (zero values are ignored). Pure; used for commitments and tests. */
export async function computeRootFromLeaves(
  height: number,
  hash: TrieHashKind,
  leaves: Map<Felt, Felt> | Array<[Felt, Felt]>,
): Promise<Felt> {
  const u = new TrieUpdate(height, EMPTY_NODE_SOURCE, 0n);
  u.apply(leaves instanceof Map ? leaves.entries() : leaves);
  const [res] = await hashPendingTries([u], pairHasher(hash));
  return res!.root;
}

/** Read a leaf under `root` (0 when absent). Synchronous over a node source. */
export function trieGet(source: TrieNodeSource, height: number, root: Felt, key: Felt): Felt {
  let ref = root;
  let depth = 0;
  if (ref === 0n) return 0n;
  while (depth < height) {
    const node = source.getNode(ref);
    if (node === undefined) throw new TrieError(`missing trie node 0x${ref.toString(16)}`);
    if (node.kind === "binary") {
      const bit = (key >> BigInt(height - depth - 1)) & 1n;
      ref = bit === 0n ? node.left : node.right;
      depth += 1;
    } else {
      const keyBits = (key >> BigInt(height - depth - node.length)) & ((1n << BigInt(node.length)) - 1n);
      if (keyBits !== node.path) return 0n;
      ref = node.child;
      depth += node.length;
    }
  }
  return ref;
}
