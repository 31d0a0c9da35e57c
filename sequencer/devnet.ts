// The devnet: a node, its JSON-RPC/WS server, the devnet_* methods starknet-devnet users
// know, and the programmatic API tests use:
//   const d = await startDevnet({ seed: 0 });   // 127.0.0.1, free port
//   ... starknet.js against d.rpcUrl ...
//   await d.stop();

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exchangePredeploys, type OracleVariant } from "../contracts/exchange-genesis.js";
import { hashBackend } from "../state/crypto/hash.js";
import { MemoryKvStore } from "../state/kv-store.js";
import { DumpFormatError, dumpStore, loadStore, type DumpSummary } from "./chain-dump.js";
import { asFileError, checkDumpSource, prepareDumpTarget, resolveDumpPath, resolveDumpPolicy } from "./dump-paths.js";
import { InvalidParamsError, type ErrorLogger } from "./errors.js";
import { NodeMetrics } from "./metrics.js";
import { PerpchainNode, type NodeOptions } from "./node.js";
import { HandlerRegistry } from "./rpc/registry.js";
import { RpcServer } from "./rpc/server.js";
import { registerStarknetMethods } from "./rpc/starknet-methods.js";
import { registerAppchainMethods } from "./rpc/appchain-methods.js";
import { contractsOf, predeployedAccounts, registerDevnetMethods, type DevnetAccount, type DumpOn } from "./rpc/devnet-methods.js";
import { MarketDataService } from "./marketdata-service.js";
import { DEFAULT_SIMULATED_MARKETS, MarketDataSimulator, ReplaySource, SimulatorSource, type SimulatedMarket } from "./marketdata/index.js";
import { TriggerEngine } from "./trigger-engine.js";
import type { ClusterController } from "./cluster/cluster-controller.js";
import { CLUSTER_GENESIS_TIMESTAMP_S, CLUSTER_MAX_TXS_PER_BLOCK, joinCluster } from "./cluster/cluster-member.js";
import { ClusterGate } from "./cluster/node-binding.js";
import { registerClusterMethods } from "./rpc/cluster-methods.js";
import { isReadOnlyMethod, Warmup } from "./warmup.js";

export { balanceOf, contractsOf, predeployedAccounts, type DevnetAccount } from "./rpc/devnet-methods.js";

export interface DevnetOptions extends Omit<NodeOptions, "extraPredeploys"> {
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Admin token for operator methods from non-loopback clients. */
  adminToken?: string;
  /** Market-data source: "push" (default: appchain_pushMarketData only), "simulator", or a JSONL file to replay. */
  marketData?: "push" | "simulator" | { replay: string };
  /** Seconds between simulator updates (default 1). */
  simulatorIntervalS?: number;
  /** Bypass the market-data guards (rollback drill only; the oracle still checks on-chain). */
  unsafeDisableGuards?: boolean;
  /** Submit liquidations and TP/SL triggers when mark prices cross (default true). */
  triggerEngine?: boolean;
  /** Write the genesis market data in block 1 (default true). */
  bootstrapMarketData?: boolean;
  /**
   * Oracle class at genesis: "checked" (default) or "unchecked", the INCIDENT MODEL with no
   * on-chain market-data checks (rollback drill only). A data directory must be reopened
   * with the variant it was created with.
   */
  oracle?: OracleVariant;
  /**
   * starknet-devnet's --dump-path: devnet_dump's default file, written on exit or after every
   * block per `dumpOn`; an in-memory devnet loads it at start when it exists. Given by the
   * operator, so it is not held to the dump directory as RPC-given paths are.
   */
  dumpPath?: string;
  /** starknet-devnet's --dump-on: "exit", "block" or "request" (only on devnet_dump; the default). */
  dumpOn?: DumpOn;
  /** Directory devnet_dump/devnet_load paths are relative to (default: `dumps/` beside `dbPath`, or in the working directory). */
  dumpDir?: string;
  /** Let devnet_dump/devnet_load name absolute paths (default false). */
  allowAbsoluteDumpPaths?: boolean;
  /** Where the RPC server reports unexpected errors and socket trouble (default: JSON lines on stderr). */
  errorLogger?: ErrorLogger;
  /**
   * Cluster mode (DESIGN §11): etcd client URLs, this node's id, the leader lease TTL in
   * seconds (default 5) and the blocks etcd keeps below the head (default 1000). Without it
   * the node is the embedded single node.
   */
  cluster?: { etcd: string[]; nodeId: string; leaseTtlS?: number; retentionBlocks?: number };
  /**
   * After start-up, warm the JIT with this many transactions on a throwaway chain (warmup.ts),
   * stopping at the first write a client sends. Default 0 (none); `npm start` sets
   * DEFAULT_WARMUP_TXS. Not in cluster mode.
   */
  warmupTxs?: number;
}

