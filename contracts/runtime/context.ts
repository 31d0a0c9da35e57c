// What a running entry point sees: who called it, where it runs, the block and the
// transaction, its typed storage, and the syscalls (events, nested calls, deploy,
// hashing, signature checks). Implemented by execution.ts; contracts only use this
// interface. Nothing here reads the clock or randomness: block and tx info are inputs.

import type { Felt } from "../../state/felt.js";
import type { CairoType, ValueOf } from "./cairo-types.js";
import type { StorageAccessors, StorageSpec } from "./storage.js";

/** Block-level inputs of execution. */
export interface BlockInfo {
  blockNumber: bigint;
  /** Seconds since the Unix epoch, supplied by the block builder. */
  blockTimestamp: bigint;
  sequencerAddress: Felt;
}

export interface ResourceBound {
  maxAmount: bigint;
  maxPricePerUnit: bigint;
}

export interface ResourceBounds {
  l1Gas: ResourceBound;
  l1DataGas: ResourceBound;
  l2Gas: ResourceBound;
}

/** Transaction info (Cairo's get_tx_info); all zeros/empty for a starknet_call. */
export interface TxInfo {
  version: Felt;
  accountAddress: Felt;
  transactionHash: Felt;
  chainId: Felt;
  nonce: Felt;
  signature: readonly Felt[];
  resourceBounds: ResourceBounds;
  tip: bigint;
  paymasterData: readonly Felt[];
  accountDeploymentData: readonly Felt[];
}

/** Named inputs of a function, serialized in property order. */
export type Inputs = Record<string, CairoType<any>>;
export type ArgValues<I extends Inputs> = { [K in keyof I]: ValueOf<I[K]> };

/** Signature of an external function: used to define it and to call it from another contract. */
export interface FnSig<I extends Inputs, O> {
  readonly name: string;
  readonly selector: Felt;
  readonly inputs: I;
  /** undefined for functions returning nothing. */
  readonly output: CairoType<O> | undefined;
}

/** An event member; `key: true` puts it in the event's keys. */
export interface EventMember<T> {
  readonly type: CairoType<T>;
  readonly key: boolean;
}
export type EventSpec = Record<string, EventMember<any>>;
export type EventValues<M extends EventSpec> = { [K in keyof M]: M[K] extends EventMember<infer T> ? T : never };

export interface CallContext<S extends Record<string, StorageSpec>, E extends Record<string, EventSpec>> {
  /** Address of the running contract (get_contract_address). */
  readonly self: Felt;
  /** Caller (get_caller_address): 0 for protocol calls (__validate__, __execute__, constructors of deploy_account). */
  readonly caller: Felt;
  readonly classHash: Felt;
  readonly selector: Felt;
  readonly block: BlockInfo;
  readonly tx: TxInfo;
  /** Typed storage of this contract, as declared in the class's `storage`. */
  readonly storage: StorageAccessors<S>;
  emit<K extends keyof E & string>(name: K, values: EventValues<E[K]>): void;
  /** call_contract_syscall with raw calldata; a panic in the callee propagates. */
  call(address: Felt, selector: Felt, calldata: readonly Felt[]): Felt[];
  /** Typed call_contract: serializes args, deserializes the result. */
  callFn<I extends Inputs, O>(address: Felt, sig: FnSig<I, O>, args: ArgValues<I>): O;
  /** deploy_syscall; the constructor's caller is this contract. Returns the new address. */
  deploy(classHash: Felt, salt: Felt, constructorCalldata: readonly Felt[], deployFromZero: boolean): Felt;
  getClassHashAt(address: Felt): Felt;
  /** Panic with a short-string reason (≤ 31 chars) or raw panic data. Never returns. */
  panic(reason: string | readonly Felt[]): never;
  assert(condition: boolean, reason: string): void;
  /** Stark ECDSA verification (charged at GAS.ECDSA_VERIFY). */
  ecdsaVerify(messageHash: Felt, r: Felt, s: Felt, publicKey: Felt): boolean;
  pedersen(a: Felt, b: Felt): Felt;
  poseidonMany(values: readonly Felt[]): Felt;
  /** Raw felt storage of this contract (storage_read/write_syscall). */
  readRaw(key: Felt): Felt;
  writeRaw(key: Felt, value: Felt): void;
}
