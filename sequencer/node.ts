// The perpchain node: the composition root. It opens the store and the world state, and
// wires the subsystems: admission (admission.ts: submit path), the block builder
// (block-builder.ts: execute, seal, one atomic batch), the durable mempool, the chain
// store, snapshots and the lifecycle of DESIGN §8. It schedules block production, moves
// time, rolls back, and tells listeners. RPC handlers ask it to act through its methods;
// it never formats JSON-RPC errors itself (it throws typed errors).
//
// Data flows one way: submit → WAL → mempool → block (execute, commit roots, one atomic
// batch with the head pointer last) → listeners (WS, market data, trigger engine).

import { pack, unpack } from "msgpackr";
import { accountPublicKeyOf } from "../contracts/account.js";
import { buildGenesis, type Genesis, type Predeploy, type GenesisAddresses } from "../contracts/genesis.js";
import { ClassRegistry } from "../contracts/runtime/class-registry.js";
import type { GasPrices } from "../contracts/runtime/gas.js";
import { callView, type BlockContext } from "../contracts/runtime/transaction-executor.js";
import { Column, key, keys } from "../state/columns.js";
import { HashPool } from "../state/crypto/hash-pool.js";
import { encodeShortString, toHex, type Felt } from "../state/felt.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { MemoryKvStore } from "../state/kv-store.js";
import { LevelKvStore } from "../state/level-store.js";
import { contractStateHash, globalStateRoot, STATE_TRIE_HEIGHT } from "../state/state-commitment.js";
import type { StateReader } from "../state/state-diff.js";
import { collectProofNodes, verifyProofPath } from "../state/storage-proof.js";
import { DEFAULT_RETENTION_BLOCKS, WorldState, type WorldStateOptions } from "../state/world-state.js";
import { Admission, DroppedTransactions, type DroppedRecord, type NodeTx } from "./admission.js";
import { BlockBuilder, type BlockInputs, type CandidateBlock } from "./block-builder.js";
import { ChainStore, type BlockRecord, type TxRecord } from "./chain-store.js";
import { BlockNotFoundError, NodePausedError, NotLeaderError, NotSupportedError, RollbackRefusedError, RpcError, TransactionNotIncludedError, UnexpectedError } from "./errors.js";
import { BlockMismatchError } from "./cluster/cluster-controller.js";
import type { ClusterBlock } from "./cluster/cluster-records.js";
import { Lifecycle } from "./lifecycle.js";
import { Mempool, type MempoolEntry } from "./mempool.js";
import { orphanedByDrop } from "./rollback-orphans.js";
import { SnapshotStore } from "./snapshots.js";
import { installVerifyCache } from "./verify-cache.js";
import { deriveAccountKeys, deriveOperatorKeys, type AccountKeys } from "./predeployed-accounts.js";
import { parseBroadcastedTxn, type BroadcastedTxn } from "./rpc/params.js";
import { decodeFormatVersion, decodeWalEntry, encodeFormatVersion, encodeWalEntry, STORAGE_FORMAT_VERSION, type StoredTx } from "./stored-records.js";
import { intake, signInvokeJson, unsignedInvokeJson } from "./tx-intake.js";
import { Listeners } from "./listeners.js";

export type { NodeTx } from "./admission.js";

export type BlockGeneration = { mode: "transaction" } | { mode: "demand" } | { mode: "interval"; seconds: number };

export interface NodeOptions {
  /** LevelDB directory; ignored with inMemory. */
  dbPath?: string;
  inMemory?: boolean;
  seed?: number;
  accounts?: number;
  /** STRK per predeployed account, in FRI. */
  initialBalance?: bigint;
  /** USDC per predeployed account, in 10^-6 USDC. */
  initialUsdc?: bigint;
  chainId?: string;
  blockGeneration?: BlockGeneration;
  /** Wall clock in ms (injectable for tests); time for blocks comes only from here. */
  clock?: () => number;
  gasPrices?: GasPrices;
  /** Gas prices in WEI written in block headers (default: the FRI prices). */
  gasPricesWei?: GasPrices;
  /** Extra genesis contracts (oracle, exchange). */
  extraPredeploys?: (addresses: GenesisAddresses) => readonly Predeploy[];
  /** Classes that are not predeployed but can be deployed (UDC / deploy_account). */
  extraClasses?: ConstructorParameters<typeof ClassRegistry>[0];
  maxTxsPerBlock?: number;
  /**
   * In "transaction" mode, while the node is busy, blocks start at most this often (ms) so
   * each collects the transactions arriving meanwhile; a block that took longer is followed
   * at once, and so is one that had to leave ready transactions behind (its budget ran out).
   * The first block after an idle period is built at once. Default 250 ms, the throughput
   * choice; 100 ms is the latency one: transfers wait half as long (p50 ~140 / p99 ~220 ms
   * against ~270 / ~460) and orders ~25 % less, for twice the blocks, 5–19 % more node CPU a
   * transaction and ~10 % less rate on 4,000 transfers (measured: README, "In `transaction` mode").
   */
  blockBatchMs?: number;
  /**
   * A block stops taking transactions once executing them has taken this long (ms; at
   * least one is taken); the rest wait for the next block. Bounds the event-loop stall of a
   * block and so the latency of everything else. Default 200 ms; 0: no budget (only
   * maxTxsPerBlock bounds a block).
   */
  blockBudgetMs?: number;
  /**
   * Worker threads that hash trie levels off the main thread (which keeps serving RPC
   * meanwhile). Default 0 (inline): measured slower on 2 cores shared with clients.
   */
  hashThreads?: number;
  /**
   * Retention window: the state of the last N blocks below the head (and of every named
   * snapshot) stays readable and reachable by rollback; older state history is pruned.
   * Blocks, transactions, receipts and events stay. Default DEFAULT_RETENTION_BLOCKS (10,000).
   */
  retentionBlocks?: number;
  /** Memory for the world state's trie-node cache, in MB (default 256; WorldStateOptions.nodeCacheBytes). */
  nodeCacheMb?: number;
  /** How long a dropped transaction's status stays CANDIDATE + REVERTED before it is not found (default 15 s). */
  droppedStatus_ms?: number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Durations for the metrics (sequencer/metrics.ts): block build and block commit, in seconds. */
  observe?: (timing: "block_build_seconds" | "block_commit_seconds", seconds: number) => void;
  /**
   * Cluster mode (sequencer/cluster/node-binding.ts): the gate that decides whether this
   * node may write and routes its writes through etcd. Absent: the single embedded node.
   */
  clusterGate?: NodeClusterGate;
  /**
   * Timestamp of a new chain's genesis block (default: the clock). Cluster members give a
   * fixed one, so that every member built from the same flags has the same block 0.
   */
  genesisTimestampS?: number;
}

/** What the node asks the cluster before it writes (see sequencer/cluster/node-binding.ts). */
export interface NodeClusterGate {
  /** True only on the leader: block production and admission are allowed. */
  canWrite(): boolean;
  /** The typed refusal for a write attempted on a node that may not write. */
  notLeader(what: string): NotLeaderError;
  /** Commit a built block through etcd before the local batch (throws: the block is discarded). */
  commitBlock(candidate: CandidateBlock): Promise<void>;
  /** Replicate an admitted transaction before its hash is returned. */
  replicateTx(hash: Felt, tx: BroadcastedTxn): Promise<void>;
  /** An operator rollback as a cluster rollback: etcd's head first (requeued transactions replicated again), then `local`. */
  rollback<T>(target: number, policy: "requeue" | "drop", local: () => Promise<T>): Promise<T>;
}

