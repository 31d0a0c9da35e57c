// One path for a transaction, end to end on a real devnet (127.0.0.1) with raw JSON-RPC and
// an unmodified starknet.js:
//   - what a block would refuse is refused at submission with the spec's code: an L1 data
//     gas price below the block's (53), a max fee above the balance (54, also for a
//     DEPLOY_ACCOUNT paying from the address it deploys to), a bad signature (55), a used
//     nonce (52); no hash is handed out, so nothing can be silently dropped later;
//   - a transaction a later event makes impossible (an earlier transaction in the same block
//     spent the balance) gets a final status: CANDIDATE + REVERTED with the reason, no
//     receipt, then not found; starknet.js's waitForTransaction ends with an error on it;
//   - the block builder re-executes a block from its header inputs and ordered transactions,
//     without RPC or mempool, and reproduces its roots and hash (what a follower does).

import "./ws-global.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Account, RpcProvider, config } from "starknet";
import { accountClass, accountPublicKeyOf } from "../../contracts/account.js";
import { hashBackend, selectorFromName } from "../../state/crypto/hash.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { toHex, type Felt } from "../../state/felt.js";
import { deployAccountAddress } from "../../state/tx-hash.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { blockInputsOf, reexecutionOf } from "../../sequencer/block-builder.js";
import { PerpchainNode } from "../../sequencer/node.js";
import { signInvokeJson, unsignedInvokeJson } from "../../sequencer/tx-intake.js";
import { NodeNotReadyError } from "../../sequencer/errors.js";

config.set("logLevel", "ERROR");

const START_MS = 1_700_000_000_000;
const BALANCE = 10n ** 21n;
const DROPPED_WINDOW_MS = 60_000;

let d: Devnet;
let now_ms = START_MS;

type RpcAnswer = { result?: any; error?: { code: number; message: string; data?: unknown } };

async function rpc(method: string, params: unknown): Promise<RpcAnswer> {
  const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as RpcAnswer;
}

function strk(): Felt {
  return d.node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
}

/** A signed INVOKE v3 (broadcast JSON) from predeployed account `i`: one STRK transfer to account `to`. */
function signedTransfer(
  i: number,
  amount: bigint,
  opts: { nonce?: bigint; to?: number; signWith?: Felt; mutate?: (raw: ReturnType<typeof unsignedInvokeJson>) => void } = {},
) {
  const node = d.node;
  const sender = node.genesis.accounts[i]!.address;
  const recipient = node.genesis.accounts[opts.to ?? (i + 1) % node.genesis.accounts.length]!.address;
  const nonce = opts.nonce ?? node.world.getNonce(sender);
  const raw = unsignedInvokeJson(sender, nonce, [{ to: strk(), selector: selectorFromName("transfer"), calldata: [recipient, amount, 0n] }], node.gasPrices);
  opts.mutate?.(raw);
  const hash = signInvokeJson(raw, node.chainId, opts.signWith ?? node.accountKeys[i]!.privateKey);
  return { raw, hash };
}

/** A STRK transfer of `amount` FRI from predeployed account `from` to account `to`, signed with `from`'s key and submitted. */
function submitTransfer(node: PerpchainNode, from: number, to: number, amount: bigint): Promise<Felt> {
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  return node.submitSignedInvoke(node.genesis.accounts[from]!.address, node.accountKeys[from]!.privateKey, [
    { to: strk, selector: selectorFromName("transfer"), calldata: [node.genesis.accounts[to]!.address, amount, 0n] },
  ]);
}

beforeAll(async () => {
  selectHashBackend({ prefer: "auto" });
  d = await startDevnet({
    inMemory: true,
    port: 0,
    seed: 11,
    accounts: 3,
    initialBalance: BALANCE,
    blockGeneration: { mode: "demand" },
    bootstrapMarketData: false,
    triggerEngine: false,
    clock: () => now_ms,
    droppedStatus_ms: DROPPED_WINDOW_MS,
  });
});

afterAll(async () => {
  await d?.stop();
});

