// The devnet end to end with unmodified starknet.js 10: a real node in-process on
// 127.0.0.1 (in-memory store), driven only through JSON-RPC/WS. Every response the provider
// sees is recorded and checked against the spec's schemas by the last test of this file.
import "./ws-global.js";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account, CallData, RpcError, WebSocketChannel, cairo, ec, hash, num, type Contract } from "starknet";
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

describe("the perp exchange through a Contract built from getClassAt's ABI", () => {
  const DEPOSIT_USDC6 = 20_000_000_000n; // 20,000 USDC
  const SIZE_E8 = 10_000_000n; // 0.1 BTC
  let takerTx: string;

  it("takes the operator's market data, then USDC approve + deposit for two traders", async () => {
    expect(await h.setMarketData(BTC, BTC_PRICE_E6)).toBe("SUCCEEDED");
    const exchange = h.devnet.contracts.PerpExchange!.address;
    const usdcAddress = h.devnet.contracts.USDC!.address;
    for (const i of [3, 4]) {
      const trader = h.account(i);
      const usdc = await h.contractAt(usdcAddress, trader);
      const ex = await h.contractAt(exchange, trader);
      const before = u256(await usdc.balance_of(trader.address));
      const { transaction_hash } = await trader.execute([
        usdc.populate("approve", { spender: exchange, amount: cairo.uint256(DEPOSIT_USDC6) }),
        ex.populate("deposit", { amount: DEPOSIT_USDC6 }),
      ]);
      expect((await h.provider.waitForTransaction(transaction_hash)).isSuccess()).toBe(true);
      expect(u256(await usdc.balance_of(trader.address))).toBe(before - DEPOSIT_USDC6);
      const info = (await ex.get_account(trader.address)) as { balance: bigint };
      expect(info.balance).toBe(DEPOSIT_USDC6);
    }
  });

  it("fills a bid with a crossing ask on BTC-USD-PERP: positions, fees and the Trade event agree", async () => {
    const exchange = h.devnet.contracts.PerpExchange!.address;
    const [maker, taker] = [h.account(3), h.account(4)];
    const exMaker = await h.contractAt(exchange, maker);
    const exTaker = await h.contractAt(exchange, taker);
    // bid 0.1 BTC @ 100,000 (limit, resting), then ask 0.1 BTC @ 99,900 (crosses at the maker's price)
    const bid = await exMaker.invoke("place_order", [BTC, 0, 0, 0, BTC_PRICE_E6, 0, SIZE_E8]);
    expect((await h.provider.waitForTransaction(bid.transaction_hash)).isSuccess()).toBe(true);
    const ask = await exTaker.invoke("place_order", [BTC, 1, 0, 0, BTC_PRICE_E6 - 100_000_000n, 0, SIZE_E8]);
    takerTx = ask.transaction_hash;
    const receipt = await h.provider.waitForTransaction(takerTx);
    expect(receipt.isSuccess()).toBe(true);

    const notional = (SIZE_E8 * BTC_PRICE_E6) / 100_000_000n; // 10,000 USDC
    const makerPos = (await exMaker.get_position(maker.address, BTC)) as Record<string, bigint>;
    const takerPos = (await exMaker.get_position(taker.address, BTC)) as Record<string, bigint>;
    expect([makerPos.size, makerPos.entry_price, makerPos.cost]).toEqual([SIZE_E8, BTC_PRICE_E6, notional]);
    expect([takerPos.size, takerPos.entry_price, takerPos.cost]).toEqual([-SIZE_E8, BTC_PRICE_E6, -notional]);
    // maker fee 0.02 %, taker fee 0.05 % of the notional come off the collateral (mark = trade price: no P&L)
    expect(((await exMaker.get_account(maker.address)) as { collateral: bigint }).collateral).toBe(DEPOSIT_USDC6 - (notional * 200n) / 1_000_000n);
    expect(((await exMaker.get_account(taker.address)) as { collateral: bigint }).collateral).toBe(DEPOSIT_USDC6 - (notional * 500n) / 1_000_000n);

    const events = exMaker.parseEvents(receipt);
    const trade = events.map((e) => Object.entries(e).find(([k]) => k.endsWith("::Trade"))?.[1]).find((x) => x !== undefined) as Record<string, bigint>;
    expect(trade).toMatchObject({
      market: BTC,
      maker: BigInt(maker.address),
      taker: BigInt(taker.address),
      taker_side: 1n,
      price_e6: BTC_PRICE_E6,
      size_e8: SIZE_E8,
      maker_fee_usdc6: 2_000_000n,
      taker_fee_usdc6: 5_000_000n,
    });
  });

  it("getEvents finds the Trade by exchange address and key, in the taker's transaction", async () => {
    const exchange = h.devnet.contracts.PerpExchange!.address;
    const tradeKey = num.toHex(hash.starknetKeccak("Trade"));
    const page = await h.provider.getEvents({ address: exchange, keys: [[tradeKey]], chunk_size: 10, from_block: { block_number: 0 }, to_block: "latest" } as never);
    expect(page.events.length).toBe(1);
    expect(page.events[0]!.transaction_hash).toBe(takerTx);
    expect(page.events[0]!.keys).toEqual([tradeKey, num.toHex(BTC)]);
    expect(page.continuation_token).toBeUndefined();
  });
});