/** starknet_getTransactionStatus's answer (TXN_STATUS_RESULT). */
export type TxStatus = {
  finality_status: "RECEIVED" | "CANDIDATE" | "ACCEPTED_ON_L2";
  execution_status?: "SUCCEEDED" | "REVERTED";
  failure_reason?: string;
};

/** A pause in arrivals this long (ms) ends a block's gathering early (scheduleBlock). */
const GATHER_QUIET_MS = 20;
/** A block's execution yields to the event loop after each slice this long (ms): requests are answered meanwhile. */
const EXECUTION_SLICE_MS = 10;

export interface BlockEvent {
  block: BlockRecord;
  /** In the block's order (block.txHashes); their JSON renders on first read. */
  txs: TxRecord[];
  /** The same transactions, typed (what the block wrote). */
  stored: readonly StoredTx[];
}

export interface ReorgEvent {
  startingBlock: { number: number; hash: string };
  endingBlock: { number: number; hash: string };
  removedTxs: string[];
  requeued: string[];
}

/** What a rollback did; `removedBlockHashes` from the highest block down, read under the production lock. */
export interface RollbackResult extends ReorgEvent {
  rollbackMs: number;
  keysChanged: number;
  removedBlockHashes: string[];
}

/** Sequencer address used in block headers and as the fee recipient. */
export const SEQUENCER_ADDRESS: Felt = 0x1000n;
export const DEFAULT_GAS_PRICES: GasPrices = { l1_gas: 100_000_000_000n, l1_data_gas: 1_000_000n, l2_gas: 1_000_000_000n };
const META_EPOCH = key(Column.nodeMeta, Buffer.from("epoch"));
const META_GENESIS = key(Column.nodeMeta, Buffer.from("genesis"));
const META_STORAGE_FORMAT = key(Column.nodeMeta, Buffer.from("storage_format"));

/** A data directory this version cannot read; the message says what to do. */
export class StorageFormatError extends Error {}

export class PerpchainNode {
  readonly lifecycle = new Lifecycle();
  /** Replaced (with world, store, snapshots, builder, admission) only by resetTo() (devnet_restart, devnet_load). */
  mempool: Mempool<NodeTx>;
  chain: ChainStore;
  private snapshotStore!: SnapshotStore;
  private hashPool: HashPool | null = null;
  readonly blockBatchMs: number;
  readonly blockBudgetMs: number;
  /** When the last block of the busy loop started (performance.now()), and whether it left ready transactions behind. */
  private lastBlock = { startedAt: -Infinity, full: false };
  private epochValue = 0;
  private pausedByOperator = false;
  private fatal: Error | null = null;
  private timeOffsetS = 0;
  private nextBlockTimestamp: number | null = null;
  private building: Promise<void> | null = null;
  private buildAgain = false;
  private intervalTimer: NodeJS.Timeout | null = null;
  private readonly listenerFailed = (e: unknown) => this.log("listener_failed", { error: String(e) });
  private readonly blockListeners = new Listeners<[BlockEvent]>(this.listenerFailed);
  private readonly reorgListeners = new Listeners<[ReorgEvent]>(this.listenerFailed);
  private readonly droppedListeners = new Listeners<[Felt, TxStatus]>(this.listenerFailed);
  private readonly blockWriters: Array<(e: BlockEvent) => KvOp[]> = [];
  readonly dropped: DroppedTransactions;
  /** Built on the current world, chain and mempool by wireSubsystems() (again after resetTo()). */
  builder!: BlockBuilder;
  private admission!: Admission;

  /** Admission's off-thread hashing: batches flushed and transactions in them. */
  get admissionCryptoStats(): { batches: number; txs: number } {
    return { ...this.admission.crypto.stats };
  }
  readonly clock: () => number;
  /** Gas prices in FRI of the next block, admission and fee estimates (devnet_setGasPrice changes them). */
  gasPrices: GasPrices;
  /** The same in WEI, for block headers only (fees are paid in STRK). */
  gasPricesWei: GasPrices;
  readonly stats = { txsIncluded: 0 };
  readonly maxTxsPerBlock: number;
  /** Cluster mode gate (null: single embedded node). */
  readonly cluster: NodeClusterGate | null;
  /** Replicated transactions this node could not queue when it took over (settled: never includable). */
  private readonly unadoptable = new Set<Felt>();

  private constructor(
    public store: KvStore,
    public world: WorldState,
    readonly genesis: Genesis,
    readonly accountKeys: AccountKeys[],
    readonly operatorKeys: AccountKeys,
    readonly options: Required<Pick<NodeOptions, "seed" | "accounts" | "initialBalance" | "initialUsdc" | "chainId" | "blockGeneration">>,
    opts: NodeOptions,
  ) {
    this.chain = new ChainStore(store);
    this.mempool = walMempool(store);
    this.clock = opts.clock ?? Date.now;
    this.gasPrices = opts.gasPrices ?? DEFAULT_GAS_PRICES;
    this.gasPricesWei = opts.gasPricesWei ?? this.gasPrices;
    this.initialGasPrices = { fri: this.gasPrices, wei: this.gasPricesWei };
    this.worldOptions = {};
    this.maxTxsPerBlock = opts.maxTxsPerBlock ?? 2_000;
    this.blockBatchMs = opts.blockBatchMs ?? 250;
    this.blockBudgetMs = opts.blockBudgetMs ?? 200;
    this.log = opts.log ?? (() => {});
    this.cluster = opts.clusterGate ?? null;
    this.observe = opts.observe ?? (() => {});
    this.dropped = new DroppedTransactions(opts.droppedStatus_ms);
    this.wireSubsystems();
  }

  /** The block builder and admission over the current world, chain and mempool. */
  private wireSubsystems(): void {
    const { world, chain, mempool, genesis } = this;
    this.builder = new BlockBuilder({ world, chain, registry: genesis.registry, chainId: genesis.chainId, feeTokenAddress: this.feeTokenAddress });
    this.admission?.retire();
    this.admission = new Admission({
      world,
      chain,
      mempool,
      registry: genesis.registry,
      chainId: genesis.chainId,
      nextBlockContext: () => this.blockContext(this.world.nextBlockNumber(), this.nowS()),
      assertAccepting: ({ operator }) => {
        this.lifecycle.assertReady("transaction");
        if (this.pausedByOperator && !operator) throw new NodePausedError("the exchange is paused by the operator");
        if (this.fatalError) throw new UnexpectedError(`block production stopped after a store failure: ${this.fatalError.message}`);
        if (this.cluster !== null && !this.cluster.canWrite() && !this.adopting) throw this.cluster.notLeader("transaction");
      },
      skipsValidation: (sender) => this.isImpersonated(sender),
      dropped: this.dropped,
      publicKeyOf: (sender) => accountPublicKeyOf(this.world, sender),
    });
  }

  readonly log: (event: string, fields?: Record<string, unknown>) => void;
  private readonly observe: NonNullable<NodeOptions["observe"]>;

  /** This process's epoch (fencing token for market data), taken from the store at start. */
  get epoch(): number {
    return this.epochValue;
  }
  /** Set when a block commit failed: production stops until restart. */
  get fatalError(): Error | null {
    return this.fatal;
  }
  get snapshots(): SnapshotStore {
    return this.snapshotStore;
  }

