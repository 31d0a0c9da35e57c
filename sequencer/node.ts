// The perpchain node: store, world state, chain records, durable mempool and block
// production, composed, with the lifecycle of DESIGN §8. The RPC layer and the devnet
// CLI drive it; it never formats JSON-RPC errors itself (it throws typed errors).
//
// Data flows one way: submit → WAL → mempool → block (execute, commit roots, one atomic
// batch with the head pointer last) → listeners (WS, market data, trigger engine).

import { pack, unpack } from "msgpackr";
import { buildGenesis, type Genesis, type Predeploy, type GenesisAddresses } from "../contracts/genesis.js";
import { accountClass } from "../contracts/account.js";
import { erc20Class } from "../contracts/erc20.js";
import { ClassRegistry } from "../contracts/runtime/class-registry.js";
import { mapEntryAddress, storageVarAddress } from "../contracts/runtime/index.js";
import { RuntimeError, TransactionRejection } from "../contracts/runtime/errors.js";
import type { GasPrices } from "../contracts/runtime/gas.js";
import { callView, executeTransaction, maxFeeOf, type BlockContext, type TransactionExecution } from "../contracts/runtime/transaction-executor.js";
import { computeBlockHeader, CURRENT_STARKNET_VERSION } from "../state/block-hash.js";
import { Column, key } from "../state/columns.js";
import { hashBackend, selectorFromName } from "../state/crypto/hash.js";
import { HashPool } from "../state/crypto/hash-pool.js";
import { encodeShortString, toHex, type Felt } from "../state/felt.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { MemoryKvStore } from "../state/kv-store.js";
import { LevelKvStore } from "../state/level-store.js";
import { contractStateHash, globalStateRoot, STATE_TRIE_HEIGHT } from "../state/state-commitment.js";
import type { StateReader } from "../state/state-diff.js";
import { collectProofNodes, verifyProofPath } from "../state/storage-proof.js";
import { DEFAULT_RETENTION_BLOCKS, WorldState } from "../state/world-state.js";
import { ChainStore, type BlockRecord, type TxRecord } from "./chain-store.js";
import {
  DuplicateTxError,
  RollbackRefusedError,
  InsufficientAccountBalanceError,
  InsufficientResourcesForValidateError,
  InvalidTransactionNonceError,
  NodePausedError,
  RpcError,
  UnexpectedError,
  ValidationFailureError,
  ClassHashNotFoundError,
  UnsupportedTxVersionError,
} from "./errors.js";
import { Lifecycle } from "./lifecycle.js";
import { Mempool, type MempoolEntry } from "./mempool.js";
import { PendingState } from "./pending-state.js";
import { SnapshotStore } from "./snapshots.js";
import { installVerifyCache } from "./verify-cache.js";
import { deriveAccountKeys, type AccountKeys } from "./predeployed-accounts.js";
import { parseBroadcastedTxn, type BroadcastedTxn } from "./rpc/params.js";
import { intake, unsignedInvokeJson, type IntakeTx } from "./tx-intake.js";
import { blockJson, stateDiffJson, receiptJson, traceJson } from "./rpc-json.js";

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
  /** Extra genesis contracts (oracle, exchange). */
  extraPredeploys?: (addresses: GenesisAddresses) => readonly Predeploy[];
  /** Classes that are not predeployed but can be deployed (UDC / deploy_account). */
  extraClasses?: ConstructorParameters<typeof ClassRegistry>[0];
  maxTxsPerBlock?: number;
  /**
   * In "transaction" mode, while blocks follow each other back to back (the node is busy),
   * wait this long before the next block so it collects the transactions arriving
   * meanwhile. The first block after an idle period is built at once. Default 150 ms.
   */
  blockBatchMs?: number;
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
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface NodeTx {
  raw: unknown;
  tx: IntakeTx;
}

export interface BlockEvent {
  block: BlockRecord;
  txs: TxRecord[];
}

export interface ReorgEvent {
  startingBlock: { number: number; hash: string };
  endingBlock: { number: number; hash: string };
  removedTxs: string[];
  requeued: string[];
}

