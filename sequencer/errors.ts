// The one table of errors the node can answer with, and the one function that turns
// any thrown value into a JSON-RPC error object.
//
// Three families:
//  - Starknet JSON-RPC 0.10.3 errors: code and message exactly as `components.errors` in the
//    spec files (starknet_api_openrpc.json, starknet_write_api.json, starknet_trace_api_openrpc.json,
//    starknet_executables.json, starknet_ws_api.json); `data` only where the spec defines it.
//  - JSON-RPC 2.0 standard errors (-32700 … -32603).
//  - perpchain operator errors, in the private range -32000 … -32099 that JSON-RPC 2.0 reserves
//    for implementation-defined server errors (no clash with Starknet's small positive codes).
//
// Handlers throw these classes; nothing else builds JSON-RPC error objects. Unknown exceptions
// become -32603 (or 63 UNEXPECTED_ERROR where the method's spec lists it) without leaking their
// message or stack to the client; the details go to the log with a reference number.

/** The JSON-RPC error object as it goes on the wire. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** Spec codes and messages, by the spec's error name. Checked against the spec files by a test. */
export const STARKNET_ERRORS = {
  FAILED_TO_RECEIVE_TXN: { code: 1, message: "Failed to write transaction" },
  NO_TRACE_AVAILABLE: { code: 10, message: "No trace available for transaction" },
  CONTRACT_NOT_FOUND: { code: 20, message: "Contract not found" },
  ENTRYPOINT_NOT_FOUND: { code: 21, message: "Requested entry point does not exist in the contract" },
  BLOCK_NOT_FOUND: { code: 24, message: "Block not found" },
  INVALID_TXN_INDEX: { code: 27, message: "Invalid transaction index in a block" },
  CLASS_HASH_NOT_FOUND: { code: 28, message: "Class hash not found" },
  TXN_HASH_NOT_FOUND: { code: 29, message: "Transaction hash not found" },
  PAGE_SIZE_TOO_BIG: { code: 31, message: "Requested page size is too big" },
  NO_BLOCKS: { code: 32, message: "There are no blocks" },
  INVALID_CONTINUATION_TOKEN: { code: 33, message: "The supplied continuation token is invalid or unknown" },
  TOO_MANY_KEYS_IN_FILTER: { code: 34, message: "Too many keys provided in a filter" },
  CONTRACT_ERROR: { code: 40, message: "Contract error" },
  TRANSACTION_EXECUTION_ERROR: { code: 41, message: "Transaction execution error" },
  STORAGE_PROOF_NOT_SUPPORTED: {
    code: 42,
    message: "the node doesn't support storage proofs for blocks that are too far in the past",
  },
  CLASS_ALREADY_DECLARED: { code: 51, message: "Class already declared" },
  INVALID_TRANSACTION_NONCE: { code: 52, message: "Invalid transaction nonce" },
  INSUFFICIENT_RESOURCES_FOR_VALIDATE: {
    code: 53,
    message: "The transaction's resources don't cover validation or the minimal transaction fee",
  },
  INSUFFICIENT_ACCOUNT_BALANCE: {
    code: 54,
    message:
      "Account balance is smaller than the transaction's maximal fee (calculated as the sum of each resource's limit x max price)",
  },
  VALIDATION_FAILURE: { code: 55, message: "Account validation failed" },
  COMPILATION_FAILED: { code: 56, message: "Compilation failed" },
  CONTRACT_CLASS_SIZE_IS_TOO_LARGE: { code: 57, message: "Contract class size is too large" },
  NON_ACCOUNT: { code: 58, message: "Sender address is not an account contract" },
  DUPLICATE_TX: { code: 59, message: "A transaction with the same hash already exists in the mempool" },
  COMPILED_CLASS_HASH_MISMATCH: {
    code: 60,
    message: "the compiled class hash did not match the one supplied in the transaction",
  },
  UNSUPPORTED_TX_VERSION: { code: 61, message: "the transaction version is not supported" },
  UNSUPPORTED_CONTRACT_CLASS_VERSION: { code: 62, message: "the contract class version is not supported" },
  UNEXPECTED_ERROR: { code: 63, message: "An unexpected error occurred" },
  REPLACEMENT_TRANSACTION_UNDERPRICED: { code: 64, message: "Replacement transaction is underpriced" },
  FEE_BELOW_MINIMUM: { code: 65, message: "Transaction fee below minimum" },
  INVALID_SUBSCRIPTION_ID: { code: 66, message: "Invalid subscription id" },
  TOO_MANY_ADDRESSES_IN_FILTER: { code: 67, message: "Too many addresses in filter sender_address filter" },
  TOO_MANY_BLOCKS_BACK: { code: 68, message: "Cannot go back more than 1024 blocks" },
  INVALID_PROOF: { code: 69, message: "The proof field in the invoke v3 transaction is invalid" },
  COMPILATION_ERROR: { code: 100, message: "Failed to compile the contract" },
} as const;