export interface Devnet {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  node: PerpchainNode;
  server: RpcServer;
  registry: HandlerRegistry;
  accounts: DevnetAccount[];
  contracts: Record<string, { address: string; class_hash: string }>;
  marketData: MarketDataService;
  triggers: TriggerEngine;
  /** devnet_restart: back to the chain as it was when start-up finished. */
  restart(): Promise<void>;
  /** devnet_dump (a path of the caller's: not held to the dump directory). */
  dump(path: string): Promise<DumpSummary>;
  /** devnet_load: the running chain replaced by a dump (ours or `npm run snapshot -- export`). */
  load(path: string): Promise<DumpSummary>;
  /** The Prometheus registry GET /metrics serves. */
  metrics: NodeMetrics;
  /** The JIT warm-up started with the devnet (`warmupTxs`), if any. */
  warmup: Warmup | null;
  stop(): Promise<void>;
}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const oracle = options.oracle ?? "checked";
  const metrics = new NodeMetrics();
  // Cluster mode: the node opens unable to write until the cluster says it leads.
  const gate = options.cluster !== undefined ? new ClusterGate() : undefined;
  const node = await PerpchainNode.open({
    ...options,
    observe: metrics.observe,
    clusterGate: gate,
    maxTxsPerBlock: options.maxTxsPerBlock ?? (gate ? CLUSTER_MAX_TXS_PER_BLOCK : undefined),
    // Every member builds the same block 0 from the same flags: a fixed genesis time.
    genesisTimestampS: options.genesisTimestampS ?? (gate ? CLUSTER_GENESIS_TIMESTAMP_S : undefined),
    extraPredeploys: (a) => exchangePredeploys(a, oracle),
  });
  const counters = metrics.bindNode({
    headNumber: () => node.world.head()?.blockNumber,
    mempoolSize: () => node.mempool.size,
    lifecycleState: () => node.lifecycle.state,
    epoch: () => node.epoch,
  });
  node.onBlock(({ txs }) => counters.onBlock(txs.length));
  node.onDropped(() => counters.onDropped(1));
  const registry = new HandlerRegistry();
  registerStarknetMethods(registry, node);
  const marketData = new MarketDataService(node, { unsafeDisableGuards: options.unsafeDisableGuards, metrics: metrics.marketData() });
  const triggers = new TriggerEngine(node);
  const host = options.host ?? "127.0.0.1";
  let port = 0;
  const bootstrap = async () => {
    if (options.bootstrapMarketData === false) return;
    const hashes = await marketData.bootstrapGenesisValues();
    if (node.options.blockGeneration.mode === "transaction") for (const h of hashes) await node.waitForTx(h);
  };
  /** After the chain was replaced: market data and triggers start over from it. */
  const followChain = async () => {
    await bootstrap(); // a --db restart goes back to block 0, before the genesis market data
    marketData.restartPipeline();
    await triggers.restartFromChain(options.triggerEngine !== false);
  };
  const dumps = new DumpWriter(node);
  const controls = {
    async restart() {
      await node.restart();
      await followChain();
    },
    dump: (path: string) => dumps.dump(path),
    async load(path: string) {
      const fresh = new MemoryKvStore();
      const summary = await loadStore(path, fresh);
      await node.resetTo(fresh);
      await followChain();
      return summary;
    },
  };
  // RPC-given paths stay inside the dump directory (dump-paths.ts); file errors are typed (-32011).
  const dumpPolicy = resolveDumpPolicy(options);
  registerDevnetMethods(registry, {
    node,
    host,
    port: () => port,
    adminToken: options.adminToken,
    dumpPath: options.dumpPath,
    dumpOn: options.dumpOn,
    restart: controls.restart,
    dumpInline: () => dumps.dumpInline(),
    async dump(path, given) {
      const target = given ? resolveDumpPath(path, dumpPolicy) : path;
      if (given) await prepareDumpTarget(target, dumpPolicy, path);
      return dumps.dump(target).catch((e) => {
        throw asFileError(e, path);
      });
    },
    async load(path) {
      const source = resolveDumpPath(path, dumpPolicy);
      await checkDumpSource(source, dumpPolicy, path);
      return controls.load(source).catch((e) => {
        // A file that is not a loadable dump is a bad param, not a node failure.
        if (e instanceof DumpFormatError || (e instanceof Error && /dump/.test(e.message) && !("code" in e))) throw new InvalidParamsError("path", e.message);
        throw asFileError(e, path);
      });
    },
  });
  if (options.triggerEngine !== false) await triggers.start();
  registerAppchainMethods(registry, node, { adminToken: options.adminToken, marketData });
  let cluster: ClusterController | null = null;
  let warmupState: string | null = null;
  const server = new RpcServer({
    registry,
    nodeMetrics: metrics,
    ...(options.errorLogger && { logger: options.errorLogger }),
    readiness: () => {
      if (gate !== undefined && cluster?.ready !== true) return { ready: false, state: `cluster ${cluster?.role ?? "starting"}` };
      const warm = warmupState === null ? {} : { warmup: warmupState };
      return { ready: node.lifecycle.isReady && node.fatalError === null, state: node.fatalError ? "failed" : node.lifecycle.state, ...warm };
    },
  });
  wireSubscriptions(node, server);
  try {
    port = await server.start({ host, port: options.port ?? 0 });
  } catch (e) {
    await node.stop();
    throw e;
  }
  const rpcUrl = `http://${host}:${port}/rpc`;
  if (gate !== undefined && options.cluster !== undefined) {
    const bootstrapOnLeader = options.bootstrapMarketData !== false;
    try {
      cluster = await joinCluster(node, gate, registry, {
        ...options.cluster,
        rpcUrl,
        adminToken: options.adminToken,
        log: options.log,
        metricsRegistry: metrics.registry,
        // Only the leader writes; the market-data baseline once, by the first leader.
        onLeader: () => void (bootstrapOnLeader ? marketData.bootstrapGenesisValues().catch((e) => node.log("marketdata_bootstrap_failed", { error: String(e) })) : undefined),
      });
    } catch (e) {
      triggers.stop();
      await server.stop();
      await node.stop();
      throw e;
    }
  }
  registerClusterMethods(registry, node, cluster, { adminToken: options.adminToken, rpcUrl: () => rpcUrl });
  if (gate === undefined) {
    try {
      await bootstrap();
      await node.markPristine();
      if (options.dumpPath !== undefined && node.isInMemory && existsSync(options.dumpPath)) await controls.load(options.dumpPath);
    } catch (e) {
      // e.g. an unreadable --dump-path: nothing is left running.
      triggers.stop();
      await server.stop();
      await node.stop();
      throw e;
    }
  }
  if (options.dumpPath !== undefined && options.dumpOn === "block") dumps.everyBlock(options.dumpPath);
  const source = options.marketData ?? "push";
  if (source === "simulator") {
    const sim = new MarketDataSimulator({ seed: node.options.seed, sources: ["simulator"], epoch: () => node.epoch, markets: startingPrices(marketData) });
    marketData.startSource(new SimulatorSource(sim, { now_s: () => node.nowS(), interval_ms: (options.simulatorIntervalS ?? 1) * 1000 }));
  } else if (typeof source === "object") {
    marketData.startSource(new ReplaySource({ path: source.replay, interval_ms: (options.simulatorIntervalS ?? 1) * 1000 }));
  }
  // The warm-up runs beside the ready node; a client's first write ends it.
  let warmup: Warmup | null = null;
  // Only with the native crypto: with the JS backend, signing its transactions would hold the event loop.
  if ((options.warmupTxs ?? 0) > 0 && gate === undefined && hashBackend().name === "native") {
    const w = (warmup = new Warmup(startDevnet, { txs: options.warmupTxs!, inMemory: node.isInMemory, base: options }));
    warmupState = "running";
    const off = server.onCall((method) => {
      if (!isReadOnlyMethod(method)) void w.stop("client");
    });
    void w.done.then((r) => {
      off();
      warmupState = r.end;
      node.log("warmup_done", { ...r });
    });
  }
  let stopped = false;
  return {
    rpcUrl,
    wsUrl: `ws://${host}:${port}/ws`,
    port,
    node,
    server,
    registry,
    accounts: predeployedAccounts(node),
    contracts: contractsOf(node),
    marketData,
    triggers,
    ...controls,
    metrics,
    warmup,
    async stop() {
      if (stopped) return;
      stopped = true;
      await warmup?.stop("stopped");
      marketData.stopSources();
      await triggers.stop();
      // A leader hands over (finishes its block, revokes its lease) before it goes.
      await cluster?.stop();
      await server.stop();
      await dumps.settle();
      if (options.dumpPath !== undefined && options.dumpOn === "exit") await dumps.dump(options.dumpPath);
      await node.stop();
    },
  };
}

