// Joining a cluster (the composition step startDevnet runs with --cluster-etcd): the
// coordinator bound to the chain's etcd prefix, the controller over the node, the gate bound
// to it, the follower → leader write forwarder, the cluster's Prometheus lines; then start:
// check the genesis, catch up, follow or lead.
//
// Wiring only: the rules live in coordinator.ts and cluster-controller.ts.

import { Counter, Gauge, type Registry } from "prom-client";
import type { PerpchainNode } from "../node.js";
import type { HandlerRegistry } from "../rpc/registry.js";
import { ClusterController, type ClusterRole } from "./cluster-controller.js";
import { ClusterCoordinator } from "./coordinator.js";
import { ClusterGate, NodeClusterPort } from "./node-binding.js";
import { peerBlockFetcher } from "./peer-blocks.js";
import { writeForwarder } from "./write-forwarder.js";

/**
 * Most transactions per block in cluster mode: a block is one etcd request, and etcd refuses
 * requests above --max-request-bytes (1.5 MiB by default); 400 exchange transactions of
 * ~1-2 KB each stay well below.
 */
export const CLUSTER_MAX_TXS_PER_BLOCK = 400;

/** Genesis block time of a cluster's chain (every member must build the same block 0). */
export const CLUSTER_GENESIS_TIMESTAMP_S = 0;

export interface JoinClusterOptions {
  etcd: string[];
  nodeId: string;
  leaseTtlS?: number;
  /** Blocks kept in etcd below the head even when every member has them (default 1000). */
  retentionBlocks?: number;
  /** This node's JSON-RPC URL (published to the other members). */
  rpcUrl: string;
  adminToken?: string;
  /** Called each time this node becomes the leader (e.g. bootstrap market data). */
  onLeader?: () => void;
  log?: (event: string, fields?: Record<string, unknown>) => void;
  timeout_ms?: number;
  /** The node's Prometheus registry (the cluster's gauges join it). */
  metricsRegistry?: Registry;
}

export async function joinCluster(node: PerpchainNode, gate: ClusterGate, registry: HandlerRegistry, opts: JoinClusterOptions): Promise<ClusterController> {
  const ttl = opts.leaseTtlS ?? 5;
  const coordinator = ClusterCoordinator.create({ endpoints: opts.etcd, chainId: node.options.chainId, nodeId: opts.nodeId, rpcUrl: opts.rpcUrl, leaseTtlS: ttl, log: opts.log });
  const ctl = new ClusterController({
    coordinator,
    port: new NodeClusterPort(node, gate),
    log: opts.log,
    retentionBlocks: opts.retentionBlocks,
    fetchPeerBlocks: peerBlockFetcher(opts.adminToken !== undefined ? { authorization: `Bearer ${opts.adminToken}` } : {}),
  });
  gate.bind(ctl);
  registry.setForwarder(writeForwarder(ctl, { wait_ms: 2 * ttl * 1000 + 1_000, adminToken: opts.adminToken, chainId: node.chainId }));
  if (opts.onLeader) ctl.onRoleChange((r) => r === "leader" && opts.onLeader!());
  if (opts.metricsRegistry) registerClusterMetrics(opts.metricsRegistry, ctl);
  const genesis = await node.chain.getBlock(0);
  if (genesis === undefined) throw new Error("cluster: the local chain has no block 0");
  try {
    await ctl.start(genesis.header.block_hash, opts.timeout_ms ?? 60_000);
  } catch (e) {
    await ctl.stop().catch(() => {});
    throw e;
  }
  return ctl;
}

const ROLES: readonly ClusterRole[] = ["starting", "follower", "leader", "halted"];

/** /metrics of cluster mode on the node's registry: role, leader changes, lag behind the etcd head. */
export function registerClusterMetrics(registry: Registry, ctl: ClusterController): void {
  const r = [registry];
  new Gauge({ name: "perpchain_cluster_role", help: "1 for this node's current cluster role.", labelNames: ["role"], registers: r, collect() {
    for (const role of ROLES) this.set({ role }, ctl.role === role ? 1 : 0);
  } });
  new Counter({ name: "perpchain_cluster_leader_changes_total", help: "Times this node became the leader.", registers: r, collect() {
    this.reset();
    this.inc(ctl.stats.leaderChanges);
  } });
  new Gauge({ name: "perpchain_cluster_follower_lag_blocks", help: "Blocks between the etcd head and this node's head (last sync).", registers: r, collect() {
    this.set(ctl.lag);
  } });
  new Counter({ name: "perpchain_cluster_blocks_applied_total", help: "Blocks re-executed from etcd since start.", registers: r, collect() {
    this.reset();
    this.inc(ctl.stats.blocksApplied);
  } });
}
