// Where a write is answered in cluster mode. starknet_add*Transaction, appchain_pushMarketData
// and the devnet methods that submit or build blocks run on the leader: a follower forwards
// the same JSON-RPC call to the leader's RPC URL and the client gets the leader's answer
// (result or error, code and data unchanged); the leader runs them itself.
//
// A leader change costs the client no error: while there is no leader (failover) or this
// node is handing over (appchain_stepDown), the write waits for the next leader, up to
// `wait_ms`, and goes there; so does a write the old leader refused (NOT_LEADER: it did not
// take it) or, for a transaction, one whose forward failed on the way (the old leader died).
// Resending a transaction is safe: a leader that already holds it (the old leader replicated
// it and the new one adopted it, or a block includes it) answers DUPLICATE_TX, which on a
// resend means "taken", so the client gets the transaction hash, as from the first leader.
// Other writes (mints, market data, blocks) are sent again only when the first attempt
// certainly did nothing (NOT_LEADER, NODE_NOT_READY, connection refused).
//
// Never answers a write itself (the leader's handlers do) and never forwards reads.

import { toHex } from "../../state/felt.js";
import { deployAccountAddress } from "../../state/tx-hash.js";
import { NotLeaderError, RpcError } from "../errors.js";
import { parseBroadcastedDeployAccountTxn, parseBroadcastedInvokeTxn } from "../rpc/params.js";
import type { RpcContext, RpcForwarder } from "../rpc/registry.js";
import { intake } from "../tx-intake.js";
import type { Felt } from "../../state/felt.js";
import type { WriteTarget } from "./cluster-controller.js";

export const FORWARDED_METHODS: ReadonlySet<string> = new Set([
  "starknet_addInvokeTransaction",
  "starknet_addDeployAccountTransaction",
  "starknet_addDeclareTransaction",
  "appchain_pushMarketData",
  "devnet_mint",
  "devnet_createBlock",
]);

/** Writes identified by their transaction hash: sending one again cannot apply it twice. */
const TX_METHODS: ReadonlySet<string> = new Set(["starknet_addInvokeTransaction", "starknet_addDeployAccountTransaction"]);

const NOT_LEADER = -32013;
const CLUSTER_UNAVAILABLE = -32014;
const NODE_NOT_READY = -32001;
const DUPLICATE_TX = 59;

/** What the forwarder needs from the cluster (ClusterController implements it). */
export interface WriteRouting {
  writeTarget(until: number, avoidToken: string | null): Promise<WriteTarget>;
  /** The leader token this node's watch last reported (null: none, or this node leads). */
  readonly knownLeaderToken: string | null;
  /** This node leads and may write. */
  readonly writing: boolean;
  forgetLeader(rpcUrl: string): void;
}

export interface WriteForwarderOptions {
  /** How long a write may wait for a leader, resends included (default: 2 × lease TTL + 1 s). */
  wait_ms: number;
  /** Per-call timeout of a forwarded request (default 30 s; cut short when the leader changes). */
  timeout_ms?: number;
  /** Sent as the bearer token when the client sent none (operator methods on a remote leader). */
  adminToken?: string;
  /** The chain id (the transaction hash of a resent transaction). */
  chainId: Felt;
  now?: () => number;
}

let forwardId = 0;

export function writeForwarder(routing: WriteRouting, opts: WriteForwarderOptions): RpcForwarder {
  return (method, rawParams, ctx, local) => {
    if (!FORWARDED_METHODS.has(method)) return null;
    return routeWrite(routing, method, rawParams, ctx, local, opts);
  };
}

/** How an attempt failed, for the decision to send it again. */
type Failure = { error: unknown; kind: "refused" | "unknown" | "answer"; remoteToken?: string };

