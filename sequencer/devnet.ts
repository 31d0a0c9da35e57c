// The devnet: a node, its JSON-RPC/WS server, the devnet_* methods starknet-devnet users
// know, and the programmatic API tests use:
//   const d = await startDevnet({ seed: 0 });   // 127.0.0.1, free port
//   ... starknet.js against d.rpcUrl ...
//   await d.stop();

import { EXCHANGE_ADDRESS, exchangePredeploys, ORACLE_ADDRESS, type OracleVariant } from "../contracts/exchange-genesis.js";
import { selectorFromName } from "../state/crypto/hash.js";
import { toHex, type Felt } from "../state/felt.js";
import { InvalidParamsError, NotSupportedError, type ErrorLogger } from "./errors.js";
import { dumpStore } from "./chain-dump.js";
import { asFileError, checkDumpSource, prepareDumpTarget, resolveDumpPath, resolveDumpPolicy } from "./dump-paths.js";
import { authorizeOperator } from "./rpc/operator-auth.js";
import { NodeMetrics } from "./metrics.js";
import { PerpchainNode, type BlockGeneration, type NodeOptions } from "./node.js";
import { parseAddressParam, parseBlockId, parseNonNegativeInteger } from "./rpc/params.js";
import { HandlerRegistry } from "./rpc/registry.js";
import { RpcServer } from "./rpc/server.js";
import { registerStarknetMethods } from "./rpc/starknet-methods.js";
import { registerAppchainMethods } from "./rpc/appchain-methods.js";
import { MarketDataService } from "./marketdata-service.js";
import { DEFAULT_SIMULATED_MARKETS, MarketDataSimulator, ReplaySource, SimulatorSource, type SimulatedMarket } from "./marketdata/index.js";
import { TriggerEngine } from "./trigger-engine.js";
import type { ClusterController } from "./cluster/cluster-controller.js";
import { CLUSTER_GENESIS_TIMESTAMP_S, CLUSTER_MAX_TXS_PER_BLOCK, joinCluster } from "./cluster/cluster-member.js";
import { ClusterGate } from "./cluster/node-binding.js";
import { registerClusterMethods } from "./rpc/cluster-methods.js";

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
  /** Directory devnet_dump/devnet_load paths are relative to (default: `dumps/` beside `dbPath`, or in the working directory). */
  dumpDir?: string;
  /** Let devnet_dump/devnet_load name absolute paths (default false). */
  allowAbsoluteDumpPaths?: boolean;
  /** Where the RPC server reports unexpected errors and socket trouble (default: JSON lines on stderr). */
  errorLogger?: ErrorLogger;
  /**
   * Cluster mode (DESIGN §11): etcd client URLs, this node's id and the leader lease TTL in
   * seconds (default 5). Without it the node is the embedded single node.
   */
  cluster?: { etcd: string[]; nodeId: string; leaseTtlS?: number };
}

