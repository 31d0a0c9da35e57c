// Benchmark: the perp exchange in-process on the contract runtime (no signatures, no
// RPC, no account/fee layer): place_order calls straight into the exchange contract,
// grouped in blocks; each block's state diff is committed with state/world-state.ts
// (Patricia tries, in-memory KV store) and timed separately.
// Flags: --orders N (default 3000), --block B orders per block (default 100), --traders T.
// Last stdout line: one JSON object. Progress goes to stderr.

import { cpus } from "node:os";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { EMPTY_TX_INFO, encodeArgs, ExecutionEngine, GasMeter, JournaledState } from "../../contracts/runtime/index.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { hashBackend } from "../../state/crypto/hash.js";
import { MemoryKvStore } from "../../state/kv-store.js";
import { WorldState } from "../../state/world-state.js";
import { BTC, deployPerp } from "../unit/perp-contract-helpers.js";
import { useFastestBackend } from "./bench-backend.js";
import { seededRandom } from "../support/seeded-random.js";
import { intArg } from "./bench-args.js";

const arg = intArg;
const ORDERS = arg("orders", 3000);
const BLOCK = arg("block", 100);
const TRADERS = arg("traders", 50);

/** Deterministic uniform [0, 1) stream (mulberry32, shared with the tests). */
const prng = (seed: number) => seededRandom(seed).next;

async function main() {
  process.stderr.write(`${await useFastestBackend()}\n`);
  const rnd = prng(7);
  const int = (n: number) => Math.floor(rnd() * n);

  // Genesis: tokens, oracle, exchange, funded traders — then committed as block 0.
  const p = deployPerp();
  p.setMarket(BTC, 100_000_000_000n);
  const traders = Array.from({ length: TRADERS }, (_, i) => 0x7000n + BigInt(i));
  for (const t of traders) p.fund(t, 10_000_000_000_000n);
  const ws = await WorldState.open(new MemoryKvStore());
  const g0 = performance.now();
  await ws.commit(await ws.prepareCommit(0, p.state.toStateDiff()), { blockHash: 1n });
  process.stderr.write(`genesis committed in ${(performance.now() - g0).toFixed(0)} ms\n`);

  const tradeKey = selectorFromName("Trade");
  const env = { block: { blockNumber: 1n, blockTimestamp: 1_700_000_000n, sequencerAddress: 0x5e9n }, tx: EMPTY_TX_INFO };
  const mkOrder = () => {
    const market = rnd() < 0.6;
    const side = BigInt(int(2));
    const ticks = BigInt(int(41) - 20);
    return encodeArgs(exchangeFns.placeOrder.inputs, {
      market: BTC,
      side,
      order_type: market ? 1n : 0n,
      flags: 0n,
      price: market ? 0n : 100_000_000_000n + ticks * 100_000n,
      trigger_price: 0n,
      size: BigInt(1 + int(10)) * 10_000n,
    });
  };

  let execMs = 0;
  let commitMs = 0;
  let fills = 0;
  let slots = 0;
  let reverted = 0;
  let orders = 0;
  let gas = 0n;
  for (let b = 1; orders < ORDERS; b++) {
    const state = new JournaledState(ws);
    const meter = new GasMeter(10n ** 18n);
    const engine = new ExecutionEngine(state, p.registry, env, meter);
    const n = Math.min(BLOCK, ORDERS - orders);
    const calls = Array.from({ length: n }, () => ({ caller: traders[int(TRADERS)]!, calldata: mkOrder() }));
    const t0 = performance.now();
    for (const c of calls) {
      try {
        engine.call({ to: p.exchange, selector: exchangeFns.placeOrder.selector, calldata: c.calldata, caller: c.caller });
      } catch {
        reverted++;
      }
    }
    execMs += performance.now() - t0;
    gas += meter.used;
    orders += n;
    fills += state.events.filter((e) => e.keys[0] === tradeKey).length;
    const diff = state.toStateDiff();
    for (const m of diff.storage.values()) slots += m.size;
    const c0 = performance.now();
    await ws.commit(await ws.prepareCommit(b, diff), { blockHash: BigInt(b + 1) });
    commitMs += performance.now() - c0;
    if (b % 5 === 0) process.stderr.write(`block ${b}: ${orders}/${ORDERS} orders\n`);
  }

  // Per-order storage writes without in-block deduplication: 200 orders, one diff each.
  let perOrderSlots = 0;
  const sample = 200;
  for (let i = 0; i < sample; i++) {
    const state = new JournaledState(ws);
    const engine = new ExecutionEngine(state, p.registry, env, new GasMeter(10n ** 18n));
    try {
      engine.call({ to: p.exchange, selector: exchangeFns.placeOrder.selector, calldata: mkOrder(), caller: traders[int(TRADERS)]! });
    } catch {
      /* counted above */
    }
    for (const m of state.toStateDiff().storage.values()) perOrderSlots += m.size;
  }

  const result = {
    bench: "exchange",
    backend: hashBackend().name,
    orders,
    block_orders: BLOCK,
    traders: TRADERS,
    reverted,
    orders_per_s: Math.round(orders / (execMs / 1000)),
    fills_per_s: Math.round(fills / (execMs / 1000)),
    fills,
    exec_ms_per_order: Number((execMs / orders).toFixed(4)),
    storage_writes_per_order: Number((perOrderSlots / sample).toFixed(2)),
    storage_slots_per_order_in_block: Number((slots / orders).toFixed(2)),
    l2_gas_per_order: Number(gas / BigInt(orders)),
    commit_ms_per_order: Number((commitMs / orders).toFixed(3)),
    commit_ms_per_block: Number((commitMs / Math.ceil(orders / BLOCK)).toFixed(1)),
    machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
