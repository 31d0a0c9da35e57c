// A follower's writes go to the leader: starknet_add*Transaction, appchain_pushMarketData
// and the devnet methods that submit or build blocks are forwarded as the same JSON-RPC
// call to the leader's RPC URL, and the client gets the leader's answer (result or error,
// code and data unchanged). While there is no leader (a failover in progress) the forward
// waits for one, up to `wait_ms`.
//
// Never answers a forwarded write itself and never forwards reads.

import { NotLeaderError, RpcError } from "../errors.js";
import type { RpcContext, RpcForwarder } from "../rpc/registry.js";
import type { ClusterController } from "./cluster-controller.js";

export const FORWARDED_METHODS: ReadonlySet<string> = new Set([
  "starknet_addInvokeTransaction",
  "starknet_addDeployAccountTransaction",
  "starknet_addDeclareTransaction",
  "appchain_pushMarketData",
  "devnet_mint",
  "devnet_createBlock",
]);

export interface WriteForwarderOptions {
  /** How long a forward waits for a leader to exist (default 2 × lease TTL + 1 s). */
  wait_ms: number;
  /** Per-call timeout of the forwarded request (default 30 s). */
  timeout_ms?: number;
  /** Sent as the bearer token when the client sent none (operator methods on a remote leader). */
  adminToken?: string;
}

let forwardId = 0;

export function writeForwarder(ctl: ClusterController, opts: WriteForwarderOptions): RpcForwarder {
  return (method: string, rawParams: unknown, ctx: RpcContext) => {
    if (!FORWARDED_METHODS.has(method) || ctl.role === "leader") return null;
    return forward(ctl, method, rawParams, ctx, opts);
  };
}

async function forward(ctl: ClusterController, method: string, params: unknown, ctx: RpcContext, opts: WriteForwarderOptions): Promise<unknown> {
  const url = await ctl.leaderRpcUrl(opts.wait_ms);
  if (url === null) throw new NotLeaderError("this node became the leader while forwarding; send the request again");
  const headers: Record<string, string> = { "content-type": "application/json" };
  const auth = ctx.authorization ?? (opts.adminToken !== undefined ? `Bearer ${opts.adminToken}` : undefined);
  if (auth !== undefined) headers.authorization = auth;
  let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: ++forwardId, method, params: params ?? [] }),
      signal: AbortSignal.timeout(opts.timeout_ms ?? 30_000),
    });
    body = (await res.json()) as typeof body;
  } catch (e) {
    ctl.forgetLeader(url);
    throw new NotLeaderError(`forwarding ${method} to the leader at ${url} failed: ${(e as Error).message}`);
  }
  if (body.error !== undefined) throw new RpcError(body.error.code, body.error.message, body.error.data);
  return body.result;
}