/** Sequencer address used in block headers and as the fee recipient. */
export const SEQUENCER_ADDRESS: Felt = 0x1000n;
export const DEFAULT_GAS_PRICES: GasPrices = { l1_gas: 100_000_000_000n, l1_data_gas: 1_000_000n, l2_gas: 1_000_000_000n };
const META_EPOCH = key(Column.nodeMeta, Buffer.from("epoch"));
const META_GENESIS = key(Column.nodeMeta, Buffer.from("genesis"));

export class PerpchainNode {
  readonly lifecycle = new Lifecycle();
  readonly mempool: Mempool<NodeTx>;
  readonly chain: ChainStore;
  snapshots!: SnapshotStore;
  hashPool: HashPool | null = null;
  readonly blockBatchMs: number;
  epoch = 0;
  paused = false;
  /** Set when a block commit failed: production stops until restart. */
  fatalError: Error | null = null;
  private timeOffsetS = 0;
  private nextBlockTimestamp: number | null = null;
  private building: Promise<void> | null = null;
  private buildAgain = false;
  private intervalTimer: NodeJS.Timeout | null = null;
  private readonly blockListeners: Array<(e: BlockEvent) => void> = [];
  private readonly reorgListeners: Array<(e: ReorgEvent) => void> = [];
  private readonly rejected = new Map<string, string>();
  readonly clock: () => number;
  readonly gasPrices: GasPrices;
  readonly stats = { blocksProduced: 0, txsIncluded: 0, txsRejected: 0 };
  /** Extra Prometheus lines from other components (market data, ...). */
  readonly extraMetrics: Array<() => string[]> = [];
  readonly maxTxsPerBlock: number;

  private constructor(
    readonly store: KvStore,
    readonly world: WorldState,
    readonly genesis: Genesis,
    readonly accountKeys: AccountKeys[],
    readonly operatorKeys: AccountKeys,
    readonly options: Required<Pick<NodeOptions, "seed" | "accounts" | "initialBalance" | "initialUsdc" | "chainId" | "blockGeneration">>,
    opts: NodeOptions,
  ) {
    this.chain = new ChainStore(store);
    this.mempool = new Mempool<NodeTx>(store, (p) => p.raw);
    this.clock = opts.clock ?? Date.now;
    this.gasPrices = opts.gasPrices ?? DEFAULT_GAS_PRICES;
    this.maxTxsPerBlock = opts.maxTxsPerBlock ?? 2_000;
    this.blockBatchMs = opts.blockBatchMs ?? 150;
    this.log = opts.log ?? (() => {});
  }

  readonly log: (event: string, fields?: Record<string, unknown>) => void;

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
    // A restarted node keeps the genesis parameters it was created with.
    const storedGenesis = await store.get(META_GENESIS);
    const params = storedGenesis
      ? (unpack(storedGenesis) as { seed: number; accounts: number; initialBalance: string; initialUsdc: string; chainId: string })
      : {
          seed: opts.seed ?? 0,
          accounts: opts.accounts ?? 10,
          initialBalance: String(opts.initialBalance ?? 1_000_000_000_000_000_000_000n),
          initialUsdc: String(opts.initialUsdc ?? 1_000_000_000_000n),
          chainId: opts.chainId ?? "SN_SEPOLIA",
        };
    const accountKeys = deriveAccountKeys(params.seed, params.accounts);
    const [operatorKeys] = deriveAccountKeys(params.seed, 1, 1_000_000);
    const genesis = buildGenesis({
      chainId: encodeShortString(params.chainId),
      accounts: accountKeys.map((k) => ({ publicKey: k.publicKey, strkBalance: BigInt(params.initialBalance), usdcBalance: BigInt(params.initialUsdc) })),
      operatorPublicKey: operatorKeys!.publicKey,
      operatorStrkBalance: 10n ** 30n,
      extraPredeploys: opts.extraPredeploys,
    });
    for (const c of opts.extraClasses ?? []) genesis.registry.register(c);

    const epochRaw = await store.get(META_EPOCH);
    const epoch = (epochRaw ? (unpack(epochRaw) as number) : 0) + 1;
    await store.batch([{ type: "put", key: META_EPOCH, value: pack(epoch) }]);

