// Blocks from a peer, for a follower that etcd can no longer feed: when etcd pruned the
// blocks right above this node's head (it was down longer than the retention window), the
// missing ones are fetched from another member's JSON-RPC (appchain_getClusterBlocks) by
// number. What comes back is checked for shape only; the controller anchors it to etcd's
// lowest block and re-executes every block as it does etcd's (a peer is not trusted more
// than etcd).
//
// Never applies anything and never retries on its own.

import { ClusterUnavailableError } from "../errors.js";
import { parseBroadcastedTxn } from "../rpc/params.js";
import { decodeClusterBlock, type ClusterBlock } from "./cluster-records.js";

/** Most blocks one appchain_getClusterBlocks call returns. */
export const PEER_BLOCKS_MAX = 32;

export type PeerBlockFetcher = (rpcUrl: string, from: number, count: number) => Promise<ClusterBlock[]>;

let requestId = 0;

/** Blocks from..from+count-1 of the peer at `rpcUrl` (fewer when its head is lower), checked for shape and order. */
export function peerBlockFetcher(opts: { timeout_ms?: number; authorization?: string } = {}): PeerBlockFetcher {
  return async (rpcUrl, from, count) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.authorization !== undefined) headers.authorization = opts.authorization;
    let body: { result?: unknown; error?: { code: number; message: string } };
    try {
      const res = await fetch(rpcUrl, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: ++requestId, method: "appchain_getClusterBlocks", params: { from, count } }),
        signal: AbortSignal.timeout(opts.timeout_ms ?? 30_000),
      });
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw new ClusterUnavailableError(`peer ${rpcUrl}: appchain_getClusterBlocks failed: ${(e as Error).message}`);
    }
    if (body.error !== undefined) throw new ClusterUnavailableError(`peer ${rpcUrl}: appchain_getClusterBlocks: ${body.error.code} ${body.error.message}`);
    if (!Array.isArray(body.result)) throw new RangeError(`peer ${rpcUrl}: appchain_getClusterBlocks did not return a list`);
    const blocks = body.result.map((b, i) => decodeClusterBlock(b, `peer ${rpcUrl} block ${from + i}`, parseBroadcastedTxn));
    blocks.forEach((b, i) => {
      if (b.block_number !== from + i) throw new RangeError(`peer ${rpcUrl}: block ${from + i} answered as block ${b.block_number}`);
    });
    if (blocks.length > count) throw new RangeError(`peer ${rpcUrl}: ${blocks.length} blocks for ${count} asked`);
    return blocks;
  };
}
