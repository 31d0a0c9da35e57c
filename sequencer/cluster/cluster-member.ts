// Joining a cluster (the composition step startDevnet runs with --cluster-etcd): the
// coordinator bound to the chain's etcd prefix, the controller over the node, the gate bound
// to it, the follower → leader write forwarder, the cluster's Prometheus lines; then start:
// check the genesis, catch up, follow or lead.
//
// Wiring only: the rules live in coordinator.ts and cluster-controller.ts.

import type { PerpchainNode } from "../node.js";
import type { HandlerRegistry } from "../rpc/registry.js";
import { ClusterController, type ClusterRole } from "./cluster-controller.js";
import { ClusterCoordinator } from "./coordinator.js";
import { ClusterGate, NodeClusterPort } from "./node-binding.js";
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
  /** This node's JSON-RPC URL (published to the other members). */
  rpcUrl: string;
  adminToken?: string;
  /** Called each time this node becomes the leader (e.g. bootstrap market data). */
  onLeader?: () => void;
  log?: (event: string, fields?: Record<string, unknown>) => void;
  timeout_ms?: number;
}

export async function joinCluster(node: PerpchainNode, gate: ClusterGate, registry: HandlerRegistry, opts: JoinClusterOptions): Promise<ClusterController> {
  const ttl = opts.leaseTtlS ?? 5;
  const coordinator = ClusterCoordinator.create({ endpoints: opts.etcd, chainId: node.options.chainId, nodeId: opts.nodeId, rpcUrl: opts.rpcUrl, leaseTtlS: ttl, log: opts.log });
  const ctl = new ClusterController({ coordinator, port: new NodeClusterPort(node, gate), log: opts.log });
  gate.bind(ctl);
  registry.setForwarder(writeForwarder(ctl, { wait_ms: 2 * ttl * 1000 + 1_000, adminToken: opts.adminToken }));
  if (opts.onLeader) ctl.onRoleChange((r) => r === "leader" && opts.onLeader!());
  node.extraMetrics.push(() => clusterMetricLines(ctl));
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

/** /metrics lines of cluster mode: role, leader changes, lag behind the etcd head. */
export function clusterMetricLines(ctl: ClusterController): string[] {
  return [
    "# HELP perpchain_cluster_role 1 for this node's current cluster role.",
    "# TYPE perpchain_cluster_role gauge",
    ...ROLES.map((r) => `perpchain_cluster_role{role="${r}"} ${ctl.role === r ? 1 : 0}`),
    "# HELP perpchain_cluster_leader_changes_total Times this node became the leader.",
    "# TYPE perpchain_cluster_leader_changes_total counter",
    `perpchain_cluster_leader_changes_total ${ctl.stats.leaderChanges}`,
    "# HELP perpchain_cluster_follower_lag_blocks Blocks between the etcd head and this node's head (last sync).",
    "# TYPE perpchain_cluster_follower_lag_blocks gauge",
    `perpchain_cluster_follower_lag_blocks ${ctl.lag}`,
    "# HELP perpchain_cluster_blocks_applied_total Blocks re-executed from etcd since start.",
    "# TYPE perpchain_cluster_blocks_applied_total counter",
    `perpchain_cluster_blocks_applied_total ${ctl.stats.blocksApplied}`,
  ];
}
