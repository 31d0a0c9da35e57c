// Parsing of Starknet JSON-RPC 0.10.3 parameter types into internal types (bigint felts).
// Every function validates at the edge and throws InvalidParamsError naming the field path
// (e.g. "invoke_transaction.resource_bounds.l2_gas.max_amount"), or the spec's typed error where
// the spec defines one (UNSUPPORTED_TX_VERSION, PAGE_SIZE_TOO_BIG, TOO_MANY_KEYS_IN_FILTER, …).
// Unknown object members are ignored (clients add fields across versions); missing required
// members and wrong types are errors. Felts are accepted as 0x-hex with 1…64 digits (leading zeros
// allowed, as many clients pad addresses) and must be below P.

import { ADDR_BOUND, P, type Felt } from "../../state/felt.js";
import {
  DeclareNotSupportedError,
  InvalidParamsError,
  PageSizeTooBigError,
  TooManyAddressesInFilterError,
  TooManyKeysInFilterError,
  UnsupportedTxVersionError,
} from "../errors.js";

// ---------------------------------------------------------------------------------------------
// Internal types

export type BlockTag = "latest" | "pre_confirmed" | "l1_accepted";

export type BlockId =
  | { readonly kind: "tag"; readonly tag: BlockTag }
  | { readonly kind: "number"; readonly number: number }
  | { readonly kind: "hash"; readonly hash: Felt };

export type DaMode = "L1" | "L2";

export interface ResourceBounds {
  /** u64 */
  maxAmount: bigint;
  /** u128 */
  maxPricePerUnit: bigint;
}

export interface ResourceBoundsMapping {
  l1Gas: ResourceBounds;
  l1DataGas: ResourceBounds;
  l2Gas: ResourceBounds;
}

/** Fields every v3 transaction carries. `version` is 3 or the query version 2^128 + 3. */
export interface CommonV3Fields {
  version: Felt;
  /** True for the query version (2^128 + 3): estimate/simulate only, never executable. */
  isQuery: boolean;
  signature: Felt[];
  nonce: Felt;
  resourceBounds: ResourceBoundsMapping;
  /** u64 */
  tip: bigint;
  paymasterData: Felt[];
  nonceDataAvailabilityMode: DaMode;
  feeDataAvailabilityMode: DaMode;
}

export interface InvokeTxnV3 extends CommonV3Fields {
  type: "INVOKE";
  senderAddress: Felt;
  calldata: Felt[];
  accountDeploymentData: Felt[];
  /** Present only when the client sent it. */
  proofFacts?: Felt[];
  /** Base64 STARK proof, present only when the client sent it. */
  proof?: string;
}

export interface DeployAccountTxnV3 extends CommonV3Fields {
  type: "DEPLOY_ACCOUNT";
  contractAddressSalt: Felt;
  constructorCalldata: Felt[];
  classHash: Felt;
}

export type BroadcastedTxn = InvokeTxnV3 | DeployAccountTxnV3;

export interface FunctionCall {
  contractAddress: Felt;
  entryPointSelector: Felt;
  calldata: Felt[];
}

/** keys[i] lists the accepted values at position i; an empty list accepts any value. */
export type EventKeys = Felt[][];

export interface EventFilter {
  fromBlock?: BlockId;
  toBlock?: BlockId;
  /** undefined: any emitter. */
  addresses?: Felt[];
  keys: EventKeys;
  continuationToken?: string;
  chunkSize: number;
}

export interface MsgFromL1 {
  /** Ethereum address (160 bits). */
  fromAddress: bigint;
  toAddress: Felt;
  entryPointSelector: Felt;
  payload: Felt[];
}

export interface StorageProofRequest {
  blockId: BlockId;
  classHashes: Felt[];
  contractAddresses: Felt[];
  contractsStorageKeys: { contractAddress: Felt; storageKeys: Felt[] }[];
}

