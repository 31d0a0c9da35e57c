// The devnet on a real LevelDB in a temp dir, driven by unmodified starknet.js: a transfer
// survives a stop and a restart on the same directory (blocks, receipts, balances, nonce),
// and every response seen is spec-conformant.
import "./ws-global.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CallData, cairo } from "starknet";
import { SpecSchemas } from "../support/schema-validator.js";
import { startHarness, u256, type Harness } from "./devnet-harness.js";
import { conformanceFailures, formatFailures } from "./rpc-recorder.js";

const dir = mkdtempSync(join(tmpdir(), "perpchain-it-"));
const harnesses: Harness[] = [];

afterAll(async () => {
  for (const h of harnesses) await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("devnet on LevelDB", () => {
  it("keeps a committed transfer across a restart on the same directory", async () => {
    const first = await startHarness({ dbPath: dir, seed: 3, accounts: 3 });
    harnesses.push(first);
    const strkAddress = first.devnet.contracts.STRK!.address;
    const recipient = first.devnet.accounts[1]!.address;
    const { transaction_hash } = await first.account(0).execute([
      { contractAddress: strkAddress, entrypoint: "transfer", calldata: CallData.compile({ recipient, amount: cairo.uint256(123_456n) }) },
    ]);
    const receipt = (await first.provider.waitForTransaction(transaction_hash)).value as { block_number: number; block_hash: string };
    const strk = await first.contractAt(strkAddress);
    const balance = u256(await strk.balance_of(recipient));
    const head = await first.provider.getBlockLatestAccepted();
    await first.stop();

    const second = await startHarness({ dbPath: dir, seed: 3, accounts: 3 });
    harnesses.push(second);
    expect(second.devnet.node.epoch).toBe(first.devnet.node.epoch + 1);
    // the old blocks are intact
    expect((await second.provider.getBlockWithTxHashes(head.block_number)) as { block_hash: string }).toMatchObject({ block_hash: head.block_hash });
    const again = (await second.provider.getTransactionReceipt(transaction_hash)) as unknown as { block_hash: string; execution_status: string };
    expect([again.block_hash, again.execution_status]).toEqual([receipt.block_hash, "SUCCEEDED"]);
    expect(u256(await (await second.contractAt(strkAddress)).balance_of(recipient))).toBe(balance);
    expect(await second.provider.getNonceForAddress(first.devnet.accounts[0]!.address)).toBe("0x1");
    // and it keeps producing blocks on top
    const { transaction_hash: t2 } = await second.account(0).execute([
      { contractAddress: strkAddress, entrypoint: "transfer", calldata: CallData.compile({ recipient, amount: cairo.uint256(1n) }) },
    ]);
    const r2 = (await second.provider.waitForTransaction(t2)).value as { block_number: number };
    expect(r2.block_number).toBeGreaterThan(head.block_number);
    expect(await second.provider.getNonceForAddress(first.devnet.accounts[0]!.address)).toBe("0x2");

    const failures = [...conformanceFailures(first.recorder.calls, SpecSchemas.load()), ...conformanceFailures(second.recorder.calls, SpecSchemas.load())];
    expect(formatFailures(failures)).toBe("");
  });
});