export type StarknetErrorName = keyof typeof STARKNET_ERRORS;

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
  GUARD_REJECTED: { code: -32004, message: "Market data update rejected by a guard" },
  UNAUTHORIZED: { code: -32005, message: "Operator method not allowed for this client" },
  SNAPSHOT_NOT_FOUND: { code: -32006, message: "Snapshot not found" },
  CIRCUIT_BREAKER_OPEN: { code: -32007, message: "Market data circuit breaker is open" },
  STALE_EPOCH: { code: -32008, message: "Stale epoch or sequence number" },
  NOT_SUPPORTED: { code: -32009, message: "Not supported by this node" },
  OVERLOADED: { code: -32010, message: "Node is overloaded" },
  NOT_LEADER: { code: -32013, message: "Node is not the cluster leader" },
  CLUSTER_UNAVAILABLE: { code: -32014, message: "Cluster coordinator unavailable" },
} as const;

export const PRIVATE_CODE_MIN = -32099;
export const PRIVATE_CODE_MAX = -32000;

/**
 * Base class of every error the RPC layer can answer with.
 * `message` (Error.message) may carry detail for logs; `rpcMessage` is what goes on the wire.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
    detail?: string,
  ) {
    super(detail ? `${rpcMessage}: ${detail}` : rpcMessage);
    this.name = new.target.name;
  }

  toJsonRpc(): JsonRpcErrorObject {
    const out: JsonRpcErrorObject = { code: this.code, message: this.rpcMessage };
    if (this.data !== undefined) out.data = this.data;
    return out;
  }
}

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
// Starknet spec errors. `detail` goes to Error.message (logs) only; the wire gets the spec's
// message and, where the spec defines it, `data` in the spec's shape.

function spec(name: StarknetErrorName) {
  return STARKNET_ERRORS[name];
}

/** Base for spec errors without data. */
abstract class SpecError extends RpcError {
  constructor(name: StarknetErrorName, data?: unknown, detail?: string) {
    super(spec(name).code, spec(name).message, data, detail);
  }
}

