// Cluster operator methods (DESIGN §11), on every node:
//   appchain_getClusterStatus → {node_id, role, leader_id, token, head, members}
//     (a single embedded node answers role "leader", itself the only member, its epoch as token)
//   appchain_stepDown → the leader finishes its block and revokes its lease; a caught-up
//     follower takes over. Refused on a follower (NOT_LEADER) and on a single node.
//   Both loopback only unless an admin token is configured, like every operator method.
//   appchain_getClusterBlocks {from, count ≤ 32} → the local blocks from `from` (up to the
//     head) with the inputs to re-execute them: what a member too far behind etcd's pruning
//     floor fetches from a peer. Public chain data (like starknet_getBlockWithTxs): no auth.

import { toHex } from "../../state/felt.js";
import type { ClusterController } from "../cluster/cluster-controller.js";
import { localClusterBlocks } from "../cluster/node-binding.js";
import { PEER_BLOCKS_MAX } from "../cluster/peer-blocks.js";
import { InvalidParamsError, NotSupportedError } from "../errors.js";
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
    "appchain_getClusterBlocks",
    async (p) => {
      const from = p.from;
      const count = p.count === undefined ? PEER_BLOCKS_MAX : p.count;
      if (typeof from !== "number" || !Number.isSafeInteger(from) || from < 0) throw new InvalidParamsError("from", "expected a block number");
      if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1 || count > PEER_BLOCKS_MAX) throw new InvalidParamsError("count", `expected 1..${PEER_BLOCKS_MAX}`);
      return localClusterBlocks(node, from, count);
    },
    { paramNames: ["from", "count?"] },
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