  get chainId(): Felt {
    return this.genesis.chainId;
  }
  /** The STRK fee token (looked up once; blockContext runs on every admission). */
  get feeTokenAddress(): Felt {
    return (this.feeToken ??= this.genesis.predeployed.find((p) => p.name === "STRK")!.address);
  }
  private feeToken: Felt | undefined;

  get registry(): ClassRegistry {
    return this.genesis.registry;
  }

  /** Open (or create) a node: recover the store, check the head, replay the WAL, become ready. */
  static async open(opts: NodeOptions = {}): Promise<PerpchainNode> {
    installVerifyCache();
    let store: KvStore;
    if (opts.inMemory || !opts.dbPath) store = new MemoryKvStore();
    else {
      try {
        store = await LevelKvStore.open(opts.dbPath);
      } catch (e) {
        const msg = String((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message);
        if (/lock/i.test(msg)) throw new Error(`data directory ${opts.dbPath} is in use by another perpchain process (${msg})`);
        throw new Error(`cannot open data directory ${opts.dbPath}: ${msg}`);
      }
    }
    try {
      return await PerpchainNode.recover(store, opts);
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
  }

  private static async recover(store: KvStore, opts: NodeOptions): Promise<PerpchainNode> {
    await PerpchainNode.checkStorageFormat(store, opts.dbPath ?? "(in memory)");
    // A restarted node keeps the genesis parameters it was created with.
    const storedGenesis = await store.get(META_GENESIS);
    const params = storedGenesis
      ? (unpack(storedGenesis) as StoredGenesis)
      : {
          seed: opts.seed ?? 0,
          accounts: opts.accounts ?? 10,
          initialBalance: String(opts.initialBalance ?? 1_000_000_000_000_000_000_000n),
          initialUsdc: String(opts.initialUsdc ?? 1_000_000_000_000n),
          chainId: opts.chainId ?? "SN_SEPOLIA",
        };
    const accountKeys = deriveAccountKeys(params.seed, params.accounts);
    const operatorKeys = deriveOperatorKeys(params.seed);
    const genesis = buildGenesis({
      chainId: encodeShortString(params.chainId),
      // Like starknet-devnet: every predeployed account holds --initial-balance in both STRK (FRI) and ETH (WEI).
      accounts: accountKeys.map((k) => ({ publicKey: k.publicKey, strkBalance: BigInt(params.initialBalance), ethBalance: BigInt(params.initialBalance), usdcBalance: BigInt(params.initialUsdc) })),
      operatorPublicKey: operatorKeys.publicKey,
      operatorStrkBalance: 10n ** 30n,
      extraPredeploys: opts.extraPredeploys,
    });
    for (const c of opts.extraClasses ?? []) genesis.registry.register(c);

    const epochRaw = await store.get(META_EPOCH);
    const epoch = (epochRaw ? (unpack(epochRaw) as number) : 0) + 1;
    await store.batch([{ type: "put", key: META_EPOCH, value: pack(epoch) }]);

    const threads = opts.hashThreads ?? 0;
    const pool = threads > 0 ? new HashPool({ threads, inlineHashesBelow: 256, offload: true }) : null;
    const worldOptions: WorldStateOptions = {
      retentionBlocks: opts.retentionBlocks ?? DEFAULT_RETENTION_BLOCKS,
      ...(opts.nodeCacheMb !== undefined ? { nodeCacheBytes: opts.nodeCacheMb * 2 ** 20 } : {}),
      onPruneError: (e) => opts.log?.("state_prune_failed", { error: e.message }),
      ...(pool ? { nodeTableHasher: (k, t, f, p) => pool.hashNodeTable(k, t, f, p) } : {}),
    };
    const world = await WorldState.open(store, worldOptions);
    const node = new PerpchainNode(
      store,
      world,
      genesis,
      accountKeys,
      operatorKeys,
      {
        seed: params.seed,
        accounts: params.accounts,
        initialBalance: BigInt(params.initialBalance),
        initialUsdc: BigInt(params.initialUsdc),
        chainId: params.chainId,
        blockGeneration: opts.blockGeneration ?? { mode: "transaction" },
      },
      opts,
    );
    node.epochValue = epoch;
    node.hashPool = pool;
    node.worldOptions = worldOptions;
    node.snapshotStore = await SnapshotStore.open(store);
    // Snapshots pin their block's state: pruning stops below the oldest one.
    world.setHistoryPins(() => node.snapshotStore.list().map((s) => s.block_number));
    node.lifecycle.advance("recovering");
    if (world.head() === null) {
      const meta: KvOp[] = [{ type: "put", key: META_STORAGE_FORMAT, value: encodeFormatVersion(STORAGE_FORMAT_VERSION) }];
      if (storedGenesis === undefined) meta.push({ type: "put", key: META_GENESIS, value: pack(params) });
      await node.commitGenesis(meta, opts.genesisTimestampS);
    } else {
      await node.verifyHead();
    }
    node.lifecycle.advance("catching-up");
    await node.recoverMempool();
    node.lifecycle.advance("ready");
    node.log("node_ready", { epoch, head: world.head()!.blockNumber, mempool: node.mempool.size });
    node.startBlockProduction();
    if (node.mempool.size > 0) node.scheduleBlock();
    return node;
  }

  /** Recovery check: the stored head root is what the tries and flat state say it is. */
  async verifyHead(): Promise<void> {
    const head = this.world.head()!;
    const block = await this.chain.getBlock(head.blockNumber);
    if (block === undefined) throw new Error(`recovery: block ${head.blockNumber} of the head is missing`);
    if (BigInt(block.header.block_hash) !== head.blockHash) throw new Error("recovery: head block hash does not match the stored block");
    if (BigInt(block.header.new_root) !== head.roots.globalRoot) throw new Error("recovery: head root does not match the block header");
    if (globalStateRoot(head.roots.contractsRoot, head.roots.classesRoot) !== head.roots.globalRoot) throw new Error("recovery: global root does not combine its tries");
    // Every contract of the flat state must be the leaf the contracts trie holds, and every
    // node on those paths must hash to its key (a proof of each leaf against the head root).
    const addrs = this.world.contractAddresses();
    const nodes = new Map(await collectProofNodes((h) => this.world.getNode("pedersen", h), STATE_TRIE_HEIGHT, head.roots.contractsRoot, addrs));
    for (const a of addrs) {
      const leaf = verifyProofPath("pedersen", STATE_TRIE_HEIGHT, head.roots.contractsRoot, a, nodes);
      if (leaf !== contractStateHash(this.world.getContract(a))) throw new Error(`recovery: contract ${toHex(a)} disagrees with the contracts trie`);
    }
    this.log("recovery_verified", { block: head.blockNumber, contracts: addrs.length });
  }

  /**
   * Refuse a data directory whose records this version cannot read, before anything is
   * written to it (not even the epoch). An empty store gets the current format with genesis.
   */
  private static async checkStorageFormat(store: KvStore, where: string): Promise<void> {
    const raw = await store.get(META_STORAGE_FORMAT);
    if (raw === undefined && (await store.get(keys.head())) === undefined) return; // a new chain
    const version = raw === undefined ? 1 : decodeFormatVersion(raw);
    if (version === STORAGE_FORMAT_VERSION) return;
    if (version < STORAGE_FORMAT_VERSION) {
      throw new StorageFormatError(
        `data directory ${where} uses storage format ${version} (RPC JSON records, written by a perpchain before typed storage); ` +
          `this perpchain reads format ${STORAGE_FORMAT_VERSION} only and does not convert it. Start this version with a new data directory ` +
          `(--db-path) or remove this one; to keep serving that chain, run the perpchain version that wrote it.`,
      );
    }
    throw new StorageFormatError(
      `data directory ${where} uses storage format ${version}, newer than this perpchain's ${STORAGE_FORMAT_VERSION}; run the perpchain version that wrote it.`,
    );
  }

  private async recoverMempool(): Promise<void> {
    const entries = await this.mempool.recover((value) => {
      const stored = decodeWalEntry(value);
      const tx = intake(stored.tx, this.chainId);
      if (tx.hash !== stored.hash) throw new Error(`recovery: WAL entry ${toHex(stored.hash)} hashes to ${toHex(tx.hash)}`);
      return { hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { tx } };
    });
    for (const e of entries) this.mempool.restore(e);
    if (entries.length > 0) this.log("mempool_recovered", { txs: entries.length });
  }

  private async commitGenesis(extraOps: KvOp[], timestampS: number | undefined): Promise<void> {
    const candidate = await this.builder.fromDiff({ ...this.nextBlockInputs(), ...(timestampS !== undefined ? { timestamp: timestampS } : {}) }, this.genesis.stateDiff);
    await this.commitCandidate(candidate, extraOps, []);
  }

  // --- listeners -------------------------------------------------------------------------

  /** Listen to committed blocks; returns the function that stops listening. */
  onBlock(f: (e: BlockEvent) => void): () => void {
    return this.blockListeners.add(f);
  }
  /**
   * Add writes of a subsystem to every block's own atomic batch (the trigger engine's watch list
   * and cursor): `f` sees the block before it is committed and returns its ops. It must not
   * throw; if it does, the error is logged and the block commits without its ops.
   */
  onBlockWrite(f: (e: BlockEvent) => KvOp[]): () => void {
    this.blockWriters.push(f);
    return () => {
      const i = this.blockWriters.indexOf(f);
      if (i >= 0) this.blockWriters.splice(i, 1);
    };
  }

  /** Listen to rollbacks; returns the function that stops listening. */
  onReorg(f: (e: ReorgEvent) => void): () => void {
    return this.reorgListeners.add(f);
  }

  // --- time ------------------------------------------------------------------------------

  /** Current chain time in seconds (clock + devnet offset). */
  nowS(): number {
    return Math.floor(this.clock() / 1000) + this.timeOffsetS;
  }

  /** devnet_setTime: the next block has exactly this timestamp; later ones follow the clock from there. */
  setTime(timeS: number): void {
    this.timeOffsetS = timeS - Math.floor(this.clock() / 1000);
    this.nextBlockTimestamp = timeS;
  }

  increaseTime(deltaS: number): void {
    this.timeOffsetS += deltaS;
    // A time set for the next block (devnet_setTime without a block) moves with it.
    if (this.nextBlockTimestamp !== null) this.nextBlockTimestamp += deltaS;
  }

  // --- submission ------------------------------------------------------------------------

  /**
   * Admission (admission.ts); resolves with the tx hash once it is in the WAL (and, in
   * cluster mode, replicated to etcd: an acknowledged transaction survives the leader).
   */
  async submit(parsed: BroadcastedTxn, opts: { operator?: boolean } = {}): Promise<Felt> {
    const tx = await this.admission.submit(parsed, opts);
    this.scheduleBlock();
    if (this.cluster !== null) {
      try {
        await this.cluster.replicateTx(tx.hash, tx.broadcast);
      } catch (e) {
        return this.withdrawUnreplicated(tx.hash, e);
      }
    }
    return tx.hash;
  }

  // --- cluster mode (sequencer/cluster/) ----------------------------------------------------

  private adopting = false;

  /** The cluster made this node the writer (token = its epoch) or a follower (null). */
  clusterWriterChanged(token: string | null): void {
    if (token !== null) {
      // The fencing token is the epoch: market data carries it, the oracle refuses older ones.
      this.epochValue = Number(token);
      this.log("cluster_writer", { epoch: this.epochValue });
      this.scheduleBlock();
    }
  }

  /**
   * Cluster mode: the replication of a just-admitted transaction failed, so the client gets an
   * error — and then this node must never include it. Under the production lock (after the
   * block in progress): if a committed block holds it (etcd has that block), the answer is its
   * hash after all; otherwise it leaves the mempool and the WAL, and `error` is thrown.
   */
  private withdrawUnreplicated(hash: Felt, error: unknown): Promise<Felt> {
    return this.underProduceLock(async () => {
      if ((await this.chain.getTx(hash)) !== undefined) return hash;
      const entry = this.mempool.get(hash);
      if (entry !== undefined) {
        await this.store.batch(this.mempool.removalOps([entry]));
        this.mempool.forget([entry]);
      }
      this.log("cluster_tx_withdrawn", { hash: toHex(hash), error: (error as Error).message });
      throw error;
    });
  }

  /** A scheduled block was not produced; losing the leadership on the way is expected (not an error). */
  private blockFailed(e: unknown): void {
    this.log(e instanceof NotLeaderError ? "block_not_leader" : "block_failed", { error: String(e) });
  }

  /** Resolves when no block is being built or committed. */
  async quiesce(): Promise<void> {
    while (this.building) await this.building;
    await this.produceLock;
  }

  /**
   * A new leader queues what the previous one acknowledged but did not include: each raw
   * transaction is admitted like a submission (skipping those already known or included;
   * one no longer valid is remembered as settled). Returns how many were queued.
   */
  async adoptReplicatedTxs(raws: readonly unknown[]): Promise<number> {
    let queued = 0;
    this.adopting = true;
    try {
      for (const raw of raws) {
        let hash: Felt | undefined;
        try {
          const parsed = parseBroadcastedTxn(raw, "replicated");
          hash = intake(parsed, this.chainId).hash;
          if (this.mempool.has(hash) || (await this.chain.getTx(hash)) !== undefined) continue;
          await this.admission.submit(parsed, { operator: true });
          queued++;
        } catch (e) {
          if (hash !== undefined) this.unadoptable.add(hash);
          this.log("cluster_adopt_refused", { hash: hash === undefined ? null : toHex(hash), error: (e as Error).message });
        }
      }
    } finally {
      this.adopting = false;
    }
    return queued;
  }

  /** A replicated transaction whose copy may go: in a block, dropped, or never includable here. */
  async txSettled(hash: Felt): Promise<boolean> {
    if (this.mempool.has(hash)) return false;
    return this.unadoptable.has(hash) || this.dropped.get(hash) !== undefined || (await this.chain.getTx(hash)) !== undefined;
  }

  /**
   * Follower: re-execute a block the leader committed to etcd, on the local head, and commit
   * it only if it yields the same block hash and state root (and drops nothing). Otherwise
   * BlockMismatchError, and nothing is written.
   */
  applyClusterBlock(record: ClusterBlock, inputs: BlockInputs): Promise<void> {
    return this.underProduceLock(async () => {
      const n = record.block_number;
      if (n !== this.world.nextBlockNumber()) throw new Error(`invariant violated: etcd block ${n} applied on head ${this.headNumber()}`);
      let txs;
      try {
        txs = record.txs.map((tx) => intake(tx, this.chainId));
      } catch (e) {
        throw new BlockMismatchError(n, `a transaction is malformed: ${(e as Error).message}`);
      }
      const candidate = await this.builder.execute(inputs, txs);
      if (candidate.dropped.length > 0) throw new BlockMismatchError(n, `${candidate.dropped.length} transaction(s) refused on re-execution, e.g. ${candidate.dropped[0]!.error.message}`);
      if (toHex(candidate.stateRoot) !== record.state_root) throw new BlockMismatchError(n, `state root ${toHex(candidate.stateRoot)}, the leader's is ${record.state_root}`);
      if (toHex(candidate.blockHash) !== record.block_hash) throw new BlockMismatchError(n, `block hash ${toHex(candidate.blockHash)}, the leader's is ${record.block_hash}`);
      // Local mempool entries this block includes, or whose nonce it used, leave with it.
      const included = new Set(txs.map((t) => t.hash));
      const nonceAfter = new Map<Felt, Felt>();
      for (const t of txs) nonceAfter.set(t.sender, t.exec.nonce + 1n);
      const removed = this.mempool.all().filter((e) => included.has(e.hash) || (nonceAfter.has(e.sender) && e.nonce < nonceAfter.get(e.sender)!));
      await this.commitCandidate(candidate, this.mempool.removalOps(removed), removed);
    });
  }

  /** appchain_pause / appchain_resume: refuse (or accept again) non-operator submissions. */
  setPaused(paused: boolean): void {
    this.pausedByOperator = paused;
    this.log(paused ? "node_paused" : "node_resumed");
  }

  get paused(): boolean {
    return this.pausedByOperator;
  }

  private operatorLock: Promise<unknown> = Promise.resolve();

  /**
   * Sign and submit an INVOKE from the operator account (market data, mints, runbook
   * actions). Serialized so nonces are consecutive.
   */
  submitOperatorInvoke(calls: ReadonlyArray<{ to: Felt; selector: Felt; calldata: readonly Felt[] }>): Promise<Felt> {
    const run = this.operatorLock.then(async () => {
      await this.dropUnreachableOperatorTxs();
      return this.submitSignedInvoke(this.genesis.operator.address, this.operatorKeys.privateKey, calls, { operator: true });
    });
    this.operatorLock = run.catch(() => {});
    return run;
  }

  /**
   * The operator's queued transactions that can never run (their nonces follow one that was
   * dropped) would make every later operator transaction wait forever behind them: drop them.
   */
  private async dropUnreachableOperatorTxs(): Promise<void> {
    const operator = this.genesis.operator.address;
    const dead = orphanedByDrop([{ sender: operator, nonce: this.world.getNonce(operator) }], (s) => this.mempool.queuedFor(s));
    if (dead.length === 0) return;
    await this.store.batch(this.mempool.removalOps(dead));
    this.mempool.forget(dead);
    this.recordDropped(dead.map((e) => ({ hash: e.hash, error: "an earlier operator transaction was dropped" })));
  }

  /** Sign an INVOKE v3 for `sender` with `privateKey` and submit it (nonce = next free). */
  async submitSignedInvoke(
    sender: Felt,
    privateKey: Felt,
    calls: ReadonlyArray<{ to: Felt; selector: Felt; calldata: readonly Felt[] }>,
    opts: { operator?: boolean } = {},
  ): Promise<Felt> {
    const nonce = this.mempool.nextNonceOf(sender) ?? this.world.getNonce(sender);
    const raw = unsignedInvokeJson(sender, nonce, calls, this.gasPrices);
    signInvokeJson(raw, this.chainId, privateKey);
    return this.submit(parseBroadcastedTxn(raw, "operator"), opts);
  }

  /** Resolves with the receipt once a block includes the transaction (or rejects when it is dropped). */
  waitForTx(hash: Felt, timeout_ms = 30_000): Promise<TxRecord> {
    const hex = toHex(hash);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        f();
      };
      const timer = setTimeout(() => finish(() => reject(new TransactionNotIncludedError(hex, `not included within ${timeout_ms} ms`))), timeout_ms);
      const stopBlocks = this.onBlock((e) => {
        const i = e.block.txHashes.indexOf(hex);
        if (i >= 0) return finish(() => resolve(e.txs[i]!));
      });
      // Dropped at block building or by a rollback (which no block may follow).
      const stopDrops = this.onDropped((h) => {
        if (h !== hash) return;
        const dropped = this.dropped.get(hash);
        finish(() => reject(new TransactionNotIncludedError(hex, `was dropped: ${dropped?.reason ?? "unknown reason"}`)));
      });
      const unsubscribe = () => {
        stopBlocks();
        stopDrops();
      };
      const already = this.dropped.get(hash);
      if (already !== undefined && !this.mempool.has(hash)) finish(() => reject(new TransactionNotIncludedError(hex, `was dropped: ${already.reason}`)));
      void this.chain.getTx(hash).then((t) => {
        if (t) finish(() => resolve(t));
      });
    });
  }

  /** Listen to transactions dropped without a block (their final status); returns the function that stops listening. */
  onDropped(f: (hash: Felt, status: TxStatus) => void): () => void {
    return this.droppedListeners.add(f);
  }

  private recordDropped(dropped: ReadonlyArray<{ hash: Felt; error: RpcError | string }>): void {
    const now_ms = this.clock();
    for (const d of dropped) {
      this.dropped.record(d.hash, d.error, now_ms);
      const reason = this.dropped.get(d.hash)!.reason;
      this.log("tx_dropped", { hash: toHex(d.hash), reason });
      this.droppedListeners.emit(d.hash, droppedStatus(reason));
    }
  }

  /** Why a transaction that left the mempool without a block was dropped. */
  rejectionOf(hash: Felt): string | undefined {
    return this.dropped.get(hash)?.reason;
  }

  /**
   * A transaction's status, or undefined when the node does not know it: RECEIVED while
   * queued, ACCEPTED_ON_L2 with its execution status once in a block, CANDIDATE + REVERTED
   * with the reason for a while after a block refused it (see DroppedTransactions).
   */
  async transactionStatus(hash: Felt): Promise<TxStatus | undefined> {
    // Mempool first: a transaction leaves it only after its block is written, so checking
    // the chain second cannot miss one moving from one to the other during the read.
    if (this.mempool.has(hash)) return { finality_status: "RECEIVED" };
    const t = await this.chain.getTx(hash);
    if (t !== undefined) {
      const out: TxStatus = { finality_status: "ACCEPTED_ON_L2", execution_status: t.receipt.execution_status as "SUCCEEDED" | "REVERTED" };
      if (t.receipt.revert_reason !== undefined) out.failure_reason = String(t.receipt.revert_reason);
      return out;
    }
    const d: DroppedRecord | undefined = this.dropped.reported(hash, this.clock());
    return d === undefined ? undefined : droppedStatus(d.reason);
  }

  // --- block production ------------------------------------------------------------------

  blockContext(blockNumber: number, timestampS: number): BlockContext {
    return this.builder.context({ number: blockNumber, timestamp: timestampS, gasPrices: this.gasPrices, sequencerAddress: SEQUENCER_ADDRESS });
  }

  /** Header inputs of the next block this node produces. */
  private nextBlockInputs(): BlockInputs {
    return {
      number: this.world.nextBlockNumber(),
      timestamp: this.nextBlockTimestamp ?? this.nowS(),
      gasPrices: this.gasPrices,
      gasPricesWei: this.gasPricesWei,
      sequencerAddress: SEQUENCER_ADDRESS,
      ...(this.autoImpersonate ? { unvalidatedSenders: "all" as const } : this.impersonated.size > 0 ? { unvalidatedSenders: new Set(this.impersonated) } : {}),
    };
  }

  private startBlockProduction(): void {
    const g = this.options.blockGeneration;
    if (g.mode === "interval") {
      this.intervalTimer = setInterval(() => {
        void this.createBlock().catch((e) => this.blockFailed(e));
      }, g.seconds * 1000);
      this.intervalTimer.unref();
    }
  }

  /** In "transaction" mode, build as soon as transactions are ready (batching under load). */
  private scheduleBlock(): void {
    if (this.options.blockGeneration.mode !== "transaction") return;
    if (this.building) {
      this.buildAgain = true;
      return;
    }
    this.building = (async () => {
      await new Promise((r) => setImmediate(r));
      let first = true;
      do {
        this.buildAgain = false;
        if (!this.lifecycle.isReady || this.fatalError || !this.mayProduce()) break;
        // Busy: let the next block gather what arrives until blockBatchMs after the last one
        // started; no wait when the last block took that long already, or left a backlog.
        if (!first && this.blockBatchMs > 0 && !this.lastBlock.full && this.mempool.size < this.maxTxsPerBlock) {
          await this.gatherUntil(this.lastBlock.startedAt + this.blockBatchMs);
        }
        first = false;
        const { ready } = this.mempool.ready((s) => this.world.getNonce(s), 1);
        if (ready.length === 0) break;
        await this.produceBlock().catch((e) => this.blockFailed(e));
      } while (this.buildAgain || this.mempool.ready((s) => this.world.getNonce(s), 1).ready.length > 0);
    })().finally(() => {
      this.building = null;
      // A submit that landed between the loop's last check and here only set buildAgain.
      if (this.buildAgain) this.scheduleBlock();
    });
  }

  /**
   * Let transactions gather for the next block until `until` (performance.now() time), but
   * only while they keep coming: after GATHER_QUIET_MS with no new arrival the load has paused
   * (or ended), and waiting longer would only delay the ones already queued.
   */
  private async gatherUntil(until: number): Promise<void> {
    let seen = this.mempool.arrivals;
    for (let left = until - performance.now(); left > 0; left = until - performance.now()) {
      await new Promise((r) => setTimeout(r, Math.min(GATHER_QUIET_MS, left)));
      if (this.mempool.arrivals === seen) return;
      seen = this.mempool.arrivals;
    }
  }

  /** Single node, or the cluster's leader. */
  private mayProduce(): boolean {
    return this.cluster === null || this.cluster.canWrite();
  }

  /** devnet_createBlock / interval mode: a block now, with whatever is ready (possibly empty). */
  async createBlock(): Promise<BlockRecord> {
    this.lifecycle.assertReady("block production");
    if (!this.mayProduce()) throw this.cluster!.notLeader("block production");
    while (this.building) await this.building;
    return this.produceBlock();
  }

  private produceLock: Promise<unknown> = Promise.resolve();

  private produceBlock(): Promise<BlockRecord> {
    return this.underProduceLock(() => this.produceBlockNow());
  }

  /** Run `f` after every block, rollback or reset queued before it; the next waits for it (success or not). */
  private underProduceLock<T>(f: () => Promise<T>): Promise<T> {
    const run = this.produceLock.then(f);
    this.produceLock = run.catch(() => {});
    return run;
  }

  private async produceBlockNow(): Promise<BlockRecord> {
    if (this.fatalError) throw new UnexpectedError(`block production stopped after a store failure: ${this.fatalError.message}`);
    const built_t0 = performance.now();
    const { ready: offered, stale } = this.mempool.ready((s) => this.world.getNonce(s), this.maxTxsPerBlock);
    if (!this.mayProduce()) throw this.cluster!.notLeader("block production");
    const candidate = await this.builder.execute(
      this.nextBlockInputs(),
      offered.map((e) => e.payload.tx),
      this.blockBudgetMs > 0 ? { ms: this.blockBudgetMs, now: () => performance.now(), sliceMs: EXECUTION_SLICE_MS } : undefined,
    );
    // What the budget left untaken stays queued, in order, for the next block.
    const ready = candidate.considered === offered.length ? offered : offered.slice(0, candidate.considered);
    this.lastBlock = { startedAt: built_t0, full: ready.length < offered.length || offered.length >= this.maxTxsPerBlock };
    const build_ms = performance.now() - built_t0;
    this.observe("block_build_seconds", build_ms / 1000);
    // Cluster mode: etcd first. A refused or unresolved commit throws here, before anything
    // is written: the candidate is dropped and the mempool keeps its transactions.
    if (this.cluster !== null) await this.cluster.commitBlock(candidate);
    // Every ready entry leaves the mempool (included or dropped by the block), and so does every stale one.
    const removed = [...ready, ...stale];
    const dropped: Array<{ hash: Felt; error: RpcError | string }> = [
      ...stale.map((e) => ({ hash: e.hash, error: "nonce already used" })),
      ...candidate.dropped.map((d) => ({ hash: d.tx.hash, error: d.error })),
    ];
    const block = await this.commitCandidate(candidate, this.mempool.removalOps(removed), removed, dropped);
    this.nextBlockTimestamp = null;
    // `--verbose`: one line a block, with where its time went (build = execution and sealing;
    // total = from taking the mempool's ready list to the batch on disk).
    this.log("block", {
      number: block.header.block_number,
      txs: candidate.txs.length,
      dropped: dropped.length,
      left_queued: this.mempool.size,
      build_ms: Math.round(build_ms),
      total_ms: Math.round(performance.now() - built_t0),
    });
    return block;
  }

  /** Commit a built block with `extraOps`, forget the mempool entries it removes, tell listeners. */
  private async commitCandidate(
    candidate: Awaited<ReturnType<BlockBuilder["execute"]>>,
    extraOps: KvOp[],
    removedEntries: Array<MempoolEntry<NodeTx>>,
    dropped: Array<{ hash: Felt; error: RpcError | string }> = [],
  ): Promise<BlockRecord> {
    const commit_t0 = performance.now();
    const event: BlockEvent = { block: candidate.block, txs: candidate.txs as TxRecord[], stored: candidate.stored.txs };
    const ops = this.blockWriters.length === 0 ? extraOps : [...extraOps, ...this.blockWriters.flatMap((w) => this.blockWrites(w, event))];
    try {
      await this.builder.commit(candidate, ops);
      this.observe("block_commit_seconds", (performance.now() - commit_t0) / 1000);
    } catch (e) {
      this.fatal = e as Error;
      this.log("store_write_failed", { block: candidate.inputs.number, error: (e as Error).message });
      throw new UnexpectedError(`block ${candidate.inputs.number} could not be written; block production stopped: ${(e as Error).message}`);
    }
    this.mempool.forget(removedEntries);
    // Before the block listeners: one waiting for a dropped transaction learns it from this block.
    this.recordDropped(dropped);
    this.stats.txsIncluded += event.txs.length;
    this.blockListeners.emit(event);
    return event.block;
  }

  private blockWrites(writer: (e: BlockEvent) => KvOp[], event: BlockEvent): KvOp[] {
    try {
      return writer(event);
    } catch (e) {
      this.log("block_writer_failed", { block: event.block.header.block_number, error: String(e) });
      return [];
    }
  }

  // --- reads -----------------------------------------------------------------------------

  /** A view call against the committed head. */
  callView(to: Felt, selector: Felt, calldata: readonly Felt[], ctx = this.blockContext(this.headNumber() + 1, this.nowS())): Felt[] {
    return callView(this.world, this.registry, { contractAddress: to, entryPointSelector: selector, calldata }, ctx);
  }

  headNumber(): number {
    return this.world.head()!.blockNumber;
  }

  /** State after block `n` (sync reader). */
  async stateAt(n: number): Promise<StateReader> {
    const world = this.world;
    try {
      return await world.readerAt(n);
    } catch (e) {
      // devnet_load / devnet_restart replaced the chain (on --db: rewrote the store under the old
      // world state) while its diffs were being read: the block asked for is not this chain's.
      if (this.world !== world && !(e instanceof RpcError)) throw new BlockNotFoundError(`the chain was replaced while the state at block ${n} was read`);
      throw e;
    }
  }

  // --- rollback --------------------------------------------------------------------------

  /**
   * Move the head back to block `target` in one atomic batch: reverse diffs applied,
   * later blocks/txs removed, their transactions re-queued (or dropped) and listed.
   */
  async rollbackTo(target: number, policy: "requeue" | "drop" = "drop"): Promise<RollbackResult> {
    if (this.cluster === null) return this.rollbackLocally(target, policy);
    this.assertRollbackTarget(target);
    return this.cluster.rollback(target, policy, () => this.rollbackLocally(target, policy));
  }

  private assertRollbackTarget(target: number): void {
    if (!this.lifecycle.isReady) throw new RollbackRefusedError(`node is ${this.lifecycle.state}`);
    const head = this.headNumber();
    if (!Number.isInteger(target) || target < 0) throw new RollbackRefusedError(`block ${target} is before genesis`);
    if (target > head) throw new RollbackRefusedError(`block ${target} is above the head ${head}`);
    const oldest = this.world.oldestStateBlock();
    if (target < oldest) {
      throw new RollbackRefusedError(`block ${target} is outside the retention window (the state of the last ${this.world.retentionBlocks} blocks and of snapshots is kept; oldest: block ${oldest})`);
    }
  }

  /** The rollback of this node's own store (a cluster follower runs it when etcd's head moves back). */
  async rollbackLocally(target: number, policy: "requeue" | "drop" = "drop"): Promise<RollbackResult> {
    const t0 = performance.now();
    this.assertRollbackTarget(target);
    while (this.building) await this.building;
    // Operator submissions in flight land first and none starts meanwhile: one that picked its
    // nonce before the rollback and queued after it would follow a dropped nonce.
    const run = Promise.all([this.produceLock, this.operatorLock]).then(async () => {
      // The head may have moved while waiting (devnet_restart / devnet_load replace the chain).
      if (target > this.headNumber()) throw new RollbackRefusedError(`block ${target} is above the head ${this.headNumber()}`);
      const prepared = await this.world.prepareRollback(target);
      const snaps = this.snapshotStore.opsForRollback(target);
      const targetBlock = await this.chain.getBlock(target);
      if (targetBlock === undefined) throw new Error(`block ${target} is missing`);
      const { ops, removed } = await this.chain.opsForRemovingBlocks(prepared.removedBlocks);
      const removedTxs: TxRecord[] = [];
      for (const b of removed) removedTxs.push(...(await this.chain.getTxs(b.txHashes)));
      removedTxs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      let requeue: Array<Omit<MempoolEntry<NodeTx>, "seq">> = [];
      if (policy === "requeue") {
        const stored = await this.chain.getStoredTxs(removedTxs.map((r) => BigInt(r.transaction.transaction_hash)));
        requeue = stored.map((s) => {
          const tx = intake(s.tx, this.chainId);
          return { hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { tx } };
        });
      }
      const relog = this.mempool.relog(requeue);
      // Queued transactions whose nonces followed dropped ones can never run: drop them too.
      const orphans = policy === "drop" ? orphanedByDrop(removedTxs.map(removedSenderNonce), (s) => this.mempool.queuedFor(s)) : [];
      await this.world.rollback(prepared, { blockHash: BigInt(targetBlock.header.block_hash), extraOps: [...ops, ...relog.ops, ...snaps.ops, ...this.mempool.removalOps(orphans)] });
      this.chain.forgetFrom(target + 1, removed);
      this.snapshotStore.forget(snaps.names);
      for (const e of relog.entries) this.mempool.restore(e);
      this.mempool.forget(orphans);
      const lowest = removed[removed.length - 1];
      const highest = removed[0];
      const ev: ReorgEvent = {
        startingBlock: { number: lowest?.header.block_number ?? target + 1, hash: lowest?.header.block_hash ?? "0x0" },
        endingBlock: { number: highest?.header.block_number ?? target + 1, hash: highest?.header.block_hash ?? "0x0" },
        removedTxs: removedTxs.map((r) => r.transaction.transaction_hash),
        requeued: relog.entries.map((e) => toHex(e.hash)),
      };
      return { ev, keysChanged: prepared.keysChanged, orphans, removedBlockHashes: removed.map((b) => b.header.block_hash) };
    });
    this.produceLock = run.catch(() => {});
    this.operatorLock = this.produceLock;
    const { ev, keysChanged, orphans, removedBlockHashes } = await run;
    const requeued = new Set(ev.requeued);
    this.reorgListeners.emit(ev);
    this.recordDropped(ev.removedTxs.filter((h) => !requeued.has(h)).map((h) => ({ hash: BigInt(h), error: `removed by a rollback to block ${target}` })));
    this.recordDropped(orphans.map((o) => ({ hash: o.hash, error: `its nonce followed transactions a rollback to block ${target} removed` })));
    return { ...ev, rollbackMs: performance.now() - t0, keysChanged, removedBlockHashes };
  }

  // --- devnet controls (devnet_restart, devnet_load, devnet_setGasPrice) -------------------
  // Kept apart from block production: each waits for the block in progress, then acts under
  // the production lock, so no block is half-built across a reset.

  private readonly initialGasPrices: { fri: GasPrices; wei: GasPrices };
  private worldOptions: WorldStateOptions;
  /** Every entry of the in-memory store at markPristine(); devnet_restart puts them back. */
  private pristine: ReadonlyArray<readonly [Uint8Array, Uint8Array]> | null = null;

  /** An --in-memory node: a throw-away devnet. A --db chain is persistent (an appchain). */
  get isInMemory(): boolean {
    return this.store instanceof MemoryKvStore;
  }

  /** Remember the in-memory chain as it is now (after genesis and its first blocks) for restart(). */
  async markPristine(): Promise<void> {
    if (!(this.store instanceof MemoryKvStore)) return;
    const entries: Array<readonly [Uint8Array, Uint8Array]> = [];
    for await (const [k, v] of this.store.iterator({})) entries.push([k, v]);
    this.pristine = entries;
  }

  /**
   * devnet_restart. In memory: the store markPristine() saw is swapped back in (cost: the size
   * of that state, not the length of the chain). On a --db chain: a rollback to genesis (block
   * 0) with the mempool dropped; snapshots above genesis go with it, as with any rollback.
   * Either way gas prices, time offset and impersonation are back to the start values, and
   * reorg listeners hear of the removed blocks.
   */
  async restart(): Promise<ReorgEvent | null> {
    this.lifecycle.assertReady("restart");
    if (this.pristine !== null) {
      const fresh = new MemoryKvStore();
      await fresh.batch(this.pristine.map(([key, value]) => ({ type: "put" as const, key, value })));
      return this.resetTo(fresh);
    }
    while (this.building) await this.building;
    const queued = this.mempool.all();
    await this.store.batch(this.mempool.removalOps(queued));
    this.mempool.forget(queued);
    const ev = this.headNumber() > 0 ? await this.rollbackTo(0, "drop") : null;
    this.resetDevnetState();
    return ev;
  }

  /**
   * Replace the running chain by the one in `source` (a loaded dump, or the pristine copy):
   * in memory the store is swapped; on disk every key is replaced in one atomic batch (head
   * last). The mempool is emptied; the chain must have this node's genesis parameters.
   */
  async resetTo(source: MemoryKvStore): Promise<ReorgEvent | null> {
    this.lifecycle.assertReady("chain reset");
    while (this.building) await this.building;
    const ev = await this.underProduceLock(async () => {
      const rawGenesis = await source.get(META_GENESIS);
      if (rawGenesis !== undefined) assertSameGenesis(unpack(rawGenesis) as StoredGenesis, this.options);
      let world = await WorldState.open(source, this.worldOptions);
      const newHead = world.head();
      if (newHead === null) throw new Error("the chain to load has no head block");
      const ev = await reorgBetween(this.chain, new ChainStore(source), this.headNumber(), newHead.blockNumber);
      let store: KvStore = source;
      if (this.store instanceof MemoryKvStore) {
        await source.batch([{ type: "put", key: META_EPOCH, value: pack(this.epoch) }]);
      } else {
        const ops: KvOp[] = [];
        for await (const [k] of this.store.iterator({})) if (!sameBytes(k, META_EPOCH)) ops.push({ type: "del", key: k });
        let headOp: KvOp | null = null;
        for await (const [k, v] of source.iterator({})) {
          if (sameBytes(k, META_EPOCH)) continue;
          if (k[0] === Column.head) headOp = { type: "put", key: k, value: v };
          else ops.push({ type: "put", key: k, value: v });
        }
        ops.push(headOp!);
        await this.store.batch(ops);
        store = this.store;
        world = await WorldState.open(store, this.worldOptions);
      }
      const snapshots = await SnapshotStore.open(store);
      const old = this.store;
      this.store = store;
      this.world = world;
      this.chain = new ChainStore(store);
      this.mempool = walMempool(store);
      this.snapshotStore = snapshots;
      this.wireSubsystems();
      if (old !== store) await old.close();
      this.resetDevnetState();
      return ev;
    });
    if (ev) this.reorgListeners.emit(ev);
    return ev;
  }

  /** devnet_setGasPrice: prices of the next block, of admission and of fee estimates. */
  setGasPrices(fri: Partial<GasPrices>, wei: Partial<GasPrices> = {}): void {
    this.gasPrices = { ...this.gasPrices, ...fri };
    this.gasPricesWei = { ...this.gasPricesWei, ...wei };
  }

  /** Senders whose transactions skip signature validation (devnet_impersonateAccount, devnet_autoImpersonate). */
  private readonly impersonated = new Set<Felt>();
  private autoImpersonate = false;

  isImpersonated(sender: Felt): boolean {
    return this.autoImpersonate || (this.impersonated.size > 0 && this.impersonated.has(sender));
  }

  /** Only a throw-away chain may skip signatures: refused on a persistent (--db) chain. */
  setImpersonation(change: { account: Felt; on: boolean } | { auto: boolean }): void {
    const on = "auto" in change ? change.auto : change.on;
    if (on && !this.isInMemory) throw new NotSupportedError("account impersonation is a devnet cheat, allowed only on an --in-memory node; this chain is persistent (--db)");
    if ("auto" in change) this.autoImpersonate = change.auto;
    else if (change.on) this.impersonated.add(change.account);
    else this.impersonated.delete(change.account);
  }

  private resetDevnetState(): void {
    this.pausedByOperator = false;
    this.impersonated.clear();
    this.autoImpersonate = false;
    this.timeOffsetS = 0;
    this.nextBlockTimestamp = null;
    this.gasPrices = this.initialGasPrices.fri;
    this.gasPricesWei = this.initialGasPrices.wei;
  }

  // --- shutdown --------------------------------------------------------------------------

  /** Finish the block in progress, stop production, close the store. */
  async stop(): Promise<void> {
    if (this.lifecycle.state === "stopped") return;
    if (this.lifecycle.state === "ready") this.lifecycle.advance("draining");
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    while (this.building) await this.building;
    await this.produceLock;
    this.lifecycle.advance("stopped");
    await this.world.settle(); // a pruning step in progress
    await this.hashPool?.close();
    await this.store.close();
  }
}

