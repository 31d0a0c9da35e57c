// A rollback with policy "drop" must not wedge the operator account: queued operator
// transactions whose nonces followed the dropped ones are dropped in the same batch, their
// waiters get a typed error, and the next operator transaction is included.
import { describe, expect, it } from "vitest";
import { erc20 } from "../../contracts/erc20.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { startDevnet } from "../../sequencer/devnet.js";
import { OPERATOR_ERRORS, TransactionNotIncludedError } from "../../sequencer/errors.js";

describe("rollback (drop) and queued operator transactions", () => {
  it("drops the stranded ones with a typed error and keeps the operator account usable", async () => {
    let now = 1_768_435_200_000;
    const d = await startDevnet({ inMemory: true, seed: 4, accounts: 2, blockGeneration: { mode: "demand" }, bootstrapMarketData: false, triggerEngine: false, clock: () => (now += 1000) });
    try {
      const usdc = BigInt(d.contracts.USDC!.address);
      const mint = () =>
        d.node.submitOperatorInvoke([{ to: usdc, selector: erc20.permissionedMint.selector, calldata: encodeArgs(erc20.permissionedMint.inputs, { recipient: BigInt(d.accounts[0]!.address), amount: 5n }) }]);
      const base = d.node.headNumber();
      await mint();
      await mint();
      await d.node.createBlock();
      const stranded = await mint(); // queued, its nonce follows the two in the block
      const waiting = d.node.waitForTx(stranded).catch((e: unknown) => e);
      await d.node.rollbackTo(base, "drop");
      const err = await waiting;
      expect(err).toBeInstanceOf(TransactionNotIncludedError);
      expect((err as TransactionNotIncludedError).code).toBe(OPERATOR_ERRORS.TX_NOT_INCLUDED.code);
      expect(d.node.mempool.size).toBe(0);
      const next = await mint();
      await d.node.createBlock();
      expect((await d.node.waitForTx(next)).receipt.execution_status).toBe("SUCCEEDED");
    } finally {
      await d.stop();
    }
  });
});