export type SimulationFlag = "SKIP_VALIDATE" | "SKIP_FEE_CHARGE" | "RETURN_INITIAL_READS";
export type TxnResponseFlag = "INCLUDE_PROOF_FACTS";
export type StorageResponseFlag = "INCLUDE_LAST_UPDATE_BLOCK";
export type TraceFlag = "RETURN_INITIAL_READS";
export type TxnFinalityStatus = "PRE_CONFIRMED" | "ACCEPTED_ON_L2" | "ACCEPTED_ON_L1";
/** TXN_STATUS_WITHOUT_L1 of the WS API. */
export type TxnStatusWithoutL1 = "RECEIVED" | "CANDIDATE" | "PRE_CONFIRMED" | "ACCEPTED_ON_L2";

export interface ParseLimits {
  /** Largest `chunk_size` accepted by starknet_getEvents (PAGE_SIZE_TOO_BIG above). */
  maxChunkSize: number;
  /** Most keys (summed over positions) in an event filter (TOO_MANY_KEYS_IN_FILTER above). */
  maxKeys: number;
  /** Most addresses in a WS sender_address filter (TOO_MANY_ADDRESSES_IN_FILTER above). */
  maxAddresses: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxChunkSize: 1024, maxKeys: 1024, maxAddresses: 1024 };

/** 2^128 + 3: the version a client signs for estimate/simulate only. */
export const QUERY_VERSION_3: Felt = (1n << 128n) + 3n;

// ---------------------------------------------------------------------------------------------
// Scalars

const HEX_RE = /^0x[0-9a-fA-F]{1,64}$/;
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

function fail(field: string, reason: string): never {
  throw new InvalidParamsError(field, reason);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return typeof value;
}

function parseHex(value: unknown, field: string, what: string): bigint {
  if (typeof value !== "string") fail(field, `expected ${what} as a 0x-hex string, got ${describe(value)}`);
  if (!HEX_RE.test(value)) fail(field, `expected ${what} as 0x followed by 1 to 64 hex digits, got ${describe(value)}`);
  return BigInt(value);
}

/** FELT: 0x-hex below P. */
export function parseFeltParam(value: unknown, field: string): Felt {
  const v = parseHex(value, field, "a felt");
  if (v >= P) fail(field, "felt is not below the field prime P");
  return v;
}

/** ADDRESS: the spec defines it as a FELT. */
export function parseAddressParam(value: unknown, field: string): Felt {
  return parseFeltParam(value, field);
}

/** STORAGE_KEY: below 2^251. */
export function parseStorageKey(value: unknown, field: string): Felt {
  const v = parseHex(value, field, "a storage key");
  if (v >= ADDR_BOUND) fail(field, "storage key is not below 2^251");
  return v;
}

export function parseU64(value: unknown, field: string): bigint {
  const v = parseHex(value, field, "a u64");
  if (v > U64_MAX) fail(field, "value does not fit in u64");
  return v;
}

export function parseU128(value: unknown, field: string): bigint {
  const v = parseHex(value, field, "a u128");
  if (v > U128_MAX) fail(field, "value does not fit in u128");
  return v;
}

/** A JSON integer ≥ 0 (BLOCK_NUMBER, transaction index). */
export function parseNonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    fail(field, `expected a non-negative integer, got ${typeof value === "number" ? value : describe(value)}`);
  return value;
}

export function parseFeltArray(value: unknown, field: string): Felt[] {
  return parseArray(value, field, parseFeltParam);
}

/**
 * Each element through `item`. The element's path (`field[i]`) is built only for an element
 * that fails: `item` is a pure parse, so run again with the path it throws the same error,
 * now naming the element (calldata is parsed on every submission; its paths never are).
 */
function parseArray<T>(value: unknown, field: string, item: (v: unknown, f: string) => T): T[] {
  if (!Array.isArray(value)) fail(field, `expected an array, got ${describe(value)}`);
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) {
    try {
      out[i] = item(value[i], field);
    } catch {
      out[i] = item(value[i], `${field}[${i}]`);
    }
  }
  return out;
}

function parseObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(field, `expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function required(obj: Record<string, unknown>, key: string, field: string): unknown {
  if (!(key in obj) || obj[key] === undefined) fail(`${field}.${key}`, "missing required field");
  return obj[key];
}

function parseEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    fail(field, `expected one of ${allowed.join(", ")}, got ${describe(value)}`);
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Block ids

const BLOCK_TAGS: readonly BlockTag[] = ["latest", "pre_confirmed", "l1_accepted"];

/** BLOCK_ID: a tag, {block_number} or {block_hash}. */
export function parseBlockId(value: unknown, field = "block_id"): BlockId {
  if (typeof value === "string") {
    if (value === "pending") fail(field, `tag "pending" was renamed "pre_confirmed" in JSON-RPC 0.9`);
    return { kind: "tag", tag: parseEnum(value, field, BLOCK_TAGS) };
  }
  const obj = parseObject(value, field);
  const hasNumber = "block_number" in obj;
  const hasHash = "block_hash" in obj;
  if (hasNumber && hasHash) fail(field, "give either block_number or block_hash, not both");
  if (hasNumber) return { kind: "number", number: parseNonNegativeInteger(obj.block_number, `${field}.block_number`) };
  if (hasHash) return { kind: "hash", hash: parseFeltParam(obj.block_hash, `${field}.block_hash`) };
  fail(field, `expected "latest", "pre_confirmed", "l1_accepted", {block_number} or {block_hash}`);
}

/** SUBSCRIPTION_BLOCK_ID: a BLOCK_ID other than "pre_confirmed" and "l1_accepted". */
export function parseSubscriptionBlockId(value: unknown, field = "block_id"): BlockId {
  const id = parseBlockId(value, field);
  if (id.kind === "tag" && id.tag !== "latest") fail(field, `tag "${id.tag}" is not allowed for subscriptions`);
  return id;
}

/** block_id of starknet_getStorageProof / traceBlockTransactions: anything but "pre_confirmed". */
export function parseConfirmedBlockId(value: unknown, field = "block_id"): BlockId {
  const id = parseBlockId(value, field);
  if (id.kind === "tag" && id.tag === "pre_confirmed") fail(field, `tag "pre_confirmed" is not allowed here`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Transactions

const DA_MODES: readonly DaMode[] = ["L1", "L2"];

export function parseResourceBounds(value: unknown, field: string): ResourceBoundsMapping {
  const obj = parseObject(value, field);
  const one = (key: string): ResourceBounds => {
    const f = `${field}.${key}`;
    const rb = parseObject(required(obj, key, field), f);
    return {
      maxAmount: parseU64(required(rb, "max_amount", f), `${f}.max_amount`),
      maxPricePerUnit: parseU128(required(rb, "max_price_per_unit", f), `${f}.max_price_per_unit`),
    };
  };
  return { l1Gas: one("l1_gas"), l1DataGas: one("l1_data_gas"), l2Gas: one("l2_gas") };
}

function parseV3Version(value: unknown, field: string): { version: Felt; isQuery: boolean } {
  const v = parseFeltParam(value, field);
  if (v === 3n) return { version: v, isQuery: false };
  if (v === QUERY_VERSION_3) return { version: v, isQuery: true };
  throw new UnsupportedTxVersionError(`${field} ${value as string}: only version 3 transactions are accepted`);
}

function parseCommonV3(obj: Record<string, unknown>, field: string): CommonV3Fields {
  const req = (k: string) => required(obj, k, field);
  return {
    ...parseV3Version(req("version"), `${field}.version`),
    signature: parseFeltArray(req("signature"), `${field}.signature`),
    nonce: parseFeltParam(req("nonce"), `${field}.nonce`),
    resourceBounds: parseResourceBounds(req("resource_bounds"), `${field}.resource_bounds`),
    tip: parseU64(req("tip"), `${field}.tip`),
    paymasterData: parseFeltArray(req("paymaster_data"), `${field}.paymaster_data`),
    nonceDataAvailabilityMode: parseEnum(req("nonce_data_availability_mode"), `${field}.nonce_data_availability_mode`, DA_MODES),
    feeDataAvailabilityMode: parseEnum(req("fee_data_availability_mode"), `${field}.fee_data_availability_mode`, DA_MODES),
  };
}

function expectType(obj: Record<string, unknown>, field: string, type: string): void {
  const t = required(obj, "type", field);
  if (t !== type) fail(`${field}.type`, `expected "${type}", got ${describe(t)}`);
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?$/;

/** BROADCASTED_INVOKE_TXN (INVOKE_TXN_V3 + optional proof). Other versions: UNSUPPORTED_TX_VERSION. */
export function parseBroadcastedInvokeTxn(value: unknown, field = "invoke_transaction"): InvokeTxnV3 {
  const obj = parseObject(value, field);
  expectType(obj, field, "INVOKE");
  const tx: InvokeTxnV3 = {
    type: "INVOKE",
    ...parseCommonV3(obj, field),
    senderAddress: parseAddressParam(required(obj, "sender_address", field), `${field}.sender_address`),
    calldata: parseFeltArray(required(obj, "calldata", field), `${field}.calldata`),
    accountDeploymentData: parseFeltArray(required(obj, "account_deployment_data", field), `${field}.account_deployment_data`),
  };
  if (obj.proof_facts !== undefined) tx.proofFacts = parseFeltArray(obj.proof_facts, `${field}.proof_facts`);
  if (obj.proof !== undefined) {
    if (typeof obj.proof !== "string" || !BASE64_RE.test(obj.proof)) fail(`${field}.proof`, "expected a base64 string");
    tx.proof = obj.proof;
  }
  return tx;
}

/** BROADCASTED_DEPLOY_ACCOUNT_TXN (DEPLOY_ACCOUNT_TXN_V3). */
export function parseBroadcastedDeployAccountTxn(value: unknown, field = "deploy_account_transaction"): DeployAccountTxnV3 {
  const obj = parseObject(value, field);
  expectType(obj, field, "DEPLOY_ACCOUNT");
  return {
    type: "DEPLOY_ACCOUNT",
    ...parseCommonV3(obj, field),
    contractAddressSalt: parseFeltParam(required(obj, "contract_address_salt", field), `${field}.contract_address_salt`),
    constructorCalldata: parseFeltArray(required(obj, "constructor_calldata", field), `${field}.constructor_calldata`),
    classHash: parseFeltParam(required(obj, "class_hash", field), `${field}.class_hash`),
  };
}

/** BROADCASTED_DECLARE_TXN: checked to be a DECLARE, then refused (perpchain cannot run Cairo classes). */
export function parseBroadcastedDeclareTxn(value: unknown, field = "declare_transaction"): never {
  expectType(parseObject(value, field), field, "DECLARE");
  throw new DeclareNotSupportedError();
}

/** BROADCASTED_TXN: dispatch on `type`. */
export function parseBroadcastedTxn(value: unknown, field: string): BroadcastedTxn {
  const obj = parseObject(value, field);
  switch (obj.type) {
    case "INVOKE":
      return parseBroadcastedInvokeTxn(obj, field);
    case "DEPLOY_ACCOUNT":
      return parseBroadcastedDeployAccountTxn(obj, field);
    case "DECLARE":
      return parseBroadcastedDeclareTxn(obj, field);
    default:
      fail(`${field}.type`, `expected "INVOKE", "DEPLOY_ACCOUNT" or "DECLARE", got ${describe(obj.type)}`);
  }
}

export function parseBroadcastedTxnList(value: unknown, field: string): BroadcastedTxn[] {
  return parseArray(value, field, parseBroadcastedTxn);
}

// ---------------------------------------------------------------------------------------------
// Calls, events, messages, proofs

export function parseFunctionCall(value: unknown, field = "request"): FunctionCall {
  const obj = parseObject(value, field);
  return {
    contractAddress: parseAddressParam(required(obj, "contract_address", field), `${field}.contract_address`),
    entryPointSelector: parseFeltParam(required(obj, "entry_point_selector", field), `${field}.entry_point_selector`),
    calldata: parseFeltArray(required(obj, "calldata", field), `${field}.calldata`),
  };
}

/** EVENT_KEYS, checking the total number of keys against `maxKeys`. */
export function parseEventKeys(value: unknown, field: string, maxKeys: number): EventKeys {
  const keys = parseArray(value, field, parseFeltArray);
  const total = keys.reduce((n, k) => n + k.length, 0);
  if (total > maxKeys) throw new TooManyKeysInFilterError(`${field}: ${total} keys, at most ${maxKeys}`);
  return keys;
}

/** A single ADDRESS or a list of them (EVENT_FILTER.address, subscribeEvents.from_address). */
export function parseAddressOrList(value: unknown, field: string): Felt[] {
  if (Array.isArray(value)) return parseArray(value, field, parseAddressParam);
  return [parseAddressParam(value, field)];
}

/** starknet_getEvents `filter`: EVENT_FILTER and RESULT_PAGE_REQUEST together. */
export function parseEventFilter(value: unknown, field = "filter", limits: ParseLimits = DEFAULT_PARSE_LIMITS): EventFilter {
  const obj = parseObject(value, field);
  const chunkSize = required(obj, "chunk_size", field);
  if (typeof chunkSize !== "number" || !Number.isSafeInteger(chunkSize) || chunkSize < 1)
    fail(`${field}.chunk_size`, `expected an integer ≥ 1, got ${typeof chunkSize === "number" ? chunkSize : describe(chunkSize)}`);
  if (chunkSize > limits.maxChunkSize)
    throw new PageSizeTooBigError(`${field}.chunk_size ${chunkSize} > ${limits.maxChunkSize}`);
  const filter: EventFilter = {
    keys: obj.keys === undefined ? [] : parseEventKeys(obj.keys, `${field}.keys`, limits.maxKeys),
    chunkSize,
  };
  if (obj.from_block !== undefined) filter.fromBlock = parseBlockId(obj.from_block, `${field}.from_block`);
  if (obj.to_block !== undefined) filter.toBlock = parseBlockId(obj.to_block, `${field}.to_block`);
  if (obj.address !== undefined) filter.addresses = parseAddressOrList(obj.address, `${field}.address`);
  if (obj.continuation_token !== undefined) {
    if (typeof obj.continuation_token !== "string")
      fail(`${field}.continuation_token`, `expected a string, got ${describe(obj.continuation_token)}`);
    filter.continuationToken = obj.continuation_token;
  }
  return filter;
}

const ETH_ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** MSG_FROM_L1 (starknet_estimateMessageFee `message`). */
export function parseMsgFromL1(value: unknown, field = "message"): MsgFromL1 {
  const obj = parseObject(value, field);
  const from = required(obj, "from_address", field);
  if (typeof from !== "string" || !ETH_ADDRESS_RE.test(from))
    fail(`${field}.from_address`, `expected an Ethereum address (0x + 40 hex digits), got ${describe(from)}`);
  return {
    fromAddress: BigInt(from),
    toAddress: parseAddressParam(required(obj, "to_address", field), `${field}.to_address`),
    entryPointSelector: parseFeltParam(required(obj, "entry_point_selector", field), `${field}.entry_point_selector`),
    payload: parseFeltArray(required(obj, "payload", field), `${field}.payload`),
  };
}

/** starknet_getStorageProof params (already normalized to names by the registry). */
export function parseStorageProofRequest(params: Record<string, unknown>): StorageProofRequest {
  const contractsStorageKeys =
    params.contracts_storage_keys === undefined
      ? []
      : parseArray(params.contracts_storage_keys, "contracts_storage_keys", (v, f) => {
          const obj = parseObject(v, f);
          return {
            contractAddress: parseAddressParam(required(obj, "contract_address", f), `${f}.contract_address`),
            storageKeys: parseArray(required(obj, "storage_keys", f), `${f}.storage_keys`, parseStorageKey),
          };
        });
  return {
    blockId: parseConfirmedBlockId(params.block_id, "block_id"),
    classHashes: params.class_hashes === undefined ? [] : parseFeltArray(params.class_hashes, "class_hashes"),
    contractAddresses:
      params.contract_addresses === undefined ? [] : parseArray(params.contract_addresses, "contract_addresses", parseAddressParam),
    contractsStorageKeys,
  };
}

// ---------------------------------------------------------------------------------------------
// Flags and statuses

function parseFlagList<T extends string>(value: unknown, field: string, allowed: readonly T[]): T[] {
  if (value === undefined) return [];
  return [...new Set(parseArray(value, field, (v, f) => parseEnum(v, f, allowed)))];
}

/** starknet_estimateFee `simulation_flags` (SIMULATION_FLAG_FOR_ESTIMATE_FEE). */
export function parseEstimateFeeFlags(value: unknown, field = "simulation_flags"): "SKIP_VALIDATE"[] {
  return parseFlagList(value, field, ["SKIP_VALIDATE"] as const);
}

/** starknet_simulateTransactions `simulation_flags` (SIMULATION_FLAG). */
export function parseSimulationFlags(value: unknown, field = "simulation_flags"): SimulationFlag[] {
  return parseFlagList(value, field, ["SKIP_VALIDATE", "SKIP_FEE_CHARGE", "RETURN_INITIAL_READS"] as const);
}

export function parseTxnResponseFlags(value: unknown, field = "response_flags"): TxnResponseFlag[] {
  return parseFlagList(value, field, ["INCLUDE_PROOF_FACTS"] as const);
}

export function parseStorageResponseFlags(value: unknown, field = "response_flags"): StorageResponseFlag[] {
  return parseFlagList(value, field, ["INCLUDE_LAST_UPDATE_BLOCK"] as const);
}

export function parseTraceFlags(value: unknown, field = "trace_flags"): TraceFlag[] {
  return parseFlagList(value, field, ["RETURN_INITIAL_READS"] as const);
}

/** subscribeEvents `finality_status`: one value, default ACCEPTED_ON_L2. */
export function parseEventsFinality(value: unknown, field = "finality_status"): "PRE_CONFIRMED" | "ACCEPTED_ON_L2" {
  if (value === undefined) return "ACCEPTED_ON_L2";
  return parseEnum(value, field, ["PRE_CONFIRMED", "ACCEPTED_ON_L2"] as const);
}

/** subscribeNewTransactionReceipts `finality_status`: a list, default [ACCEPTED_ON_L2]. */
export function parseReceiptsFinality(value: unknown, field = "finality_status"): ("PRE_CONFIRMED" | "ACCEPTED_ON_L2")[] {
  if (value === undefined) return ["ACCEPTED_ON_L2"];
  return parseFlagList(value, field, ["PRE_CONFIRMED", "ACCEPTED_ON_L2"] as const);
}

/** subscribeNewTransactions `finality_status`: a list of TXN_STATUS_WITHOUT_L1, default [ACCEPTED_ON_L2]. */
export function parseTransactionsFinality(value: unknown, field = "finality_status"): TxnStatusWithoutL1[] {
  if (value === undefined) return ["ACCEPTED_ON_L2"];
  return parseFlagList(value, field, ["RECEIVED", "CANDIDATE", "PRE_CONFIRMED", "ACCEPTED_ON_L2"] as const);
}

/** WS `sender_address` filter: a list of addresses, at most `maxAddresses`. */
export function parseSenderAddressFilter(value: unknown, field: string, maxAddresses: number): Felt[] | undefined {
  if (value === undefined) return undefined;
  const list = parseArray(value, field, parseAddressParam);
  if (list.length > maxAddresses)
    throw new TooManyAddressesInFilterError(`${field}: ${list.length} addresses, at most ${maxAddresses}`);
  return list;
}

/** subscribeNewTransactions `tags` (SUBSCRIPTION_TAG). */
export function parseSubscriptionTags(value: unknown, field = "tags"): "INCLUDE_PROOF_FACTS"[] {
  return parseFlagList(value, field, ["INCLUDE_PROOF_FACTS"] as const);
}