    const threads = opts.hashThreads ?? 0;
    const pool = threads > 0 ? new HashPool({ threads, inlineHashesBelow: 256, offload: true }) : null;
    const world = await WorldState.open(store, {
      retentionBlocks: opts.retentionBlocks ?? DEFAULT_RETENTION_BLOCKS,
      onPruneError: (e) => opts.log?.("state_prune_failed", { error: e.message }),
      ...(pool ? { nodeTableHasher: (k, t, f, p) => pool.hashNodeTable(k, t, f, p) } : {}),
    });
    const node = new PerpchainNode(
      store,
      world,
      genesis,
      accountKeys,
      operatorKeys!,
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
    node.epoch = epoch;
    node.hashPool = pool;
    node.snapshots = await SnapshotStore.open(store);
    // Snapshots pin their block's state: pruning stops below the oldest one.
    world.setHistoryPins(() => node.snapshots.list().map((s) => s.block_number));
    node.lifecycle.advance("recovering");
    if (world.head() === null) {
      await node.commitGenesis(storedGenesis === undefined ? [{ type: "put", key: META_GENESIS, value: pack(params) }] : []);
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

  private async recoverMempool(): Promise<void> {
    const entries = await this.mempool.recover((raw) => {
      const o = raw as { payload: unknown };
      const parsed = parseBroadcastedTxn(o.payload, "wal");
      const tx = intake(parsed, this.chainId);
      return { hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { raw: o.payload, tx } };
    });
    for (const e of entries) this.mempool.restore(e);
    if (entries.length > 0) this.log("mempool_recovered", { txs: entries.length });
  }

  private async commitGenesis(extraOps: KvOp[]): Promise<void> {
    await this.commitBlock([], [], extraOps, this.genesis.stateDiff);
  }

  // --- listeners -------------------------------------------------------------------------

  /** Listen to committed blocks; returns the function that stops listening. */
  onBlock(f: (e: BlockEvent) => void): () => void {
    this.blockListeners.push(f);
    return () => {
      const i = this.blockListeners.indexOf(f);
      if (i >= 0) this.blockListeners.splice(i, 1);
    };
  }
  onReorg(f: (e: ReorgEvent) => void): void {
    this.reorgListeners.push(f);
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
  }

  // --- submission ------------------------------------------------------------------------

  /** Hashes whose submission is between its duplicate check and its WAL write. */
  private readonly submitting = new Set<Felt>();

  /** Validate, log durably, queue. Resolves with the tx hash once it is in the WAL. */
  async submit(raw: unknown, parsed: BroadcastedTxn, opts: { operator?: boolean } = {}): Promise<Felt> {
    this.lifecycle.assertReady("transaction");
    if (this.paused && !opts.operator) throw new NodePausedError("the exchange is paused by the operator");
    if (parsed.isQuery) throw new UnsupportedTxVersionError();
    if (this.fatalError) throw new UnexpectedError(`block production stopped after a store failure: ${this.fatalError.message}`);
    const tx = intake(parsed, this.chainId);
    // `submitting`: the same tx sent twice at once would otherwise pass both checks while the
    // first one's WAL write is in flight, and be logged (and acknowledged) twice.
    if (this.mempool.has(tx.hash) || this.submitting.has(tx.hash)) throw new DuplicateTxError();
    this.submitting.add(tx.hash);
    try {
      // An included transaction has used its nonce: only a stale nonce can be a duplicate.
      if (tx.exec.nonce < this.world.getNonce(tx.sender) && (await this.chain.getTx(tx.hash)) !== undefined) throw new DuplicateTxError();
      this.prevalidate(tx);
      await this.mempool.add({ hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { raw, tx } });
    } finally {
      this.submitting.delete(tx.hash);
    }
    this.rejected.delete(toHex(tx.hash));
    this.scheduleBlock();
    return tx.hash;
  }

  /** Cheap admission checks against committed state (the block re-checks everything). */
  private prevalidate(tx: IntakeTx): void {
    const state = this.world;
    const accountNonce = state.getNonce(tx.sender);
    if (tx.exec.nonce < accountNonce) throw new InvalidTransactionNonceError(`account nonce is ${toHex(accountNonce)}, transaction has ${toHex(tx.exec.nonce)}`);
    const queuedNext = this.mempool.nextNonceOf(tx.sender) ?? accountNonce;
    if (tx.exec.nonce > queuedNext + 64n) throw new InvalidTransactionNonceError(`nonce ${toHex(tx.exec.nonce)} is too far ahead of ${toHex(queuedNext)}`);
    const block = this.blockContext(this.world.nextBlockNumber(), this.nowS());
    const maxFee = maxFeeOf(tx.exec.resourceBounds, tx.exec.tip);
    if (tx.exec.resourceBounds.l2Gas.maxPricePerUnit < this.gasPrices.l2_gas) throw new InsufficientResourcesForValidateError(`max L2 gas price ${tx.exec.resourceBounds.l2Gas.maxPricePerUnit} is below the block price ${this.gasPrices.l2_gas}`);
    if (tx.exec.type === "DEPLOY_ACCOUNT") {
      if (!this.registry.get(tx.exec.classHash)) throw new ClassHashNotFoundError();
      if (state.getClassHash(tx.sender) !== 0n) throw new ValidationFailureError(`a contract is already deployed at ${toHex(tx.sender)}`);
    } else {
      if (state.getClassHash(tx.sender) === 0n) throw new ValidationFailureError(`account ${toHex(tx.sender)} is not deployed`);
      if (state.getClassHash(tx.sender) === accountClass.classHash) {
        // Our own account class: its is_valid_signature is exactly this check (stark ECDSA
        // of the hash under Account_public_key), without running a call frame.
        const sig = tx.exec.signature;
        const pk = state.getStorage(tx.sender, ACCOUNT_PUBLIC_KEY_SLOT);
        if (sig.length !== 2 || !hashBackend().ecdsaVerify(tx.hash, sig[0]!, sig[1]!, pk)) throw new ValidationFailureError("invalid signature");
      } else {
        // Any other SNIP-6 account: ask the account itself.
        let valid: Felt[];
        try {
          valid = callView(state, this.registry, { contractAddress: tx.sender, entryPointSelector: IS_VALID_SIGNATURE, calldata: [tx.hash, BigInt(tx.exec.signature.length), ...tx.exec.signature] }, block);
        } catch (e) {
          throw new ValidationFailureError(e instanceof Error ? e.message : String(e));
        }
        if (valid[0] !== VALID) throw new ValidationFailureError("invalid signature");
      }
    }
    const balance = this.feeBalance(state, tx.sender, block);
    if (balance < maxFee && tx.exec.type === "INVOKE") throw new InsufficientAccountBalanceError(`balance ${balance} is below the max fee ${maxFee}`);
  }

  private feeBalance(state: StateReader, address: Felt, block: BlockContext): bigint {
    if (state.getClassHash(block.feeTokenAddress) === erc20Class.classHash) {
      // Our ERC20: the u256 balance at ERC20_balances[address] (low, high).
      const slot = mapEntryAddress(ERC20_BALANCES_BASE, [address]);
      return state.getStorage(block.feeTokenAddress, slot) + (state.getStorage(block.feeTokenAddress, slot + 1n) << 128n);
    }
    const r = callView(state, this.registry, { contractAddress: block.feeTokenAddress, entryPointSelector: BALANCE_OF, calldata: [address] }, block);
    return r[0]! + (r[1]! << 128n);
  }

  private operatorLock: Promise<unknown> = Promise.resolve();

  /**
   * Sign and submit an INVOKE from the operator account (market data, mints, runbook
   * actions). Serialized so nonces are consecutive.
   */
  submitOperatorInvoke(calls: ReadonlyArray<{ to: Felt; selector: Felt; calldata: readonly Felt[] }>): Promise<Felt> {
    const run = this.operatorLock.then(() => this.submitSignedInvoke(this.genesis.operator.address, this.operatorKeys.privateKey, calls, { operator: true }));
    this.operatorLock = run.catch(() => {});
    return run;
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
    const unsigned = parseBroadcastedTxn(raw, "operator");
    const hash = intake(unsigned, this.chainId).hash;
    const sig = hashBackend().ecdsaSign(hash, privateKey);
    raw.signature = [toHex(sig.r), toHex(sig.s)];
    return this.submit(raw, parseBroadcastedTxn(raw, "operator"), opts);
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
      const timer = setTimeout(() => finish(() => reject(new Error(`transaction ${hex} not included within ${timeout_ms} ms`))), timeout_ms);
      const unsubscribe = this.onBlock((e) => {
        const found = e.txs.find((t) => t.transaction.transaction_hash === hex);
        if (found) return finish(() => resolve(found));
        const rejected = this.rejected.get(hex);
        if (rejected !== undefined) finish(() => reject(new Error(`transaction ${hex} was rejected: ${rejected}`)));
      });
      void this.chain.getTx(hash).then((t) => {
        if (t) finish(() => resolve(t));
      });
    });
  }