export interface DevnetAccount {
  address: string;
  private_key: string;
  public_key: string;
  initial_balance: string;
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
  /** The Prometheus registry GET /metrics serves. */
  metrics: NodeMetrics;
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
  registerDevnetMethods(registry, node, options);
  const marketData = new MarketDataService(node, { unsafeDisableGuards: options.unsafeDisableGuards, metrics: metrics.marketData() });
  const triggers = new TriggerEngine(node);
  if (options.triggerEngine !== false) await triggers.start();
  registerAppchainMethods(registry, node, { adminToken: options.adminToken, marketData });
  let cluster: ClusterController | null = null;
  const server = new RpcServer({
    registry,
    nodeMetrics: metrics,
    ...(options.errorLogger && { logger: options.errorLogger }),
    readiness: () => {
      if (gate !== undefined && cluster?.ready !== true) return { ready: false, state: `cluster ${cluster?.role ?? "starting"}` };
      return { ready: node.lifecycle.isReady && node.fatalError === null, state: node.fatalError ? "failed" : node.lifecycle.state };
    },
  });
  wireSubscriptions(node, server);
  let port: number;
  try {
    port = await server.start({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  } catch (e) {
    await node.stop();
    throw e;
  }
  const host = options.host ?? "127.0.0.1";
  const rpcUrl = `http://${host}:${port}/rpc`;
  if (gate !== undefined && options.cluster !== undefined) {
    const bootstrap = options.bootstrapMarketData !== false;
    try {
      cluster = await joinCluster(node, gate, registry, {
        ...options.cluster,
        rpcUrl,
        adminToken: options.adminToken,
        log: options.log,
        metricsRegistry: metrics.registry,
        // Only the leader writes; the market-data baseline once, by the first leader.
        onLeader: () => void (bootstrap ? marketData.bootstrapGenesisValues().catch((e) => node.log("marketdata_bootstrap_failed", { error: String(e) })) : undefined),
      });
    } catch (e) {
      await server.stop();
      await node.stop();
      throw e;
    }
  }
  registerClusterMethods(registry, node, cluster, { adminToken: options.adminToken, rpcUrl: () => rpcUrl });
  if (options.bootstrapMarketData !== false && gate === undefined) {
    const hashes = await marketData.bootstrapGenesisValues();
    if (node.options.blockGeneration.mode === "transaction") for (const h of hashes) await node.waitForTx(h);
  }
  const source = options.marketData ?? "push";
  if (source === "simulator") {
    const sim = new MarketDataSimulator({ seed: node.options.seed, sources: ["simulator"], epoch: () => node.epoch, markets: startingPrices(marketData) });
    marketData.startSource(new SimulatorSource(sim, { now_s: () => node.nowS(), interval_ms: (options.simulatorIntervalS ?? 1) * 1000 }));
  } else if (typeof source === "object") {
    marketData.startSource(new ReplaySource({ path: source.replay, interval_ms: (options.simulatorIntervalS ?? 1) * 1000 }));
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
    metrics,
    async stop() {
      if (stopped) return;
      stopped = true;
      marketData.stopSources();
      await triggers.stop();
      // A leader hands over (finishes its block, revokes its lease) before it goes.
      await cluster?.stop();
      await server.stop();
      await node.stop();
    },
  };
}

export function predeployedAccounts(node: PerpchainNode): DevnetAccount[] {
  return node.genesis.accounts.map((a, i) => ({
    address: toHex(a.address),
    private_key: toHex(node.accountKeys[i]!.privateKey),
    public_key: toHex(a.publicKey),
    initial_balance: node.options.initialBalance.toString(),
  }));
}

export function contractsOf(node: PerpchainNode): Record<string, { address: string; class_hash: string }> {
  const out: Record<string, { address: string; class_hash: string }> = {};
  for (const p of node.genesis.predeployed) out[p.name] = { address: toHex(p.address), class_hash: toHex(p.classHash) };
  return out;
}

function wireSubscriptions(node: PerpchainNode, server: RpcServer): void {
  const subs = server.subscriptions;
  node.onBlock(({ block, txs }) => {
    subs.publishNewHead(block.header);
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
    for (const t of txs) {
      const status: Record<string, unknown> = { finality_status: "ACCEPTED_ON_L2", execution_status: t.receipt.execution_status };
      if (t.receipt.revert_reason !== undefined) status.failure_reason = t.receipt.revert_reason;
      subs.publishTransactionStatus(BigInt(t.transaction.transaction_hash), status);
    }
    subs.publishTransactionReceipts(
      txs.map((t) => ({
        receipt: { ...t.receipt, block_hash: block.header.block_hash, block_number: block.header.block_number },
        finalityStatus: "ACCEPTED_ON_L2" as const,
        senderAddress: BigInt((t.transaction.sender_address as string | undefined) ?? (t.receipt.contract_address as string | undefined) ?? "0x0"),
      })),
    );
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

function registerDevnetMethods(registry: HandlerRegistry, node: PerpchainNode, options: DevnetOptions): void {
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  const usdc = node.genesis.predeployed.find((p) => p.name === "USDC")!.address;
  registry.register("devnet_getPredeployedAccounts", () => predeployedAccounts(node), { paramNames: ["with_balance?"] });
  registry.register(
    "devnet_mint",
    async (p) => {
      const address = parseAddressParam(p.address, "address");
      const amount = parseAmount(p.amount, "amount");
      const unit = (p.unit ?? "FRI") as string;
      if (unit !== "FRI" && unit !== "USDC") throw new InvalidParamsError("unit", "expected FRI (STRK) or USDC");
      const token = unit === "FRI" ? strk : usdc;
      const hash = await node.submitOperatorInvoke([{ to: token, selector: selectorFromName("permissioned_mint"), calldata: [address, amount % (1n << 128n), amount >> 128n] }]);
      if (node.options.blockGeneration.mode === "transaction") await node.waitForTx(hash);
      const bal = balanceOf(node, token, address);
      return { new_balance: bal.toString(), unit, tx_hash: toHex(hash) };
    },
    { paramNames: ["address", "amount", "unit?"] },
  );
  registry.register("devnet_createBlock", async () => ({ block_hash: (await node.createBlock()).header.block_hash }), { paramNames: [] });
  registry.register(
    "devnet_setTime",
    async (p) => {
      const time = parseDevnetTime(p.time, "time", 0);
      node.setTime(time);
      const generate = p.generate_block === undefined ? true : Boolean(p.generate_block);
      if (!generate) return { block_timestamp: time };
      const b = await node.createBlock();
      return { block_timestamp: time, block_hash: b.header.block_hash };
    },
    { paramNames: ["time", "generate_block?"] },
  );
  registry.register(
    "devnet_increaseTime",
    async (p) => {
      const time = parseDevnetTime(p.time, "time", node.nowS());
      node.increaseTime(time);
      const b = await node.createBlock();
      return { timestamp_increased_by: time, block_hash: b.header.block_hash };
    },
    { paramNames: ["time"] },
  );
  registry.register(
    "devnet_getConfig",
    () => ({
      seed: node.options.seed,
      total_accounts: node.options.accounts,
      account_contract_class_hash: toHex(node.genesis.predeployed.find((p) => p.name.startsWith("Account"))?.classHash ?? accountClassHash(node)),
      predeployed_accounts_initial_balance: node.options.initialBalance.toString(),
      chain_id: node.options.chainId,
      block_generation_on: blockGenerationName(node.options.blockGeneration),
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      state_archive_capacity: "full",
      gas_price_fri: node.gasPrices.l1_gas.toString(),
      data_gas_price_fri: node.gasPrices.l1_data_gas.toString(),
      l2_gas_price_fri: node.gasPrices.l2_gas.toString(),
      predeployed_contracts: contractsOf(node),
      fee_token_address: toHex(strk),
      usdc_address: toHex(usdc),
      oracle_address: toHex(ORACLE_ADDRESS),
      exchange_address: toHex(EXCHANGE_ADDRESS),
      operator_address: toHex(node.genesis.operator.address),
      epoch: node.epoch,
    }),
    { paramNames: [] },
  );
  // Operator methods: a dump reads the whole chain and writes a file, so only loopback clients
  // (or the admin token) may call them, and only inside the dump directory (dump-paths.ts).
  const dumpPolicy = resolveDumpPolicy(options);
  registry.register(
    "devnet_dump",
    async (p, ctx) => {
      authorizeOperator(ctx, options.adminToken);
      const target = resolveDumpPath(p.path, dumpPolicy);
      await prepareDumpTarget(target, dumpPolicy, p.path as string);
      try {
        return await dumpStore(node.store, target);
      } catch (e) {
        throw asFileError(e, p.path as string);
      }
    },
    { paramNames: ["path"] },
  );
  registry.register(
    "devnet_load",
    async (p, ctx) => {
      authorizeOperator(ctx, options.adminToken);
      const source = resolveDumpPath(p.path, dumpPolicy);
      await checkDumpSource(source, dumpPolicy, p.path as string);
      throw new NotSupportedError("load a dump into a fresh data directory with `npm run snapshot -- import FILE --db DIR`, then start the node on it");
    },
    { paramNames: ["path"] },
  );
  registry.register(
    "devnet_abortBlocks",
    async (p) => {
      const id = parseBlockId(p.starting_block_id, "starting_block_id");
      const start = id.kind === "number" ? id.number : id.kind === "hash" ? await node.chain.getBlockNumberByHash(id.hash) : node.headNumber();
      if (start === undefined) throw new InvalidParamsError("starting_block_id", "unknown block");
      const hashes: string[] = [];
      for (let n = node.headNumber(); n >= start; n--) hashes.push((await node.chain.getBlock(n))!.header.block_hash);
      await node.rollbackTo(start - 1, "drop").catch((e) => {
        throw new InvalidParamsError("starting_block_id", (e as Error).message);
      });
      return { aborted: hashes };
    },
    { paramNames: ["starting_block_id"] },
  );
}

/** Simulator start levels: the chain's current values, so a restarted feed continues the chain. */
function startingPrices(md: MarketDataService): SimulatedMarket[] {
  return DEFAULT_SIMULATED_MARKETS.map((m) => {
    const cur = md.onchain(m.market);
    if (cur.timestamp_s === 0n) return m;
    return { ...m, start_price_e6: cur.mark_price_e6, start_funding_index_e6: cur.funding_index_e6, max_funding_rate_e12: cur.max_funding_rate_e12 };
  });
}

function accountClassHash(node: PerpchainNode): Felt {
  return node.world.getClassHash(node.genesis.accounts[0]?.address ?? node.genesis.operator.address);
}

function blockGenerationName(g: BlockGeneration): string {
  return g.mode === "interval" ? String(g.seconds) : g.mode;
}

export function balanceOf(node: PerpchainNode, token: Felt, address: Felt): bigint {
  const r = node.callView(token, selectorFromName("balance_of"), [address]);
  return r[0]! + (r[1]! << 128n);
}

function parseAmount(v: unknown, field: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return BigInt(v);
  if (typeof v === "bigint" && v >= 0n) return v;
  throw new InvalidParamsError(field, "expected a non-negative integer");
}

/**
 * Latest block timestamp devnet_setTime / devnet_increaseTime may reach: 9999-12-31T23:59:59Z.
 * Far below 2^53 s, so the clock can run on from it for millennia without leaving the integers
 * the block hash accepts (a time near 2^53 made every later block fail and wedged the node).
 */
export const MAX_DEVNET_TIMESTAMP_S = 253_402_300_799;

function parseDevnetTime(v: unknown, field: string, base: number): number {
  const t = parseNonNegativeInteger(v, field);
  if (base + t > MAX_DEVNET_TIMESTAMP_S) throw new InvalidParamsError(field, `the block timestamp would pass ${MAX_DEVNET_TIMESTAMP_S} (9999-12-31T23:59:59Z)`);
  return t;
}
