// Starknet transaction hashes (v3: INVOKE, DEPLOY_ACCOUNT, DECLARE) and contract address
// derivation, exactly as Starknet computes them, so clients (starknet.js) sign the same hash
// the sequencer checks.
//
// Formulas (SNIP-8; starkware-libs/sequencer crates/starknet_api/src/transaction_hash.rs):
//   common = [prefix, version, address, H(tip, L1_GAS bound, L2_GAS bound[, L1_DATA bound]),
//             H(paymaster_data), chain_id, nonce, nonce_da << 32 | fee_da]
//   INVOKE         = H(common, H(account_deployment_data), H(calldata)[, H(proof_facts)])
//   DEPLOY_ACCOUNT = H(common, H(constructor_calldata), class_hash, salt)
//   DECLARE        = H(common, H(account_deployment_data), class_hash, compiled_class_hash)
// where H is poseidon_hash_many. A resource bound packs [0 | name (56 bit) | max_amount (64 bit)
// | max_price_per_unit (128 bit)]. The query version (simulate/estimate) is 2^128 + 3.
//
// Inputs are plain objects of bigint felts, validated here (TxHashInputError names the field).
// Never reads the clock, randomness or the environment.

import { P, encodeShortString, type Felt } from "./felt.js";
import { pedersenOnElements } from "./crypto/hash.js";
import { evalPlan, many, type HashPlan, type ManyPlan } from "./crypto/hash-plan.js";

/** Bit 128: marks a transaction version as query-only (simulate / estimate fee). */
export const QUERY_VERSION_BASE: Felt = 1n << 128n;
export const TX_VERSION_3: Felt = 3n;
export const TX_VERSION_3_QUERY: Felt = QUERY_VERSION_BASE + 3n;

export const INVOKE_PREFIX: Felt = encodeShortString("invoke");
export const DEPLOY_ACCOUNT_PREFIX: Felt = encodeShortString("deploy_account");
export const DECLARE_PREFIX: Felt = encodeShortString("declare");
export const CONTRACT_ADDRESS_PREFIX: Felt = encodeShortString("STARKNET_CONTRACT_ADDRESS");

/** Addresses are reduced modulo 2^251 − 256 (Starknet's L2_ADDRESS_UPPER_BOUND). */
export const L2_ADDRESS_UPPER_BOUND: Felt = (1n << 251n) - 256n;

const L1_GAS_NAME = encodeShortString("L1_GAS");
const L2_GAS_NAME = encodeShortString("L2_GAS");
const L1_DATA_GAS_NAME = encodeShortString("L1_DATA");
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

export type DataAvailabilityMode = "L1" | "L2";

export interface ResourceBound {
  /** u64 */
  maxAmount: bigint;
  /** u128 */
  maxPricePerUnit: bigint;
}

/**
 * Resource bounds of a v3 transaction. `l1DataGas` is required by RPC 0.8+ (Starknet 0.13.4+);
 * leaving it out gives the older two-resource hash that pre-0.13.4 v3 transactions used.
 */
export interface ResourceBounds {
  l1Gas: ResourceBound;
  l2Gas: ResourceBound;
  l1DataGas?: ResourceBound;
}

/** Fields every v3 transaction hashes. */
export interface V3CommonFields {
  chainId: Felt;
  nonce: Felt;
  /** u64 */
  tip: bigint;
  resourceBounds: ResourceBounds;
  paymasterData: readonly Felt[];
  nonceDataAvailabilityMode: DataAvailabilityMode;
  feeDataAvailabilityMode: DataAvailabilityMode;
  /** true for simulate/estimate: version 2^128 + 3, a hash no block will accept. */
  query?: boolean;
}

export interface InvokeV3 extends V3CommonFields {
  senderAddress: Felt;
  calldata: readonly Felt[];
  accountDeploymentData: readonly Felt[];
  /** Starknet 0.14.1+ proof facts; hashed only when non-empty. */
  proofFacts?: readonly Felt[];
}

export interface DeployAccountV3 extends V3CommonFields {
  classHash: Felt;
  contractAddressSalt: Felt;
  constructorCalldata: readonly Felt[];
}

export interface DeclareV3 extends V3CommonFields {
  senderAddress: Felt;
  classHash: Felt;
  compiledClassHash: Felt;
  accountDeploymentData: readonly Felt[];
}

/** A transaction field that is not a valid felt / integer of the required width. */
export class TxHashInputError extends RangeError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "TxHashInputError";
  }
}

/** Hash of an INVOKE v3 transaction (query version when `tx.query`). */
export function invokeV3Hash(tx: InvokeV3): Felt {
  return evalPlan(invokeV3HashPlan(tx));
}

/** invokeV3Hash as a plan (fields checked here), for hashing many at once (evalPlans). */
export function invokeV3HashPlan(tx: InvokeV3): ManyPlan {
  checkFelt(tx.senderAddress, "sender_address");
  const elements: HashPlan[] = [
    ...commonV3Elements(INVOKE_PREFIX, tx.senderAddress, tx),
    many(checkFelts(tx.accountDeploymentData, "account_deployment_data")),
    many(checkFelts(tx.calldata, "calldata")),
  ];
  if (tx.proofFacts !== undefined && tx.proofFacts.length > 0) {
    elements.push(many(checkFelts(tx.proofFacts, "proof_facts")));
  }
  return many(elements);
}

/** Hash of a DEPLOY_ACCOUNT v3 transaction; the address hashed is the one being deployed (deployer 0). */
export function deployAccountV3Hash(tx: DeployAccountV3): Felt {
  return evalPlan(deployAccountV3HashPlan(tx));
}

