// Cluster operator methods (DESIGN §11), on every node:
//   appchain_getClusterStatus → {node_id, role, leader_id, token, head, members}
//     (a single embedded node answers role "leader", itself the only member, its epoch as token)
//   appchain_stepDown → the leader finishes its block and revokes its lease; a caught-up
//     follower takes over. Refused on a follower (NOT_LEADER) and on a single node.
// Loopback only unless an admin token is configured, like every operator method.

import { toHex } from "../../state/felt.js";
import type { ClusterController } from "../cluster/cluster-controller.js";
import { NotSupportedError } from "../errors.js";
import type { PerpchainNode } from "../node.js";
import { authorizeOperator as authorize } from "./operator-auth.js";
import type { HandlerRegistry } from "./registry.js";

export interface ClusterMethodOptions {
  adminToken?: string;
  /** This node's RPC URL (the single node lists itself as the only member). */
  rpcUrl: () => string;
}

export const SINGLE_NODE_ID = "single";

export function registerClusterMethods(registry: HandlerRegistry, node: PerpchainNode, cluster: ClusterController | null, opts: ClusterMethodOptions): void {
  registry.register(
    "appchain_getClusterStatus",
    async (_p, ctx) => {
      authorize(ctx, opts.adminToken);
      if (cluster !== null) return cluster.status();
      const head = node.world.head()!;
      return {
        node_id: SINGLE_NODE_ID,
        role: "leader",
        leader_id: SINGLE_NODE_ID,
        token: String(node.epoch),
        head: { block_number: head.blockNumber, block_hash: toHex(head.blockHash) },
        members: [{ node_id: SINGLE_NODE_ID, rpc_url: opts.rpcUrl(), role: "leader", applied_height: head.blockNumber }],
      };
    },
    { paramNames: [] },
  );
  registry.register(
    "appchain_stepDown",
    async (_p, ctx) => {
      authorize(ctx, opts.adminToken);
      if (cluster === null) throw new NotSupportedError("appchain_stepDown needs cluster mode (--cluster-etcd)");
      const { token } = await cluster.stepDown();
      return { stepped_down: true, node_id: cluster.nodeId, token };
    },
    { paramNames: [] },
  );
}
