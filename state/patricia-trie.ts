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
import { readFelt, writeFelt } from "./columns.js";

export type TrieHashKind = "pedersen" | "poseidon";

/** A committed inner node, as stored (children by hash; at the bottom a child hash is a leaf value). */
export type TrieNode =
  | { readonly kind: "binary"; readonly left: Felt; readonly right: Felt }
  | { readonly kind: "edge"; readonly child: Felt; readonly path: Felt; readonly length: number };

/** Where committed nodes come from. `getNode` must return every node reachable from a root it was handed. */
export interface TrieNodeSource {
  getNode(hash: Felt): TrieNode | undefined;
}

// Shift amounts and low-bit masks as bigints, made once (the walk uses them per node).
const BIG: readonly bigint[] = Array.from({ length: 257 }, (_, i) => BigInt(i));
const MASK: readonly bigint[] = BIG.map((i) => (1n << i) - 1n);

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
  /** Entry number in the node table being built (-1: not numbered yet). */
  index = -1;
  constructor(readonly left: Ref, readonly right: Ref) {}
}

class PendingEdge {
  hash: Felt = -1n;
  /** Entry number in the node table being built (-1: not numbered yet). */
  index = -1;
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
  /**
   * Committed nodes this update replaced (each once per position it held): the trie no
   * longer references them, so they die with the version before this update. Pruning
   * counts them against the node's births (world-state.ts).
   */
  readonly replacedNodes: Felt[] = [];
  /** Leaf values at written keys before this update (contracts trie: old contract state hashes). */
  readonly replacedLeaves: Felt[] = [];

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
      if (typeof ref === "bigint") this.replacedLeaves.push(ref);
      return v === 0n ? null : v;
    }
    if (ref === null) return this.build(depth, ch, lo, hi);
    // A committed node on a written path is replaced by a new one (or by nothing).
    if (typeof ref === "bigint") this.replacedNodes.push(ref);
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
      const bit = (edge.path >> BIG[restLen]!) & 1n;
      const restPath = edge.path & MASK[restLen]!;
      const rest = restLen === 0 ? edge.child : this.wrapEdge(restPath, restLen, edge.child, depth + edge.length);
      const split = this.splitOn(depth + m, ch, lo, hi);
      const left = this.update(bit === 0n ? rest : null, depth + m + 1, ch, lo, split);
      const right = this.update(bit === 1n ? rest : null, depth + m + 1, ch, split, hi);
      const prefix = edge.path >> BIG[edge.length - m]!;
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
    const m = this.commonPrefix(first, depth, first & MASK[remaining]!, remaining);
    const mm = lo + 1 === hi ? remaining : Math.min(m, this.commonPrefix(last, depth, first & MASK[remaining]!, remaining));
    if (mm > 0) {
      const prefix = (first >> BIG[h - depth - mm]!) & MASK[mm]!;
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
      // A committed edge merged into the new one is no longer referenced.
      if (typeof child === "bigint") this.replacedNodes.push(child);
      return new PendingEdge(inner.child, (path << BIG[inner.length]!) | inner.path, length + inner.length);
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
    const keyBits = (key >> BIG[this.height - depth - length]!) & MASK[length]!;
    const diff = keyBits ^ path;
    if (diff === 0n) return length;
    return length - bitLength(diff);
  }

  /** First index in [lo, hi) whose key has bit 1 at `depth`. */
  private splitOn(depth: number, ch: Array<[Felt, Felt]>, lo: number, hi: number): number {
    const shift = BIG[this.height - depth - 1]!;
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
  if (x === 0n) return 0;
  // Hex is a quarter the length of binary: whole digits, then the top digit's own bits.
  const hex = x.toString(16);
  return 4 * (hex.length - 1) + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

// ---------------------------------------------------------------------------------------
// Node tables: the pending nodes of many tries, hashed in one call.
//
// Entry i of a table is (len, a, b) at table[3i..3i+2]:
//   len 0      : hash = H(a, b)             (a binary node)
//   len 1..251 : hash = H(a, b) + len mod P (an edge node: a = child, b = path)
// An operand with bit 31 set (TABLE_REF) names an earlier entry, whose hash it stands for;
// otherwise it indexes `felts`. The hasher groups entries by rank (1 + the highest rank they
// name) and hashes each rank as one batch, so every node is hashed once and a backend sees
// whole levels. The result holds one 98-byte record per entry:
//   prefix (1) | hash (32) | a (32) | b (32) | len (1)
// so bytes [0, 33) can serve as a store key and [33, 97) (binary) or [33, 98) (edge) as the
// stored node. The native addon runs the same algorithm (hashNodeTable in addon.cc).

export const TABLE_REF = 0x80000000;
export const TABLE_RECORD = 98;

/** Hashes a node table into records (see above). May be asynchronous (a hash thread). */
export type NodeTableHasher = (kind: TrieHashKind, table: Uint32Array, felts: readonly Felt[], prefix: number) => Uint8Array | Promise<Uint8Array>;

/** The active backend's table hasher, or the JS algorithm over its batch calls. */
export function hashNodeTable(kind: TrieHashKind, table: Uint32Array, felts: readonly Felt[], prefix: number): Uint8Array {
  const backend = hashBackend();
  if (backend.hashNodeTable) return backend.hashNodeTable(kind, table, felts, prefix);
  return hashNodeTableWith(pairHasherSync(kind), table, felts, prefix);
}

/**
 * The default table hasher of a block commit: the backend's hash thread when it has one
 * (the native addon), so the committing thread does its bookkeeping meanwhile; else
 * hashNodeTable on the calling thread. Both give the same records.
 */
export function hashNodeTableOffThread(kind: TrieHashKind, table: Uint32Array, felts: readonly Felt[], prefix: number): Uint8Array | Promise<Uint8Array> {
  const backend = hashBackend();
  if (backend.hashNodeTableAsync) return backend.hashNodeTableAsync(kind, table, felts, prefix);
  return hashNodeTable(kind, table, felts, prefix);
}

function pairHasherSync(kind: TrieHashKind): (a: Felt[], b: Felt[]) => Felt[] {
  return kind === "pedersen" ? (a, b) => hashBackend().pedersenBatch(a, b) : (a, b) => hashBackend().poseidonBatch(a, b);
}

/** The table algorithm over a batch pair hasher (the reference the native addon is checked against). */
export function hashNodeTableWith(pairs: (a: Felt[], b: Felt[]) => Felt[], table: Uint32Array, felts: readonly Felt[], prefix: number): Uint8Array {
  if (table.length % 3 !== 0) throw new TrieError("node table: length is not a multiple of 3");
  const n = table.length / 3;
  const rank = new Uint32Array(n);
  const hash = new Array<Felt>(n);
  const operandRank = (i: number, v: number): number => {
    if (v & TABLE_REF) {
      const j = (v & ~TABLE_REF) >>> 0;
      if (j >= i) throw new TrieError(`node table entry ${i} names entry ${j}, which is not earlier`);
      return rank[j]!;
    }
    if (v >= felts.length) throw new TrieError(`node table entry ${i} names felt ${v} of ${felts.length}`);
    return 0;
  };
  const byRank: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (table[3 * i]! > 251) throw new TrieError(`node table entry ${i} has edge length ${table[3 * i]} (at most 251)`);
    const r = Math.max(operandRank(i, table[3 * i + 1]!), operandRank(i, table[3 * i + 2]!)) + 1;
    rank[i] = r;
    (byRank[r] ??= []).push(i);
  }
  const operand = (v: number): Felt => (v & TABLE_REF ? hash[(v & ~TABLE_REF) >>> 0]! : felts[v]!);
  const out = Buffer.alloc(TABLE_RECORD * n);
  for (const level of byRank) {
    if (!level) continue;
    const a = level.map((i) => operand(table[3 * i + 1]!));
    const b = level.map((i) => operand(table[3 * i + 2]!));
    const h = pairs(a, b);
    level.forEach((i, k) => {
      const len = table[3 * i]!;
      let x = h[k]!;
      if (len !== 0) {
        x += BigInt(len);
        if (x >= P) x -= P;
      }
      hash[i] = x;
      const at = TABLE_RECORD * i;
      out[at] = prefix;
      writeFelt(out, at + 1, x);
      writeFelt(out, at + 33, a[k]!);
      writeFelt(out, at + 65, b[k]!);
      out[at + 97] = len;
    });
  }
  return out;
}