  /** Why a transaction that left the mempool without a block was dropped. */
  rejectionOf(hash: Felt): string | undefined {
    return this.rejected.get(toHex(hash));
  }

  // --- block production ------------------------------------------------------------------

  blockContext(blockNumber: number, timestampS: number): BlockContext {
    return {
      blockNumber: BigInt(blockNumber),
      blockTimestamp: BigInt(timestampS),
      sequencerAddress: SEQUENCER_ADDRESS,
      chainId: this.chainId,
      gasPrices: this.gasPrices,
      feeTokenAddress: this.feeTokenAddress,
    };
  }

  private startBlockProduction(): void {
    const g = this.options.blockGeneration;
    if (g.mode === "interval") {
      this.intervalTimer = setInterval(() => {
        void this.createBlock().catch((e) => this.log("block_failed", { error: String(e) }));
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
        if (!this.lifecycle.isReady || this.fatalError) break;
        // Busy: let the next block gather what arrives while it waits (bounded by a full block).
        if (!first && this.blockBatchMs > 0 && this.mempool.size < this.maxTxsPerBlock) await new Promise((r) => setTimeout(r, this.blockBatchMs));
        first = false;
        const { ready } = this.mempool.ready((s) => this.world.getNonce(s), 1);
        if (ready.length === 0) break;
        await this.produceBlock().catch((e) => this.log("block_failed", { error: String(e) }));
      } while (this.buildAgain || this.mempool.ready((s) => this.world.getNonce(s), 1).ready.length > 0);
    })().finally(() => {
      this.building = null;
      // A submit that landed between the loop's last check and here only set buildAgain.
      if (this.buildAgain) this.scheduleBlock();
    });
  }

