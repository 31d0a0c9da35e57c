// The world state: current Starknet state (flat, in memory and on disk), its tries, and
// the per-block diffs that make historical reads and rollback cheap.
//
// A block commits in two steps so the caller (the sequencer) can compute the block hash
// over our roots and add its own records to the SAME atomic batch:
//   const prepared = await world.prepareCommit(blockNumber, diff);   // roots, nothing written
//   await world.commit(prepared, { blockHash, extraOps });           // one batch, head last
// Rollback is the same shape (prepareRollback / rollback). Memory is updated only after
// the batch has landed, so a failed write leaves both disk and memory at the old head.
//
// Reads of the current state are synchronous (StateReader); a reader at a past block is an
// overlay of that block's reverse diffs over the current state. Trie nodes are
// content-addressed and never rewritten, so every stored root stays provable.
// This module never reads the clock, randomness or the environment.

import { pack, unpack } from "msgpackr";
import { Column, columnRange, felt32, keys, readFelt, RECORD_REF_BYTES, u64, writeFelt } from "./columns.js";
import type { Felt } from "./felt.js";
import { opsBytes, type KvOp, type KvStore } from "./kv-store.js";
import {
  hashNodeTableOffThread,
  NodeTable,
  TABLE_RECORD,
  TrieError,
  TrieUpdate,
  type NodeTableHasher,
  type TableOperand,
  type TrieHashKind,
  type TrieNode,
  type TrieNodeSource,
} from "./patricia-trie.js";
import type { StateDiff, StateReader } from "./state-diff.js";
import type { ProofSource } from "./storage-proof.js";
import {
  classLeafHash,
  contractStateHashInTable,
  EMPTY_CONTRACT,
  globalStateRoot,
  isEmptyContract,
  STATE_TRIE_HEIGHT,
  type ContractRecord,
  type StateRoots,
} from "./state-commitment.js";

export interface ChainHead {
  blockNumber: number;
  blockHash: Felt;
  roots: StateRoots;
}

/** What a block overwrote: enough to restore the state before it. */
export interface ReverseDiff {
  /** (contract, key, value before the block) */
  storage: Array<[Felt, Felt, Felt]>;
  /** contract → record before the block (EMPTY_CONTRACT when it did not exist) */
  contracts: Array<[Felt, ContractRecord]>;
  /** class hash → compiled class hash before the block (0 when not declared) */
  classes: Array<[Felt, Felt]>;
}

export interface PreparedCommit {
  readonly blockNumber: number;
  readonly roots: StateRoots;
  /** The diff with no-op writes removed (what the block really changed). */
  readonly diff: StateDiff;
  readonly reverse: ReverseDiff;
  /** New contract records after the block (for memory update). */
  readonly contracts: Map<Felt, ContractRecord>;
  readonly ops: KvOp[];
  /** The records the block creates (their reference counts are written by commit()). */
  readonly births: RecordBirths;
  /** Number of node hashes computed (trie nodes + contract leaves + class leaves + root). */
  readonly hashCount: number;
  readonly baseHead: number;
  /** The block's first stage (see WorldState.stageCommit). */
  readonly staged: StagedCommit;
}

/**
 * A block whose first stage is done: its diff is normalized and its storage tries and
 * contract leaves are hashed, which is all a following block needs to start its own
 * (see WorldState.stageCommit). `prepared` completes with the rest.
 */
export interface StagedCommit {
  readonly blockNumber: number;
  /** The diff with no-op writes removed. */
  readonly diff: StateDiff;
  /** Contract records after the block. */
  readonly contracts: Map<Felt, ContractRecord>;
  /** The contracts and classes tries, the roots and the batch. */
  readonly prepared: Promise<PreparedCommit>;
  /** The block this one was staged on while that one has not landed; cleared when it lands. */
  after: StagedCommit | undefined;
}

export interface PreparedRollback {
  readonly target: number;
  readonly targetRoots: StateRoots;
  readonly overlay: RawOverlay;
  readonly ops: KvOp[];
  readonly removedBlocks: number[];
  readonly keysChanged: number;
  readonly baseHead: number;
}

export interface WorldStateOptions {
  /**
   * State history kept: the state of the last `retentionBlocks` blocks below the head (and of
   * every pinned block) stays readable and reachable by rollback; older trie nodes, preimages,
   * reverse diffs and roots are pruned. Default: keep everything.
   */
  retentionBlocks?: number;
  /** Called when a pruning step fails (it is retried after the next commit; nothing is lost). */
  onPruneError?: (e: Error) => void;
  /**
   * Memory for the trie-node cache, in bytes (default DEFAULT_NODE_CACHE_BYTES, 256 MiB). Past
   * it the older half of the cache is dropped (the nodes stay on disk). Counted as
   * NODE_CACHE_ENTRY_BYTES per node, the measured heap cost of one cached node.
   */
  nodeCacheBytes?: number;
  /** Hasher of trie-node tables; default: the active backend's hash thread when it has one. */
  nodeTableHasher?: NodeTableHasher;
}

/** A record inside a reverse-diff table: `buf` holds it at byte `off`. */
interface RawRecord {
  buf: Buffer;
  off: number;
}

/**
 * Merged reverse-diff records by key. A record is referenced as `table * 2^26 + offset`
 * into `tables` (one number per key instead of an object: a rollback may touch
 * hundreds of thousands of keys).
 */
interface RawOverlay {
  tables: Buffer[];
  storage: Map<string, number>;
  contracts: Map<string, number>;
  classes: Map<string, number>;
}

const TABLE_SHIFT = 2 ** 26;

/**
 * A block's storage tries are walked and hashed in this many groups (groups of at least
 * MIN_COMMIT_GROUP tries), so an asynchronous hasher always has a group's level queued.
 */
const COMMIT_GROUPS = 3;
const MIN_COMMIT_GROUP = 32;

/**
 * Record references. Trie nodes and contract preimages are stored once per hash (key = column |
 * hash), but one hash may sit at several places of several tries, and at several times. A
 * record's references are counted as births (a block created the record at some place) minus
 * pruned deaths (a pruned block stopped referencing it at some place):
 *   - a birth costs nothing on disk when the record did not exist (the record is its own first
 *     reference); a birth of a record that exists, or a second birth in one block, adds to the
 *     record's extra-reference count (Column.recordExtraRefs, absent when zero). commit() looks
 *     the block's new records up just before its batch, under the write lock, so no pruning
 *     step runs between the look-up and the write;
 *   - deaths are not stored: pruning block n replays n's writes (its forward diff, values only
 *     as zero / nonzero) over the tries of block n-1 (roots, and the storage roots in n's
 *     reverse diff) with the same TrieUpdate, whose replaced nodes and leaves are exactly the
 *     records n stopped referencing. Each death takes one reference; a record left with none
 *     is deleted.
 * The extra counts are also held in memory (WorldState.extraRefs, loaded at open), so neither
 * side reads the store for them. Rolled-back blocks keep their births counted: a record they
 * created may stay (a leak), never goes too early.
 * So a record is deleted once no state at or after the pruned block references it, and a
 * block's batch holds no bookkeeping beyond the rare extra counts.
 */
class RecordBirths {
  /** Node-table record runs (record key at bytes [0, 33) of every TABLE_RECORD bytes). */
  private readonly tables: Uint8Array[] = [];
  /** Contract preimage keys (column | leaf), each with the storage root its record names (column | root, or none). */
  private readonly preimages: Array<{ key: Buffer; storageRoot: Buffer | undefined }> = [];

  /** Births of node-table records (record column at byte 0, hash at bytes 1..33). */
  bornRecords(records: Uint8Array): void {
    if (records.length > 0) this.tables.push(records);
  }

  /** Birth of a contract-state preimage (its record names the contract's storage root). */
  bornPreimage(leaf: Felt, storageRoot: Felt): void {
    const k = Buffer.allocUnsafe(RECORD_REF_BYTES);
    k[0] = Column.contractStatePreimage;
    writeFelt(k, 1, leaf);
    let root: Buffer | undefined;
    if (storageRoot !== 0n) {
      root = Buffer.allocUnsafe(RECORD_REF_BYTES);
      root[0] = Column.pedersenNode;
      writeFelt(root, 1, storageRoot);
    }
    this.preimages.push({ key: k, storageRoot: root });
  }

  /** The distinct records born, with how many times each, and what each names (see BornRecords). */
  index(): BornRecords {
    return new BornRecords(this.tables, this.preimages);
  }
}

/**
 * The distinct records a block creates, indexed by number (hash prefixes as map keys, whole
 * keys compared: no string per record), each with its birth count and, on demand, the
 * records born in the same block that it names: a trie node names its children (for a
 * Pedersen node a child may be a contract leaf, i.e. a preimage), a preimage its storage root.
 */
class BornRecords {
  /** Record i's key is buf[i] bytes [at[i], at[i] + 33). */
  readonly buf: Buffer[] = [];
  readonly at: number[] = [];
  readonly count: number[] = [];
  /** A node-table record (children at bytes 33..65 and, binary, 65..97), or a preimage. */
  private readonly isNode: boolean[] = [];
  private readonly preimageRoot: Array<Buffer | undefined> = [];
  /** 48-bit hash prefix → record numbers. */
  private readonly byPrefix = new Map<number, number | number[]>();

