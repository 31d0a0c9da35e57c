// The devnet end to end with unmodified starknet.js 10: a real node in-process on
// 127.0.0.1 (in-memory store), driven only through JSON-RPC/WS. Every response the provider
// sees is recorded and checked against the spec's schemas by the last test of this file.
import "./ws-global.js";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account, CallData, RpcError, WebSocketChannel, cairo, ec, hash, num, stark, type Contract } from "starknet";
import { computeBlockHeader } from "../../state/block-hash.js";
import { verifyStorageProof } from "../../state/storage-proof.js";
import { SpecSchemas } from "../support/schema-validator.js";
import { BTC, BTC_PRICE_E6, startHarness, u256, type Harness } from "./devnet-harness.js";
import { conformanceFailures, formatFailures } from "./rpc-recorder.js";

let h: Harness;
let strk: Contract;
let strkAddress: string;
const spec = SpecSchemas.load();

beforeAll(async () => {
  h = await startHarness({ inMemory: true, seed: 7, accounts: 6 });
  strkAddress = h.devnet.contracts.STRK!.address;
  strk = await h.contractAt(strkAddress);
});

afterAll(async () => {
  await h?.stop();
});

/** starknet.js wraps JSON-RPC errors in RpcError; the code is on baseError. */
async function rpcErrorOf(p: Promise<unknown>): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e.baseError as { code: number; message: string; data?: unknown };
    throw e;
  }
  throw new Error("expected an RPC error, the call succeeded");
}

const balanceOf = async (address: string) => u256(await strk.balance_of(address));
const transfer = (to: string, amount: bigint) => ({ contractAddress: strkAddress, entrypoint: "transfer", calldata: CallData.compile({ recipient: to, amount: cairo.uint256(amount) }) });

describe("STRK transfers with Account.execute", () => {
  let txHash: string;

  it("sends a multicall of two transfers and moves exactly the amounts plus the fee", async () => {
    const sender = h.account(0);
    const [r1, r2] = [h.devnet.accounts[1]!.address, h.devnet.accounts[2]!.address];
    const before = await Promise.all([balanceOf(sender.address), balanceOf(r1), balanceOf(r2)]);
    const { transaction_hash } = await sender.execute([transfer(r1, 1_000n), transfer(r2, 2_500n)]);
    txHash = transaction_hash;
    const receipt = await h.provider.waitForTransaction(transaction_hash);
    expect(receipt.isSuccess()).toBe(true);
    const fee = BigInt((receipt.value as { actual_fee: { amount: string } }).actual_fee.amount);
    expect(fee).toBeGreaterThan(0n);
    const after = await Promise.all([balanceOf(sender.address), balanceOf(r1), balanceOf(r2)]);
    expect(after).toEqual([before[0]! - 3_500n - fee, before[1]! + 1_000n, before[2]! + 2_500n]);
    expect(await h.provider.getNonceForAddress(sender.address)).toBe("0x1");
  });

  it("traces the multicall: __execute__ calling transfer twice, then the fee transfer", async () => {
    const trace = (await h.provider.getTransactionTrace(txHash)) as Record<string, any>;
    expect(trace.type).toBe("INVOKE");
    expect(trace.validate_invocation.entry_point_selector).toBe(num.toHex(hash.getSelectorFromName("__validate__")));
    const exec = trace.execute_invocation;
    expect(exec.entry_point_selector).toBe(num.toHex(hash.getSelectorFromName("__execute__")));
    expect(exec.calls.map((c: { entry_point_selector: string; contract_address: string }) => [c.contract_address, c.entry_point_selector])).toEqual([
      [strkAddress, num.toHex(hash.getSelectorFromName("transfer"))],
      [strkAddress, num.toHex(hash.getSelectorFromName("transfer"))],
    ]);
    expect(trace.fee_transfer_invocation.contract_address).toBe(strkAddress);
  });

  it("getStateUpdate of the block lists exactly the balances and the nonce that changed", async () => {
    const receipt = (await h.provider.getTransactionReceipt(txHash)) as { block_number: number };
    const su = (await h.provider.getStateUpdate(receipt.block_number)) as any;
    const sender = h.devnet.accounts[0]!.address;
    expect(su.state_diff.nonces).toEqual([{ contract_address: sender, nonce: "0x1" }]);
    const strkDiff = su.state_diff.storage_diffs.find((d: { address: string }) => d.address === strkAddress);
    const balKey = (a: string) => num.toHex(hash.computePedersenHash(hash.getSelectorFromName("ERC20_balances"), a));
    const written = new Map(strkDiff.storage_entries.map((e: { key: string; value: string }) => [e.key, BigInt(e.value)]));
    for (const a of [sender, h.devnet.accounts[1]!.address, h.devnet.accounts[2]!.address]) {
      expect(written.get(balKey(a))).toBe((await balanceOf(a)) & ((1n << 128n) - 1n));
    }
    // The only other STRK write is the sequencer's balance (fee recipient).
    expect(strkDiff.storage_entries.length).toBe(4);
    expect(su.state_diff.deployed_contracts).toEqual([]);
    const block = (await h.provider.getBlockWithTxHashes(receipt.block_number)) as { new_root: string; block_hash: string };
    expect(su.new_root).toBe(block.new_root);
    expect(su.block_hash).toBe(block.block_hash);
  });
});

