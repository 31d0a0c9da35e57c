// The one error vocabulary of perpchain: every Starknet JSON-RPC 0.10.3 error, defined once
// with its code and message (STARKNET_ERRORS, checked against the spec files by a test), and
// the typed error classes the runtime, the transaction executor and the sequencer throw.
// It lives here, at the bottom of the layers, because contracts/ may not import sequencer/;
// sequencer/errors.ts re-exports it and adds the JSON-RPC 2.0 and operator errors.
//
// Nothing here formats a JSON-RPC response: sequencer/errors.ts `toJsonRpcError` is the only
// place that turns a thrown value into one. Never read the clock, randomness or env here.

import { type Felt, decodeShortString, encodeShortString, toHex } from "../../state/felt.js";

/** Spec codes and messages, by the spec's error name. */
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

/**
 * Base of every error with a JSON-RPC code. `rpcMessage` is what a client is told;
 * `message` (Error.message) adds the detail for logs and revert reasons; `data` is set only
 * where the spec defines it, in the spec's shape.
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
}

/** Base for the spec's errors: code and message from STARKNET_ERRORS. */
export abstract class StarknetError extends RpcError {
  constructor(name: StarknetErrorName, data?: unknown, detail?: string) {
    super(STARKNET_ERRORS[name].code, STARKNET_ERRORS[name].message, data, detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Spec errors (only those something throws). `detail` goes to Error.message only.

/** Spec data: `{status?: "RECEIVED" | "REJECTED"}`. */
export class NoTraceAvailableError extends StarknetError {
  constructor(status?: "RECEIVED" | "REJECTED", detail?: string) {
    super("NO_TRACE_AVAILABLE", status === undefined ? undefined : { status }, detail);
  }
}
/** 20: no contract is deployed at the address. */
export class ContractNotFoundError extends StarknetError {
  constructor(detail?: string) {
    super("CONTRACT_NOT_FOUND", undefined, detail);
  }
  static at(address: Felt): ContractNotFoundError {
    return new ContractNotFoundError(toHex(address));
  }
}
/** 21: the class has no such selector. */
export class EntrypointNotFoundError extends StarknetError {
  constructor(detail?: string) {
    super("ENTRYPOINT_NOT_FOUND", undefined, detail);
  }
  static of(address: Felt, selector: Felt): EntrypointNotFoundError {
    return new EntrypointNotFoundError(`entry point ${toHex(selector)} of contract ${toHex(address)}`);
  }
}
export class BlockNotFoundError extends StarknetError {
  constructor(detail?: string) {
    super("BLOCK_NOT_FOUND", undefined, detail);
  }
}
export class InvalidTxnIndexError extends StarknetError {
  constructor(detail?: string) {
    super("INVALID_TXN_INDEX", undefined, detail);
  }
}
/** 28: the class hash is not registered. */
export class ClassHashNotFoundError extends StarknetError {
  constructor(detail?: string) {
    super("CLASS_HASH_NOT_FOUND", undefined, detail);
  }
  static of(classHash: Felt): ClassHashNotFoundError {
    return new ClassHashNotFoundError(toHex(classHash));
  }
}
export class TxnHashNotFoundError extends StarknetError {
  constructor(detail?: string) {
    super("TXN_HASH_NOT_FOUND", undefined, detail);
  }
}
export class PageSizeTooBigError extends StarknetError {
  constructor(detail?: string) {
    super("PAGE_SIZE_TOO_BIG", undefined, detail);
  }
}
export class InvalidContinuationTokenError extends StarknetError {
  constructor(detail?: string) {
    super("INVALID_CONTINUATION_TOKEN", undefined, detail);
  }
}
export class TooManyKeysInFilterError extends StarknetError {
  constructor(detail?: string) {
    super("TOO_MANY_KEYS_IN_FILTER", undefined, detail);
  }
}

/** CONTRACT_EXECUTION_ERROR of the spec: a nested frame or a plain message. */
export type ContractExecutionError =
  | { contract_address: string; class_hash: string; selector: string; error: ContractExecutionError }
  | string;

/** 40, spec data `{revert_error}`: starknet_call failed inside the contract. */
export class ContractError extends StarknetError {
  constructor(readonly revertError: ContractExecutionError, detail?: string) {
    super("CONTRACT_ERROR", { revert_error: revertError }, detail ?? (typeof revertError === "string" ? revertError : undefined));
  }
}
/** 41, spec data `{transaction_index, execution_error}`. */
export class TransactionExecutionError extends StarknetError {
  constructor(
    readonly transactionIndex: number,
    readonly executionError: ContractExecutionError,
    detail?: string,
  ) {
    super("TRANSACTION_EXECUTION_ERROR", { transaction_index: transactionIndex, execution_error: executionError }, detail);
  }
}
/** 52, spec data: a string. */
export class InvalidTransactionNonceError extends StarknetError {
  constructor(readonly reason: string) {
    super("INVALID_TRANSACTION_NONCE", reason, reason);
  }
  static of(accountNonce: Felt, txNonce: Felt): InvalidTransactionNonceError {
    return new InvalidTransactionNonceError(`account nonce is ${toHex(accountNonce)}, transaction has ${toHex(txNonce)}`);
  }
}
/** 53: a bound below the block's price, or L2 gas below the minimal (intrinsic) amount. */
export class InsufficientResourcesForValidateError extends StarknetError {
  constructor(detail?: string) {
    super("INSUFFICIENT_RESOURCES_FOR_VALIDATE", undefined, detail);
  }
}
/** 54: the fee-token balance cannot cover the max fee. */
export class InsufficientAccountBalanceError extends StarknetError {
  constructor(detail?: string) {
    super("INSUFFICIENT_ACCOUNT_BALANCE", undefined, detail);
  }
  static of(balance: bigint, maxFee: bigint): InsufficientAccountBalanceError {
    return new InsufficientAccountBalanceError(`balance ${balance} is below the max fee ${maxFee}`);
  }
}
/** 55, spec data: a string. __validate__ failed, the account is missing or a deployment failed. */
export class ValidationFailureError extends StarknetError {
  constructor(readonly reason: string) {
    super("VALIDATION_FAILURE", reason, reason);
  }
}
export class DuplicateTxError extends StarknetError {
  constructor(detail?: string) {
    super("DUPLICATE_TX", undefined, detail);
  }
}
export class UnsupportedTxVersionError extends StarknetError {
  constructor(detail?: string) {
    super("UNSUPPORTED_TX_VERSION", undefined, detail);
  }
}
/**
 * DECLARE cannot run on perpchain (contracts are native TypeScript, not Cairo). Answered with
 * the spec's 62 UNSUPPORTED_CONTRACT_CLASS_VERSION, which starknet_addDeclareTransaction lists.
 */
export class DeclareNotSupportedError extends StarknetError {
  constructor() {
    super("UNSUPPORTED_CONTRACT_CLASS_VERSION", undefined, "DECLARE transactions are not supported: perpchain runs native contracts, not Cairo classes");
  }
}
/** 63, spec data: a string. */
export class UnexpectedError extends StarknetError {
  constructor(readonly reason: string) {
    super("UNEXPECTED_ERROR", reason, reason);
  }
}
export class InvalidSubscriptionIdError extends StarknetError {
  constructor(detail?: string) {
    super("INVALID_SUBSCRIPTION_ID", undefined, detail);
  }
}
export class TooManyAddressesInFilterError extends StarknetError {
  constructor(detail?: string) {
    super("TOO_MANY_ADDRESSES_IN_FILTER", undefined, detail);
  }
}
/** 68: a subscription's backfill starts more than 1024 blocks back (thrown by backfill hooks). */
export class TooManyBlocksBackError extends StarknetError {
  constructor(detail?: string) {
    super("TOO_MANY_BLOCKS_BACK", undefined, detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Contract execution

/**
 * A contract panicked (Cairo `panic`, `assert`, failed deserialization, out of gas...).
 * `panicData` is the felt array Cairo would carry; short strings decode to `reason`.
 * `frames` lists the call frames from the outermost to the failing one, filled in as the
 * error bubbles up, so the revert reason reads like Starknet's. Not an RpcError: it is the
 * runtime's control flow; the executor turns it into a revert reason or a typed error.
 */
export class ContractPanic extends Error {
  readonly frames: CallFrameInfo[] = [];
  constructor(readonly panicData: Felt[]) {
    super(`Execution failed. Failure reason: ${formatPanicData(panicData)}.`);
    this.name = "ContractPanic";
  }
  static of(reason: string): ContractPanic {
    return new ContractPanic([encodeShortString(reason)]);
  }
  /** Starknet-style revert reason with the call stack. */
  get revertReason(): string {
    const lines = this.frames.map(
      (f, i) =>
        `${i}: Error in the called contract (contract address: ${toHex64Pad(f.contractAddress)}, class hash: ${toHex64Pad(
          f.classHash,
        )}, selector: ${toHex64Pad(f.selector)}):`,
    );
    lines.push(this.message);
    return lines.join("\n");
  }
}

/** A failure a call can end with (a panic or a typed error such as CONTRACT_NOT_FOUND); anything else is a bug. */
export function isExecutionFailure(e: unknown): e is ContractPanic | RpcError {
  return e instanceof ContractPanic || e instanceof RpcError;
}

export interface CallFrameInfo {
  contractAddress: Felt;
  classHash: Felt;
  selector: Felt;
}

function toHex64Pad(v: Felt): string {
  return "0x" + v.toString(16).padStart(64, "0");
}

/** Cairo's rendering of panic data: `0x… ('text')`, tuples as `(a, b)`. */
export function formatPanicData(data: readonly Felt[]): string {
  const one = (f: Felt) => {
    const s = decodeShortString(f);
    return /^[\x20-\x7e]+$/.test(s) ? `${toHex(f)} ('${s}')` : toHex(f);
  };
  if (data.length === 1) return one(data[0]!);
  return `(${data.map(one).join(", ")})`;
}

/** The panic Cairo emits when calldata does not deserialize into the declared inputs. */
export function deserializePanic(paramIndex: number): ContractPanic {
  return ContractPanic.of(`Failed to deserialize param #${paramIndex}`);
}

/** Why an execution failure failed a call, as a revert reason (panics with their call stack). */
export function revertReasonOf(e: ContractPanic | RpcError): string {
  return e instanceof ContractPanic ? e.revertReason : e.message;
}