/** The final status of a transaction a block refused (see DroppedTransactions). */
function droppedStatus(reason: string): TxStatus {
  return { finality_status: "CANDIDATE", execution_status: "REVERTED", failure_reason: `dropped: ${reason}` };
}

/** Sender and nonce of a removed transaction (DEPLOY_ACCOUNT: the deployed address, nonce 0). */
function removedSenderNonce(r: TxRecord): { sender: Felt; nonce: Felt } {
  const t = r.transaction as { sender_address?: string; nonce?: string };
  const sender = t.sender_address ?? (r.receipt.contract_address as string | undefined) ?? "0x0";
  return { sender: BigInt(sender), nonce: BigInt(t.nonce ?? "0x0") };
}

export { RpcError };

interface StoredGenesis {
  seed: number;
  accounts: number;
  initialBalance: string;
  initialUsdc: string;
  chainId: string;
}

/** A chain built with other genesis parameters would not match this node's keys and predeploys. */
function assertSameGenesis(g: StoredGenesis, o: PerpchainNode["options"]): void {
  const diffs: string[] = [];
  if (g.seed !== o.seed) diffs.push(`--seed ${g.seed}`);
  if (g.accounts !== o.accounts) diffs.push(`--accounts ${g.accounts}`);
  if (BigInt(g.initialBalance) !== o.initialBalance) diffs.push(`--initial-balance ${g.initialBalance}`);
  if (BigInt(g.initialUsdc) !== o.initialUsdc) diffs.push(`initial USDC ${g.initialUsdc}`);
  if (g.chainId !== o.chainId) diffs.push(`--chain-id ${g.chainId}`);
  if (diffs.length > 0) throw new RollbackRefusedError(`the chain was created with ${diffs.join(", ")}; start a node with those flags to load it`);
}