async function routeWrite(routing: WriteRouting, method: string, params: unknown, ctx: RpcContext, local: () => Promise<unknown>, opts: WriteForwarderOptions): Promise<unknown> {
  const now = opts.now ?? (() => performance.now());
  const until = now() + opts.wait_ms;
  const idempotent = TX_METHODS.has(method);
  let avoid: string | null = null;
  let attempts = 0;
  let last: Failure | null = null;
  for (;;) {
    let target: WriteTarget;
    try {
      target = await routing.writeTarget(until, avoid);
    } catch (e) {
      throw last?.error ?? e;
    }
    attempts++;
    let failure: Failure;
    try {
      return target.local ? await local() : await forwardOnce(routing, target, method, params, ctx, opts);
    } catch (e) {
      failure = classify(e, target);
    }
    // A resent transaction the leader already holds was taken by an earlier attempt.
    if (idempotent && attempts > 1 && failure.error instanceof RpcError && failure.error.code === DUPLICATE_TX) {
      const taken = acceptedResult(method, params, opts.chainId);
      if (taken !== null) return taken;
    }
    const again = failure.kind === "refused" || (failure.kind === "unknown" && idempotent);
    if (!again || now() > until) throw failure.error;
    last = failure;
    avoid = failure.remoteToken ?? null;
    if (!target.local) routing.forgetLeader(target.url);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function classify(e: unknown, target: WriteTarget): Failure {
  const remoteToken = target.local ? undefined : target.token;
  if (e instanceof RpcError) {
    // NOT_LEADER: the node did not take it (a leader that could not replicate a transaction withdraws it first).
    if (e.code === NOT_LEADER || e.code === NODE_NOT_READY) return { error: e, kind: "refused", remoteToken };
    if (e.code === CLUSTER_UNAVAILABLE) return { error: e, kind: "unknown", remoteToken };
    return { error: e, kind: "answer" };
  }
  if (e instanceof ForwardFailed) return { error: e.rpcError, kind: e.delivered ? "unknown" : "refused", remoteToken };
  return { error: e, kind: "answer" };
}

/** A forward that got no JSON-RPC answer; `delivered`: the request may have reached the leader. */
class ForwardFailed extends Error {
  constructor(
    readonly rpcError: NotLeaderError,
    readonly delivered: boolean,
  ) {
    super(rpcError.message);
  }
}

async function forwardOnce(routing: WriteRouting, target: { url: string; token: string }, method: string, params: unknown, ctx: RpcContext, opts: WriteForwarderOptions): Promise<unknown> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const auth = ctx.authorization ?? (opts.adminToken !== undefined ? `Bearer ${opts.adminToken}` : undefined);
  if (auth !== undefined) headers.authorization = auth;
  // A leader that stops answering (frozen, partitioned) is replaced within a lease TTL: once
  // another leader is known (or this node leads), stop waiting for this one.
  const abort = new AbortController();
  const watch = setInterval(() => {
    const t = routing.knownLeaderToken;
    if (routing.writing || (t !== null && t !== target.token)) abort.abort(new Error("the leader changed"));
  }, 50);
  let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    const res = await fetch(target.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: ++forwardId, method, params: params ?? [] }),
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(opts.timeout_ms ?? 30_000)]),
    });
    body = (await res.json()) as typeof body;
  } catch (e) {
    const refused = (e as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
    throw new ForwardFailed(new NotLeaderError(`forwarding ${method} to the leader at ${target.url} failed: ${(e as Error).message}`), !refused);
  } finally {
    clearInterval(watch);
  }
  if (body.error !== undefined) throw new RpcError(body.error.code, body.error.message, body.error.data);
  return body.result;
}

/** The answer the leader gives for this transaction (its hash, and the address for DEPLOY_ACCOUNT); null when unparsable. */
export function acceptedResult(method: string, params: unknown, chainId: Felt): Record<string, string> | null {
  const name = method === "starknet_addInvokeTransaction" ? "invoke_transaction" : "deploy_account_transaction";
  const raw = Array.isArray(params) ? params[0] : typeof params === "object" && params !== null && name in params ? (params as Record<string, unknown>)[name] : params;
  try {
    if (method === "starknet_addInvokeTransaction") return { transaction_hash: toHex(intake(parseBroadcastedInvokeTxn(raw), chainId).hash) };
    if (method === "starknet_addDeployAccountTransaction") {
      const tx = parseBroadcastedDeployAccountTxn(raw);
      return { transaction_hash: toHex(intake(tx, chainId).hash), contract_address: toHex(deployAccountAddress(tx)) };
    }
  } catch {
    return null;
  }
  return null;
}
