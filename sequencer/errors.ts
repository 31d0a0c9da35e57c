// The sequencer's errors and the one function that turns any thrown value into a JSON-RPC
// error object. The Starknet spec errors are defined once, in contracts/runtime/errors.ts
// (the contracts throw them too); this module re-exports them and adds:
//  - JSON-RPC 2.0 standard errors (-32700 … -32603);
//  - perpchain operator errors, in the private range -32000 … -32099 that JSON-RPC 2.0 reserves
//    for implementation-defined server errors (no clash with Starknet's small positive codes).
//
// Handlers throw these classes; nothing else builds JSON-RPC error objects. Unknown exceptions
// become -32603 (or 63 UNEXPECTED_ERROR where the method's spec lists it) without leaking their
// message or stack to the client; the details go to the log with a reference number.

import { BlockNotFoundError, RpcError, UnexpectedError } from "../contracts/runtime/errors.js";
import { HistoryPrunedError, NoStateAtBlockError } from "../state/world-state.js";

export * from "../contracts/runtime/errors.js";

/** The JSON-RPC error object as it goes on the wire. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** JSON-RPC 2.0 standard errors. */
export const JSON_RPC_ERRORS = {
  PARSE_ERROR: { code: -32700, message: "Parse error" },
  INVALID_REQUEST: { code: -32600, message: "Invalid request" },
  METHOD_NOT_FOUND: { code: -32601, message: "Method not found" },
  INVALID_PARAMS: { code: -32602, message: "Invalid params" },
  INTERNAL_ERROR: { code: -32603, message: "Internal error" },
} as const;

/**
 * perpchain operator errors: private range -32000 … -32099 (JSON-RPC "server error" range).
 * Codes are stable once published; add new ones at the end.
 */
export const OPERATOR_ERRORS = {
  NODE_NOT_READY: { code: -32001, message: "Node is not ready" },
  NODE_PAUSED: { code: -32002, message: "Node is paused" },
  ROLLBACK_REFUSED: { code: -32003, message: "Rollback refused" },
  /** Reserved (published, nothing answers it today): a market-data guard refused an update. */
  GUARD_REJECTED: { code: -32004, message: "Market data update rejected by a guard" },
  UNAUTHORIZED: { code: -32005, message: "Operator method not allowed for this client" },
  SNAPSHOT_NOT_FOUND: { code: -32006, message: "Snapshot not found" },
  /** Reserved (published, nothing answers it today). */
  CIRCUIT_BREAKER_OPEN: { code: -32007, message: "Market data circuit breaker is open" },
  /** Reserved (published, nothing answers it today). */
  STALE_EPOCH: { code: -32008, message: "Stale epoch or sequence number" },
  NOT_SUPPORTED: { code: -32009, message: "Not supported by this node" },
  OVERLOADED: { code: -32010, message: "Node is overloaded" },
  FILE_ERROR: { code: -32011, message: "File operation failed" },
  /** A state read (storage, nonce, class, call, proof...) at a block whose state history was pruned. */
  STATE_PRUNED: { code: -32012, message: "State outside the retention window" },
  NOT_LEADER: { code: -32013, message: "Node is not the cluster leader" },
  CLUSTER_UNAVAILABLE: { code: -32014, message: "Cluster coordinator unavailable" },
  TX_NOT_INCLUDED: { code: -32015, message: "Transaction was not included" },
} as const;

export const PRIVATE_CODE_MIN = -32099;
export const PRIVATE_CODE_MAX = -32000;

// ---------------------------------------------------------------------------------------------
// JSON-RPC 2.0 standard errors. `data` is a human-readable string naming what was wrong.

export class ParseError extends RpcError {
  constructor(reason: string) {
    super(JSON_RPC_ERRORS.PARSE_ERROR.code, JSON_RPC_ERRORS.PARSE_ERROR.message, reason, reason);
  }
}

export class InvalidRequestError extends RpcError {
  constructor(reason: string) {
    super(JSON_RPC_ERRORS.INVALID_REQUEST.code, JSON_RPC_ERRORS.INVALID_REQUEST.message, reason, reason);
  }
}

