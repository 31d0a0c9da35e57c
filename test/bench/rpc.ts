// Benchmark: the devnet end to end over HTTP, the node in its own process (as users run
// it: `npm start` on LevelDB) and this process as the client. 100 accounts deposit USDC,
// then N pre-signed place_order INVOKEs (even accounts bid, odd accounts ask at the same
// price, alternating, so every ask fills a resting bid) are sent with C requests in
// flight. Signing happens before the timed part; nonces are pre-assigned. Inclusion is
// observed by polling new blocks every 10 ms (so latencies carry up to 10 ms of polling).
//
// Flags: --txs N (5000)  --concurrency C (32)  --accounts A (100)
//        --in-process (node in this process, with its block listener and --profile; see rpc-inprocess.ts)
//        --url URL (use a node that is already running, e.g. one started with --cpu-prof; it needs
//        --accounts ≥ A and a fresh chain)
// Progress on stderr; last stdout line: one JSON object.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { parseBroadcastedTxn } from "../../sequencer/rpc/params.js";
import { intake, unsignedInvokeJson, type Call } from "../../sequencer/tx-intake.js";
import { hashBackend, selectorFromName } from "../../state/crypto/hash.js";
import { encodeShortString, toHex } from "../../state/felt.js";
import { killAllChildren, rpc, spawnNode, stopGracefully } from "../crash/child-node.js";
import { cryptoRates, useFastestBackend } from "./bench-backend.js";
import { intArg } from "./bench-args.js";

if (process.argv.includes("--in-process")) {
  await import("./rpc-inprocess.js");
} else {
  await main().catch(async (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    await killAllChildren();
    process.exit(1);
  });
}



