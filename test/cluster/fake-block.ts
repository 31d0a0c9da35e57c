// Block records for the coordinator tests: well-formed, with a hash that names the node that
// built it, so a test can tell whose block etcd holds at a height. Not executable blocks
// (the node tests commit real ones).

import type { ClusterBlockRecord, ClusterHeaderInputs } from "../../sequencer/cluster/cluster-records.js";
import type { BroadcastedTxn } from "../../sequencer/rpc/params.js";

/** A well-formed typed transaction tagged `tag` (a hex felt in its calldata), never executed. */
export function fakeTx(tag: string): BroadcastedTxn {
  const none = { maxAmount: 0n, maxPricePerUnit: 0n };
  return {
    type: "INVOKE",
    version: 3n,
    isQuery: false,
    signature: [],
    nonce: 0n,
    resourceBounds: { l1Gas: none, l1DataGas: none, l2Gas: none },
    tip: 0n,
    paymasterData: [],
    nonceDataAvailabilityMode: "L1",
    feeDataAvailabilityMode: "L1",
    senderAddress: 0x1n,
    calldata: [BigInt(tag)],
    accountDeploymentData: [],
  };
}

/** The tag fakeTx put in `tx`. */
export function tagOf(tx: BroadcastedTxn): string {
  return "0x" + (tx as { calldata: bigint[] }).calldata[0]!.toString(16);
}

/** Well-formed header inputs (the coordinator and controller tests never execute them). */
export const FAKE_HEADER_INPUTS: ClusterHeaderInputs = {
  sequencer_address: "0x1000",
  gas_prices_fri: { l1_gas: "0x1", l1_data_gas: "0x2", l2_gas: "0x3" },
  gas_prices_wei: { l1_gas: "0x4", l1_data_gas: "0x5", l2_gas: "0x6" },
};

export function fakeBlock(n: number, nodeId: string, token: string): ClusterBlockRecord {
  const tag = Buffer.from(nodeId).toString("hex");
  return {
    block_number: n,
    block_hash: `0x${n.toString(16)}${tag}`,
    parent_hash: `0x${(n - 1).toString(16)}`,
    state_root: "0x1",
    timestamp_s: 1_700_000_000 + n,
    token,
    header_inputs: FAKE_HEADER_INPUTS,
    txs: [],
  };
}
