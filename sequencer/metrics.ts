// The node's Prometheus metrics, through prom-client: one Registry per node holding histograms
// of block build time, block commit time and RPC latency by method, the
// node's gauges and counters (head, mempool, lifecycle, epoch, blocks and transactions), the
// RPC server's counters and the market-data counters, served by `text()` (GET /metrics) after
// the process metrics, which one registry per process holds for every node in it.
// Must never take a label value from a client without bounding it (method names outside the
// registry count as "unknown", markets outside the configuration as "unattributed").

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the node reports through NodeOptions.observe (node internals never import prom-client). */
export type NodeTiming = "block_build_seconds" | "block_commit_seconds";

/** Lifecycle states exported as perpchain_lifecycle_state{state}. */
const LIFECYCLE_STATES = ["starting", "recovering", "catching-up", "ready", "draining", "stopped"] as const;

/** The node as the metrics read it at scrape time. */
export interface NodeGaugeSource {
  headNumber(): number | undefined;
  mempoolSize(): number;
  lifecycleState(): string;
  epoch(): number;
}

/** The RPC server's own counts, read at scrape time. */
export interface RpcServerCounts {
  requestsByMethod: ReadonlyMap<string, number>;
  errorsByCode: ReadonlyMap<number, number>;
  httpRejected: ReadonlyMap<string, number>;
  wsConnections: number;
  wsOverflowDisconnects: number;
  subscriptions: number;
  notificationsSent: number;
}

// Block times run from ~1 ms (an empty block, native hashing) to seconds (a full block on the
// JS backend); RPC calls from ~50 µs (blockNumber) to seconds (traces, storage proofs).
const BLOCK_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RPC_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Process metrics (CPU, memory, GC, event-loop lag) belong to the process, not to a node: one
 * registry for all the nodes a process starts. prom-client's collectors behind them (a GC
 * observer, an event-loop monitor) are never stopped, so in a node's own registry they kept
 * every stopped node reachable (its gauges read the node), about 0.5 MB of heap each.
 */
let processRegistry: Registry | undefined;
function processMetricsRegistry(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly processRegistry: Registry | undefined;
  private readonly blockBuild: Histogram;
  private readonly blockCommit: Histogram;
  private readonly rpcLatency: Histogram<"method">;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) this.processRegistry = processMetricsRegistry();
    this.blockBuild = new Histogram({ name: "perpchain_block_build_seconds", help: "Time to pick and execute a block's transactions.", buckets: BLOCK_BUCKETS_S, registers: [this.registry] });
    this.blockCommit = new Histogram({ name: "perpchain_block_commit_seconds", help: "Time to hash, write and announce a built block.", buckets: BLOCK_BUCKETS_S, registers: [this.registry] });
    this.rpcLatency = new Histogram({ name: "rpc_request_duration_seconds", help: "JSON-RPC call duration by method.", labelNames: ["method"], buckets: RPC_BUCKETS_S, registers: [this.registry] });
  }

  /** NodeOptions.observe: block build and commit durations. */
  readonly observe = (timing: NodeTiming, seconds: number): void => {
    (timing === "block_build_seconds" ? this.blockBuild : this.blockCommit).observe(seconds);
  };

  /** One JSON-RPC call; `method` must already be bounded (a registered name or "unknown"). */
  observeRpc(method: string, seconds: number): void {
    this.rpcLatency.observe({ method }, seconds);
  }

  /** The node's gauges, read at scrape time, and its block/transaction counters. */
  bindNode(source: NodeGaugeSource): { onBlock(txs: number): void; onDropped(n: number): void } {
    const r = [this.registry];
    new Gauge({ name: "perpchain_block_height", help: "Number of the head block.", registers: r, collect() {
      this.set(source.headNumber() ?? -1);
    } });
    new Gauge({ name: "perpchain_mempool_size", help: "Transactions waiting in the mempool.", registers: r, collect() {
      this.set(source.mempoolSize());
    } });
    new Gauge({ name: "perpchain_lifecycle_state", help: "1 for the node's current lifecycle state.", labelNames: ["state"], registers: r, collect() {
      const now = source.lifecycleState();
      for (const s of LIFECYCLE_STATES) this.set({ state: s }, now === s ? 1 : 0);
    } });
    new Gauge({ name: "perpchain_epoch", help: "Epoch of this process (increments on every start).", registers: r, collect() {
      this.set(source.epoch());
    } });
    const blocks = new Counter({ name: "perpchain_blocks_produced_total", help: "Blocks produced since start.", registers: r });
    const txs = new Counter({ name: "perpchain_txs_included_total", help: "Transactions included in blocks since start.", registers: r });
    const dropped = new Counter({ name: "perpchain_txs_dropped_total", help: "Transactions dropped without a block since start.", registers: r });
    return {
      onBlock(n) {
        blocks.inc();
        txs.inc(n);
      },
      onDropped(n) {
        dropped.inc(n);
      },
    };
  }

  /** The RPC server's counts (requests by method, errors by code, refusals, WebSocket state). */
  bindRpcServer(counts: () => RpcServerCounts): void {
    const r = [this.registry];
    const mirror = <K>(name: string, help: string, label: string, pick: (c: RpcServerCounts) => ReadonlyMap<K, number>) =>
      new Counter({ name, help, labelNames: [label], registers: r, collect() {
        this.reset();
        for (const [k, n] of pick(counts())) this.inc({ [label]: String(k) }, n);
      } });
    mirror("rpc_requests_total", "JSON-RPC calls by method (\"unknown\" for methods the node does not serve).", "method", (c) => c.requestsByMethod);
    mirror("rpc_errors_total", "JSON-RPC error answers by code.", "code", (c) => c.errorsByCode);
    mirror("rpc_http_rejected_total", "HTTP requests refused before JSON-RPC (body too large, client aborted, ...).", "reason", (c) => c.httpRejected);
    new Gauge({ name: "ws_connections", help: "Open WebSocket connections.", registers: r, collect() {
      this.set(counts().wsConnections);
    } });
    new Gauge({ name: "ws_subscriptions", help: "Live WebSocket subscriptions.", registers: r, collect() {
      this.set(counts().subscriptions);
    } });
    new Counter({ name: "ws_notifications_sent_total", help: "Subscription notifications queued to clients.", registers: r, collect() {
      this.reset();
      this.inc(counts().notificationsSent);
    } });
    new Counter({ name: "ws_overflow_disconnects_total", help: "WebSocket clients disconnected for not keeping up.", registers: r, collect() {
      this.reset();
      this.inc(counts().wsOverflowDisconnects);
    } });
  }

  /** Market-data counters; `market` must be a configured market or "unattributed". */
  marketData(): { rejected(market: string, reason: string): void; written(): void } {
    const rejections = new Counter({ name: "perpchain_marketdata_rejections_total", help: "Market-data updates refused by the guards.", labelNames: ["market", "reason"], registers: [this.registry] });
    const writes = new Counter({ name: "perpchain_marketdata_writes_total", help: "Market-data writes sent to the oracle.", registers: [this.registry] });
    return {
      rejected: (market, reason) => rejections.inc({ market, reason }),
      written: () => writes.inc(),
    };
  }

  /** Prometheus text exposition: the process metrics, then everything the node registered. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.processRegistry === undefined ? own : `${await this.processRegistry.metrics()}\n${own}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
