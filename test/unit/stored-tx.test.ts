// The transaction record's compact encoding (sequencer/stored-records.ts): a record decodes
// to exactly what was encoded (trace invocations, nested calls, events found in the
// execution's events and events that are not, calldata equal to the transaction's and not, a
// reverted execution), is smaller than the same record with named fields, and a record written
// before the compact form (events and trace inline) still decodes.

import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import type { FunctionInvocation } from "../../contracts/runtime/execution.js";
import type { TransactionExecution } from "../../contracts/runtime/transaction-executor.js";
import { decodeTx, encodeTx, type StoredTx } from "../../sequencer/stored-records.js";
import type { BroadcastedTxn } from "../../sequencer/rpc/params.js";
import { emptyStateDiff } from "../../state/state-diff.js";

const BIG = (n: number) => (1n << 250n) + BigInt(n);

function invocation(address: bigint, calldata: bigint[], over: Partial<FunctionInvocation> = {}): FunctionInvocation {
  return {
    contract_address: address,
    entry_point_selector: BIG(7),
    calldata,
    caller_address: 0n,
    class_hash: BIG(9),
    entry_point_type: "EXTERNAL",
    call_type: "CALL",
    result: [0x56414c4944n],
    calls: [],
    events: [],
    messages: [],
    execution_resources: { l1_gas: 0n, l2_gas: 311700n },
    is_reverted: false,
    ...over,
  };
}

function sampleTx(reverted: boolean): StoredTx {
  const account = BIG(1);
  const token = BIG(2);
  const calldata = [1n, token, BIG(3), 3n, 0x5001n, 7n, 0n];
  const tx = { type: "INVOKE", version: "0x3", senderAddress: account, calldata, signature: [BIG(4), BIG(5)], nonce: 0n } as unknown as BroadcastedTxn;
  const transfer = { from_address: token, keys: [BIG(6), 0n, 0x5001n], data: [7n, 0n] };
  const fee = { from_address: token, keys: [BIG(6), account, 0x1000n], data: [0x295d6f6b4b800n, 0n] };
  const stateDiff = emptyStateDiff();
  stateDiff.storage.set(token, new Map([[BIG(10), 7n]]));
  stateDiff.nonces.set(account, 1n);
  const inner = invocation(token, [0x5001n, 7n, 0n], { caller_address: account, events: [{ order: 0, keys: transfer.keys, data: transfer.data }] });
  const exec: TransactionExecution = {
    status: reverted ? "REVERTED" : "SUCCEEDED",
    revertReason: reverted ? "out of gas" : undefined,
    senderAddress: account,
    stateDiff,
    events: reverted ? [fee] : [transfer, fee],
    gas: { l1_gas: 0n, l1_data_gas: 448n, l2_gas: 727700n },
    actualFee: 0x295d6f6b4b800n,
    trace: {
      type: "INVOKE",
      validate_invocation: invocation(account, calldata, { entry_point_selector: BIG(8) }),
      execute_invocation: reverted ? { revert_reason: "out of gas" } : invocation(account, calldata, { calls: [inner], entry_point_type: "L1_HANDLER" }),
      fee_transfer_invocation: invocation(token, [BIG(11), 0x295d6f6b4b800n, 0n], {
        caller_address: account,
        // An event the execution's list does not hold (kept inline) and one it does.
        events: [
          { order: 0, keys: [BIG(12)], data: [] },
          { order: 1, keys: fee.keys, data: fee.data },
        ],
      }),
    },
  };
  return { hash: BIG(13), tx, blockNumber: 5, index: 2, exec };
}

describe("transaction record", () => {
  for (const reverted of [false, true]) {
    it(`decodes to what was encoded${reverted ? " (reverted execution)" : ""}, in fewer bytes than named fields`, () => {
      const t = sampleTx(reverted);
      const bytes = encodeTx(t);
      expect(decodeTx(bytes)).toEqual(t);
      const named = new Packr({ useBigIntExtension: true, useRecords: false }).pack({ h: t.hash, x: t.tx, b: t.blockNumber, i: t.index, e: { ...t.exec, stateDiff: [] } });
      expect(bytes.length).toBeLessThan(named.length);
    });
  }

  it("decodes a record written before the compact form (events and trace inline)", () => {
    const t = sampleTx(false);
    const d = t.exec.stateDiff;
    const diff = { s: [...d.storage].map(([a, m]) => [a, [...m]]), n: [...d.nonces], d: [...d.deployed], c: [...d.declared] };
    const old = new Packr({ useBigIntExtension: true, useRecords: false }).pack({ h: t.hash, x: t.tx, b: t.blockNumber, i: t.index, e: { ...t.exec, stateDiff: diff } });
    expect(decodeTx(old)).toEqual(t);
  });
});