/** The blocks of `oldChain` that `newChain` does not have (same number, same hash), as a reorg. */
async function reorgBetween(oldChain: ChainStore, newChain: ChainStore, oldHead: number, newHead: number): Promise<ReorgEvent | null> {
  let common = Math.min(oldHead, newHead);
  while (common >= 0 && (await oldChain.getBlock(common))?.header.block_hash !== (await newChain.getBlock(common))?.header.block_hash) common--;
  if (common >= oldHead) return null;
  const removedTxs: string[] = [];
  for (let n = common + 1; n <= oldHead; n++) removedTxs.push(...((await oldChain.getBlock(n))?.txHashes ?? []));
  const first = (await oldChain.getBlock(common + 1))!.header;
  const last = (await oldChain.getBlock(oldHead))!.header;
  return {
    startingBlock: { number: first.block_number, hash: first.block_hash },
    endingBlock: { number: last.block_number, hash: last.block_hash },
    removedTxs,
    requeued: [],
  };
}

/** The durable mempool over `store`: each entry's WAL record is its hash and broadcast transaction. */
function walMempool(store: KvStore): Mempool<NodeTx> {
  return new Mempool<NodeTx>(store, (e) => encodeWalEntry({ hash: e.hash, tx: e.payload.tx.broadcast }));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