export class MethodNotFoundError extends RpcError {
  constructor(readonly method: string, reason?: string) {
    const data = reason ?? `method '${method}' does not exist`;
    super(JSON_RPC_ERRORS.METHOD_NOT_FOUND.code, JSON_RPC_ERRORS.METHOD_NOT_FOUND.message, data, data);
  }
}

/** A parameter failed to parse; `field` is its path (e.g. "block_id", "request.calldata[2]"). */
export class InvalidParamsError extends RpcError {
  constructor(readonly field: string, readonly reason: string) {
    const data = field ? `${field}: ${reason}` : reason;
    super(JSON_RPC_ERRORS.INVALID_PARAMS.code, JSON_RPC_ERRORS.INVALID_PARAMS.message, data, data);
  }
}

export class InternalError extends RpcError {
  constructor(data?: string) {
    super(JSON_RPC_ERRORS.INTERNAL_ERROR.code, JSON_RPC_ERRORS.INTERNAL_ERROR.message, data, data);
  }
}

// ---------------------------------------------------------------------------------------------
// Operator errors (private range). `data` is an object with at least a `reason` string.

function operator(name: keyof typeof OPERATOR_ERRORS, data: Record<string, unknown>) {
  return [OPERATOR_ERRORS[name].code, OPERATOR_ERRORS[name].message, data, String(data.reason ?? "")] as const;
}

/** The node is not in lifecycle state `ready` (starting, recovering, catching-up, draining). */
export class NodeNotReadyError extends RpcError {
  constructor(readonly state: string) {
    super(...operator("NODE_NOT_READY", { state, reason: `node state is ${state}` }));
  }
}
export class NodePausedError extends RpcError {
  constructor(reason: string) {
    super(...operator("NODE_PAUSED", { reason }));
  }
}
/**
 * A read of the state at a block older than the retention window (`--retention-blocks`): its
 * state history is pruned, and no other state answers for it. data: {reason, block_number,
 * oldest_block, retention_blocks}.
 */
export class StatePrunedError extends RpcError {
  constructor(e: HistoryPrunedError) {
    super(
      ...operator("STATE_PRUNED", {
        reason: e.message,
        block_number: e.blockNumber,
        oldest_block: e.oldestBlock,
        retention_blocks: Number.isFinite(e.retentionBlocks) ? e.retentionBlocks : null,
      }),
    );
  }
}
export class RollbackRefusedError extends RpcError {
  constructor(reason: string) {
    super(...operator("ROLLBACK_REFUSED", { reason }));
  }
}
export class UnauthorizedError extends RpcError {
  constructor(reason: string) {
    super(...operator("UNAUTHORIZED", { reason }));
  }
}
export class SnapshotNotFoundError extends RpcError {
  constructor(name: string) {
    super(...operator("SNAPSHOT_NOT_FOUND", { name, reason: `no snapshot named '${name}'` }));
  }
}
export class NotSupportedError extends RpcError {
  constructor(reason: string) {
    super(...operator("NOT_SUPPORTED", { reason }));
  }
}
export class OverloadedError extends RpcError {
  constructor(reason: string) {
    super(...operator("OVERLOADED", { reason }));
  }
}
/** A transaction the node submitted itself (operator methods, devnet_mint) was dropped or timed out before a block included it. */
export class TransactionNotIncludedError extends RpcError {
  constructor(transactionHash: string, reason: string) {
    super(...operator("TX_NOT_INCLUDED", { transaction_hash: transactionHash, reason: `transaction ${transactionHash} ${reason}` }));
  }
}
/** A file named by an operator method (dump/load) could not be read or written; `errno` is Node's code (ENOENT, EACCES, ...). */
export class FileError extends RpcError {
  constructor(path: string, errno: string, reason: string) {
    super(...operator("FILE_ERROR", { path, errno, reason }));
  }
}