  /** devnet_createBlock / interval mode: a block now, with whatever is ready (possibly empty). */
  async createBlock(): Promise<BlockRecord> {
    this.lifecycle.assertReady("block production");
    while (this.building) await this.building;
    return this.produceBlock();
  }

  private produceLock: Promise<unknown> = Promise.resolve();

  private produceBlock(): Promise<BlockRecord> {
    const run = this.produceLock.then(() => this.produceBlockNow());
    this.produceLock = run.catch(() => {});
    return run;
  }

  private async produceBlockNow(): Promise<BlockRecord> {
    if (this.fatalError) throw new UnexpectedError(`block production stopped after a store failure: ${this.fatalError.message}`);
    const number = this.world.nextBlockNumber();
    const timestamp = this.nextBlockTimestamp ?? this.nowS();
    const ctx = this.blockContext(number, timestamp);
    const pending = new PendingState(this.world);
    const included: Array<{ entry: MempoolEntry<NodeTx>; exec: TransactionExecution }> = [];
    const dropped: Array<MempoolEntry<NodeTx>> = [];
    const { ready, stale } = this.mempool.ready((s) => this.world.getNonce(s), this.maxTxsPerBlock);
    for (const e of stale) {
      dropped.push(e);
      this.rejected.set(toHex(e.hash), "nonce already used");
    }
    for (const entry of ready) {
      try {
        const exec = executeTransaction(pending, this.registry, ctx, entry.payload.tx.exec);
        pending.apply(exec.stateDiff);
        included.push({ entry, exec });
      } catch (e) {
        if (e instanceof TransactionRejection) {
          dropped.push(entry);
          this.rejected.set(toHex(entry.hash), e.message);
          this.log("tx_rejected", { hash: toHex(entry.hash), reason: e.message });
          continue;
        }
        if (e instanceof RuntimeError) {
          dropped.push(entry);
          this.rejected.set(toHex(entry.hash), e.message);
          continue;
        }
        throw e;
      }
    }
    const block = await this.commitBlock(
      included,
      dropped,
      [],
      pending.diff,
      timestamp,
    );
    this.nextBlockTimestamp = null;
    return block;
  }