  constructor(tables: readonly Uint8Array[], preimages: ReadonlyArray<{ key: Buffer; storageRoot: Buffer | undefined }>) {
    for (const t of tables) {
      const b = asBuffer(t);
      for (let at = 0; at + TABLE_RECORD <= b.length; at += TABLE_RECORD) this.add(b, at, true, undefined);
    }
    for (const p of preimages) this.add(p.key, 0, false, p.storageRoot);
  }

  get size(): number {
    return this.buf.length;
  }

  /** Record key i as a latin1 string (the extraRefs key). */
  keyString(i: number): string {
    return this.buf[i]!.toString("latin1", this.at[i]!, this.at[i]! + RECORD_REF_BYTES);
  }

  key(i: number): Uint8Array {
    return this.buf[i]!.subarray(this.at[i]!, this.at[i]! + RECORD_REF_BYTES);
  }

  /** The records born in this block that record i names. */
  children(i: number): number[] {
    const out: number[] = [];
    const b = this.buf[i]!;
    const at = this.at[i]!;
    if (this.isNode[i]) {
      const column = b[at]!;
      // Byte 97 is the edge length: 0 for a binary node, whose b operand is its right child (an edge's is its path).
      this.named(column, b, at + 33, out);
      if (b[at + 97] === 0) this.named(column, b, at + 65, out);
    } else {
      const root = this.preimageRoot[i];
      if (root !== undefined) this.named(root[0]!, root, 1, out);
    }
    return out;
  }

  /** Adds to `out` the born record with hash b[off, off + 32) in `column` (or, under a Pedersen node, the preimage). */
  private named(column: number, b: Buffer, off: number, out: number[]): void {
    const e = this.byPrefix.get(b.readUIntBE(off, 6));
    if (e === undefined) return;
    for (const j of typeof e === "number" ? [e] : e) {
      const c = this.buf[j]![this.at[j]!]!;
      if (c !== column && !(column === Column.pedersenNode && c === Column.contractStatePreimage)) continue;
      if (this.buf[j]!.compare(b, off, off + 32, this.at[j]! + 1, this.at[j]! + RECORD_REF_BYTES) === 0) out.push(j);
    }
  }

  private add(b: Buffer, at: number, isNode: boolean, preimageRoot: Buffer | undefined): void {
    const prefix = b.readUIntBE(at + 1, 6);
    const e = this.byPrefix.get(prefix);
    if (e !== undefined) {
      for (const j of typeof e === "number" ? [e] : e) {
        if (this.buf[j]!.compare(b, at, at + RECORD_REF_BYTES, this.at[j]!, this.at[j]! + RECORD_REF_BYTES) === 0) {
          this.count[j]!++;
          return;
        }
      }
    }
    const i = this.buf.length;
    this.buf.push(b);
    this.at.push(at);
    this.count.push(1);
    this.isNode.push(isNode);
    this.preimageRoot.push(preimageRoot);
    if (e === undefined) this.byPrefix.set(prefix, i);
    else if (typeof e === "number") this.byPrefix.set(prefix, [e, i]);
    else e.push(i);
  }
}

/** birthRefs' record states. */
const UNKNOWN = 0;
const EXISTED = 1;
const NEW = 2;
const ASK = 3;
const WAIT = 4;

function encodeCount(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

function decodeCount(v: Uint8Array | undefined): number {
  return v === undefined ? 0 : asBuffer(v).readUInt32BE(0);
}

function* records(o: RawOverlay, m: Map<string, number>): Generator<RawRecord> {
  const rec: RawRecord = { buf: o.tables[0]!, off: 0 };
  for (const ref of m.values()) {
    rec.buf = o.tables[Math.floor(ref / TABLE_SHIFT)]!;
    rec.off = ref % TABLE_SHIFT;
    yield rec;
  }
}

interface Overlay {
  storage: Map<Felt, Map<Felt, Felt>>;
  contracts: Map<Felt, ContractRecord>;
  classes: Map<Felt, Felt>;
}

export class WorldStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorldStateError";
  }
}

/** A state read at a block the chain does not have (above the head, or removed by a rollback meanwhile). */
export class NoStateAtBlockError extends WorldStateError {
  constructor(
    readonly blockNumber: number,
    readonly head: number | undefined,
  ) {
    super(head === undefined ? `no state at block ${blockNumber}: empty chain` : `no state at block ${blockNumber}: the head is block ${head}`);
    this.name = "NoStateAtBlockError";
  }
}

/** Times readerAt builds its overlay again when blocks commit meanwhile (each time is one read per 256 blocks). */
const MAX_READ_ATTEMPTS = 16;

/** A read or rollback asked for a state older than the retention window (it may be pruned). */
export class HistoryPrunedError extends WorldStateError {
  constructor(
    readonly blockNumber: number,
    readonly oldestBlock: number,
    readonly retentionBlocks: number,
  ) {
    super(
      `the state at block ${blockNumber} is outside the retention window: the node keeps the state of the last ${retentionBlocks} blocks (and of snapshots); the oldest state available is block ${oldestBlock}`,
    );
    this.name = "HistoryPrunedError";
  }
}

/** Default memory of the trie-node cache (WorldStateOptions.nodeCacheBytes). */
export const DEFAULT_NODE_CACHE_BYTES = 256 * 2 ** 20;
/**
 * Heap bytes of one cached trie node: the map entry, its hash and the node with its two felts
 * (measured: 236 bytes on average over 300k binary and edge nodes, Node 20, x64).
 */
export const NODE_CACHE_ENTRY_BYTES = 240;

/** The node's default retention window, in blocks (see README: about 2.8 h at one block a second). */
export const DEFAULT_RETENTION_BLOCKS = 10_000;

/** Blocks pruned by one pruning step (one batch), so a step stays short between two commits. */
const PRUNE_BLOCKS_PER_STEP = 32;
/** A pruning step stops adding blocks once this many records lost a reference (heavy blocks: one a step). */
const PRUNE_MAX_DEATHS_PER_STEP = 50_000;

export class WorldState implements StateReader {
  private headValue: ChainHead | null = null;
  private readonly contracts = new Map<Felt, ContractRecord>();
  private readonly storage = new Map<Felt, Map<Felt, Felt>>();
  private readonly classes = new Map<Felt, Felt>();
  private readonly nodeCache = { pedersen: new Map<Felt, TrieNode>(), poseidon: new Map<Felt, TrieNode>() };
  /** Nodes the cache may hold, both hash kinds together (from nodeCacheBytes). */
  private readonly nodeCacheLimit: number;
  private readonly nodeTableHasher: NodeTableHasher;
  /** Bytes written by the last commit (for benchmarks). */
  lastBatchBytes = 0;
  readonly retentionBlocks: number;
  /** Every block up to this one is pruned; null when the store predates the birth ledger (never pruned). */
  private prunedThrough: number | null = 0;
  private historyPins: () => Iterable<number> = () => [];
  /** Commits, rollbacks and pruning steps run one after the other (pruning reads, then writes). */
  private writeChain: Promise<void> = Promise.resolve();
  private pruneQueued = false;
  private readonly onPruneError: (e: Error) => void;
  /** The last pruning failure (pruning retries after the next commit), for logs and metrics. */
  pruneError: Error | null = null;
  /** Blocks pruned since open (for metrics and benchmarks). */
  blocksPruned = 0;
  /** Trie nodes read from the store since open (cache misses; for benchmarks). */
  nodeReads = 0;
  /**
   * The extra-reference counts (Column.recordExtraRefs) by record key (latin1), all of them: a
   * few records are shared, nearly all are not, so pruning and commits look counts up here
   * instead of reading the store for every record they touch. Loaded at open.
   */
  private readonly extraRefs = new Map<string, number>();
  /** Trie nodes read by pruning steps since open (replaying pruned blocks; for benchmarks). */
  pruneNodeReads = 0;
  /** Records whose existence commits looked up in the store since open (birthRefs; for benchmarks). */
  birthLookups = 0;
  /**
   * Told when a pruning step with work starts and when its batch has landed (with the blocks it
   * pruned), so a caller can time the steps: this module reads no clock.
   */
  pruneStepListener: { started(): void; finished(blocks: number): void } | null = null;

  private constructor(
    readonly store: KvStore,
    opts: WorldStateOptions,
  ) {
    const cacheBytes = opts.nodeCacheBytes ?? DEFAULT_NODE_CACHE_BYTES;
    if (!(Number.isFinite(cacheBytes) && cacheBytes >= 0)) throw new RangeError(`nodeCacheBytes must be a number of bytes, got ${cacheBytes}`);
    this.nodeCacheLimit = Math.max(65_536, Math.floor(cacheBytes / NODE_CACHE_ENTRY_BYTES));
    this.nodeTableHasher = opts.nodeTableHasher ?? hashNodeTableOffThread;
    const r = opts.retentionBlocks ?? Infinity;
    if (!(r === Infinity || (Number.isInteger(r) && r >= 0))) throw new RangeError(`retentionBlocks must be a whole number of blocks, got ${r}`);
    this.retentionBlocks = r;
    this.onPruneError = opts.onPruneError ?? (() => {});
  }

