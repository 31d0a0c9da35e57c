// From a broadcast transaction (parsed by rpc/params.ts) to what the executor runs: hash
// (Starknet-exact), executor input, and the JSON the RPC returns for it. One place for
// each conversion. Never reads the clock or the store.

import type { ExecutableTransaction } from "../contracts/runtime/transaction-executor.js";
import { toHex, type Felt } from "../state/felt.js";
import { evalPlan, type ManyPlan } from "../state/crypto/hash-plan.js";
import { deployAccountAddress, deployAccountV3HashPlan, invokeV3HashPlan } from "../state/tx-hash.js";
import { hashBackend } from "../state/crypto/hash.js";
import { parseBroadcastedTxn, type BroadcastedTxn, type ResourceBoundsMapping } from "./rpc/params.js";

export interface IntakeTx {
  hash: Felt;
  /** The transaction as broadcast (typed); what the WAL and the chain store keep. */
  broadcast: BroadcastedTxn;
  /** Account address (the deployed address for DEPLOY_ACCOUNT). */
  sender: Felt;
  exec: ExecutableTransaction;
  /** The transaction as starknet_getTransactionByHash returns it (rendered on first read: only a queued transaction's lookup needs it). */
  readonly json: Record<string, unknown> & { transaction_hash: string; type: string };
}

export function transactionHash(tx: BroadcastedTxn, chainId: Felt): Felt {
  return evalPlan(transactionHashPlan(tx, chainId));
}

/** transactionHash as a plan (fields checked here), for hashing a burst of submissions at once. */
export function transactionHashPlan(tx: BroadcastedTxn, chainId: Felt): ManyPlan {
  const common = {
    chainId,
    nonce: tx.nonce,
    tip: tx.tip,
    resourceBounds: tx.resourceBounds,
    paymasterData: tx.paymasterData,
    nonceDataAvailabilityMode: tx.nonceDataAvailabilityMode,
    feeDataAvailabilityMode: tx.feeDataAvailabilityMode,
    query: tx.isQuery,
  };
  if (tx.type === "INVOKE") {
    return invokeV3HashPlan({
      ...common,
      senderAddress: tx.senderAddress,
      calldata: tx.calldata,
      accountDeploymentData: tx.accountDeploymentData,
      ...(tx.proofFacts && tx.proofFacts.length > 0 ? { proofFacts: tx.proofFacts } : {}),
    });
  }
  return deployAccountV3HashPlan({ ...common, classHash: tx.classHash, contractAddressSalt: tx.contractAddressSalt, constructorCalldata: tx.constructorCalldata });
}

/** `hash`: transactionHash(tx, chainId) when the caller already has it (admission's batch). */
export function intake(tx: BroadcastedTxn, chainId: Felt, hash: Felt = transactionHash(tx, chainId)): IntakeTx {
  const common = {
    transactionHash: hash,
    signature: tx.signature,
    nonce: tx.nonce,
    resourceBounds: tx.resourceBounds,
    tip: tx.tip,
    paymasterData: tx.paymasterData,
  };
  let json: IntakeTx["json"] | undefined;
  if (tx.type === "INVOKE") {
    return {
      hash,
      broadcast: tx,
      sender: tx.senderAddress,
      exec: { type: "INVOKE", ...common, senderAddress: tx.senderAddress, calldata: tx.calldata, accountDeploymentData: tx.accountDeploymentData },
      get json() {
        return (json ??= transactionJson(tx, hash));
      },
    };
  }
  const sender = deployAccountAddress(tx);
  return {
    hash,
    broadcast: tx,
    sender,
    exec: { type: "DEPLOY_ACCOUNT", ...common, classHash: tx.classHash, contractAddressSalt: tx.contractAddressSalt, constructorCalldata: tx.constructorCalldata },
    get json() {
      return (json ??= transactionJson(tx, hash));
    },
  };
}