describe("getEvents paging with continuation tokens", () => {
  it("pages of 2 STRK events concatenate to the single-page answer, with a token on every page but the last", async () => {
    const filter = { address: strkAddress, from_block: { block_number: 0 }, to_block: "latest" };
    const all = await h.provider.getEvents({ ...filter, chunk_size: 1000 } as never);
    expect(all.continuation_token).toBeUndefined();
    expect(all.events.length).toBeGreaterThan(5);
    const paged: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await h.provider.getEvents({ ...filter, chunk_size: 2, ...(token ? { continuation_token: token } : {}) } as never);
      paged.push(...page.events);
      token = page.continuation_token;
      pages++;
      if (token !== undefined) expect(page.events.length).toBe(2);
    } while (token !== undefined && pages < 1000);
    expect(paged).toEqual(all.events);
    expect(pages).toBe(Math.ceil(all.events.length / 2)); // no trailing empty page
  });

  it("rejects a malformed continuation token with 33 INVALID_CONTINUATION_TOKEN", async () => {
    const err = await rpcErrorOf(h.provider.getEvents({ address: strkAddress, chunk_size: 2, continuation_token: "not-a-token" } as never));
    expect(err.code).toBe(33);
  });
});

describe("WebSocket subscriptions through starknet.js's WebSocketChannel", () => {
  it("delivers the new head and the Transfer events of a transaction, in spec shape", async () => {
    const channel = new WebSocketChannel({ nodeUrl: h.devnet.wsUrl, websocket: WebSocket as never, autoReconnect: false });
    await channel.waitForConnection();
    try {
      const heads = await channel.subscribeNewHeads();
      const events = await channel.subscribeEvents({ fromAddress: strkAddress });
      // the subscription first replays the current head; wait for the one of our block
      const seenHeads: any[] = [];
      let onHead: (x: any) => void = () => {};
      heads.on((x) => {
        seenHeads.push(x);
        onHead(x);
      });
      const headOf = (n: number) => new Promise<any>((resolve) => {
        const hit = seenHeads.find((x) => x.block_number === n);
        if (hit) return resolve(hit);
        onHead = (x) => x.block_number === n && resolve(x);
      });
      const gotEvents: any[] = [];
      const twoEvents = new Promise<void>((resolve) =>
        events.on((e) => {
          gotEvents.push(e);
          if (gotEvents.length === 2) resolve();
        }),
      );
      const { transaction_hash } = await h.account(2).execute([transfer(h.devnet.accounts[5]!.address, 42n)]);
      const receipt = (await h.provider.waitForTransaction(transaction_hash)).value as any;
      const head = await headOf(receipt.block_number);
      await twoEvents;
      expect(head.block_number).toBe(receipt.block_number);
      expect(head.block_hash).toBe(receipt.block_hash);
      expect(spec.validateParam(head, "starknet_subscriptionNewHeads", "result")).toEqual([]);
      // the transfer, then the fee transfer to the sequencer
      expect(gotEvents.map((e) => [e.transaction_hash, e.from_address, e.keys[0]])).toEqual([
        [transaction_hash, strkAddress, num.toHex(hash.starknetKeccak("Transfer"))],
        [transaction_hash, strkAddress, num.toHex(hash.starknetKeccak("Transfer"))],
      ]);
      for (const e of gotEvents) expect(spec.validateParam(e, "starknet_subscriptionEvents", "result")).toEqual([]);
      expect(await heads.unsubscribe()).toBe(true);
      expect(await events.unsubscribe()).toBe(true);
    } finally {
      channel.disconnect();
      await channel.waitForDisconnection();
    }
  });
});