  /** Load the head and the flat current state from the store. */
  static async open(store: KvStore, opts: WorldStateOptions = {}): Promise<WorldState> {
    const ws = new WorldState(store, opts);
    const head = await store.get(keys.head());
    if (head !== undefined) ws.headValue = decodeHead(head);
    const cursor = await store.get(keys.pruneCursor());
    // A chain written before births were recorded cannot be pruned safely: keep all of it.
    ws.prunedThrough = cursor !== undefined ? Number(asBuffer(cursor).readBigUInt64BE(0)) : head === undefined ? 0 : null;
    await migrateBirthMarkers(store);
    for await (const [k, v] of store.iterator(columnRange(Column.recordExtraRefs))) ws.extraRefs.set(asBuffer(k).toString("latin1", 1), decodeCount(v));
    for await (const [k, v] of store.iterator(columnRange(Column.flatContract))) ws.contracts.set(readFelt(k, 1), decodeContract(v));
    for await (const [k, v] of store.iterator(columnRange(Column.flatStorage))) {
      const addr = readFelt(k, 1);
      let m = ws.storage.get(addr);
      if (!m) ws.storage.set(addr, (m = new Map()));
      m.set(readFelt(k, 33), readFelt(v));
    }
    for await (const [k, v] of store.iterator(columnRange(Column.flatClass))) ws.classes.set(readFelt(k, 1), readFelt(v));
    return ws;
  }

  head(): ChainHead | null {
    return this.headValue;
  }

  /** Number of the next block to commit. */
  nextBlockNumber(): number {
    return this.headValue === null ? 0 : this.headValue.blockNumber + 1;
  }

  // --- StateReader over the committed head -------------------------------------------

  getStorage(address: Felt, key: Felt): Felt {
    return this.storage.get(address)?.get(key) ?? 0n;
  }
  getNonce(address: Felt): Felt {
    return this.contracts.get(address)?.nonce ?? 0n;
  }
  getClassHash(address: Felt): Felt {
    return this.contracts.get(address)?.classHash ?? 0n;
  }
  getCompiledClassHash(classHash: Felt): Felt {
    return this.classes.get(classHash) ?? 0n;
  }
  getContract(address: Felt): ContractRecord {
    return this.contracts.get(address) ?? EMPTY_CONTRACT;
  }
  /** All deployed contract addresses (current state). */
  contractAddresses(): Felt[] {
    return [...this.contracts.keys()];
  }
  /** Storage entries of one contract (current state). */
  storageEntries(address: Felt): Array<[Felt, Felt]> {
    return [...(this.storage.get(address)?.entries() ?? [])];
  }

  // --- commit --------------------------------------------------------------------------

  /**
   * Roots, node records and diffs of block `blockNumber` on top of the head, or on top of
   * `opts.after` (see stageCommit). Nothing is written.
   */
  async prepareCommit(blockNumber: number, diff: StateDiff, opts: { after?: StagedCommit | PreparedCommit } = {}): Promise<PreparedCommit> {
    return (await this.stageCommit(blockNumber, diff, opts)).prepared;
  }

  /**
   * Prepares block `blockNumber` in two stages and returns after the first (see
   * StagedCommit); its `prepared` promise completes the second. `opts.after` is a block
   * staged or prepared before whose commit may not have landed yet, so a sequencer can hash
   * block n+1 while block n's contracts trie is hashed and its batch written. Committing a
   * block waits for its parent to have landed: commit() refuses a block whose parent is not
   * the head.
   */
  async stageCommit(blockNumber: number, diff: StateDiff, opts: { after?: StagedCommit | PreparedCommit } = {}): Promise<StagedCommit> {
    const after = opts.after === undefined ? undefined : "staged" in opts.after ? opts.after.staged : opts.after;
    const head = this.headValue?.blockNumber ?? -1;
    if (after !== undefined && after.blockNumber < head) throw new WorldStateError(`block ${after.blockNumber} is behind the head ${head}`);
    const parent = after?.blockNumber ?? head;
    if (blockNumber !== parent + 1) throw new WorldStateError(`block ${blockNumber} cannot follow head ${parent}`);
    const headRoots = this.headValue?.roots ?? { globalRoot: 0n, contractsRoot: 0n, classesRoot: 0n };
    this.trimNodeCache();

    // The state this block starts from: the writes of the blocks it is staged on that have
    // not landed yet, over the committed state.
    // (A block of the chain that lands meanwhile moves the same values into the committed
    // state, so this list stays right for the whole preparation.)
    const pending: StagedCommit[] = [];
    for (let b = after; b !== undefined && b.blockNumber > head; b = b.after) pending.push(b);
    const oldStorage = (addr: Felt, k: Felt): Felt => {
      for (const b of pending) {
        const v = b.diff.storage.get(addr)?.get(k);
        if (v !== undefined) return v;
      }
      return this.storage.get(addr)?.get(k) ?? 0n;
    };
    const oldContract = (addr: Felt): ContractRecord => {
      for (const b of pending) {
        const c = b.contracts.get(addr);
        if (c !== undefined) return c;
      }
      return this.getContract(addr);
    };
    const oldClass = (c: Felt): Felt => {
      for (const b of pending) {
        const v = b.diff.declared.get(c);
        if (v !== undefined) return v;
      }
      return this.classes.get(c) ?? 0n;
    };

    // Normalize: drop writes that do not change anything; record old values.
    const norm: StateDiff = { storage: new Map(), nonces: new Map(), deployed: new Map(), declared: new Map() };
    const reverse: ReverseDiff = { storage: [], contracts: [], classes: [] };
    const touched = new Set<Felt>();
    for (const [addr, writes] of diff.storage) {
      let out: Map<Felt, Felt> | undefined;
      for (const [k, v] of writes) {
        const old = oldStorage(addr, k);
        if (old === v) continue;
        if (!out) norm.storage.set(addr, (out = new Map()));
        out.set(k, v);
        reverse.storage.push([addr, k, old]);
      }
      if (out) touched.add(addr);
    }
    for (const [addr, n] of diff.nonces) {
      if (oldContract(addr).nonce !== n) {
        norm.nonces.set(addr, n);
        touched.add(addr);
      }
    }
    for (const [addr, c] of diff.deployed) {
      if (oldContract(addr).classHash !== c) {
        norm.deployed.set(addr, c);
        touched.add(addr);
      }
    }
    for (const [c, cc] of diff.declared) {
      const old = oldClass(c);
      if (old !== cc) {
        norm.declared.set(c, cc);
        reverse.classes.push([c, old]);
      }
    }

    // Storage tries, walked and hashed in groups: a group's tries and their contract leaves
    // form one node table, hashed as soon as the group is walked; once hashed, the group's
    // records are built and its nodes cached. With an asynchronous hasher (a hash thread) the
    // walks, the records and the diffs below all overlap with hashing; with a synchronous one
    // the same work runs in sequence and gives the same result.
    const addrs = [...touched];
    // Cold nodes on every written path, for all storage tries at once (see prefetchPaths).
    const cold: Array<{ root: Felt; keys: Felt[] }> = [];
    for (const [addr, writes] of norm.storage) cold.push({ root: oldContract(addr).storageRoot, keys: [...writes.keys()] });
    await this.prefetchPaths("pedersen", STATE_TRIE_HEIGHT, cold);
    const records = new Array<ContractRecord>(addrs.length);
    const leaves = new Array<Felt>(addrs.length);
    const storageNodes: number[] = [];
    const nodeOps: KvOp[][] = [];
    const births = new RecordBirths();
    const groups: Array<Promise<void>> = [];
    const groupSize = Math.max(MIN_COMMIT_GROUP, Math.ceil(addrs.length / COMMIT_GROUPS));
    for (let start = 0; start < addrs.length; start += groupSize) {
      const end = Math.min(addrs.length, start + groupSize);
      const group: TrieUpdate[] = [];
      for (let i = start; i < end; i++) {
        const addr = addrs[i]!;
        const writes = norm.storage.get(addr);
        group.push(await this.applyWithFetch("pedersen", STATE_TRIE_HEIGHT, oldContract(addr).storageRoot, writes ? [...writes] : []));
      }
      const g = groups.length;
      // The group's tries and their contract leaves, in one node table.
      const table = new NodeTable();
      const leafRefs: TableOperand[] = [];
      for (let i = start; i < end; i++) {
        const addr = addrs[i]!;
        const old = oldContract(addr);
        const classHash = norm.deployed.get(addr) ?? old.classHash;
        const nonce = norm.nonces.get(addr) ?? old.nonce;
        leafRefs.push(contractStateHashInTable(table, classHash, table.addTrie(group[i - start]!), nonce));
      }
      const done = table.hash("pedersen", { hasher: this.nodeTableHasher, prefix: Column.pedersenNode }).then((h) => {
        const groupOps: KvOp[] = (nodeOps[g] = []);
        pushRecordOps(groupOps, h.records);
        births.bornRecords(h.records);
        h.roots.forEach((storageRoot, j) => {
          const i = start + j;
          const addr = addrs[i]!;
          const old = oldContract(addr);
          const rec: ContractRecord = { classHash: norm.deployed.get(addr) ?? old.classHash, nonce: norm.nonces.get(addr) ?? old.nonce, storageRoot };
          records[i] = rec;
          if (isEmptyContract(rec)) {
            leaves[i] = 0n;
            groupOps.push({ type: "del", key: keys.flatContract(addr) });
          } else {
            const leaf = (leaves[i] = h.valueOf(leafRefs[j]!));
            const value = encodeContract(rec);
            groupOps.push({ type: "put", key: keys.flatContract(addr), value });
            groupOps.push({ type: "put", key: keys.contractStatePreimage(leaf), value });
            births.bornPreimage(leaf, rec.storageRoot);
          }
        });
        // Cached now: see the end of finishCommit.
        storageNodes[g] = h.hashes.length;
        this.cacheNodes("pedersen", h.hashes, h.nodes);
      });
      done.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
      groups.push(done);
    }
    for (const addr of addrs) reverse.contracts.push([addr, oldContract(addr)]);

    // The batch (head pointer is added by commit(), last). Records that do not depend on
    // hashes are built while the storage tries hash.
    const ops: KvOp[] = [];
    for (const [addr, writes] of norm.storage) {
      for (const [k, v] of writes) {
        if (v === 0n) ops.push({ type: "del", key: keys.flatStorage(addr, k) });
        else ops.push({ type: "put", key: keys.flatStorage(addr, k), value: felt32(v) });
      }
    }
    for (const [c, cc] of norm.declared) {
      if (cc === 0n) ops.push({ type: "del", key: keys.flatClass(c) });
      else ops.push({ type: "put", key: keys.flatClass(c), value: felt32(cc) });
    }
    ops.push({ type: "put", key: keys.forwardDiff(blockNumber), value: encodeStateDiff(norm) });
    ops.push({ type: "put", key: keys.reverseDiff(blockNumber), value: encodeReverseDiff(reverse) });
    await Promise.all(groups);
    const newContracts = new Map<Felt, ContractRecord>();
    addrs.forEach((addr, i) => newContracts.set(addr, records[i]!));
    const finished = this.finishCommit(blockNumber, norm, newContracts, {
      parent,
      parentRoots: after === undefined ? Promise.resolve(headRoots) : after.prepared.then((p) => p.roots),
      addrs,
      leaves,
      reverse,
      ops,
      nodeOps,
      storageNodes,
      births,
    });
    const staged: StagedCommit = { blockNumber, diff: norm, contracts: newContracts, after, prepared: finished.then((p) => ({ ...p, staged })) };
    staged.prepared.catch(() => {}); // the caller awaits it; this only keeps a failure from counting as unhandled
    return staged;
  }