  /** Execute-free part of building a block: roots, header, records, one atomic batch. */
  private async commitBlock(
    included: Array<{ entry: MempoolEntry<NodeTx>; exec: TransactionExecution }>,
    dropped: Array<MempoolEntry<NodeTx>>,
    extraOps: KvOp[],
    diff: import("../state/state-diff.js").StateDiff,
    timestamp = this.nowS(),
  ): Promise<BlockRecord> {
    const number = this.world.nextBlockNumber();
    const parent = this.world.head();
    const prepared = await this.world.prepareCommit(number, diff);
    const header = await computeBlockHeader({
      blockNumber: number,
      parentHash: parent?.blockHash ?? 0n,
      stateRoot: prepared.roots.globalRoot,
      sequencerAddress: SEQUENCER_ADDRESS,
      timestamp,
      l1DaMode: "BLOB",
      l1GasPrice: { priceInFri: this.gasPrices.l1_gas, priceInWei: this.gasPrices.l1_gas },
      l1DataGasPrice: { priceInFri: this.gasPrices.l1_data_gas, priceInWei: this.gasPrices.l1_data_gas },
      l2GasPrice: { priceInFri: this.gasPrices.l2_gas, priceInWei: this.gasPrices.l2_gas },
      starknetVersion: CURRENT_STARKNET_VERSION,
      transactions: included.map(({ entry, exec }) => ({
        hash: entry.hash,
        signature: entry.payload.tx.exec.signature,
        events: exec.events.map((e) => ({ fromAddress: e.from_address, keys: e.keys, data: e.data })),
        actualFee: exec.actualFee,
        messagesSent: [],
        ...(exec.revertReason !== undefined ? { revertReason: exec.revertReason } : {}),
        l1Gas: exec.gas.l1_gas,
        l1DataGas: exec.gas.l1_data_gas,
      })),
      stateDiff: prepared.diff,
    });
    const block: BlockRecord = {
      header: blockJson(header),
      txHashes: included.map(({ entry }) => toHex(entry.hash)),
      stateDiff: stateDiffJson(prepared.diff),
      oldRoot: toHex(parent?.roots.globalRoot ?? 0n),
    };
    const txs: TxRecord[] = included.map(({ entry, exec }, index) => ({
      transaction: entry.payload.tx.json,
      receipt: receiptJson(entry.payload.tx, exec),
      blockNumber: number,
      index,
      trace: traceJson(entry.payload.tx, exec),
    }));
    const entries = [...included.map((i) => i.entry), ...dropped];
    const ops = [...this.chain.opsForBlock(block, txs), ...this.mempool.removalOps(entries), ...extraOps];
    try {
      await this.world.commit(prepared, { blockHash: header.blockHash, extraOps: ops });
    } catch (e) {
      this.fatalError = e as Error;
      this.log("store_write_failed", { block: number, error: (e as Error).message });
      throw new UnexpectedError(`block ${number} could not be written; block production stopped: ${(e as Error).message}`);
    }
    this.mempool.forget(entries);
    this.chain.cacheBlock(block, txs);
    this.stats.blocksProduced++;
    this.stats.txsIncluded += txs.length;
    this.stats.txsRejected += dropped.length;
    // A copy: listeners (waitForTx) unsubscribe while being called, which would skip the next one.
    for (const l of [...this.blockListeners]) {
      try {
        l({ block, txs });
      } catch (e) {
        this.log("listener_failed", { error: String(e) });
      }
    }
    return block;
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
    return this.world.readerAt(n);
  }