describe("bad input gets the spec's error codes", () => {
  it("a stale nonce is 52 INVALID_TRANSACTION_NONCE", async () => {
    const sender = h.account(0); // nonce 1 after the multicall
    const err = await rpcErrorOf(sender.execute([transfer(h.devnet.accounts[1]!.address, 1n)], { nonce: 0, resourceBounds: BOUNDS }));
    expect(err.code).toBe(52);
    expect(err.message).toBe("Invalid transaction nonce");
  });

  it("a signature by the wrong key is 55 VALIDATION_FAILURE", async () => {
    const impostor = new Account({ provider: h.provider, address: h.devnet.accounts[1]!.address, signer: h.devnet.accounts[2]!.private_key });
    const err = await rpcErrorOf(impostor.execute([transfer(h.devnet.accounts[2]!.address, 1n)], { resourceBounds: BOUNDS }));
    expect(err.code).toBe(55);
    expect(err.message).toBe("Account validation failed");
  });

  it("an address with no contract is 20 CONTRACT_NOT_FOUND for getClassAt, getNonce and call", async () => {
    const nobody = "0x1234567";
    expect((await rpcErrorOf(h.provider.getClassAt(nobody))).code).toBe(20);
    expect((await rpcErrorOf(h.provider.getNonceForAddress(nobody))).code).toBe(20);
    expect((await rpcErrorOf(h.provider.callContract({ contractAddress: nobody, entrypoint: "balance_of", calldata: [] }))).code).toBe(20);
  });

  it("malformed params are -32602 INVALID_PARAMS", async () => {
    expect((await h.rpc("starknet_getBlockWithTxHashes", { block_id: "not-a-block" })).error?.code).toBe(-32602);
    expect((await h.rpc("starknet_getStorageAt", ["0xzz", "0x1", "latest"])).error?.code).toBe(-32602);
    expect((await h.rpc("starknet_getNonce", { block_id: "latest" })).error?.code).toBe(-32602);
    expect((await h.rpc("starknet_addInvokeTransaction", { invoke_transaction: { type: "INVOKE", version: "0x3" } })).error?.code).toBe(-32602);
  });

  it("an unknown block is 24 BLOCK_NOT_FOUND", async () => {
    expect((await rpcErrorOf(h.provider.getBlockWithTxHashes(1_000_000))).code).toBe(24);
  });
});

/** Generous fixed bounds so error tests never depend on an estimate. */
const BOUNDS = {
  l1_gas: { max_amount: 0n, max_price_per_unit: 200_000_000_000n },
  l1_data_gas: { max_amount: 10_000n, max_price_per_unit: 2_000_000n },
  l2_gas: { max_amount: 10_000_000n, max_price_per_unit: 2_000_000_000n },
};

