// Every error the contract runtime and the transaction executor throw, with the
// Starknet JSON-RPC error code it maps to (the RPC layer turns them into responses;
// nothing here formats JSON-RPC). Two families:
//   - ContractPanic: a Cairo-style panic inside a call (reverts the call's writes/events).
//   - TransactionRejection subclasses: the transaction is not included at all.

import { type Felt, decodeShortString, encodeShortString, toHex } from "../../state/felt.js";

/** Base of all runtime errors; `code` is the Starknet RPC error code (0 when none applies). */
export class RuntimeError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A contract panicked (Cairo `panic`, `assert`, failed deserialization, out of gas...).
 * `panicData` is the felt array Cairo would carry; short strings decode to `reason`.
 * `trace` lists the call frames from the outermost to the failing one, filled in as the
 * error bubbles up, so the revert reason reads like Starknet's.
 */
export class ContractPanic extends RuntimeError {
  readonly frames: CallFrameInfo[] = [];
  constructor(readonly panicData: Felt[]) {
    super(40, `Execution failed. Failure reason: ${formatPanicData(panicData)}.`);
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

/** CONTRACT_NOT_FOUND (20): no contract is deployed at the address. */
export class ContractNotFoundError extends RuntimeError {
  constructor(readonly address: Felt) {
    super(20, `Contract not found: ${toHex(address)}`);
  }
}

/** ENTRYPOINT_NOT_FOUND (21): the class has no such selector. */
export class EntryPointNotFoundError extends RuntimeError {
  constructor(readonly address: Felt, readonly selector: Felt) {
    super(21, `Requested entry point ${toHex(selector)} was not found in contract ${toHex(address)}`);
  }
}

/** CLASS_HASH_NOT_FOUND (28): the class hash is not registered/declared. */
export class ClassHashNotFoundError extends RuntimeError {
  constructor(readonly classHash: Felt) {
    super(28, `Class hash not found: ${toHex(classHash)}`);
  }
}

/** A transaction that cannot be included; it changes no state. */
export class TransactionRejection extends RuntimeError {}

/** INVALID_TRANSACTION_NONCE (52). */
export class InvalidNonceError extends TransactionRejection {
  constructor(readonly expected: Felt, readonly got: Felt) {
    super(52, `Invalid transaction nonce: account nonce is ${toHex(expected)}, transaction has ${toHex(got)}`);
  }
}

/** INSUFFICIENT_RESOURCES_FOR_VALIDATE (53): bounds below prices or below the minimal gas. */
export class InsufficientResourcesError extends TransactionRejection {
  constructor(detail: string) {
    super(53, `The transaction's resources don't cover validation or the minimal transaction fee: ${detail}`);
  }
}

/** INSUFFICIENT_ACCOUNT_BALANCE (54): the account cannot cover the max fee. */
export class InsufficientAccountBalanceError extends TransactionRejection {
  constructor(readonly balance: bigint, readonly maxFee: bigint) {
    super(54, `Account balance is smaller than the transaction's maximal fee: balance ${balance}, max fee ${maxFee}`);
  }
}

/** VALIDATION_FAILURE (55): __validate__/__validate_deploy__ panicked or did not return 'VALID'. */
export class ValidationFailureError extends TransactionRejection {
  constructor(readonly reason: string) {
    super(55, `Account validation failed: ${reason}`, reason);
  }
}

/** UNSUPPORTED_TX_VERSION (61). */
export class UnsupportedTransactionError extends TransactionRejection {
  constructor(detail: string) {
    super(61, `The transaction version is not supported: ${detail}`);
  }
}

/** CONTRACT_ERROR (40) for starknet_call / a failed deploy-account constructor. */
export class ContractExecutionError extends RuntimeError {
  constructor(readonly revertReason: string) {
    super(40, revertReason, { revert_error: revertReason });
  }
}

/** The transaction's constructor failed or the address is taken (DEPLOY_ACCOUNT). */
export class DeployAccountError extends TransactionRejection {
  constructor(detail: string) {
    super(55, `Deploy account failed: ${detail}`, detail);
  }
}