  // --- rollback --------------------------------------------------------------------------

  /**
   * Move the head back to block `target` in one atomic batch: reverse diffs applied,
   * later blocks/txs removed, their transactions re-queued (or dropped) and listed.
   */
  async rollbackTo(target: number, policy: "requeue" | "drop" = "drop"): Promise<ReorgEvent & { rollbackMs: number; keysChanged: number }> {
    const t0 = performance.now();
    if (!this.lifecycle.isReady) throw new RollbackRefusedError(`node is ${this.lifecycle.state}`);
    const head = this.headNumber();
    if (!Number.isInteger(target) || target < 0) throw new RollbackRefusedError(`block ${target} is before genesis`);
    if (target > head) throw new RollbackRefusedError(`block ${target} is above the head ${head}`);
    const oldest = this.world.oldestStateBlock();
    if (target < oldest) {
      throw new RollbackRefusedError(`block ${target} is outside the retention window (the state of the last ${this.world.retentionBlocks} blocks and of snapshots is kept; oldest: block ${oldest})`);
    }
    while (this.building) await this.building;
    const run = this.produceLock.then(async () => {
      const prepared = await this.world.prepareRollback(target);
      const snaps = this.snapshots.opsForRollback(target);
      const targetBlock = await this.chain.getBlock(target);
      if (targetBlock === undefined) throw new Error(`block ${target} is missing`);
      const { ops, removed } = await this.chain.opsForRemovingBlocks(prepared.removedBlocks);
      const removedTxs: TxRecord[] = [];
      for (const b of removed) removedTxs.push(...(await this.chain.getTxs(b.txHashes)));
      removedTxs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      let requeue: Array<Omit<MempoolEntry<NodeTx>, "seq">> = [];
      if (policy === "requeue") {
        requeue = removedTxs.map((r) => {
          const raw = (r as TxRecord & { raw?: unknown }).raw ?? rawFromJson(r.transaction);
          const tx = intake(parseBroadcastedTxn(raw, "requeue"), this.chainId);
          return { hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { raw, tx } };
        });
      }
      const relog = this.mempool.relog(requeue);
      await this.world.rollback(prepared, { blockHash: BigInt(targetBlock.header.block_hash), extraOps: [...ops, ...relog.ops, ...snaps.ops] });
      this.chain.forgetFrom(target + 1, removed);
      this.snapshots.forget(snaps.names);
      for (const e of relog.entries) this.mempool.restore(e);
      const lowest = removed[removed.length - 1];
      const highest = removed[0];
      const ev: ReorgEvent = {
        startingBlock: { number: lowest?.header.block_number ?? target + 1, hash: lowest?.header.block_hash ?? "0x0" },
        endingBlock: { number: highest?.header.block_number ?? target + 1, hash: highest?.header.block_hash ?? "0x0" },
        removedTxs: removedTxs.map((r) => r.transaction.transaction_hash),
        requeued: relog.entries.map((e) => toHex(e.hash)),
      };
      return { ev, keysChanged: prepared.keysChanged };
    });
    this.produceLock = run.catch(() => {});
    const { ev, keysChanged } = await run;
    for (const l of this.reorgListeners) l(ev);
    return { ...ev, rollbackMs: performance.now() - t0, keysChanged };
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

const IS_VALID_SIGNATURE = selectorFromName("is_valid_signature");
const BALANCE_OF = selectorFromName("balance_of");
const VALID = 0x56414c4944n;
const ACCOUNT_PUBLIC_KEY_SLOT = storageVarAddress("Account_public_key");
const ERC20_BALANCES_BASE = storageVarAddress("ERC20_balances");

/** Broadcast JSON from a stored TXN (for re-queueing after rollback). */
function rawFromJson(t: Record<string, unknown>): unknown {
  const { transaction_hash: _h, ...rest } = t;
  return rest;
}

export { RpcError };