describe("block hash and state root, checked independently of the node", () => {
  it("recomputes each block's commitments and hash from its header, txs, receipts and state update", async () => {
    const head = await h.provider.getBlockNumber();
    expect(head).toBeGreaterThan(5);
    for (let n = 0; n <= head; n++) {
      const block = (await h.provider.getBlockWithReceipts(n)) as any;
      const su = (await h.provider.getStateUpdate(n)) as any;
      const price = (p: { price_in_fri: string; price_in_wei: string }) => ({ priceInFri: BigInt(p.price_in_fri), priceInWei: BigInt(p.price_in_wei) });
      const d = su.state_diff;
      const header = await computeBlockHeader({
        blockNumber: block.block_number,
        parentHash: BigInt(block.parent_hash),
        stateRoot: BigInt(block.new_root),
        sequencerAddress: BigInt(block.sequencer_address),
        timestamp: block.timestamp,
        l1DaMode: block.l1_da_mode,
        l1GasPrice: price(block.l1_gas_price),
        l1DataGasPrice: price(block.l1_data_gas_price),
        l2GasPrice: price(block.l2_gas_price),
        starknetVersion: block.starknet_version,
        transactions: block.transactions.map(({ transaction: t, receipt: r }: any) => ({
          hash: BigInt(r.transaction_hash),
          signature: t.signature.map(BigInt),
          events: r.events.map((e: any) => ({ fromAddress: BigInt(e.from_address), keys: e.keys.map(BigInt), data: e.data.map(BigInt) })),
          actualFee: BigInt(r.actual_fee.amount),
          messagesSent: [],
          ...(r.revert_reason !== undefined ? { revertReason: r.revert_reason } : {}),
          l1Gas: BigInt(r.execution_resources.l1_gas),
          l1DataGas: BigInt(r.execution_resources.l1_data_gas),
        })),
        stateDiff: {
          storage: new Map(d.storage_diffs.map((s: any) => [BigInt(s.address), new Map(s.storage_entries.map((e: any) => [BigInt(e.key), BigInt(e.value)]))])),
          nonces: new Map(d.nonces.map((x: any) => [BigInt(x.contract_address), BigInt(x.nonce)])),
          deployed: new Map([...d.deployed_contracts, ...d.replaced_classes.map((r: any) => ({ address: r.contract_address, class_hash: r.class_hash }))].map((x: any) => [BigInt(x.address), BigInt(x.class_hash)])),
          declared: new Map(d.declared_classes.map((x: any) => [BigInt(x.class_hash), BigInt(x.compiled_class_hash)])),
        },
      });
      expect({ n, hash: num.toHex(header.blockHash), tx: num.toHex(header.transactionCommitment), ev: num.toHex(header.eventCommitment), rc: num.toHex(header.receiptCommitment), sd: num.toHex(header.stateDiffCommitment) }).toEqual({
        n,
        hash: block.block_hash,
        tx: block.transaction_commitment,
        ev: block.event_commitment,
        rc: block.receipt_commitment,
        sd: block.state_diff_commitment,
      });
      if (n > 0) expect(block.parent_hash).toBe(((await h.provider.getBlockWithTxHashes(n - 1)) as any).block_hash);
      expect(su.old_root).toBe(n === 0 ? "0x0" : ((await h.provider.getBlockWithTxHashes(n - 1)) as any).new_root);
    }
  });

  it("a storage proof of a STRK balance verifies against the header's new_root and proves the balance", async () => {
    const block = (await h.provider.getBlockWithTxHashes("latest")) as any;
    const holder = h.devnet.accounts[1]!.address;
    const key = hash.computePedersenHash(hash.getSelectorFromName("ERC20_balances"), holder);
    const proof = await h.provider.getStorageProof([], [strkAddress], [{ contract_address: strkAddress, storage_keys: [key] }], block.block_number);
    const verified = verifyStorageProof(proof as never, { classHashes: [], contractAddresses: [BigInt(strkAddress)], contractsStorageKeys: [{ contractAddress: BigInt(strkAddress), storageKeys: [BigInt(key)] }] }, BigInt(block.new_root));
    expect(verified.storage).toEqual([{ address: BigInt(strkAddress), key: BigInt(key), value: (await balanceOf(holder)) & ((1n << 128n) - 1n) }]);
    expect(num.toHex(verified.contracts[0]!.record.classHash)).toBe(await h.provider.getClassHashAt(strkAddress));
    // a different root does not verify
    expect(() => verifyStorageProof(proof as never, { classHashes: [], contractAddresses: [BigInt(strkAddress)], contractsStorageKeys: [] }, BigInt(block.new_root) + 1n)).toThrow(/state root/);
  });
});

