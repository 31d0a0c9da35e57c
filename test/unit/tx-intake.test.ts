// intake(): the hash, the executor input and the RPC JSON of a broadcast transaction. The
// JSON is rendered on first read (only a queued transaction's lookup needs it) and is then
// the same object, equal to transactionJson's rendering.

import { describe, expect, it } from "vitest";
import { parseBroadcastedTxn } from "../../sequencer/rpc/params.js";
import { intake, transactionHash, transactionJson, unsignedInvokeJson } from "../../sequencer/tx-intake.js";
import { encodeShortString, toHex } from "../../state/felt.js";

const CHAIN_ID = encodeShortString("SN_PERPCHAIN");

describe("intake", () => {
  it("hashes, builds the executor input and renders the RPC JSON once, on first read", () => {
    const raw = unsignedInvokeJson(0x1234n, 7n, [{ to: 0x55n, selector: 0x66n, calldata: [1n, 2n] }], { l1_gas: 10n, l1_data_gas: 20n, l2_gas: 30n });
    const parsed = parseBroadcastedTxn({ ...raw, signature: ["0x1", "0x2"] }, "tx");
    const tx = intake(parsed, CHAIN_ID);
    expect(tx.hash).toBe(transactionHash(parsed, CHAIN_ID));
    expect(tx.sender).toBe(0x1234n);
    expect(tx.exec).toMatchObject({ type: "INVOKE", transactionHash: tx.hash, nonce: 7n, senderAddress: 0x1234n, signature: [1n, 2n] });
    const json = tx.json;
    expect(json).toEqual(transactionJson(parsed, tx.hash));
    expect(json.transaction_hash).toBe(toHex(tx.hash));
    expect(json.sender_address).toBe("0x1234");
    expect(tx.json).toBe(json);
  });
});