/**
 * Cluster mode: this node may not write (it is a follower, halted, or lost its leadership:
 * a refused conditional write). `leader_id` names the current leader when known.
 */
export class NotLeaderError extends RpcError {
  constructor(reason: string, leaderId?: string) {
    super(...operator("NOT_LEADER", leaderId === undefined ? { reason } : { reason, leader_id: leaderId }));
  }
}
/** Cluster mode: an etcd call did not answer within its deadline (or etcd refused it). */
export class ClusterUnavailableError extends RpcError {
  /** `extra`: more data fields (e.g. `outcome: "unknown"` when a write may have landed). */
  constructor(reason: string, extra: Record<string, unknown> = {}) {
    super(...operator("CLUSTER_UNAVAILABLE", { reason, ...extra }));
  }
}

// ---------------------------------------------------------------------------------------------

/** Where unknown exceptions are reported; one structured record per event. */
export interface ErrorLogger {
  error(event: string, fields: Record<string, unknown>): void;
}

/** Default: one JSON line on stderr. */
export const stderrErrorLogger: ErrorLogger = {
  error(event, fields) {
    process.stderr.write(JSON.stringify({ level: "error", event, ...fields }) + "\n");
  },
};

export interface ToJsonRpcErrorOptions {
  /** Method being served, for the log and to pick 63 vs -32603. */
  method?: string;
  /**
   * True when the method's spec lists UNEXPECTED_ERROR (the write API): unknown exceptions then
   * answer 63 with a string reference instead of -32603.
   */
  unexpectedErrorIsSpecified?: boolean;
  logger?: ErrorLogger;
}

let incidentCounter = 0;

/**
 * The only place that turns a thrown value into a JSON-RPC error object.
 * RpcError → its code/message/data. Anything else is logged (with stack) and answered with a
 * reference number only, never its message or stack.
 */
export function toJsonRpcError(err: unknown, options: ToJsonRpcErrorOptions = {}): JsonRpcErrorObject {
  if (err instanceof RpcError) return wire(err);
  if (err instanceof HistoryPrunedError) return wire(new StatePrunedError(err));
  if (err instanceof NoStateAtBlockError) return wire(new BlockNotFoundError(err.message));
  const incident = ++incidentCounter;
  const logger = options.logger ?? stderrErrorLogger;
  logger.error("rpc.unexpected_exception", {
    incident,
    method: options.method,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  const reference = `internal error, see node log (incident ${incident})`;
  return wire(options.unexpectedErrorIsSpecified ? new UnexpectedError(reference) : new InternalError(reference));
}

function wire(err: RpcError): JsonRpcErrorObject {
  const out: JsonRpcErrorObject = { code: err.code, message: err.rpcMessage };
  if (err.data !== undefined) out.data = err.data;
  return out;
}

// ---------------------------------------------------------------------------------------------
// starknet-devnet's own errors, for devnet_* methods whose failure a test suite written for
// starknet-devnet checks: the code and message starknet-devnet answers with
// (crates/starknet-devnet-server/src/api/error.rs: its catch-all is code -1 with the core
// error's text; UnsupportedAction is -32600 with the reason as the message).

export const STARKNET_DEVNET_ERRORS = {
  /** starknet-devnet's WILDCARD_RPC_ERROR_CODE. */
  WILDCARD: { code: -1 },
  UNSUPPORTED_ACTION: { code: JSON_RPC_ERRORS.INVALID_REQUEST.code },
} as const;

/** starknet-devnet's catch-all error (code -1), e.g. "No block found" from devnet_abortBlocks. */
export class DevnetCompatError extends RpcError {
  constructor(message: string, data?: unknown) {
    super(STARKNET_DEVNET_ERRORS.WILDCARD.code, message, data, message);
  }
}

/** starknet-devnet's UnsupportedAction (-32600, the reason as the message), e.g. "Genesis block can't be aborted". */
export class UnsupportedActionError extends RpcError {
  constructor(message: string) {
    super(STARKNET_DEVNET_ERRORS.UNSUPPORTED_ACTION.code, message, undefined, message);
  }
}