  /** The second stage of stageCommit: contracts and classes tries, roots, the batch. */
  private async finishCommit(
    blockNumber: number,
    norm: StateDiff,
    newContracts: Map<Felt, ContractRecord>,
    s1: {
      parent: number;
      parentRoots: Promise<StateRoots>;
      addrs: Felt[];
      leaves: Felt[];
      reverse: ReverseDiff;
      ops: KvOp[];
      nodeOps: KvOp[][];
      storageNodes: number[];
      births: RecordBirths;
    },
  ): Promise<Omit<PreparedCommit, "staged">> {
    const { addrs, leaves, ops, births } = s1;
    for (const g of s1.nodeOps) for (const op of g) ops.push(op);
    let hashCount = 3 * addrs.length;
    for (const n of s1.storageNodes) hashCount += n;

    // Contracts trie (Pedersen), over the parent's once it is known.
    const base = await s1.parentRoots;
    const contractsUpdate = await this.applyWithFetch(
      "pedersen",
      STATE_TRIE_HEIGHT,
      base.contractsRoot,
      addrs.map((a, i) => [a, leaves[i]!] as [Felt, Felt]),
    );
    const contractsTable = new NodeTable();
    contractsTable.addTrie(contractsUpdate);
    const contracts = await contractsTable.hash("pedersen", { hasher: this.nodeTableHasher, prefix: Column.pedersenNode });
    hashCount += contracts.hashes.length;
    pushRecordOps(ops, contracts.records);
    births.bornRecords(contracts.records);

    // Classes trie (Poseidon).
    const classWrites: Array<[Felt, Felt]> = [...norm.declared].map(([c, cc]) => [c, classLeafHash(cc)]);
    hashCount += classWrites.length;
    const classesUpdate = await this.applyWithFetch("poseidon", STATE_TRIE_HEIGHT, base.classesRoot, classWrites);
    const classesTable = new NodeTable();
    classesTable.addTrie(classesUpdate);
    const classes = await classesTable.hash("poseidon", { prefix: Column.poseidonNode });
    hashCount += classes.hashes.length + 1;

    const roots: StateRoots = {
      contractsRoot: contracts.roots[0]!,
      classesRoot: classes.roots[0]!,
      globalRoot: globalStateRoot(contracts.roots[0]!, classes.roots[0]!),
    };

    pushRecordOps(ops, classes.records);
    births.bornRecords(classes.records);
    ops.push({ type: "put", key: keys.blockRoots(blockNumber), value: encodeRoots(roots) });
    if (blockNumber === 0) ops.push({ type: "put", key: keys.pruneCursor(), value: u64(0) });

    // New nodes are cached now (storage-trie nodes already were), so a block prepared on top
    // of this one finds them. Nodes are content-addressed: if this block is never committed
    // they are merely unreachable.
    this.cacheNodes("pedersen", contracts.hashes, contracts.nodes);
    this.cacheNodes("poseidon", classes.hashes, classes.nodes);

    return {
      blockNumber,
      roots,
      diff: norm,
      reverse: s1.reverse,
      contracts: newContracts,
      ops,
      births,
      hashCount,
      baseHead: s1.parent,
    };
  }

  /** Write the prepared block in one atomic batch (extra ops first, head pointer last), then update memory. */
  async commit(prepared: PreparedCommit, opts: { blockHash: Felt; extraOps?: readonly KvOp[] }): Promise<void> {
    await this.exclusive(() => this.commitNow(prepared, opts));
    this.schedulePrune();
  }

  private async commitNow(prepared: PreparedCommit, opts: { blockHash: Felt; extraOps?: readonly KvOp[] }): Promise<void> {
    if (prepared.baseHead !== this.nextBlockNumber() - 1) throw new WorldStateError("head moved since prepareCommit");
    const head: ChainHead = { blockNumber: prepared.blockNumber, blockHash: opts.blockHash, roots: prepared.roots };
    const refs = await this.birthRefs(prepared.births);
    const ops = [...prepared.ops, ...refs.ops, ...(opts.extraOps ?? []), { type: "put" as const, key: keys.head(), value: encodeHead(head) }];
    this.lastBatchBytes = opsBytes(ops);
    await this.store.batch(ops);
    for (const [k, n] of refs.counts) this.extraRefs.set(k, n);
    // Landed: update memory.
    for (const [addr, rec] of prepared.contracts) {
      if (isEmptyContract(rec)) this.contracts.delete(addr);
      else this.contracts.set(addr, rec);
    }
    for (const [addr, writes] of prepared.diff.storage) setStorage(this.storage, addr, writes);
    for (const [c, cc] of prepared.diff.declared) {
      if (cc === 0n) this.classes.delete(c);
      else this.classes.set(c, cc);
    }
    this.headValue = head;
    // Landed: blocks staged on this one read the committed state from here on.
    prepared.staged.after = undefined;
  }

  // --- retention and pruning -----------------------------------------------------------

  /**
   * Blocks whose state must stay (named snapshots): pruning stops below the oldest of them,
   * and their states stay readable and reachable by rollback.
   */
  setHistoryPins(pins: () => Iterable<number>): void {
    this.historyPins = pins;
    // A backlog (a smaller window than last time, a snapshot deleted before a stop) is worked
    // off in the background from now on, not only after the next block. Never before the pins
    // are known: pruning past a snapshot's block cannot be undone.
    this.schedulePrune();
  }

  /**
   * The oldest block whose state is kept: `retentionBlocks` below the head, lower when a pinned
   * block is older, never below what pruning already removed.
   */
  oldestStateBlock(): number {
    const head = this.headValue?.blockNumber ?? 0;
    return Math.max(this.pruneFloor(head), this.prunedThrough ?? 0);
  }

  /** Throws HistoryPrunedError when the state at `blockNumber` is outside the window. */
  assertRetained(blockNumber: number): void {
    const oldest = this.oldestStateBlock();
    if (blockNumber < oldest) throw new HistoryPrunedError(blockNumber, oldest, this.retentionBlocks);
  }

  /** Resolves once no commit, rollback or pruning step is running or queued (before closing the store). */
  async settle(): Promise<void> {
    for (let chain = this.writeChain; ; chain = this.writeChain) {
      await chain;
      if (chain === this.writeChain) return;
    }
  }