describe("simulateTransactions", () => {
  it("returns a trace and a fee estimate and changes nothing", async () => {
    const sender = h.account(1);
    const nonceBefore = await h.provider.getNonceForAddress(sender.address);
    const headBefore = await h.provider.getBlockNumber();
    // starknet.js reshapes each result as { transaction_trace, resourceBounds, overall_fee, unit }
    const [sim] = ((await sender.simulateTransaction([{ type: "INVOKE", payload: [transfer(h.devnet.accounts[4]!.address, 9n)] }], { skipValidate: false })) as any).simulated_transactions;
    expect(sim.transaction_trace.type).toBe("INVOKE");
    expect(sim.transaction_trace.execute_invocation.calls[0].entry_point_selector).toBe(num.toHex(hash.getSelectorFromName("transfer")));
    expect(sim.transaction_trace.validate_invocation.result).toEqual([num.toHex(shortStringFelt("VALID"))]);
    expect(sim.overall_fee).toBeGreaterThan(0n);
    const raw = h.recorder.calls.filter((c) => c.method === "starknet_simulateTransactions").at(-1)!.result as any[];
    expect(BigInt(raw[0].fee_estimation.l2_gas_consumed)).toBe(BigInt(sim.transaction_trace.execution_resources.l2_gas));
    expect(await h.provider.getNonceForAddress(sender.address)).toBe(nonceBefore);
    expect(await h.provider.getBlockNumber()).toBe(headBefore);
  });
});

function shortStringFelt(s: string): bigint {
  return BigInt("0x" + Buffer.from(s, "ascii").toString("hex"));
}

// Runs last (vitest runs a file's tests in order): everything the provider saw above.
describe("spec conformance of every recorded response", () => {
  it("each starknet_* result matches its method's result schema and each error is one the spec lists", () => {
    expect(h.recorder.calls.length).toBeGreaterThan(100);
    const methods = h.recorder.methods();
    for (const m of ["starknet_getEvents", "starknet_estimateFee", "starknet_getStorageProof", "starknet_traceTransaction", "starknet_simulateTransactions", "starknet_getBlockWithReceipts", "starknet_getStateUpdate", "starknet_addDeployAccountTransaction"])
      expect(methods).toContain(m);
    const failures = conformanceFailures(h.recorder.calls, spec);
    expect(formatFailures(failures)).toBe("");
  });

  it("the check itself catches a non-conforming result and names the method", () => {
    const block = h.recorder.calls.find((c) => c.method === "starknet_getBlockWithTxHashes" && c.result !== undefined)!;
    const broken = { ...block, result: { ...(block.result as object), block_hash: "0xNOT_HEX" } };
    expect(formatFailures(conformanceFailures([broken], spec))).toMatch(/^starknet_getBlockWithTxHashes \(call #0\): .*block_hash/);
    const badError = { method: "starknet_getClassAt", params: {}, error: { code: 29, message: "Transaction hash not found" } };
    expect(formatFailures(conformanceFailures([badError], spec))).toMatch(/code 29 .* is not an error the spec lists for starknet_getClassAt/);
  });
});