async function main(): Promise<void> {
  const TXS = intArg("txs", 5000);
  const CONCURRENCY = intArg("concurrency", 32);
  const ACCOUNTS = intArg("accounts", 100);
  const log = (s: string) => process.stderr.write(s + "\n");
  log(await useFastestBackend());
  const BTC = encodeShortString("BTC-USD-PERP");
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-rpc-"));
  const urlArg = process.argv.indexOf("--url");
  const child = urlArg >= 0 ? null : await spawnNode({ dbPath: dir, seed: 11, accounts: ACCOUNTS, timeout_ms: 60_000 });
  const url = child?.rpcUrl ?? process.argv[urlArg + 1]!;
  let peakRssKb = 0;
  const rssTimer = setInterval(() => (peakRssKb = Math.max(peakRssKb, child ? groupRssKb(child.proc.pid!) : 0)), 100);
  try {
    const cfg = await rpc<Record<string, string>>(url, "devnet_getConfig", {});
    const accounts = (await rpc<Array<{ address: string; private_key: string }>>(url, "devnet_getPredeployedAccounts", {})).slice(0, ACCOUNTS);
    const chainId = BigInt(await rpc<string>(url, "starknet_chainId", []));
    const prices = { l1_gas: BigInt(cfg.gas_price_fri!), l1_data_gas: BigInt(cfg.data_gas_price_fri!), l2_gas: BigInt(cfg.l2_gas_price_fri!) };
    const exchange = BigInt(cfg.exchange_address!);
    const usdc = BigInt(cfg.usdc_address!);
    const [mark] = await rpc<string[]>(url, "starknet_call", { request: { contract_address: cfg.oracle_address, entry_point_selector: toHex(selectorFromName("get_market_data")), calldata: [toHex(BTC)] }, block_id: "latest" });
    const mark_e6 = BigInt(mark!);
    if (mark_e6 === 0n) throw new Error("no BTC market data after the devnet's bootstrap");
    const price_e6 = (mark_e6 / 100_000n) * 100_000n; // on the 0.1 USDC tick
    const sign = (a: { address: string; private_key: string }, nonce: bigint, calls: Call[]) => {
      const raw = unsignedInvokeJson(BigInt(a.address), nonce, calls, prices);
      const h = intake(parseBroadcastedTxn(raw, "bench"), chainId).hash;
      const sig = hashBackend().ecdsaSign(h, BigInt(a.private_key));
      raw.signature = [toHex(sig.r), toHex(sig.s)];
      return { hash: toHex(h), body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_addInvokeTransaction", params: { invoke_transaction: raw } }) };
    };
    const post = async (body: string) => (await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };

    // ── set-up (not timed): a deposit for every account ──
    const t0 = performance.now();
    const nonces = await Promise.all(accounts.map((a) => rpc<string>(url, "starknet_getNonce", { block_id: "latest", contract_address: a.address }).then(BigInt)));
    const DEPOSIT = 50_000_000_000n;
    const deposits = accounts.map((a, i) =>
      sign(a, nonces[i]!, [
        { to: usdc, selector: selectorFromName("approve"), calldata: [exchange, DEPOSIT, 0n] },
        { to: exchange, selector: selectorFromName("deposit"), calldata: [DEPOSIT] },
      ]),
    );
    for (const d of deposits) {
      const r = await post(d.body);
      if (r.error) throw new Error(`deposit refused: ${JSON.stringify(r.error)}`);
    }
    for (const d of deposits) await waitReceipt(url, d.hash);
    log(`${ACCOUNTS} deposits in ${(performance.now() - t0).toFixed(0)} ms`);

    // ── pre-sign (not timed) ──
    const next = nonces.map((n) => n + 1n);
    const txs: Array<{ hash: string; body: string }> = [];
    for (let k = 0; k < TXS; k++) {
      const i = k % ACCOUNTS;
      const order = encodeArgs(exchangeFns.placeOrder.inputs, { market: BTC, side: BigInt(i % 2), order_type: 0n, flags: 0n, price: price_e6, trigger_price: 0n, size: 100_000n });
      txs.push(sign(accounts[i]!, next[i]!++, [{ to: exchange, selector: exchangeFns.placeOrder.selector, calldata: order }]));
    }
    const headBefore = await rpc<number>(url, "starknet_blockNumber", []);

    // ── timed: submit with C in flight, poll blocks for inclusion ──
    const submittedAt = new Map<string, number>();
    const includedAt = new Map<string, number>();
    const ourBlocks = new Set<number>();
    let polling = true;
    let seen = headBefore;
    const poller = (async () => {
      while (polling) {
        const head = await rpc<number>(url, "starknet_blockNumber", []);
        for (let n = seen + 1; n <= head; n++) {
          const b = await rpc<{ transactions: string[] }>(url, "starknet_getBlockWithTxHashes", { block_id: { block_number: n } });
          const now = performance.now();
          for (const h of b.transactions)
            if (submittedAt.has(h) && !includedAt.has(h)) {
              includedAt.set(h, now);
              ourBlocks.add(n);
            }
        }
        seen = head;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const start = performance.now();
    let cursor = 0;
    let refused = 0;
    let firstError: string | undefined;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < TXS) {
          const t = txs[cursor++]!;
          submittedAt.set(t.hash, performance.now());
          const r = await post(t.body);
          if (r.error) {
            refused++;
            submittedAt.delete(t.hash);
            firstError ??= JSON.stringify(r.error);
          }
        }
      }),
    );
    const submitEnd = performance.now();
    const deadline = submitEnd + 300_000;
    while (includedAt.size < submittedAt.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    polling = false;
    await poller;
    if (refused > 0) log(`${refused} refused, first: ${firstError}`);
    const lastInclusion = Math.max(...includedAt.values());
    const latencies = [...includedAt].map(([h, t]) => t - submittedAt.get(h)!).sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;

    // ── after (not timed): reverts and trades from the receipts ──
    let reverted = 0;
    let trades = 0;
    const tradeKey = toHex(selectorFromName("Trade"));
    for (const n of ourBlocks) {
      const b = await rpc<{ transactions: Array<{ receipt: { execution_status: string; events: Array<{ keys: string[] }> } }> }>(url, "starknet_getBlockWithReceipts", { block_id: { block_number: n } });
      for (const t of b.transactions) {
        if (t.receipt.execution_status !== "SUCCEEDED") reverted++;
        for (const e of t.receipt.events) if (e.keys[0] === tradeKey) trades++;
      }
    }
    const crypto = cryptoRates(hashBackend());
    const round = (x: number) => Math.round(x * 10) / 10;
    const included = includedAt.size;
    log(`included ${included} txs in ${ourBlocks.size} blocks, ${trades} trades, ${reverted} reverted`);
    process.stdout.write(
      JSON.stringify({
        bench: "rpc",
        mode: "node in its own process (LevelDB), client here",
        backend: hashBackend().name,
        txs: TXS,
        concurrency: CONCURRENCY,
        accounts: ACCOUNTS,
        refused,
        included,
        reverted,
        trades,
        submitted_tx_per_s: round((TXS - refused) / ((submitEnd - start) / 1000)),
        included_tx_per_s: round(included / ((lastInclusion - start) / 1000)),
        p50_ms: round(pct(0.5)),
        p99_ms: round(pct(0.99)),
        blocks: ourBlocks.size,
        avg_txs_per_block: round(included / Math.max(1, ourBlocks.size)),
        peak_rss_mb: round(peakRssKb / 1024),
        ecdsa_verify_per_s: crypto.ecdsa_verify_per_s,
        pedersen_per_s: crypto.pedersen_per_s,
        machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
      }) + "\n",
    );
  } finally {
    clearInterval(rssTimer);
    if (child) await stopGracefully(child).catch(() => killAllChildren());
    rmSync(dir, { recursive: true, force: true });
  }
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
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${hash} not included`);
}

/** Peak resident memory (VmHWM) over the processes of a process group (tsx wrapper + node). */
function groupRssKb(pgid: number): number {
  let max = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) max = Math.max(max, Number(m[1]));
    } catch {
      // process gone
    }
  }
  return max;
}

