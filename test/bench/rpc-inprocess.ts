// Benchmark: the devnet end to end over HTTP. 100 accounts (LevelDB in a temp dir) deposit
// USDC into the exchange, market data is set (the devnet's genesis bootstrap), then N
// pre-signed place_order INVOKEs (half the accounts bid, half ask at the same price,
// alternating, so every ask fills a resting bid) are sent as starknet_addInvokeTransaction
// with C requests in flight. Signing happens before the timed part; nonces are pre-assigned.
// Inclusion is observed with the node's block listener at commit time (same process).
//
// Flags: --txs N (5000)  --concurrency C (32)  --accounts A (100)  --profile (CPU profile of
// the timed part; top self-time functions to stderr). Progress on stderr; last stdout line:
// one JSON object.

import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { startDevnet } from "../../sequencer/devnet.js";
import { rawHashBackend } from "../../sequencer/verify-cache.js";
import { signInvokeJson, unsignedInvokeJson } from "../../sequencer/tx-intake.js";
import { hashBackend, selectorFromName } from "../../state/crypto/hash.js";
import { encodeShortString, toHex } from "../../state/felt.js";
import { cryptoRates, useFastestBackend } from "./bench-backend.js";
import { formatRows, topSelfTime, type CpuProfile } from "./cpu-profile.js";
import { intArg } from "./bench-args.js";

const arg = intArg;
const TXS = arg("txs", 5000);
const CONCURRENCY = arg("concurrency", 32);
const ACCOUNTS = arg("accounts", 100);
const PROFILE = process.argv.includes("--profile");
/** --block-ms M: interval block production every M ms instead of one block as soon as txs are ready. */
const BLOCK_MS = process.argv.includes("--block-ms") ? arg("block-ms", 1000) : undefined;
const log = (s: string) => process.stderr.write(s + "\n");

const BTC = encodeShortString("BTC-USD-PERP");
const SIZE_E8 = 100_000n; // 0.001 BTC
const DEPOSIT_USDC6 = 50_000_000_000n; // 50,000 USDC each