describe("admission refuses what a block would refuse, with the spec's code", () => {
  it("refuses an L1 data gas price below the block's with 53 and hands out no hash", async () => {
    const price = d.node.gasPrices.l1_data_gas;
    const { raw, hash } = signedTransfer(0, 1n, { mutate: (r) => void (r.resource_bounds.l1_data_gas.max_price_per_unit = toHex(price - 1n)) });
    const r = await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw });
    expect(r.error).toEqual({ code: 53, message: "The transaction's resources don't cover validation or the minimal transaction fee" });
    expect((await rpc("starknet_getTransactionStatus", { transaction_hash: toHex(hash) })).error?.code).toBe(29);
    expect(d.node.mempool.size).toBe(0);
  });

  it("refuses an L1 gas or L2 gas price below the block's with 53", async () => {
    for (const resource of ["l1_gas", "l2_gas"] as const) {
      const price = d.node.gasPrices[resource];
      const { raw } = signedTransfer(0, 1n, { mutate: (r) => void (r.resource_bounds[resource].max_price_per_unit = toHex(price - 1n)) });
      expect((await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw })).error?.code).toBe(53);
    }
  });

  it("refuses L2 gas below the minimal transaction gas with 53", async () => {
    const { raw } = signedTransfer(0, 1n, { mutate: (r) => void (r.resource_bounds.l2_gas.max_amount = "0x10") });
    expect((await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw })).error?.code).toBe(53);
  });

  it("refuses a max fee above the fee-token balance with 54", async () => {
    // max fee = 2^62 × 2 × L2 price, far above the 1000 STRK the account holds
    const { raw } = signedTransfer(0, 1n, { mutate: (r) => void (r.resource_bounds.l2_gas.max_amount = toHex(1n << 62n)) });
    const r = await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw });
    expect(r.error).toEqual({
      code: 54,
      message: "Account balance is smaller than the transaction's maximal fee (calculated as the sum of each resource's limit x max price)",
    });
  });

  it("refuses a bad signature with 55 and the account's reason", async () => {
    const { raw } = signedTransfer(0, 1n, { signWith: d.node.accountKeys[1]!.privateKey });
    const r = await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw });
    expect(r.error?.code).toBe(55);
    expect(r.error?.message).toBe("Account validation failed");
    expect(String(r.error?.data)).toContain("Account: invalid signature");
  });

  it("refuses a used nonce with 52", async () => {
    const { raw } = signedTransfer(2, 5n);
    expect((await rpc("starknet_addInvokeTransaction", { invoke_transaction: raw })).result?.transaction_hash).toMatch(/^0x/);
    await rpc("devnet_createBlock", []);
    const again = signedTransfer(2, 6n, { nonce: 0n });
    const r = await rpc("starknet_addInvokeTransaction", { invoke_transaction: again.raw });
    expect(r.error?.code).toBe(52);
    expect(r.error?.data).toBe("account nonce is 0x1, transaction has 0x0");
  });

  it("refuses a DEPLOY_ACCOUNT whose address holds no fee token with 54", async () => {
    const publicKey = 0x1234n;
    const raw = {
      type: "DEPLOY_ACCOUNT",
      version: "0x3",
      class_hash: toHex(accountClass.classHash),
      contract_address_salt: toHex(publicKey),
      constructor_calldata: [toHex(publicKey)],
      nonce: "0x0",
      resource_bounds: {
        l1_gas: { max_amount: "0x0", max_price_per_unit: toHex(d.node.gasPrices.l1_gas) },
        l1_data_gas: { max_amount: "0x1000", max_price_per_unit: toHex(d.node.gasPrices.l1_data_gas) },
        l2_gas: { max_amount: "0x10000000", max_price_per_unit: toHex(d.node.gasPrices.l2_gas) },
      },
      tip: "0x0",
      paymaster_data: [],
      nonce_data_availability_mode: "L1",
      fee_data_availability_mode: "L1",
      signature: ["0x1", "0x2"],
    };
    const address = deployAccountAddress({ classHash: accountClass.classHash, contractAddressSalt: publicKey, constructorCalldata: [publicKey] });
    expect(d.node.world.getClassHash(address)).toBe(0n);
    const r = await rpc("starknet_addDeployAccountTransaction", { deploy_account_transaction: raw });
    expect(r.error?.code).toBe(54);
  });

  it("starknet.js sees the spec code when it sends an underpriced transaction", async () => {
    const a = d.accounts[0]!;
    const provider = new RpcProvider({ nodeUrl: d.rpcUrl, transactionRetryIntervalFallback: 20 });
    const account = new Account({ provider, address: a.address, signer: a.private_key });
    const p = d.node.gasPrices;
    const err = await account
      .execute([{ contractAddress: toHex(strk()), entrypoint: "transfer", calldata: [d.accounts[1]!.address, "1", "0"] }], {
        resourceBounds: {
          l1_gas: { max_amount: 0n, max_price_per_unit: p.l1_gas },
          l1_data_gas: { max_amount: 0x1000n, max_price_per_unit: p.l1_data_gas / 2n },
          l2_gas: { max_amount: 0x10000000n, max_price_per_unit: p.l2_gas },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { baseError?: { code?: number } },
      );
    expect(err?.baseError?.code).toBe(53);
  });
});