describe("estimateFee, then execute within those bounds", () => {
  it("charges no more than the estimate and stays within every resource bound", async () => {
    const sender = h.account(1);
    const calls = [transfer(h.devnet.accounts[3]!.address, 777n)];
    const est = await sender.estimateInvokeFee(calls);
    expect(est.unit).toBe("FRI");
    const { transaction_hash } = await sender.execute(calls, { resourceBounds: est.resourceBounds });
    const receipt = (await h.provider.waitForTransaction(transaction_hash)).value as any;
    expect(receipt.execution_status).toBe("SUCCEEDED");
    const tx = (await h.provider.getTransactionByHash(transaction_hash)) as any;
    expect(BigInt(tx.resource_bounds.l2_gas.max_amount)).toBe(BigInt(est.resourceBounds.l2_gas.max_amount));
    expect(BigInt(receipt.execution_resources.l2_gas)).toBeLessThanOrEqual(BigInt(est.resourceBounds.l2_gas.max_amount));
    expect(BigInt(receipt.execution_resources.l1_data_gas)).toBeLessThanOrEqual(BigInt(est.resourceBounds.l1_data_gas.max_amount));
    expect(BigInt(receipt.actual_fee.amount)).toBeLessThanOrEqual(BigInt(est.overall_fee));
  });
});

describe("deployAccount of a new key", () => {
  it("funds the counterfactual address with devnet_mint, deploys, then transacts from it", async () => {
    const privateKey = "0x" + "1234567890abcdef".repeat(4).slice(0, 62);
    const publicKey = ec.starkCurve.getStarkKey(privateKey);
    const classHash = (await h.provider.getClassHashAt(h.devnet.accounts[0]!.address)) as string;
    const constructorCalldata = CallData.compile({ public_key: publicKey });
    const address = hash.calculateContractAddressFromHash(publicKey, classHash, constructorCalldata, 0);
    const minted = await h.rpc("devnet_mint", { address, amount: "1000000000000000000000", unit: "FRI" });
    expect(minted.result.new_balance).toBe("1000000000000000000000");
    const fresh = new Account({ provider: h.provider, address, signer: privateKey });
    const { transaction_hash, contract_address } = await fresh.deployAccount({ classHash, constructorCalldata, addressSalt: publicKey });
    expect(num.toHex(contract_address)).toBe(num.toHex(address));
    const receipt = (await h.provider.waitForTransaction(transaction_hash)).value as any;
    expect(receipt.type).toBe("DEPLOY_ACCOUNT");
    expect(receipt.execution_status).toBe("SUCCEEDED");
    expect(receipt.contract_address).toBe(num.toHex(address));
    expect(await h.provider.getClassHashAt(address)).toBe(classHash);
    expect(await h.provider.getNonceForAddress(address)).toBe("0x1");
    const { transaction_hash: t2 } = await fresh.execute([transfer(h.devnet.accounts[0]!.address, 5n)]);
    expect((await h.provider.waitForTransaction(t2)).isSuccess()).toBe(true);
    expect(await h.provider.getNonceForAddress(address)).toBe("0x2");
  });
});