/** What hashing a set of pending tries produced. */
export interface TrieBatch {
  /** Per update, in order: the new root and its new nodes. */
  tries: TrieUpdateResult[];
  /** One TABLE_RECORD-byte record per new node (all tries), ready to be stored. */
  records: Uint8Array;
}

/** A hashed NodeTable. */
export interface HashedNodeTable {
  /** Each trie's new root, in the order the tries were added. */
  roots: Felt[];
  /** Each trie's last node entry (its root), or -1 when it has no new node. */
  lastEntry: readonly number[];
  /** Hash and stored form of every new trie node, children before parents. */
  hashes: Felt[];
  nodes: TrieNode[];
  /** One TABLE_RECORD-byte record per new trie node (same order), ready to be stored. */
  records: Uint8Array;
  /** The value of any operand of the table (felt, trie root or pair). */
  valueOf(op: TableOperand): Felt;
}

/** An operand of a node table being built: a felt, a trie root or a pair (see NodeTable). */
export type TableOperand = number & { readonly __tableOperand: unique symbol };

/**
 * One node table built from pending tries and plain pairs H(a, b), hashed in one call.
 * Trie nodes are numbered first, children before parents; pairs (which may use trie roots
 * and earlier pairs) follow them, so the records of the trie nodes are one contiguous run.
 */