describe("a transaction a later event made impossible", () => {
  it("gets CANDIDATE + REVERTED with the reason, no receipt, then not found; starknet.js's wait ends with an error", async () => {
    // Account 1 sends nearly all its STRK away, then a second transaction whose max fee its
    // balance covered at submission but no longer covers once the first one ran.
    const spender = d.node.genesis.accounts[1]!.address;
    const nonce = d.node.world.getNonce(spender);
    const first = signedTransfer(1, BALANCE - 5n * 10n ** 17n, { nonce, to: 0 });
    const second = signedTransfer(1, 1n, { nonce: nonce + 1n, to: 0 });
    expect((await rpc("starknet_addInvokeTransaction", { invoke_transaction: first.raw })).result?.transaction_hash).toBe(toHex(first.hash));
    expect((await rpc("starknet_addInvokeTransaction", { invoke_transaction: second.raw })).result?.transaction_hash).toBe(toHex(second.hash));
    expect((await rpc("starknet_getTransactionStatus", { transaction_hash: toHex(second.hash) })).result).toEqual({ finality_status: "RECEIVED" });

    const provider = new RpcProvider({ nodeUrl: d.rpcUrl, transactionRetryIntervalFallback: 20 });
    await rpc("devnet_createBlock", []);
    expect((await rpc("starknet_getTransactionStatus", { transaction_hash: toHex(first.hash) })).result).toEqual({ finality_status: "ACCEPTED_ON_L2", execution_status: "SUCCEEDED" });
    const status = (await rpc("starknet_getTransactionStatus", { transaction_hash: toHex(second.hash) })).result;
    expect(status.finality_status).toBe("CANDIDATE");
    expect(status.execution_status).toBe("REVERTED");
    expect(status.failure_reason).toMatch(/^dropped: Account balance is smaller than the transaction's maximal fee .*: balance \d+ is below the max fee \d+$/);
    expect((await rpc("starknet_getTransactionReceipt", { transaction_hash: toHex(second.hash) })).error?.code).toBe(29);
    expect(d.node.mempool.has(second.hash)).toBe(false);

    // A client asking for REVERTED as an error state gets the reason at once.
    const failed = await provider.waitForTransaction(toHex(second.hash), { errorStates: ["REVERTED"], retryInterval: 10, retries: 20 }).then(
      () => undefined,
      (e: Error & { response?: unknown }) => e,
    );
    expect(failed?.message).toBe("REVERTED: CANDIDATE");
    expect(failed?.response).toEqual(status);

    // With default options the wait sees CANDIDATE, then (after the window) not found, and
    // ends with starknet.js's "fails block building validation" error.
    const waiting = provider.waitForTransaction(toHex(second.hash), { retryInterval: 10, retries: 200 }).then(
      () => undefined,
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    now_ms += DROPPED_WINDOW_MS + 1;
    expect((await waiting)?.message).toBe("Transaction fails block building validation");
    expect((await rpc("starknet_getTransactionStatus", { transaction_hash: toHex(second.hash) })).error?.code).toBe(29);
  });
});

describe("the block builder without RPC or mempool", () => {
  it("re-executes a block from its header inputs and ordered transactions and gets the same roots and hash", async () => {
    const opts = { inMemory: true, seed: 3, accounts: 2, blockGeneration: { mode: "demand" } as const, clock: () => START_MS };
    const leader = await PerpchainNode.open(opts);
    const follower = await PerpchainNode.open(opts);
    try {
      expect(follower.world.head()!.blockHash).toBe(leader.world.head()!.blockHash);
      for (let k = 0; k < 3; k++) await submitTransfer(leader, k % 2, (k + 1) % 2, BigInt(1000 + k));
      const block = await leader.createBlock();
      expect(block.txHashes).toHaveLength(3);

      // What a follower receives: the stored block (header inputs) and its ordered transactions.
      const h = block.header;
      const stored = (await leader.chain.getStoredBlock(h.block_number))!;
      const { inputs, txs } = reexecutionOf(stored, await leader.chain.getStoredTxs(stored.txHashes), follower.chainId);
      expect(inputs).toEqual({ number: 1, timestamp: h.timestamp, gasPrices: leader.gasPrices, gasPricesWei: leader.gasPricesWei, sequencerAddress: BigInt(h.sequencer_address) });
      const candidate = await follower.builder.execute(inputs, txs);
      expect(candidate.dropped).toEqual([]);
      expect(toHex(candidate.stateRoot)).toBe(h.new_root);
      expect(toHex(candidate.blockHash)).toBe(h.block_hash);
      await follower.builder.commit(candidate);
      expect(follower.world.head()!.roots).toEqual(leader.world.head()!.roots);
      expect((await follower.chain.getBlock(h.block_number))?.header).toEqual(h);
    } finally {
      await leader.stop();
      await follower.stop();
    }
  });
});

describe("block cadence", () => {
  it("a block gathers only while transactions keep arriving: after a quiet pause it starts, not at the cadence", async () => {
    // A 10 s cadence: the second block would wait ~10 s after the first without the quiet rule.
    const node = await PerpchainNode.open({ inMemory: true, seed: 6, accounts: 2, blockGeneration: { mode: "transaction" }, blockBatchMs: 10_000 });
    try {
      const first = await submitTransfer(node, 0, 1, 1n);
      const second = await submitTransfer(node, 1, 0, 1n);
      const t0 = performance.now();
      const [a, b] = await Promise.all([node.waitForTx(first, 20_000), node.waitForTx(second, 20_000)]);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(a.receipt.execution_status).toBe("SUCCEEDED");
      expect(b.receipt.execution_status).toBe("SUCCEEDED");
    } finally {
      await node.stop();
    }
  });
});

describe("a block's execution budget", () => {
  it("stops taking transactions when the budget runs out; the rest stay queued, in order, for the next blocks", async () => {
    const node = await PerpchainNode.open({ inMemory: true, seed: 4, accounts: 2, blockGeneration: { mode: "demand" }, clock: () => START_MS, blockBudgetMs: 1e-6 });
    try {
      const hashes: Felt[] = [];
      for (let k = 0; k < 5; k++) hashes.push(await submitTransfer(node, k % 2, (k + 1) % 2, BigInt(1000 + k)));
      // A 1 ns budget: every block takes its first transaction only.
      const blocks = [];
      for (let k = 0; k < 5; k++) blocks.push(await node.createBlock());
      expect(blocks.map((b) => b.txHashes.length)).toEqual([1, 1, 1, 1, 1]);
      expect(blocks.flatMap((b) => b.txHashes).sort()).toEqual(hashes.map(toHex).sort());
      expect(node.mempool.size).toBe(0);
      for (const h of hashes) expect((await node.chain.getTx(h))?.receipt.execution_status).toBe("SUCCEEDED");
    } finally {
      await node.stop();
    }
  });

  it("the builder takes transactions until now() reaches the deadline (at least one), and says how many", async () => {
    const node = await PerpchainNode.open({ inMemory: true, seed: 5, accounts: 2, blockGeneration: { mode: "demand" }, clock: () => START_MS });
    try {
      const txs = [];
      for (let k = 0; k < 4; k++) txs.push(await submitTransfer(node, 0, 1, 1n));
      const queued = txs.map((t) => node.mempool.get(t)!.payload.tx);
      const genesis = (await node.chain.getStoredBlock(0))!;
      const inputs = { ...blockInputsOf(genesis.header), number: 1 };
      let t = 0;
      const budget = { ms: 2, now: () => t++ }; // deadline 2: the clock reads 1 before the 2nd tx, 2 before the 3rd
      const candidate = await node.builder.execute(inputs, queued, budget);
      expect(candidate.considered).toBe(2);
      expect(candidate.included.map((i) => i.tx.hash)).toEqual(queued.slice(0, 2).map((q) => q.hash));
      const none = await node.builder.execute(inputs, queued, { ms: 0, now: () => 0 });
      expect(none.considered).toBe(1);
      expect((await node.builder.execute(inputs, queued)).considered).toBe(4);

      // With slices, the loop yields to the event loop between transactions: other callbacks run meanwhile.
      let ticks = 0;
      let running = true;
      const tick = () => {
        ticks++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      const seen: number[] = [];
      let c = 0;
      const sliced = await node.builder.execute(inputs, queued, { ms: 1e9, now: () => (seen.push(ticks), c++), sliceMs: 1 });
      running = false;
      expect(sliced.considered).toBe(4);
      expect(sliced.blockHash).toBe((await node.builder.execute(inputs, queued)).blockHash);
      expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
    } finally {
      await node.stop();
    }
  });
});

describe("a block's transaction records", () => {
  it("render their JSON on first read, once, and serialize whole (transaction, receipt, trace)", async () => {
    const node = await PerpchainNode.open({ inMemory: true, seed: 6, accounts: 2, blockGeneration: { mode: "demand" }, clock: () => START_MS });
    try {
      const hash = await submitTransfer(node, 0, 1, 5n);
      await node.createBlock();
      const record = (await node.chain.getTx(hash))!;
      expect(Object.keys(JSON.parse(JSON.stringify(record))).sort()).toEqual(["blockNumber", "index", "receipt", "trace", "transaction"]);
      expect(record.receipt).toBe(record.receipt);
      expect(record.transaction).toBe(record.transaction);
      expect(record.transaction.transaction_hash).toBe(toHex(hash));
      expect(record.receipt.execution_status).toBe("SUCCEEDED");
      const json = JSON.parse(JSON.stringify(record));
      expect(json.transaction).toEqual(record.transaction);
      expect(json.receipt).toEqual(record.receipt);
      expect(json.trace).toEqual(JSON.parse(JSON.stringify(record.trace)));
    } finally {
      await node.stop();
    }
  });
});

describe("admission's signature prefetch", () => {
  it("reads an account's stored key without a call frame (undefined for another class), and a burst of submissions is hashed in batches", async () => {
    const node = await PerpchainNode.open({ inMemory: true, seed: 7, accounts: 3, blockGeneration: { mode: "demand" }, clock: () => START_MS });
    try {
      const strkAddress = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
      node.genesis.accounts.forEach((a, i) => expect(accountPublicKeyOf(node.world, a.address)).toBe(node.accountKeys[i]!.publicKey));
      expect(accountPublicKeyOf(node.world, strkAddress)).toBeUndefined();
      const before = node.admissionCryptoStats;
      const hashes = await Promise.all(
        [0, 1, 2].map((i) =>
          submitTransfer(node, i, (i + 1) % 3, 7n),
        ),
      );
      const after = node.admissionCryptoStats;
      if (hashBackend().poseidonProgramAsync) {
        expect(after.txs - before.txs).toBe(3);
        expect(after.batches - before.batches).toBe(1); // submitted in one turn of the event loop
      } else {
        expect(after).toEqual(before); // the JS backend hashes at once, without batches
      }
      const block = await node.createBlock();
      expect(block.txHashes).toEqual(expect.arrayContaining(hashes.map(toHex)));

      // A submission whose hash is being computed when the node swaps its chain (devnet_restart,
      // devnet_load replace the admission) is refused, not queued on the chain that is gone.
      const late = submitTransfer(node, 0, 1, 9n);
      (node as unknown as { admission: { retire(): void } }).admission.retire();
      await expect(late).rejects.toBeInstanceOf(NodeNotReadyError);
      expect(node.mempool.size).toBe(0);
    } finally {
      await node.stop();
    }
  });
});