export class FailedToReceiveTxnError extends SpecError {
  constructor(detail?: string) {
    super("FAILED_TO_RECEIVE_TXN", undefined, detail);
  }
}
/** Spec data: `{status?: "RECEIVED" | "REJECTED"}`. */
export class NoTraceAvailableError extends SpecError {
  constructor(status?: "RECEIVED" | "REJECTED", detail?: string) {
    super("NO_TRACE_AVAILABLE", status === undefined ? undefined : { status }, detail);
  }
}
export class ContractNotFoundError extends SpecError {
  constructor(detail?: string) {
    super("CONTRACT_NOT_FOUND", undefined, detail);
  }
}
export class EntrypointNotFoundError extends SpecError {
  constructor(detail?: string) {
    super("ENTRYPOINT_NOT_FOUND", undefined, detail);
  }
}
export class BlockNotFoundError extends SpecError {
  constructor(detail?: string) {
    super("BLOCK_NOT_FOUND", undefined, detail);
  }
}
export class InvalidTxnIndexError extends SpecError {
  constructor(detail?: string) {
    super("INVALID_TXN_INDEX", undefined, detail);
  }
}
export class ClassHashNotFoundError extends SpecError {
  constructor(detail?: string) {
    super("CLASS_HASH_NOT_FOUND", undefined, detail);
  }
}
export class TxnHashNotFoundError extends SpecError {
  constructor(detail?: string) {
    super("TXN_HASH_NOT_FOUND", undefined, detail);
  }
}
export class PageSizeTooBigError extends SpecError {
  constructor(detail?: string) {
    super("PAGE_SIZE_TOO_BIG", undefined, detail);
  }
}
export class NoBlocksError extends SpecError {
  constructor(detail?: string) {
    super("NO_BLOCKS", undefined, detail);
  }
}
export class InvalidContinuationTokenError extends SpecError {
  constructor(detail?: string) {
    super("INVALID_CONTINUATION_TOKEN", undefined, detail);
  }
}
export class TooManyKeysInFilterError extends SpecError {
  constructor(detail?: string) {
    super("TOO_MANY_KEYS_IN_FILTER", undefined, detail);
  }
}

/** CONTRACT_EXECUTION_ERROR of the spec: a nested frame or a plain message. */
export type ContractExecutionError =
  | { contract_address: string; class_hash: string; selector: string; error: ContractExecutionError }
  | string;

/** Spec data: `{revert_error: CONTRACT_EXECUTION_ERROR}`. */
export class ContractError extends SpecError {
  constructor(readonly revertError: ContractExecutionError, detail?: string) {
    super("CONTRACT_ERROR", { revert_error: revertError }, detail);
  }
}
/** Spec data: `{transaction_index, execution_error}`. */
export class TransactionExecutionError extends SpecError {
  constructor(
    readonly transactionIndex: number,
    readonly executionError: ContractExecutionError,
    detail?: string,
  ) {
    super("TRANSACTION_EXECUTION_ERROR", { transaction_index: transactionIndex, execution_error: executionError }, detail);
  }
}
export class StorageProofNotSupportedError extends SpecError {
  constructor(detail?: string) {
    super("STORAGE_PROOF_NOT_SUPPORTED", undefined, detail);
  }
}
export class ClassAlreadyDeclaredError extends SpecError {
  constructor(detail?: string) {
    super("CLASS_ALREADY_DECLARED", undefined, detail);
  }
}
/** Spec data: a string. */
export class InvalidTransactionNonceError extends SpecError {
  constructor(reason: string) {
    super("INVALID_TRANSACTION_NONCE", reason, reason);
  }
}
export class InsufficientResourcesForValidateError extends SpecError {
  constructor(detail?: string) {
    super("INSUFFICIENT_RESOURCES_FOR_VALIDATE", undefined, detail);
  }
}
export class InsufficientAccountBalanceError extends SpecError {
  constructor(detail?: string) {
    super("INSUFFICIENT_ACCOUNT_BALANCE", undefined, detail);
  }
}
/** Spec data: a string. */
export class ValidationFailureError extends SpecError {
  constructor(reason: string) {
    super("VALIDATION_FAILURE", reason, reason);
  }
}
/** Spec data: a string. */
export class CompilationFailedError extends SpecError {
  constructor(reason: string) {
    super("COMPILATION_FAILED", reason, reason);
  }
}
export class ContractClassSizeIsTooLargeError extends SpecError {
  constructor(detail?: string) {
    super("CONTRACT_CLASS_SIZE_IS_TOO_LARGE", undefined, detail);
  }
}
export class NonAccountError extends SpecError {
  constructor(detail?: string) {
    super("NON_ACCOUNT", undefined, detail);
  }
}
export class DuplicateTxError extends SpecError {
  constructor(detail?: string) {
    super("DUPLICATE_TX", undefined, detail);
  }
}
export class CompiledClassHashMismatchError extends SpecError {
  constructor(detail?: string) {
    super("COMPILED_CLASS_HASH_MISMATCH", undefined, detail);
  }
}
export class UnsupportedTxVersionError extends SpecError {
  constructor(detail?: string) {
    super("UNSUPPORTED_TX_VERSION", undefined, detail);
  }
}
export class UnsupportedContractClassVersionError extends SpecError {
  constructor(detail?: string) {
    super("UNSUPPORTED_CONTRACT_CLASS_VERSION", undefined, detail);
  }
}
/**
 * DECLARE cannot run on perpchain (contracts are native TypeScript, not Cairo). Answered with the
 * spec's 62 UNSUPPORTED_CONTRACT_CLASS_VERSION, which starknet_addDeclareTransaction lists.
 */