/** deployAccountV3Hash as a plan (the address is computed here: Pedersen, not part of the plan). */
export function deployAccountV3HashPlan(tx: DeployAccountV3): ManyPlan {
  const address = deployAccountAddress(tx);
  return many([...commonV3Elements(DEPLOY_ACCOUNT_PREFIX, address, tx), many(tx.constructorCalldata), tx.classHash, tx.contractAddressSalt]);
}

/** Hash of a DECLARE v3 transaction (for completeness: this chain rejects DECLARE). */
export function declareV3Hash(tx: DeclareV3): Felt {
  checkFelt(tx.senderAddress, "sender_address");
  checkFelt(tx.classHash, "class_hash");
  checkFelt(tx.compiledClassHash, "compiled_class_hash");
  return evalPlan(
    many([
      ...commonV3Elements(DECLARE_PREFIX, tx.senderAddress, tx),
      many(checkFelts(tx.accountDeploymentData, "account_deployment_data")),
      tx.classHash,
      tx.compiledClassHash,
    ]),
  );
}

/** The address a DEPLOY_ACCOUNT transaction deploys to (deployer address 0). */
export function deployAccountAddress(tx: Pick<DeployAccountV3, "classHash" | "contractAddressSalt" | "constructorCalldata">): Felt {
  return calculateContractAddress(tx.contractAddressSalt, tx.classHash, tx.constructorCalldata, 0n);
}

/**
 * Starknet contract address:
 * pedersenOnElements(['STARKNET_CONTRACT_ADDRESS', deployer, salt, class_hash,
 * pedersenOnElements(constructor_calldata)]) mod (2^251 − 256).
 */
export function calculateContractAddress(
  salt: Felt,
  classHash: Felt,
  constructorCalldata: readonly Felt[],
  deployerAddress: Felt,
): Felt {
  checkFelt(salt, "contract_address_salt");
  checkFelt(classHash, "class_hash");
  checkFelt(deployerAddress, "deployer_address");
  const calldataHash = pedersenOnElements(checkFelts(constructorCalldata, "constructor_calldata"));
  const h = pedersenOnElements([CONTRACT_ADDRESS_PREFIX, deployerAddress, salt, classHash, calldataHash]);
  return h % L2_ADDRESS_UPPER_BOUND;
}

/** poseidon(tip, packed L1_GAS, packed L2_GAS[, packed L1_DATA]) — SNIP-8. */
export function tipAndResourceBoundsHash(tip: bigint, bounds: ResourceBounds): Felt {
  return evalPlan(tipAndResourceBoundsPlan(tip, bounds));
}

function tipAndResourceBoundsPlan(tip: bigint, bounds: ResourceBounds): ManyPlan {
  checkUint(tip, U64_MAX, "tip");
  const elements = [tip, packResourceBound(L1_GAS_NAME, bounds.l1Gas, "l1_gas"), packResourceBound(L2_GAS_NAME, bounds.l2Gas, "l2_gas")];
  if (bounds.l1DataGas !== undefined) elements.push(packResourceBound(L1_DATA_GAS_NAME, bounds.l1DataGas, "l1_data_gas"));
  return many(elements);
}

/** nonce_da_mode << 32 | fee_da_mode, with L1 = 0 and L2 = 1. */
export function packDataAvailabilityModes(nonceMode: DataAvailabilityMode, feeMode: DataAvailabilityMode): Felt {
  return (daModeIndex(nonceMode, "nonce_data_availability_mode") << 32n) + daModeIndex(feeMode, "fee_data_availability_mode");
}

// ---------------------------------------------------------------------------------------

function commonV3Elements(prefix: Felt, address: Felt, tx: V3CommonFields): HashPlan[] {
  checkFelt(tx.chainId, "chain_id");
  checkFelt(tx.nonce, "nonce");
  return [
    prefix,
    tx.query === true ? TX_VERSION_3_QUERY : TX_VERSION_3,
    address,
    tipAndResourceBoundsPlan(tx.tip, tx.resourceBounds),
    many(checkFelts(tx.paymasterData, "paymaster_data")),
    tx.chainId,
    tx.nonce,
    packDataAvailabilityModes(tx.nonceDataAvailabilityMode, tx.feeDataAvailabilityMode),
  ];
}

function packResourceBound(name: Felt, bound: ResourceBound | undefined, field: string): Felt {
  if (bound === undefined || bound === null) throw new TxHashInputError(`resource_bounds.${field}`, "missing");
  checkUint(bound.maxAmount, U64_MAX, `resource_bounds.${field}.max_amount`);
  checkUint(bound.maxPricePerUnit, U128_MAX, `resource_bounds.${field}.max_price_per_unit`);
  return (name << 192n) | (bound.maxAmount << 128n) | bound.maxPricePerUnit;
}

function daModeIndex(mode: DataAvailabilityMode, field: string): bigint {
  if (mode === "L1") return 0n;
  if (mode === "L2") return 1n;
  throw new TxHashInputError(field, `expected "L1" or "L2", got ${JSON.stringify(mode)}`);
}

function checkUint(v: bigint, max: bigint, field: string): void {
  if (typeof v !== "bigint") throw new TxHashInputError(field, `expected a bigint, got ${typeof v}`);
  if (v < 0n || v > max) throw new TxHashInputError(field, `out of range [0, ${max}]`);
}

function checkFelt(v: Felt, field: string): void {
  if (typeof v !== "bigint") throw new TxHashInputError(field, `expected a bigint felt, got ${typeof v}`);
  if (v < 0n || v >= P) throw new TxHashInputError(field, "not a felt (must be in [0, P))");
}

function checkFelts(vs: readonly Felt[], field: string): readonly Felt[] {
  if (!Array.isArray(vs)) throw new TxHashInputError(field, "expected an array of felts");
  for (let i = 0; i < vs.length; i++) checkFelt(vs[i]!, `${field}[${i}]`);
  return vs;
}
