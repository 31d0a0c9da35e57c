// The Starknet side of the HTTP benchmarks: pre-signed INVOKE v3 loads for a running
// perpchain node (crossing perp orders, or plain STRK transfers), the block probe that
// load-runner polls, and the after-run receipt tally. Talks to the node only over JSON-RPC;
// signing happens before the timed part, with nonces read from the node and pre-assigned.

import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { signInvokeJson, unsignedInvokeJson, type Call } from "../../sequencer/tx-intake.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { encodeShortString, toHex } from "../../state/felt.js";
import { rpc } from "../crash/child-node.js";
import { rpcBatchResults, sleep, type ChainProbe, type SignedTx } from "./load-runner.js";

export type StarknetLoadMode = "orders" | "transfers";

export const starknetProbe: ChainProbe = {
  head: (url) => rpc<number>(url, "starknet_blockNumber", []),
  async blockTxHashes(url, numbers) {
    const blocks = await rpcBatchResults<{ transactions: string[] }>(
      url,
      numbers.map((n) => ({ method: "starknet_getBlockWithTxHashes", params: { block_id: { block_number: n } } })),
    );
    return blocks.map((b) => b.transactions);
  },
};

export interface StarknetLoad {
  /** One queue (orders, shared by the workers) or one per account (transfers). */
  queues: SignedTx[][];
  /** What was done before the timed part, for the log. */
  setup: string;
}

/**
 * `orders`: every account deposits USDC into the exchange (waited for), then `txs` place_order
 * INVOKEs round robin over the accounts, even accounts bid and odd ones ask at the same price,
 * so every ask fills a resting bid; one shared queue.
 * `transfers`: `txs` STRK transfers of 1 FRI, account i to account i+1, one queue per account.
 */
export async function prepareStarknetLoad(url: string, opts: { mode: StarknetLoadMode; txs: number; accounts: number; log: (s: string) => void }): Promise<StarknetLoad> {
  const cfg = await rpc<Record<string, string>>(url, "devnet_getConfig", {});
  const all = await rpc<Array<{ address: string; private_key: string }>>(url, "devnet_getPredeployedAccounts", {});
  if (all.length < opts.accounts) throw new RangeError(`the node has ${all.length} predeployed accounts, the load needs ${opts.accounts}`);
  const accounts = all.slice(0, opts.accounts);
  const chainId = BigInt(await rpc<string>(url, "starknet_chainId", []));
  const prices = { l1_gas: BigInt(cfg.gas_price_fri!), l1_data_gas: BigInt(cfg.data_gas_price_fri!), l2_gas: BigInt(cfg.l2_gas_price_fri!) };
  const sign = (a: { address: string; private_key: string }, nonce: bigint, calls: Call[]): SignedTx => {
    const raw = unsignedInvokeJson(BigInt(a.address), nonce, calls, prices);
    const h = signInvokeJson(raw, chainId, BigInt(a.private_key));
    return { hash: toHex(h), body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_addInvokeTransaction", params: { invoke_transaction: raw } }) };
  };
  const nonces = (await rpcBatchResults<string>(url, accounts.map((a) => ({ method: "starknet_getNonce", params: { block_id: "latest", contract_address: a.address } })))).map(BigInt);
  const t0 = performance.now();

  if (opts.mode === "transfers") {
    const strk = BigInt(cfg.fee_token_address!);
    const transfer = selectorFromName("transfer");
    const queues: SignedTx[][] = accounts.map(() => []);
    for (let k = 0; k < opts.txs; k++) {
      const i = k % accounts.length;
      const to = BigInt(accounts[(i + 1) % accounts.length]!.address);
      queues[i]!.push(sign(accounts[i]!, nonces[i]!++, [{ to: strk, selector: transfer, calldata: [to, 1n, 0n] }]));
    }
    return { queues, setup: `${opts.txs} STRK transfers from ${accounts.length} accounts signed in ${(performance.now() - t0).toFixed(0)} ms` };
  }

  const BTC = encodeShortString("BTC-USD-PERP");
  const exchange = BigInt(cfg.exchange_address!);
  const usdc = BigInt(cfg.usdc_address!);
  const [mark] = await rpc<string[]>(url, "starknet_call", { request: { contract_address: cfg.oracle_address, entry_point_selector: toHex(selectorFromName("get_market_data")), calldata: [toHex(BTC)] }, block_id: "latest" });
  const mark_e6 = BigInt(mark!);
  if (mark_e6 === 0n) throw new Error("no BTC market data after the devnet's bootstrap");
  const price_e6 = (mark_e6 / 100_000n) * 100_000n; // on the 0.1 USDC tick
  const DEPOSIT_USDC6 = 50_000_000_000n;
  const deposits = accounts.map((a, i) =>
    sign(a, nonces[i]!++, [
      { to: usdc, selector: selectorFromName("approve"), calldata: [exchange, DEPOSIT_USDC6, 0n] },
      { to: exchange, selector: selectorFromName("deposit"), calldata: [DEPOSIT_USDC6] },
    ]),
  );
  for (const d of deposits) {
    const r = (await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: d.body })).json()) as { error?: unknown };
    if (r.error) throw new Error(`deposit refused: ${JSON.stringify(r.error)}`);
  }
  for (const d of deposits) await waitReceipt(url, d.hash);
  const depositMs = performance.now() - t0;
  const queue: SignedTx[] = [];
  for (let k = 0; k < opts.txs; k++) {
    const i = k % accounts.length;
    const order = encodeArgs(exchangeFns.placeOrder.inputs, { market: BTC, side: BigInt(i % 2), order_type: 0n, flags: 0n, price: price_e6, trigger_price: 0n, size: 100_000n });
    queue.push(sign(accounts[i]!, nonces[i]!++, [{ to: exchange, selector: exchangeFns.placeOrder.selector, calldata: order }]));
  }
  return { queues: [queue], setup: `${accounts.length} deposits in ${depositMs.toFixed(0)} ms, ${opts.txs} orders signed` };
}