export class NodeTable {
  private readonly order: Pending[] = [];
  private readonly table: number[] = [];
  private readonly felts: Felt[] = [];
  /** Pairs as operand couples; a pair operand is -(j + 1) until the table is hashed. */
  private readonly pairs: number[] = [];
  private readonly updates: TrieUpdate[] = [];
  private readonly roots: number[] = [];

  /** A felt operand. */
  felt(v: Felt): TableOperand {
    return (this.felts.push(v) - 1) as TableOperand;
  }

  /** Adds a trie's pending nodes; returns the operand of its (new) root. */
  addTrie(update: TrieUpdate): TableOperand {
    const r = update.rootRef();
    const root = r === null || typeof r === "bigint" || r.hash >= 0n ? -1 : this.visit(r);
    this.updates.push(update);
    this.roots.push(root);
    if (root >= 0) return ((TABLE_REF | root) >>> 0) as TableOperand;
    return this.felt(r === null ? 0n : typeof r === "bigint" ? r : r.hash);
  }

  /** Adds H(a, b), not a trie node; returns its operand. */
  pair(a: TableOperand, b: TableOperand): TableOperand {
    this.pairs.push(a, b);
    return -(this.pairs.length / 2) as TableOperand;
  }

  /**
   * Hashes the table. Returns each trie's root, the new nodes (hash and stored form, all
   * tries, children before parents), their records, and the value of any operand.
   */
  async hash(kind: TrieHashKind, opts: { hasher?: NodeTableHasher; prefix?: number } = {}): Promise<HashedNodeTable> {
    const nodes = this.order.length;
    const resolve = (v: number): number => (v < 0 ? (TABLE_REF | (nodes + -v - 1)) >>> 0 : v);
    const table = new Uint32Array(this.table.length + (this.pairs.length / 2) * 3);
    table.set(this.table);
    for (let j = 0, at = this.table.length; j < this.pairs.length; j += 2, at += 3) {
      table[at + 1] = resolve(this.pairs[j]!);
      table[at + 2] = resolve(this.pairs[j + 1]!);
    }
    const entries = table.length / 3;
    const hashed = (opts.hasher ?? hashNodeTable)(kind, table, this.felts, opts.prefix ?? 0);
    const records = hashed instanceof Uint8Array ? hashed : await hashed;
    if (records.byteLength !== TABLE_RECORD * entries) throw new TrieError(`node table hasher returned ${records.byteLength} bytes for ${entries} entries`);

    // Hashes and stored forms of the new nodes; operands are read back from the table.
    const backend = hashBackend();
    let hashes: Felt[];
    if (backend.recordFelts) hashes = backend.recordFelts(records, 1, TABLE_RECORD);
    else {
      hashes = new Array<Felt>(entries);
      for (let i = 0; i < entries; i++) hashes[i] = readFelt(records, TABLE_RECORD * i + 1);
    }
    const value = (v: number): Felt => (v & TABLE_REF ? hashes[(v & ~TABLE_REF) >>> 0]! : this.felts[v]!);
    const stored = new Array<TrieNode>(nodes);
    for (let i = 0; i < nodes; i++) {
      this.order[i]!.hash = hashes[i]!;
      const len = table[3 * i]!;
      const a = value(table[3 * i + 1]!);
      const b = value(table[3 * i + 2]!);
      stored[i] = len === 0 ? { kind: "binary", left: a, right: b } : { kind: "edge", child: a, path: b, length: len };
    }
    return {
      roots: this.updates.map((u) => refHash(u.rootRef())),
      lastEntry: this.roots,
      hashes: hashes.slice(0, nodes),
      nodes: stored,
      records: records.subarray(0, TABLE_RECORD * nodes),
      valueOf: (op) => (op < 0 ? hashes[nodes + -op - 1]! : value(op)),
    };
  }