export class DeclareNotSupportedError extends UnsupportedContractClassVersionError {
  constructor() {
    super("DECLARE transactions are not supported: perpchain runs native contracts, not Cairo classes");
  }
}
/** Spec data: a string. */
export class UnexpectedError extends SpecError {
  constructor(reason: string) {
    super("UNEXPECTED_ERROR", reason, reason);
  }
}
export class ReplacementTransactionUnderpricedError extends SpecError {
  constructor(detail?: string) {
    super("REPLACEMENT_TRANSACTION_UNDERPRICED", undefined, detail);
  }
}
export class FeeBelowMinimumError extends SpecError {
  constructor(detail?: string) {
    super("FEE_BELOW_MINIMUM", undefined, detail);
  }
}
export class InvalidSubscriptionIdError extends SpecError {
  constructor(detail?: string) {
    super("INVALID_SUBSCRIPTION_ID", undefined, detail);
  }
}
export class TooManyAddressesInFilterError extends SpecError {
  constructor(detail?: string) {
    super("TOO_MANY_ADDRESSES_IN_FILTER", undefined, detail);
  }
}
export class TooManyBlocksBackError extends SpecError {
  constructor(detail?: string) {
    super("TOO_MANY_BLOCKS_BACK", undefined, detail);
  }
}
export class InvalidProofError extends SpecError {
  constructor(detail?: string) {
    super("INVALID_PROOF", undefined, detail);
  }
}
/** Spec data: `{compilation_error: string}` (starknet_getCompiledCasm). */
export class CompilationError extends SpecError {
  constructor(compilationError: string) {
    super("COMPILATION_ERROR", { compilation_error: compilationError }, compilationError);
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
export class RollbackRefusedError extends RpcError {
  constructor(reason: string) {
    super(...operator("ROLLBACK_REFUSED", { reason }));
  }
}
/** A market-data guard refused an update; `guardCode` is the guard's own rejection code. */
export class GuardRejectedError extends RpcError {
  constructor(guardCode: string, reason: string) {
    super(...operator("GUARD_REJECTED", { guard_code: guardCode, reason }));
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
export class CircuitBreakerOpenError extends RpcError {
  constructor(market: string, reason: string) {
    super(...operator("CIRCUIT_BREAKER_OPEN", { market, reason }));
  }
}
export class StaleEpochError extends RpcError {
  constructor(reason: string) {
    super(...operator("STALE_EPOCH", { reason }));
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
  constructor(reason: string) {
    super(...operator("CLUSTER_UNAVAILABLE", { reason }));
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
  if (err instanceof RpcError) return err.toJsonRpc();
  const incident = ++incidentCounter;
  const logger = options.logger ?? stderrErrorLogger;
  logger.error("rpc.unexpected_exception", {
    incident,
    method: options.method,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  const reference = `internal error, see node log (incident ${incident})`;
  if (options.unexpectedErrorIsSpecified) return new UnexpectedError(reference).toJsonRpc();
  return new InternalError(reference).toJsonRpc();
}