  /** The block pruning may advance to: the window's floor, or the oldest pin below it. */
  private pruneFloor(head: number): number {
    let floor = this.retentionBlocks === Infinity ? 0 : Math.max(0, head - this.retentionBlocks);
    for (const pin of this.historyPins()) if (pin >= 0 && pin < floor) floor = pin;
    return floor;
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(f);
    this.writeChain = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Queue pruning steps behind the commit that just landed (at most one queued at a time). */
  private schedulePrune(): void {
    if (this.pruneQueued || this.prunedThrough === null || this.retentionBlocks === Infinity) return;
    this.pruneQueued = true;
    void this.exclusive(async () => {
      this.pruneQueued = false;
      try {
        if ((await this.pruneStepNow()) === PRUNE_BLOCKS_PER_STEP) this.schedulePrune();
        this.pruneError = null;
      } catch (e) {
        this.pruneError = e as Error;
        this.onPruneError(e as Error);
      }
    });
  }

  /**
   * Prune up to PRUNE_BLOCKS_PER_STEP blocks past the window in one batch; returns how many.
   * For a pruned block n (the state before it is no longer kept): each record n stopped
   * referencing (replayDeaths) loses one reference; a record with none left is deleted. n's
   * reverse diff and the roots of block n-1 go too, and the cursor moves to n, all in the same
   * batch: a crash leaves the step done or not started.
   */
  async pruneStep(): Promise<number> {
    return this.exclusive(() => this.pruneStepNow());
  }

  private async pruneStepNow(): Promise<number> {
    if (this.prunedThrough === null || this.headValue === null) return 0;
    const from = this.prunedThrough + 1;
    const to = Math.min(this.pruneFloor(this.headValue.blockNumber), this.prunedThrough + PRUNE_BLOCKS_PER_STEP);
    if (to < from) return 0;
    this.pruneStepListener?.started();
    const deaths = new Map<string, { key: Uint8Array; count: number }>();
    const died = (key: Uint8Array) => {
      const s = asBuffer(key).toString("latin1");
      const e = deaths.get(s);
      if (e !== undefined) e.count++;
      else deaths.set(s, { key, count: 1 });
    };
    // Blocks from `from` on, until the step's deaths are many (one heavy block is a step alone).
    let last = from - 1;
    for (let n = from; n <= to && (n === from || deaths.size < PRUNE_MAX_DEATHS_PER_STEP); n++) {
      await this.replayDeaths(n, died);
      last = n;
    }
    const ops: KvOp[] = [];
    const counts = new Map<string, number>();
    for (const [s, r] of deaths) {
      const extra = this.extraRefs.get(s);
      const refsLeft = (extra ?? 0) + 1 - r.count;
      if (refsLeft <= 0) ops.push({ type: "del", key: r.key });
      if (refsLeft <= 1) {
        if (extra !== undefined) {
          ops.push({ type: "del", key: keys.recordExtraRefs(r.key) });
          counts.set(s, 0);
        }
      } else {
        ops.push({ type: "put", key: keys.recordExtraRefs(r.key), value: encodeCount(refsLeft - 1) });
        counts.set(s, refsLeft - 1);
      }
    }
    for (let n = from; n <= last; n++) {
      // Block n's forward diff served only to replay its deaths (just done); the block record
      // keeps the diff the RPC serves.
      ops.push({ type: "del", key: keys.forwardDiff(n) });
      ops.push({ type: "del", key: keys.reverseDiff(n) });
      ops.push({ type: "del", key: keys.blockRoots(n - 1) });
      ops.push({ type: "del", key: keys.recordDeaths(n) }); // legacy death lists, if any
    }
    ops.push({ type: "put", key: keys.pruneCursor(), value: u64(last) });
    await this.store.batch(ops);
    for (const [k, n] of counts) {
      if (n === 0) this.extraRefs.delete(k);
      else this.extraRefs.set(k, n);
    }
    this.prunedThrough = last;
    this.blocksPruned += last - from + 1;
    this.pruneStepListener?.finished(last - from + 1);
    return last - from + 1;
  }

  /**
   * The records block n stopped referencing, each passed to `died` once per place it left:
   * n's writes (forward diff; values only as zero / nonzero, which is all a trie's shape
   * depends on) replayed over the tries of block n-1 with the TrieUpdate the commit used, whose
   * replaced nodes and leaves are exactly what the commit replaced. Reads nodes, hashes nothing.
   */
  private async replayDeaths(n: number, died: (key: Uint8Array) => void): Promise<void> {
    const [fwdRaw, revRaw, rootsRaw] = await this.store.getMany([keys.forwardDiff(n), keys.reverseDiff(n), keys.blockRoots(n - 1)]);
    if (fwdRaw === undefined || revRaw === undefined || rootsRaw === undefined) throw new WorldStateError(`block ${n} cannot be pruned: its diffs or the roots of block ${n - 1} are missing`);
    const fwd = decodeStateDiff(fwdRaw);
    const rev = decodeReverseDiff(revRaw);
    const roots = decodeRoots(rootsRaw);
    const ref = (column: number, hash: Felt) => {
      const k = Buffer.allocUnsafe(RECORD_REF_BYTES);
      k[0] = column;
      writeFelt(k, 1, hash);
      died(k);
    };
    const shape = (writes: Iterable<[Felt, Felt]>): Array<[Felt, Felt]> => [...writes].map(([k, v]) => [k, v === 0n ? 0n : 1n]);
    const cache = { pedersen: new Map<Felt, TrieNode>(), poseidon: new Map<Felt, TrieNode>() };
    const oldContracts = new Map(rev.contracts);
    const cold: Array<{ root: Felt; keys: Felt[] }> = [];
    for (const [addr, writes] of fwd.storage) cold.push({ root: oldContracts.get(addr)?.storageRoot ?? 0n, keys: [...writes.keys()] });
    await this.prefetchPaths("pedersen", STATE_TRIE_HEIGHT, cold, cache.pedersen);
    const contractLeaves: Array<[Felt, Felt]> = [];
    for (const [addr, old] of rev.contracts) {
      let storageEmpty = old.storageRoot === 0n;
      const writes = fwd.storage.get(addr);
      if (writes !== undefined) {
        const u = await this.applyWithFetch("pedersen", STATE_TRIE_HEIGHT, old.storageRoot, shape(writes), cache.pedersen);
        for (const h of u.replacedNodes) ref(Column.pedersenNode, h);
        storageEmpty = u.rootRef() === null;
      }
      const empty = (fwd.deployed.get(addr) ?? old.classHash) === 0n && (fwd.nonces.get(addr) ?? old.nonce) === 0n && storageEmpty;
      contractLeaves.push([addr, empty ? 0n : 1n]);
    }
    const contracts = await this.applyWithFetch("pedersen", STATE_TRIE_HEIGHT, roots.contractsRoot, contractLeaves, cache.pedersen);
    for (const h of contracts.replacedNodes) ref(Column.pedersenNode, h);
    for (const h of contracts.replacedLeaves) ref(Column.contractStatePreimage, h);
    const classes = await this.applyWithFetch("poseidon", STATE_TRIE_HEIGHT, roots.classesRoot, shape(fwd.declared), cache.poseidon);
    for (const h of classes.replacedNodes) ref(Column.poseidonNode, h);
  }

  /**
   * The reference-count writes of a block's new records (see RecordBirths), under the write
   * lock just before its batch: a record that exists, or is born twice, gets its extra
   * references counted; a record born once that did not exist needs nothing. Returns the
   * writes and the new counts (for extraRefs once the batch has landed).
   *
   * Whether a record exists is read from the store only when it can: a record names its
   * children (a node its child nodes, a Pedersen node above a contract leaf that leaf's
   * preimage, a preimage its storage root), and a record still referenced by a state the
   * pruning has not passed has its children referenced too (a child stays in place at least
   * as long as its parent: pruning takes the parent's reference first or in the same block).
   * So a record naming a child born in this block that did not exist cannot exist either,
   * except when left behind by a rolled-back block, whose references never end; counting it
   * as new then drops only those. The block's records are asked bottom-up, a round of reads
   * per level that still finds existing records: nearly all are settled by the first round,
   * which reads the new records at the bottom of the written paths (one or two per path: the
   * edge above a new leaf, the shortened edge of a split branch), not every new node.
   */
  private async birthRefs(births: RecordBirths): Promise<{ ops: KvOp[]; counts: Map<string, number> }> {
    const born = births.index();
    // Per record: EXISTED / NEW once known; in a round, ASK (read now) or WAIT (a born child is asked).
    const state = new Uint8Array(born.size);
    const children: Array<number[] | undefined> = new Array(born.size);
    let pending = Array.from({ length: born.size }, (_, i) => i);
    while (pending.length > 0) {
      // One round: every record its born children settle (depth first, memoized); the rest
      // are read now (no born child unsettled) or left for the next round.
      const ask: number[] = [];
      const visit = (i: number): number => {
        if (state[i] !== UNKNOWN) return state[i]!;
        let waits = false;
        for (const c of (children[i] ??= born.children(i))) {
          const r = visit(c);
          if (r === NEW) return (state[i] = NEW);
          if (r !== EXISTED) waits = true;
        }
        if (!waits) ask.push(i);
        return (state[i] = waits ? WAIT : ASK);
      };
      for (const i of pending) visit(i);
      if (ask.length > 0) {
        this.birthLookups += ask.length;
        const stored = await this.store.getMany(ask.map((i) => born.key(i)));
        ask.forEach((i, k) => (state[i] = stored[k] !== undefined ? EXISTED : NEW));
      }
      const left = pending.filter((i) => state[i] === WAIT);
      // Content addressing makes the records a DAG: a round with records left has read some.
      if (ask.length === 0 && left.length > 0) throw new WorldStateError("a block's new records name each other in a cycle");
      for (const i of left) state[i] = UNKNOWN;
      pending = left;
    }
    const ops: KvOp[] = [];
    const counts = new Map<string, number>();
    for (let i = 0; i < born.size; i++) {
      const existed = state[i] === EXISTED;
      const n = born.count[i]!;
      if (!existed && n === 1) continue;
      const s = born.keyString(i);
      // References before this block (0 when the record is new), plus this block's births.
      const before = existed ? (this.extraRefs.get(s) ?? 0) + 1 : 0;
      const extra = before + n - 1;
      ops.push({ type: "put", key: keys.recordExtraRefs(born.key(i)), value: encodeCount(extra) });
      counts.set(s, extra);
    }
    return { ops, counts };
  }

  // --- history -------------------------------------------------------------------------

  async rootsAt(blockNumber: number): Promise<StateRoots | undefined> {
    const v = await this.store.get(keys.blockRoots(blockNumber));
    return v === undefined ? undefined : decodeRoots(v);
  }

  async forwardDiffAt(blockNumber: number): Promise<StateDiff | undefined> {
    const v = await this.store.get(keys.forwardDiff(blockNumber));
    return v === undefined ? undefined : decodeStateDiff(v);
  }

  async reverseDiffAt(blockNumber: number): Promise<ReverseDiff | undefined> {
    const v = await this.store.get(keys.reverseDiff(blockNumber));
    return v === undefined ? undefined : decodeReverseDiff(v);
  }

  /**
   * A synchronous reader of the state as it was after `blockNumber`. Blocks may commit (or a
   * rollback land) while the reverse diffs are read: the overlay is then read again from the new
   * head, so a reader never mixes two heads (it answered keys a new block changed with the new
   * value). Use it before the next block commits: it reads the live tries beneath its overlay.
   */
  async readerAt(blockNumber: number): Promise<StateReader> {
    for (let attempt = 1; ; attempt++) {
      const head = this.headValue;
      if (head === null || !Number.isInteger(blockNumber) || blockNumber < 0 || blockNumber > head.blockNumber) throw new NoStateAtBlockError(blockNumber, head?.blockNumber);
      if (blockNumber === head.blockNumber) return this;
      this.assertRetained(blockNumber);
      let overlay: Overlay;
      try {
        overlay = await this.overlayDownTo(blockNumber, head.blockNumber);
      } catch (e) {
        // A rollback's batch may have removed diffs being read before it moved the head in
        // memory: let the writes in flight land before deciding.
        await this.writeChain;
        // The window moved past the block while its diffs were being read.
        this.assertRetained(blockNumber);
        if (this.headValue === head) throw e;
        continue; // a rollback removed diffs being read: start again from the new head
      }
      if (this.headValue === head) return overlayReader(overlay, this);
      if (attempt >= MAX_READ_ATTEMPTS) throw new WorldStateError(`the head moved ${MAX_READ_ATTEMPTS} times while the state at block ${blockNumber} was read`);
    }
  }

  /** Merge reverse diffs of blocks (target, head] so each key holds its value at `target`. */
  private async overlayDownTo(target: number, head: number): Promise<Overlay> {
    const numbers: number[] = [];
    for (let n = head; n > target; n--) numbers.push(n);
    const overlay: Overlay = { storage: new Map(), contracts: new Map(), classes: new Map() };
    // Newest first; older blocks overwrite, so the value before block target+1 wins.
    const CHUNK = 256;
    for (let i = 0; i < numbers.length; i += CHUNK) {
      const chunk = numbers.slice(i, i + CHUNK);
      const vals = await this.store.getMany(chunk.map((n) => keys.reverseDiff(n)));
      vals.forEach((v, j) => {
        if (v === undefined) throw new WorldStateError(`reverse diff of block ${chunk[j]} is missing (beyond retention?)`);
        const r = decodeReverseDiff(v);
        for (const [a, k, old] of r.storage) {
          let m = overlay.storage.get(a);
          if (!m) overlay.storage.set(a, (m = new Map()));
          m.set(k, old);
        }
        for (const [a, rec] of r.contracts) overlay.contracts.set(a, rec);
        for (const [c, cc] of r.classes) overlay.classes.set(c, cc);
      });
    }
    return overlay;
  }

  // --- rollback ------------------------------------------------------------------------

  /** Everything needed to move the head back to `target`; nothing written yet. */
  async prepareRollback(target: number): Promise<PreparedRollback> {
    const head = this.headValue;
    if (head === null) throw new WorldStateError("nothing to roll back: empty chain");
    if (!Number.isInteger(target) || target < 0) throw new WorldStateError(`cannot roll back to block ${target}: before genesis`);
    if (target > head.blockNumber) throw new WorldStateError(`cannot roll back to block ${target}: head is ${head.blockNumber}`);
    this.assertRetained(target);
    const targetRoots = await this.rootsAt(target);
    if (targetRoots === undefined) throw new WorldStateError(`roots of block ${target} are missing`);
    const overlay = await this.rawOverlayDownTo(target);
    // Batch operations straight from the stored bytes: no felt conversions on this path.
    const ops: KvOp[] = [];
    pushRestoreOps(ops, overlay, overlay.storage, Column.flatStorage, 64, 32);
    pushRestoreOps(ops, overlay, overlay.contracts, Column.flatContract, 32, 96);
    pushRestoreOps(ops, overlay, overlay.classes, Column.flatClass, 32, 32);
    const keysChanged = overlay.storage.size + overlay.contracts.size + overlay.classes.size;
    const removedBlocks: number[] = [];
    for (let n = head.blockNumber; n > target; n--) {
      removedBlocks.push(n);
      ops.push({ type: "del", key: keys.forwardDiff(n) });
      ops.push({ type: "del", key: keys.reverseDiff(n) });
      ops.push({ type: "del", key: keys.blockRoots(n) });
      // Their deaths never happened; their births stay counted (a record they created is
      // kept until a later death: never too early, at worst a little late).
      ops.push({ type: "del", key: keys.recordDeaths(n) });
    }
    return { target, targetRoots, overlay, ops, removedBlocks, keysChanged, baseHead: head.blockNumber };
  }

  /** Apply a prepared rollback in one batch (extra ops, then the head), then update memory. */
  async rollback(prepared: PreparedRollback, opts: { blockHash: Felt; extraOps?: readonly KvOp[] }): Promise<void> {
    await this.exclusive(() => this.rollbackNow(prepared, opts));
  }

  private async rollbackNow(prepared: PreparedRollback, opts: { blockHash: Felt; extraOps?: readonly KvOp[] }): Promise<void> {
    this.assertRetained(prepared.target);
    if (this.headValue?.blockNumber !== prepared.baseHead) throw new WorldStateError("head moved since prepareRollback");
    const head: ChainHead = { blockNumber: prepared.target, blockHash: opts.blockHash, roots: prepared.targetRoots };
    const ops = [...prepared.ops, ...(opts.extraOps ?? []), { type: "put" as const, key: keys.head(), value: encodeHead(head) }];
    // LevelDB writes on its own thread: decode the memory update meanwhile, apply it after.
    const written = this.store.batch(ops);
    const o = prepared.overlay;
    const addrCache = new Map<string, Felt>();
    const addrOf = (buf: Buffer, off: number) => {
      const s = buf.toString("latin1", off, off + 32);
      let a = addrCache.get(s);
      if (a === undefined) addrCache.set(s, (a = readFelt(buf, off)));
      return a;
    };
    const storage: Array<[Felt, Felt, Felt]> = [];
    for (const { buf, off } of records(o, o.storage)) storage.push([addrOf(buf, off), readFelt(buf, off + 32), readFelt(buf, off + 64)]);
    const contracts: Array<[Felt, ContractRecord]> = [];
    for (const { buf, off } of records(o, o.contracts)) contracts.push([addrOf(buf, off), decodeContract(buf.subarray(off + 32, off + 128))]);
    const classes: Array<[Felt, Felt]> = [];
    for (const { buf, off } of records(o, o.classes)) classes.push([readFelt(buf, off), readFelt(buf, off + 32)]);
    await written;
    for (const [addr, k, v] of storage) {
      let m = this.storage.get(addr);
      if (v === 0n) {
        m?.delete(k);
        if (m && m.size === 0) this.storage.delete(addr);
      } else {
        if (!m) this.storage.set(addr, (m = new Map()));
        m.set(k, v);
      }
    }
    for (const [addr, rec] of contracts) {
      if (isEmptyContract(rec)) this.contracts.delete(addr);
      else this.contracts.set(addr, rec);
    }
    for (const [c, cc] of classes) {
      if (cc === 0n) this.classes.delete(c);
      else this.classes.set(c, cc);
    }
    this.headValue = head;
  }

  /** Reverse diffs of blocks (target, head] merged over their bytes: each key keeps its value at `target`. */
  private async rawOverlayDownTo(target: number): Promise<RawOverlay> {
    const head = this.headValue!.blockNumber;
    const overlay: RawOverlay = { tables: [], storage: new Map(), contracts: new Map(), classes: new Map() };
    const CHUNK = 256;
    // Newest first; older blocks overwrite, so the value before block target+1 wins.
    for (let hi = head; hi > target; hi -= CHUNK) {
      const numbers: number[] = [];
      for (let n = hi; n > Math.max(target, hi - CHUNK); n--) numbers.push(n);
      const vals = await this.store.getMany(numbers.map((n) => keys.reverseDiff(n)));
      vals.forEach((v, j) => {
        if (v === undefined) throw new WorldStateError(`reverse diff of block ${numbers[j]} is missing (beyond retention?)`);
        const o = unpack(v) as { s: Uint8Array; k: Uint8Array; c: Uint8Array };
        const put = (table: Uint8Array, width: number, keyLen: number, into: Map<string, number>) => {
          const t = asBuffer(table);
          if (t.length === 0) return;
          const base = overlay.tables.length * TABLE_SHIFT;
          overlay.tables.push(t);
          for (let off = 0; off < t.length; off += width) into.set(t.toString("latin1", off, off + keyLen), base + off);
        };
        put(o.s, 96, 64, overlay.storage);
        put(o.k, 128, 32, overlay.contracts);
        put(o.c, 64, 32, overlay.classes);
      });
    }
    return overlay;
  }

  // --- trie nodes ----------------------------------------------------------------------

  private cacheNodes(kind: TrieHashKind, hashes: readonly Felt[], nodes: readonly TrieNode[]): void {
    const cache = this.nodeCache[kind];
    for (let i = 0; i < hashes.length; i++) cache.set(hashes[i]!, nodes[i]!);
  }

  /** Trie nodes the cache holds now, both hash kinds (for tests and benchmarks). */
  nodeCacheSize(): number {
    return this.nodeCache.pedersen.size + this.nodeCache.poseidon.size;
  }

  /** Trie nodes the cache keeps before a block (nodeCacheBytes over NODE_CACHE_ENTRY_BYTES, at least 65,536). */
  nodeCacheCapacity(): number {
    return this.nodeCacheLimit;
  }

  /** Synchronous node source over the cache (nodes must have been fetched). */
  nodeSource(kind: TrieHashKind): TrieNodeSource {
    const cache = this.nodeCache[kind];
    return { getNode: (h) => cache.get(h) };
  }

  /**
   * Fetch a node from cache or disk. A node read from disk is cached while the cache is below
   * its capacity (proof and recovery reads between blocks never grow it past its budget).
   */
  async getNode(kind: TrieHashKind, hash: Felt): Promise<TrieNode | undefined> {
    return this.loadNode(kind, hash, this.nodeCacheSize() < this.nodeCacheLimit);
  }

  /** getNode for a block's trie update, which finds the node in the cache next (so it is cached in any case). */
  private async loadNode(kind: TrieHashKind, hash: Felt, cacheIt: boolean): Promise<TrieNode | undefined> {
    const cache = this.nodeCache[kind];
    const hit = cache.get(hash);
    if (hit !== undefined) return hit;
    this.nodeReads++;
    const v = await this.store.get(keys.trieNode(kind, hash));
    if (v === undefined) return undefined;
    const node = decodeNode(v);
    if (cacheIt) cache.set(hash, node);
    return node;
  }

  /** Inputs for proofs at `blockNumber` (default: head). */
  async proofSource(blockNumber?: number): Promise<ProofSource> {
    const head = this.headValue;
    if (head === null) throw new WorldStateError("no blocks yet");
    const n = blockNumber ?? head.blockNumber;
    if (n !== head.blockNumber) this.assertRetained(n);
    const roots = n === head.blockNumber ? head.roots : await this.rootsAt(n);
    if (roots === undefined) throw new WorldStateError(`no state at block ${n}`);
    const blockHash = n === head.blockNumber ? head.blockHash : 0n;
    return {
      blockHash,
      contractsRoot: roots.contractsRoot,
      classesRoot: roots.classesRoot,
      fetch: (kind) => (h) => this.getNode(kind, h),
      contractPreimage: (leaf) => this.contractPreimage(leaf),
    };
  }

  /** Contract record behind a contract state hash (a contracts-trie leaf). */
  async contractPreimage(leaf: Felt): Promise<ContractRecord | undefined> {
    const v = await this.store.get(keys.contractStatePreimage(leaf));
    return v === undefined ? undefined : decodeContract(v);
  }

  /**
   * Apply writes to the trie at `root`, fetching missing nodes from disk. With a warm
   * cache the pure update runs once; on a miss, the paths of the written keys are
   * prefetched level by level and the update is re-run (it has no side effects until done).
   */
  private async applyWithFetch(kind: TrieHashKind, height: number, root: Felt, writes: Array<[Felt, Felt]>, into?: Map<Felt, TrieNode>): Promise<TrieUpdate> {
    // `into`: a cache of its own (pruning's replays read old nodes, kept out of the node cache).
    const main = this.nodeCache[kind];
    const source: TrieNodeSource = into === undefined ? this.nodeSource(kind) : { getNode: (h) => into.get(h) ?? main.get(h) };
    let prefetched = false;
    for (let attempt = 0; ; attempt++) {
      const u = new TrieUpdate(height, source, root);
      try {
        u.apply(writes);
        return u;
      } catch (e) {
        const missing = e instanceof TrieError ? /missing trie node 0x([0-9a-f]+)/.exec(e.message) : null;
        // Each attempt reads a node the last one missed; a write needs at most a couple the
        // prefetch does not predict (a sibling a deletion pulls up, an edge it merges).
        if (missing === null || attempt > 64 + 2 * writes.length) throw e;
        // Cold cache: load every path the writes touch in a few batched reads, once;
        // after that, fetch any node the walk did not predict one at a time.
        if (!prefetched) {
          prefetched = true;
          await this.prefetchPaths(kind, height, [{ root, keys: writes.map(([k]) => k) }], into);
          continue;
        }
        const h = BigInt("0x" + missing[1]);
        if (into !== undefined) {
          this.pruneNodeReads++;
          const v = await this.store.get(keys.trieNode(kind, h));
          if (v === undefined) throw new WorldStateError(`trie node 0x${missing[1]} is not in the store`);
          into.set(h, decodeNode(v));
        } else if ((await this.loadNode(kind, h, true)) === undefined) throw new WorldStateError(`trie node 0x${missing[1]} is not in the store`);
      }
    }
  }

  /**
   * Load into the cache every node on the paths of `keys` in the tries at `root`, one batched
   * read per trie level for all the tries together (a block touching a thousand storage tries
   * costs a few reads of many keys, not a few reads per trie).
   */
  private async prefetchPaths(kind: TrieHashKind, height: number, tries: ReadonlyArray<{ root: Felt; keys: Felt[] }>, into?: Map<Felt, TrieNode>): Promise<void> {
    const main = this.nodeCache[kind];
    const cache = into ?? main;
    const get = (h: Felt) => cache.get(h) ?? (into === undefined ? undefined : main.get(h));
    let frontier: Array<{ hash: Felt; depth: number; keys: Felt[] }> = [];
    for (const t of tries) if (t.root !== 0n && t.keys.length > 0) frontier.push({ hash: t.root, depth: 0, keys: t.keys });
    while (frontier.length > 0) {
      const missing = frontier.filter((f) => get(f.hash) === undefined);
      // (Siblings off the written paths are not read: an update needs only their hashes,
      // which their parents hold. A deletion that pulls one up fetches it on its own.)
      if (missing.length > 0) {
        if (into === undefined) this.nodeReads += missing.length;
        else this.pruneNodeReads += missing.length;
        const vals = await this.store.getMany(missing.map((f) => keys.trieNode(kind, f.hash)));
        vals.forEach((v, i) => {
          if (v !== undefined) cache.set(missing[i]!.hash, decodeNode(v));
        });
      }
      const next: typeof frontier = [];
      for (const f of frontier) {
        const node = get(f.hash);
        if (node === undefined) continue; // reported by the update if it is really needed
        if (node.kind === "binary") {
          const shift = BigInt(height - f.depth - 1);
          const left: Felt[] = [];
          const right: Felt[] = [];
          for (const k of f.keys) ((k >> shift) & 1n) === 0n ? left.push(k) : right.push(k);
          const d = f.depth + 1;
          if (d < height) {
            if (left.length > 0) next.push({ hash: node.left, depth: d, keys: left });
            if (right.length > 0) next.push({ hash: node.right, depth: d, keys: right });
          }
        } else {
          const d = f.depth + node.length;
          const shift = BigInt(height - d);
          const mask = (1n << BigInt(node.length)) - 1n;
          const matching = f.keys.filter((k) => ((k >> shift) & mask) === node.path);
          // A key leaving the edge splits it, and the update then reads the edge's child (to
          // merge it if it is an edge): read it too, without descending for those keys.
          if (d < height && (matching.length > 0 || f.keys.length > 0)) next.push({ hash: node.child, depth: d, keys: matching });
        }
      }
      frontier = next;
    }
  }

  /**
   * Keep the node cache bounded: past the limit, drop the oldest-inserted half. Recently
   * created nodes (the upper levels every block rewrites) stay; the nodes dropped stay on disk.
   * A small cache also keeps the heap small, which is what makes GC — and so large
   * rollbacks — fast.
   */
  private trimNodeCache(): void {
    const { pedersen, poseidon } = this.nodeCache;
    if (pedersen.size + poseidon.size <= this.nodeCacheLimit) return;
    for (const cache of [pedersen, poseidon]) {
      // Each kind keeps (about) half its share: the newest half of what it holds.
      let drop = cache.size - Math.floor(cache.size / 2);
      for (const k of cache.keys()) {
        if (drop-- <= 0) break;
        cache.delete(k);
      }
    }
  }
}

/**
 * Converts the first pruning format's birth markers (Column.recordBirth: one key per birth not
 * yet matched by a pruned death) into extra-reference counts: a record with k markers has k
 * references, so k - 1 extra. Batches end between records (all of a record's markers in one
 * batch), so a crash leaves converted records without markers and the rest untouched, and the
 * next open converts the rest. Costs one pass over the markers (state size), once. The old
 * per-block death lists are not needed (pruning replays deaths) and go as blocks are pruned.
 */
async function migrateBirthMarkers(store: KvStore): Promise<void> {
  const range = columnRange(Column.recordBirth);
  let ops: KvOp[] = [];
  let current: Buffer | null = null;
  let count = 0;
  const endRecord = () => {
    if (current !== null && count > 1) ops.push({ type: "put", key: keys.recordExtraRefs(current), value: encodeCount(count - 1) });
  };
  for await (const [k] of store.iterator(range)) {
    const ref = asBuffer(k).subarray(1, 1 + RECORD_REF_BYTES);
    if (current === null || !ref.equals(current)) {
      endRecord();
      if (ops.length >= 20_000) {
        await store.batch(ops);
        ops = [];
      }
      current = Buffer.from(ref);
      count = 0;
    }
    count++;
    ops.push({ type: "del", key: k });
  }
  endRecord();
  if (ops.length > 0) await store.batch(ops);
}

/**
 * Flat-state writes that restore each merged record (key bytes then the old value; an
 * all-zero value deletes), keys carved from one slab, values viewed in place.
 */
function pushRestoreOps(ops: KvOp[], o: RawOverlay, m: Map<string, number>, column: number, keyLen: number, valueLen: number): void {
  const slab = Buffer.allocUnsafe(m.size * (1 + keyLen));
  let at = 0;
  for (const { buf, off } of records(o, m)) {
    const k = slab.subarray(at, at + 1 + keyLen);
    at += 1 + keyLen;
    k[0] = column;
    buf.copy(k, 1, off, off + keyLen);
    if (isZero(buf, off + keyLen, valueLen)) ops.push({ type: "del", key: k });
    else ops.push({ type: "put", key: k, value: buf.subarray(off + keyLen, off + keyLen + valueLen) });
  }
}

function isZero(buf: Buffer, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (buf[i] !== 0) return false;
  return true;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function setStorage(into: Map<Felt, Map<Felt, Felt>>, addr: Felt, writes: Map<Felt, Felt>): void {
  let m = into.get(addr);
  if (!m) into.set(addr, (m = new Map()));
  for (const [k, v] of writes) {
    if (v === 0n) m.delete(k);
    else m.set(k, v);
  }
  if (m.size === 0) into.delete(addr);
}

function overlayReader(o: Overlay, base: WorldState): StateReader {
  return {
    getStorage: (a, k) => {
      const m = o.storage.get(a);
      if (m !== undefined) {
        const v = m.get(k);
        if (v !== undefined) return v;
      }
      return base.getStorage(a, k);
    },
    getNonce: (a) => (o.contracts.get(a) ?? base.getContract(a)).nonce,
    getClassHash: (a) => (o.contracts.get(a) ?? base.getContract(a)).classHash,
    getCompiledClassHash: (c) => o.classes.get(c) ?? base.getCompiledClassHash(c),
  };
}

// --- encodings -------------------------------------------------------------------------


/**
 * The put operation of new trie nodes, straight from the node-table records
 * (prefix = column | hash | a | b | len): key = [0, 33), value = a‖b (binary) or a‖b‖len (edge).
 */
function pushRecordOps(ops: KvOp[], records: Uint8Array): void {
  if (records.length > 0) ops.push({ type: "putRecords", records, recordLength: TABLE_RECORD, keyLength: 33, trimZeroTail: true });
}

/** binary: left‖right (64 bytes); edge: child‖path‖length (65 bytes). */
export function encodeNode(n: TrieNode): Buffer {
  if (n.kind === "binary") return Buffer.concat([felt32(n.left), felt32(n.right)]);
  return Buffer.concat([felt32(n.child), felt32(n.path), Buffer.from([n.length])]);
}

export function decodeNode(b: Uint8Array): TrieNode {
  if (b.byteLength === 64) return { kind: "binary", left: readFelt(b, 0), right: readFelt(b, 32) };
  if (b.byteLength === 65) return { kind: "edge", child: readFelt(b, 0), path: readFelt(b, 32), length: b[64]! };
  throw new WorldStateError(`corrupt trie node of ${b.byteLength} bytes`);
}

function encodeContract(c: ContractRecord): Buffer {
  const b = Buffer.allocUnsafe(96);
  writeContract(b, 0, c);
  return b;
}

function writeContract(b: Buffer, offset: number, c: ContractRecord): void {
  writeFelt(b, offset, c.classHash);
  writeFelt(b, offset + 32, c.nonce);
  writeFelt(b, offset + 64, c.storageRoot);
}

function decodeContract(b: Uint8Array): ContractRecord {
  return { classHash: readFelt(b, 0), nonce: readFelt(b, 32), storageRoot: readFelt(b, 64) };
}

function encodeRoots(r: StateRoots): Buffer {
  return Buffer.concat([felt32(r.globalRoot), felt32(r.contractsRoot), felt32(r.classesRoot)]);
}

function decodeRoots(b: Uint8Array): StateRoots {
  return { globalRoot: readFelt(b, 0), contractsRoot: readFelt(b, 32), classesRoot: readFelt(b, 64) };
}

function encodeHead(h: ChainHead): Buffer {
  return Buffer.concat([u64(h.blockNumber), felt32(h.blockHash), encodeRoots(h.roots)]);
}

function decodeHead(b: Uint8Array): ChainHead {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { blockNumber: Number(buf.readBigUInt64BE(0)), blockHash: readFelt(b, 8), roots: decodeRoots(b.subarray(40)) };
}

export function encodeStateDiff(d: StateDiff): Buffer {
  const storage: Array<[Buffer, Array<[Buffer, Buffer]>]> = [];
  for (const [a, m] of d.storage) storage.push([felt32(a), [...m].map(([k, v]) => [felt32(k), felt32(v)])]);
  return pack({
    s: storage,
    n: [...d.nonces].map(([a, n]) => [felt32(a), felt32(n)]),
    d: [...d.deployed].map(([a, c]) => [felt32(a), felt32(c)]),
    c: [...d.declared].map(([c, cc]) => [felt32(c), felt32(cc)]),
  });
}

export function decodeStateDiff(b: Uint8Array): StateDiff {
  const o = unpack(b) as { s: Array<[Uint8Array, Array<[Uint8Array, Uint8Array]>]>; n: Array<[Uint8Array, Uint8Array]>; d: Array<[Uint8Array, Uint8Array]>; c: Array<[Uint8Array, Uint8Array]> };
  return {
    storage: new Map(o.s.map(([a, kv]) => [readFelt(a), new Map(kv.map(([k, v]) => [readFelt(k), readFelt(v)]))])),
    nonces: new Map(o.n.map(([a, n]) => [readFelt(a), readFelt(n)])),
    deployed: new Map(o.d.map(([a, c]) => [readFelt(a), readFelt(c)])),
    declared: new Map(o.c.map(([c, cc]) => [readFelt(c), readFelt(cc)])),
  };
}

/**
 * Reverse diff: three fixed-width record tables (no per-entry objects, so merging many
 * blocks for a rollback is a walk over bytes):
 *   s: (contract, key, old value)            96 bytes each
 *   k: (contract, class, nonce, storage root) 128 bytes each
 *   c: (class hash, old compiled class hash)  64 bytes each
 */
function encodeReverseDiff(r: ReverseDiff): Buffer {
  const s = Buffer.allocUnsafe(r.storage.length * 96);
  r.storage.forEach(([a, k, v], i) => {
    writeFelt(s, i * 96, a);
    writeFelt(s, i * 96 + 32, k);
    writeFelt(s, i * 96 + 64, v);
  });
  const k = Buffer.allocUnsafe(r.contracts.length * 128);
  r.contracts.forEach(([a, c], i) => {
    writeFelt(k, i * 128, a);
    writeContract(k, i * 128 + 32, c);
  });
  const c = Buffer.allocUnsafe(r.classes.length * 64);
  r.classes.forEach(([h, cc], i) => {
    writeFelt(c, i * 64, h);
    writeFelt(c, i * 64 + 32, cc);
  });
  return pack({ s, k, c });
}

function decodeReverseDiff(b: Uint8Array): ReverseDiff {
  const o = unpack(b) as { s: Buffer; k: Buffer; c: Buffer };
  const r: ReverseDiff = { storage: [], contracts: [], classes: [] };
  for (let off = 0; off < o.s.length; off += 96) r.storage.push([readFelt(o.s, off), readFelt(o.s, off + 32), readFelt(o.s, off + 64)]);
  for (let off = 0; off < o.k.length; off += 128) r.contracts.push([readFelt(o.k, off), decodeContract(o.k.subarray(off + 32, off + 128))]);
  for (let off = 0; off < o.c.length; off += 64) r.classes.push([readFelt(o.c, off), readFelt(o.c, off + 32)]);
  return r;
}