  /** Number the pending nodes below and at `node`, children first; committed ones become felts. */
  private visit(node: Pending): number {
    if (node.index >= 0 && this.order[node.index] === node) return node.index;
    let a: number, b: number;
    if (node instanceof PendingBinary) {
      a = this.operand(node.left);
      b = this.operand(node.right);
    } else {
      a = this.operand(node.child);
      b = this.felt(node.path);
    }
    const i = this.order.push(node) - 1;
    node.index = i;
    this.table.push(node instanceof PendingBinary ? 0 : node.length, a, b);
    return i;
  }

  private operand(ref: Ref): number {
    if (ref === null) throw new TrieError("empty subtree below a pending node");
    if (typeof ref === "bigint") return this.felt(ref);
    if (ref.hash >= 0n) return this.felt(ref.hash); // hashed by an earlier table
    return (TABLE_REF | this.visit(ref)) >>> 0;
  }
}

/**
 * Hash the pending nodes of many tries sharing one hash kind in one node table, each node
 * exactly once. `prefix` is the first byte of every record (a store column).
 */
export async function hashPendingTries(
  updates: readonly TrieUpdate[],
  kind: TrieHashKind,
  opts: { hasher?: NodeTableHasher; prefix?: number } = {},
): Promise<TrieBatch> {
  const table = new NodeTable();
  for (const u of updates) table.addTrie(u);
  const h = await table.hash(kind, opts);
  // A trie's entries were numbered together, ending with its root.
  let first = 0;
  const tries = h.roots.map((root, t) => {
    const newNodes: Array<[Felt, TrieNode]> = [];
    const last = h.lastEntry[t]!;
    if (last >= 0) {
      for (let i = first; i <= last; i++) newNodes.push([h.hashes[i]!, h.nodes[i]!]);
      first = last + 1;
    }
    return { root, newNodes };
  });
  return { tries, records: h.records };
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
  hasher?: NodeTableHasher,
): Promise<Felt> {
  const u = new TrieUpdate(height, EMPTY_NODE_SOURCE, 0n);
  u.apply(leaves instanceof Map ? leaves.entries() : leaves);
  const { tries } = await hashPendingTries([u], hash, hasher ? { hasher } : {});
  return tries[0]!.root;
}

/**
 * One step down from `node` (whose top is at `depth`) toward `key`: the child's reference and
 * depth, or null when an edge leaves the key's path (the key is absent). Reads, proofs and
 * their verification all walk with it.
 */
export function stepToward(node: TrieNode, key: Felt, height: number, depth: number): { ref: Felt; depth: number } | null {
  if (node.kind === "binary") {
    const bit = (key >> BIG[height - depth - 1]!) & 1n;
    return { ref: bit === 0n ? node.left : node.right, depth: depth + 1 };
  }
  const keyBits = (key >> BIG[height - depth - node.length]!) & MASK[node.length]!;
  return keyBits === node.path ? { ref: node.child, depth: depth + node.length } : null;
}

/** Read a leaf under `root` (0 when absent). Synchronous over a node source. */
export function trieGet(source: TrieNodeSource, height: number, root: Felt, key: Felt): Felt {
  let at = { ref: root, depth: 0 };
  if (root === 0n) return 0n;
  while (at.depth < height) {
    const node = source.getNode(at.ref);
    if (node === undefined) throw new TrieError(`missing trie node 0x${at.ref.toString(16)}`);
    const next = stepToward(node, key, height, at.depth);
    if (next === null) return 0n;
    at = next;
  }
  return at.ref;
}