/** TXN (with transaction_hash) as the spec returns it. */
export function transactionJson(tx: BroadcastedTxn, hash: Felt): IntakeTx["json"] {
  const common = {
    transaction_hash: toHex(hash),
    version: toHex(tx.version),
    signature: tx.signature.map(toHex),
    nonce: toHex(tx.nonce),
    resource_bounds: boundsJson(tx.resourceBounds),
    tip: toHex(tx.tip),
    paymaster_data: tx.paymasterData.map(toHex),
    nonce_data_availability_mode: tx.nonceDataAvailabilityMode,
    fee_data_availability_mode: tx.feeDataAvailabilityMode,
  };
  if (tx.type === "INVOKE") {
    return {
      type: "INVOKE",
      sender_address: toHex(tx.senderAddress),
      calldata: tx.calldata.map(toHex),
      account_deployment_data: tx.accountDeploymentData.map(toHex),
      ...common,
    };
  }
  return {
    type: "DEPLOY_ACCOUNT",
    class_hash: toHex(tx.classHash),
    contract_address_salt: toHex(tx.contractAddressSalt),
    constructor_calldata: tx.constructorCalldata.map(toHex),
    ...common,
  };
}

/** BROADCASTED_TXN JSON (no hash): what a client would send for `tx`. */
export function broadcastJson(tx: BroadcastedTxn): Record<string, unknown> {
  const { transaction_hash: _hash, ...rest } = transactionJson(tx, 0n);
  return rest;
}

function boundsJson(b: ResourceBoundsMapping) {
  const one = (x: { maxAmount: bigint; maxPricePerUnit: bigint }) => ({ max_amount: toHex(x.maxAmount), max_price_per_unit: toHex(x.maxPricePerUnit) });
  return { l1_gas: one(b.l1Gas), l1_data_gas: one(b.l1DataGas), l2_gas: one(b.l2Gas) };
}

export interface Call {
  to: Felt;
  selector: Felt;
  calldata: readonly Felt[];
}

/** Cairo 1 account multicall calldata: [n, (to, selector, len, ...data)*]. */
export function multicallCalldata(calls: readonly Call[]): Felt[] {
  const out: Felt[] = [BigInt(calls.length)];
  for (const c of calls) out.push(c.to, c.selector, BigInt(c.calldata.length), ...c.calldata);
  return out;
}

/**
 * Sign an INVOKE built by unsignedInvokeJson (possibly changed since) with `privateKey`: its
 * signature is set in place; returns its hash on `chainId`.
 */
export function signInvokeJson(raw: ReturnType<typeof unsignedInvokeJson>, chainId: Felt, privateKey: Felt): Felt {
  const hash = intake(parseBroadcastedTxn(raw, "invoke"), chainId).hash;
  const sig = hashBackend().ecdsaSign(hash, privateKey);
  raw.signature = [toHex(sig.r), toHex(sig.s)];
  return hash;
}

/**
 * An unsigned broadcasted INVOKE v3 (RPC JSON) for the node's own transactions (operator,
 * drills, benchmarks): bounds of 2× the block prices and generous amounts.
 */
export function unsignedInvokeJson(sender: Felt, nonce: Felt, calls: readonly Call[], prices: { l1_gas: bigint; l1_data_gas: bigint; l2_gas: bigint }) {
  return {
    type: "INVOKE",
    version: "0x3",
    sender_address: toHex(sender),
    calldata: multicallCalldata(calls).map(toHex),
    nonce: toHex(nonce),
    resource_bounds: {
      l1_gas: { max_amount: "0x0", max_price_per_unit: toHex(prices.l1_gas) },
      l1_data_gas: { max_amount: "0x10000", max_price_per_unit: toHex(prices.l1_data_gas * 2n) },
      l2_gas: { max_amount: "0x20000000", max_price_per_unit: toHex(prices.l2_gas * 2n) },
    },
    tip: "0x0",
    paymaster_data: [] as string[],
    account_deployment_data: [] as string[],
    nonce_data_availability_mode: "L1",
    fee_data_availability_mode: "L1",
    signature: [] as string[],
  };
}
