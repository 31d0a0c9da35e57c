// From an RPC broadcasted transaction to what the executor runs: hash (Starknet-exact),
// executor input, and the JSON the RPC returns for it. One place for each conversion.

import type { ExecutableTransaction } from "../contracts/runtime/transaction-executor.js";
import { toHex, type Felt } from "../state/felt.js";
import { deployAccountAddress, deployAccountV3Hash, invokeV3Hash } from "../state/tx-hash.js";
import type { BroadcastedTxn, ResourceBoundsMapping } from "./rpc/params.js";

export interface IntakeTx {
  hash: Felt;
  /** Account address (the deployed address for DEPLOY_ACCOUNT). */
  sender: Felt;
  exec: ExecutableTransaction;
  /** The transaction as starknet_getTransactionByHash returns it. */
  json: Record<string, unknown> & { transaction_hash: string; type: string };
}

export function transactionHash(tx: BroadcastedTxn, chainId: Felt): Felt {
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
    return invokeV3Hash({
      ...common,
      senderAddress: tx.senderAddress,
      calldata: tx.calldata,
      accountDeploymentData: tx.accountDeploymentData,
      ...(tx.proofFacts && tx.proofFacts.length > 0 ? { proofFacts: tx.proofFacts } : {}),
    });
  }
  return deployAccountV3Hash({ ...common, classHash: tx.classHash, contractAddressSalt: tx.contractAddressSalt, constructorCalldata: tx.constructorCalldata });
}

export function intake(tx: BroadcastedTxn, chainId: Felt): IntakeTx {
  const hash = transactionHash(tx, chainId);
  const common = {
    transactionHash: hash,
    signature: tx.signature,
    nonce: tx.nonce,
    resourceBounds: tx.resourceBounds,
    tip: tx.tip,
    paymasterData: tx.paymasterData,
  };
  if (tx.type === "INVOKE") {
    return {
      hash,
      sender: tx.senderAddress,
      exec: { type: "INVOKE", ...common, senderAddress: tx.senderAddress, calldata: tx.calldata, accountDeploymentData: tx.accountDeploymentData },
      json: transactionJson(tx, hash),
    };
  }
  const sender = deployAccountAddress(tx);
  return {
    hash,
    sender,
    exec: { type: "DEPLOY_ACCOUNT", ...common, classHash: tx.classHash, contractAddressSalt: tx.contractAddressSalt, constructorCalldata: tx.constructorCalldata },
    json: transactionJson(tx, hash),
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

function boundsJson(b: ResourceBoundsMapping) {
  const one = (x: { maxAmount: bigint; maxPricePerUnit: bigint }) => ({ max_amount: toHex(x.maxAmount), max_price_per_unit: toHex(x.maxPricePerUnit) });
  return { l1_gas: one(b.l1Gas), l1_data_gas: one(b.l1DataGas), l2_gas: one(b.l2Gas) };
}