/**
 * Wait (at most 60 s) until the node's JIT warm-up (GET /ready's `warmup`) is no longer
 * running; a node without one answers at once.
 */
export async function waitForWarmup(baseUrl: string): Promise<{ end: string; waited_ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const body = (await (await fetch(`${baseUrl}/ready`)).json()) as { warmup?: string };
    if (body.warmup !== "running") return { end: body.warmup ?? "none", waited_ms: Math.round(performance.now() - t0) };
    if (performance.now() - t0 > 60_000) throw new Error("the node's warm-up still runs after 60 s");
    await sleep(100);
  }
}

/** Reverted transactions and Trade events in the given blocks (read after the timed part). */
export async function receiptTally(url: string, blocks: Iterable<number>): Promise<{ reverted: number; trades: number; firstRevert?: string }> {
  const tradeKey = toHex(selectorFromName("Trade"));
  let reverted = 0;
  let trades = 0;
  let firstRevert: string | undefined;
  const list = [...blocks].sort((a, b) => a - b);
  for (let i = 0; i < list.length; i += 20) {
    const bs = await rpcBatchResults<{ transactions: Array<{ receipt: { execution_status: string; revert_reason?: string; events: Array<{ keys: string[] }> } }> }>(
      url,
      list.slice(i, i + 20).map((n) => ({ method: "starknet_getBlockWithReceipts", params: { block_id: { block_number: n } } })),
    );
    for (const b of bs)
      for (const t of b.transactions) {
        if (t.receipt.execution_status !== "SUCCEEDED") {
          reverted++;
          firstRevert ??= t.receipt.revert_reason;
        }
        for (const e of t.receipt.events) if (e.keys[0] === tradeKey) trades++;
      }
  }
  return { reverted, trades, ...(firstRevert !== undefined ? { firstRevert } : {}) };
}

/** The node's longest event-loop stall since the previous status read (appchain_getStatus). */
export async function eventLoopMaxMs(url: string): Promise<number | null> {
  const s = await rpc<{ event_loop_max_ms?: number }>(url, "appchain_getStatus", []);
  return s.event_loop_max_ms ?? null;
}

async function waitReceipt(url: string, hash: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    try {
      const r = await rpc<{ execution_status: string; revert_reason?: string }>(url, "starknet_getTransactionReceipt", { transaction_hash: hash });
      if (r.execution_status !== "SUCCEEDED") throw new Error(`${hash} reverted: ${r.revert_reason}`);
      return;
    } catch (e) {
      if (!/hash not found/i.test((e as Error).message)) throw e;
    }
    await sleep(20);
  }
  throw new Error(`${hash} not included`);
}