async function main(): Promise<void> {
  log(await useFastestBackend());
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-rpc-"));
  const devnet = await startDevnet({ dbPath: dir, seed: 11, accounts: ACCOUNTS, port: 0, triggerEngine: false, ...(BLOCK_MS !== undefined ? { blockGeneration: { mode: "interval" as const, seconds: BLOCK_MS / 1000 } } : {}) });
  const node = devnet.node;
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const exchange = BigInt(devnet.contracts.PerpExchange!.address);
    const usdc = BigInt(devnet.contracts.USDC!.address);
    const oracle = BigInt(devnet.contracts.Oracle!.address);
    let mark_e6 = 0n;
    // in interval mode the genesis market data lands with the first interval block
    for (let tries = 0; tries < 200 && mark_e6 === 0n; tries++) {
      mark_e6 = node.callView(oracle, selectorFromName("get_market_data"), [BTC])[0]!;
      if (mark_e6 === 0n) await new Promise((r) => setTimeout(r, 50));
    }
    if (mark_e6 === 0n) throw new Error("no BTC market data after the devnet's bootstrap");
    const price_e6 = (mark_e6 / 100_000n) * 100_000n; // on the 0.1 USDC tick
    log(`BTC mark ${mark_e6}, orders at ${price_e6}`);

    // ── set-up (not timed): deposits for every account ──
    const t0 = performance.now();
    const deposits = await Promise.all(
      devnet.accounts.map((a) =>
        node.submitSignedInvoke(BigInt(a.address), BigInt(a.private_key), [
          { to: usdc, selector: selectorFromName("approve"), calldata: [exchange, DEPOSIT_USDC6, 0n] },
          { to: exchange, selector: selectorFromName("deposit"), calldata: [DEPOSIT_USDC6] },
        ]),
      ),
    );
    const depReceipts = await Promise.all(deposits.map((h) => node.waitForTx(h, 120_000)));
    const failed = depReceipts.filter((r) => r.receipt.execution_status !== "SUCCEEDED");
    if (failed.length > 0) throw new Error(`${failed.length} deposits reverted: ${String(failed[0]!.receipt.revert_reason)}`);
    log(`${ACCOUNTS} deposits in ${(performance.now() - t0).toFixed(0)} ms`);

    // ── pre-sign (not timed) ──
    const t1 = performance.now();
    const nextNonce = devnet.accounts.map((a) => node.world.getNonce(BigInt(a.address)));
    const bodies: string[] = [];
    const hashes: string[] = [];
    for (let k = 0; k < TXS; k++) {
      const i = k % ACCOUNTS;
      const a = devnet.accounts[i]!;
      const side = i % 2 === 0 ? 0n : 1n; // even accounts bid, odd accounts ask, alternating
      const nonce = nextNonce[i]!;
      nextNonce[i] = nonce + 1n;
      const order = encodeArgs(exchangeFns.placeOrder.inputs, { market: BTC, side, order_type: 0n, flags: 0n, price: price_e6, trigger_price: 0n, size: SIZE_E8 });
      const raw = unsignedInvokeJson(BigInt(a.address), nonce, [{ to: exchange, selector: exchangeFns.placeOrder.selector, calldata: order }], node.gasPrices);
      const h = signInvokeJson(raw, node.chainId, BigInt(a.private_key));
      hashes.push(toHex(h));
      bodies.push(JSON.stringify({ jsonrpc: "2.0", id: k, method: "starknet_addInvokeTransaction", params: { invoke_transaction: raw } }));
    }
    log(`${TXS} txs signed in ${(performance.now() - t1).toFixed(0)} ms`);

    // ── timed part ──
    const submittedAt = new Map<string, number>();
    const latencies: number[] = [];
    let included = 0;
    let reverted = 0;
    let trades = 0;
    let blocks = 0;
    let lastInclusion = 0;
    const tradeKey = toHex(selectorFromName("Trade"));
    const wanted = new Set(hashes);
    let resolveAll: () => void = () => {};
    const allIncluded = new Promise<void>((r) => (resolveAll = r));
    let firstRevert: string | undefined;
    const unsubscribe = node.onBlock(({ txs }) => {
      const now = performance.now();
      let mine = 0;
      for (const t of txs) {
        const h = t.transaction.transaction_hash;
        if (!wanted.has(h)) continue;
        mine++;
        included++;
        latencies.push(now - (submittedAt.get(h) ?? now));
        if (t.receipt.execution_status !== "SUCCEEDED") {
          reverted++;
          firstRevert ??= String(t.receipt.revert_reason);
        }
        for (const e of t.receipt.events) if (e.keys[0] === tradeKey) trades++;
      }
      if (mine > 0) {
        blocks++;
        lastInclusion = now;
      }
      if (included === TXS) resolveAll();
    });

    const session = PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 500 });
      await session.post("Profiler.start");
    }
    const start = performance.now();
    let next = 0;
    let errors = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < TXS) {
        const k = next++;
        submittedAt.set(hashes[k]!, performance.now());
        const res = await fetch(devnet.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: bodies[k] });
        const body = (await res.json()) as { error?: { code: number; message: string; data?: unknown } };
        if (body.error) {
          errors++;
          wanted.delete(hashes[k]!);
          firstError ??= `${body.error.code} ${body.error.message} ${JSON.stringify(body.error.data)}`;
        }
        if (k % 1000 === 999) log(`submitted ${k + 1}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const submitEnd = performance.now();
    if (errors > 0) log(`${errors} submissions refused, first: ${firstError}`);
    const target = TXS - errors;
    if (included < target) {
      await Promise.race([
        allIncluded,
        new Promise<void>((r) => {
          const check = setInterval(() => {
            if (included >= target) {
              clearInterval(check);
              r();
            }
          }, 20);
        }),
        new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${included}/${target} included after 300 s`)), 300_000).unref()),
      ]);
    }
    unsubscribe();
    let profileTop: Array<{ fn: string; self_ms: number; pct: number }> = [];
    if (session) {
      const { profile } = await session.post("Profiler.stop");
      profileTop = topSelfTime(profile as unknown as CpuProfile, 25).rows;
      session.disconnect();
      log(formatRows(profileTop));
    }
    const submitS = (submitEnd - start) / 1000;
    const inclS = (lastInclusion - start) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    if (reverted > 0) log(`${reverted} reverted, first: ${firstRevert}`);
    log(`included ${included} txs in ${blocks} blocks, ${trades} trades`);

    // beneath the node's verification memo, which would answer repeated inputs from memory
    const crypto = cryptoRates(rawHashBackend());
    const out = {
      bench: "rpc",
      backend: hashBackend().name,
      txs: TXS,
      concurrency: CONCURRENCY,
      block_generation: BLOCK_MS === undefined ? "transaction" : `interval ${BLOCK_MS} ms`,
      accounts: ACCOUNTS,
      refused: errors,
      included,
      reverted,
      trades,
      submitted_tx_per_s: round(target / submitS),
      included_tx_per_s: round(included / inclS),
      p50_ms: round(pct(0.5)),
      p99_ms: round(pct(0.99)),
      blocks,
      avg_txs_per_block: round(included / Math.max(1, blocks)),
      peak_rss_mb: round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20),
      ecdsa_verify_per_s: crypto.ecdsa_verify_per_s,
      pedersen_per_s: crypto.pedersen_per_s,
      ...(PROFILE ? { profile_top: profileTop.slice(0, 12) } : {}),
    };
    process.stdout.write(JSON.stringify(out) + "\n");
  } finally {
    clearInterval(rssTimer);
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}



function round(x: number): number {
  return Math.round(x * 10) / 10;
}

main().catch((e) => {
  process.stderr.write(`bench rpc failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