/**
 * Dumps of the running chain, one at a time: `everyBlock` (--dump-on block) rewrites the
 * file after each block, coalescing blocks that commit while a dump is being written.
 */
class DumpWriter {
  private running: Promise<unknown> = Promise.resolve();
  private again = false;
  private active = false;

  constructor(private readonly node: PerpchainNode) {}

  dump(path: string): Promise<DumpSummary> {
    const run = this.running.then(() => dumpStore(this.node.store, path));
    this.running = run.catch(() => {});
    return run;
  }

  /** The dump file's bytes, base64, with its summary (written to a private temp file, then removed). */
  async dumpInline(): Promise<DumpSummary & { format: string; encoding: "base64"; data: string }> {
    const dir = await mkdtemp(join(tmpdir(), "perpchain-dump-"));
    try {
      const summary = await this.dump(join(dir, "chain.dump"));
      const data = (await readFile(join(dir, "chain.dump"))).toString("base64");
      return { ...summary, format: "PERPCHAIN-DUMP-1", encoding: "base64", data };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  everyBlock(path: string): void {
    this.node.onBlock(() => {
      if (this.active) return void (this.again = true);
      this.active = true;
      void (async () => {
        do {
          this.again = false;
          await this.dump(path).catch((e) => this.node.log("dump_failed", { path, error: String(e) }));
        } while (this.again);
        this.active = false;
      })();
    });
  }

  /** Resolves once no dump is being written. */
  async settle(): Promise<void> {
    while (this.active) await this.running;
    await this.running;
  }
}

function wireSubscriptions(node: PerpchainNode, server: RpcServer): void {
  const subs = server.subscriptions;
  node.onBlock(({ block, txs }) => {
    if (subs.stats().active === 0) return;
    if (subs.wants("newHeads")) subs.publishNewHead(block.header);
    if (subs.wants("events")) {
      const events = txs.flatMap((t) =>
        t.receipt.events.map((e, ei) => ({
          event: {
            ...e,
            block_hash: block.header.block_hash,
            block_number: block.header.block_number,
            transaction_hash: t.transaction.transaction_hash,
            transaction_index: t.index,
            event_index: ei,
          },
          finalityStatus: "ACCEPTED_ON_L2" as const,
        })),
      );
      if (events.length > 0) subs.publishEvents(events);
    }
    if (subs.wants("transactionStatus"))
      for (const t of txs) {
        const status: Record<string, unknown> = { finality_status: "ACCEPTED_ON_L2", execution_status: t.receipt.execution_status };
        if (t.receipt.revert_reason !== undefined) status.failure_reason = t.receipt.revert_reason;
        subs.publishTransactionStatus(BigInt(t.transaction.transaction_hash), status);
      }
    if (subs.wants("newTransactionReceipts"))
      subs.publishTransactionReceipts(
        txs.map((t) => ({
          receipt: { ...t.receipt, block_hash: block.header.block_hash, block_number: block.header.block_number },
          finalityStatus: "ACCEPTED_ON_L2" as const,
          senderAddress: BigInt((t.transaction.sender_address as string | undefined) ?? (t.receipt.contract_address as string | undefined) ?? "0x0"),
        })),
      );
    if (subs.wants("newTransactions"))
      subs.publishTransactions(
        txs.map((t) => ({
          transaction: t.transaction,
          finalityStatus: "ACCEPTED_ON_L2" as const,
          senderAddress: BigInt((t.transaction.sender_address as string | undefined) ?? "0x0"),
        })),
      );
  });
  node.onDropped((hash, status) => subs.publishTransactionStatus(hash, status));
  node.onReorg((r) => {
    subs.publishReorg({
      starting_block_hash: r.startingBlock.hash,
      starting_block_number: r.startingBlock.number,
      ending_block_hash: r.endingBlock.hash,
      ending_block_number: r.endingBlock.number,
    });
  });
  subs.setSource({
    newHeadsSince: async (id) => {
      const from = id.kind === "number" ? id.number : id.kind === "hash" ? ((await node.chain.getBlockNumberByHash(id.hash)) ?? node.headNumber()) : node.headNumber();
      const out = [];
      for (let n = from; n <= node.headNumber(); n++) {
        const b = await node.chain.getBlock(n);
        if (b) out.push(b.header);
      }
      return out;
    },
    transactionStatus: (h) => node.transactionStatus(h),
  });
}

/** Simulator start levels: the chain's current values, so a restarted feed continues the chain. */
function startingPrices(md: MarketDataService): SimulatedMarket[] {
  return DEFAULT_SIMULATED_MARKETS.map((m) => {
    const cur = md.onchain(m.market);
    if (cur.timestamp_s === 0n) return m;
    return { ...m, start_price_e6: cur.mark_price_e6, start_funding_index_e6: cur.funding_index_e6, max_funding_rate_e12: cur.max_funding_rate_e12 };
  });
}




