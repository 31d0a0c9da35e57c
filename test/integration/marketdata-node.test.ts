// Guarded market data in a real node: the adversarial corpus pushed over
// appchain_pushMarketData is refused with nothing written, and the January incident's
// restart race (a freshly restarted writer pushing zero funding indices) changes nothing:
// no oracle write, positions and margins untouched, no liquidation.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { erc20 } from "../../contracts/erc20.js";
import { EXCHANGE_ADDRESS } from "../../contracts/exchange-genesis.js";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { OrderType, Side } from "../../contracts/perp/types.js";
import { decodeValue, encodeArgs } from "../../contracts/runtime/index.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { MarketDataService } from "../../sequencer/marketdata-service.js";
import { unpack } from "msgpackr";
import { Column, key } from "../../state/columns.js";
import { encodeShortString, toHex } from "../../state/felt.js";

const T0_S = 1_769_000_000;
const BTC = encodeShortString("BTC-USD-PERP");
const dirs: string[] = [];
const running: Devnet[] = [];
afterAll(async () => {
  for (const d of running) await d.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function rpc(d: Devnet, method: string, params: unknown) {
  const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as { result?: any; error?: { code: number; message: string; data?: unknown } };
}

async function invoke(d: Devnet, i: number, calls: Array<{ to: bigint; selector: bigint; calldata: bigint[] }>) {
  const a = d.accounts[i]!;
  const h = await d.node.submitSignedInvoke(BigInt(a.address), BigInt(a.private_key), calls);
  const t = await d.node.waitForTx(h);
  expect(t.receipt.execution_status, String(t.receipt.revert_reason)).toBe("SUCCEEDED");
}

/** Two traders: 0 long 0.5 BTC, 1 short 0.5 BTC at 97,000, 5,000 USDC collateral each. */
async function openPositions(d: Devnet) {
  const usdc = BigInt(d.contracts.USDC!.address);
  for (const i of [0, 1]) {
    await invoke(d, i, [
      { to: usdc, selector: erc20.approve.selector, calldata: encodeArgs(erc20.approve.inputs, { spender: EXCHANGE_ADDRESS, amount: 5_000_000_000n }) },
      { to: EXCHANGE_ADDRESS, selector: exchangeFns.deposit.selector, calldata: encodeArgs(exchangeFns.deposit.inputs, { amount: 5_000_000_000n }) },
    ]);
  }
  const order = (side: number, type: number) =>
    encodeArgs(exchangeFns.placeOrder.inputs, { market: BTC, side: BigInt(side), order_type: BigInt(type), flags: 0n, price: 97_000_000_000n, trigger_price: 0n, size: 50_000_000n });
  await invoke(d, 0, [{ to: EXCHANGE_ADDRESS, selector: exchangeFns.placeOrder.selector, calldata: order(Side.BUY, OrderType.LIMIT) }]);
  await invoke(d, 1, [{ to: EXCHANGE_ADDRESS, selector: exchangeFns.placeOrder.selector, calldata: order(Side.SELL, OrderType.LIMIT) }]);
}

function accountView(d: Devnet, i: number) {
  const out = d.node.callView(EXCHANGE_ADDRESS, exchangeFns.getAccount.selector, encodeArgs(exchangeFns.getAccount.inputs, { account: BigInt(d.accounts[i]!.address) }));
  return decodeValue(exchangeFns.getAccount.output!, out);
}

function positionView(d: Devnet, i: number) {
  const out = d.node.callView(EXCHANGE_ADDRESS, exchangeFns.getPosition.selector, encodeArgs(exchangeFns.getPosition.inputs, { account: BigInt(d.accounts[i]!.address), market: BTC }));
  return decodeValue(exchangeFns.getPosition.output!, out);
}

describe("guarded market data in a node", () => {
  it("refuses the adversarial corpus over appchain_pushMarketData and writes nothing", async () => {
    let clock_s = T0_S - 10;
    const d = await startDevnet({ inMemory: true, seed: 11, accounts: 2, port: 0, clock: () => clock_s * 1000, triggerEngine: false });
    running.push(d);
    clock_s = T0_S;
    const lines = readFileSync(new URL("../vectors/marketdata/adversarial.jsonl", import.meta.url), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { name: string; expect: string; push: Record<string, unknown>; setup?: Record<string, unknown> });
    // The corpus is written for epoch 3 and clock 1769000000; rebase epochs to this node's.
    const rebase = (p: Record<string, unknown>) => (typeof p.epoch === "number" ? { ...p, epoch: p.epoch - 3 + d.node.epoch } : p);
    let checked = 0;
    let seq = 1_000_000;
    for (const line of lines) {
      // Situations the RPC cannot create (lifecycle, unreadable baseline) are covered by the unit tests.
      if (line.setup && (line.setup.lifecycle !== undefined || line.setup.baseline !== undefined || line.setup.epoch !== undefined)) continue;
      for (const prior of (line.setup?.prior as Array<Record<string, unknown>> | undefined) ?? []) {
        await rpc(d, "appchain_pushMarketData", { update: { ...rebase(prior), sequence: seq++ } });
      }
      while (d.node.mempool.size > 0) await new Promise((r) => setTimeout(r, 5));
      const txsBefore = d.node.stats.txsIncluded;
      const rootBefore = d.node.world.head()!.roots.globalRoot;
      const res = await rpc(d, "appchain_pushMarketData", { update: rebase(line.push) });
      const refused = res.error !== undefined || res.result?.accepted === false;
      expect(refused, `${line.name}: ${JSON.stringify(res)}`).toBe(true);
      expect(d.node.mempool.size, line.name).toBe(0);
      expect(d.node.stats.txsIncluded, line.name).toBe(txsBefore);
      expect(d.node.world.head()!.roots.globalRoot, line.name).toBe(rootBefore);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    // the same push works by position and with the update object as the params themselves
    const bad = rebase(lines[0]!.push);
    for (const params of [[bad], bad]) {
      const res = await rpc(d, "appchain_pushMarketData", params);
      expect(res.error !== undefined || res.result?.accepted === false, JSON.stringify(res)).toBe(true);
    }
    const good = { market: "ETH-USD-PERP", source: "feed-z", mark_price: "3400.00", index_price: "3400.00", funding_rate: "0.00001", funding_index: "87.25", timestamp: clock_s, epoch: d.node.epoch, sequence: 1 };
    const accepted = await rpc(d, "appchain_pushMarketData", good);
    expect(accepted.result).toMatchObject({ accepted: true });
    const status = await rpc(d, "appchain_getMarketDataStatus", {});
    expect(status.result.oracle_address).toBe(toHex(BigInt(d.contracts.Oracle!.address)));
    const metrics = await (await fetch(d.rpcUrl.replace("/rpc", "/metrics"))).text();
    expect(metrics).toMatch(/perpchain_marketdata_rejections_total\{market="BTC-USD-PERP",reason="[a-z_]+"\} \d+/);
  });

  it("the trigger engine's watch list and cursor are written in each block's own batch", async () => {
    const d = await startDevnet({ seed: 12, accounts: 2, port: 0, inMemory: true });
    running.push(d);
    const cursorKey = key(Column.meta, Buffer.from("trigger:cursor"));
    const cursor = async () => Number(Buffer.from((await d.node.store.get(cursorKey))!).readBigUInt64BE(0));
    const store = d.node.store;
    const batch = store.batch.bind(store);
    const batches: number[] = [];
    store.batch = (ops) => {
      batches.push(ops.length);
      return batch(ops);
    };
    for (let i = 0; i < 3; i++) {
      batches.length = 0;
      const b = await d.node.createBlock();
      await new Promise((r) => setTimeout(r, 10)); // a separate write (the old way) would land by now
      expect(batches).toHaveLength(1); // the block's own batch and nothing else
      expect(await cursor()).toBe(b.header.block_number);
    }
  });

  it("keeps refused updates in a bounded ring on disk, however many a feed pushes", async () => {
    const d = await startDevnet({ seed: 12, accounts: 1, port: 0, inMemory: true });
    running.push(d);
    const slots = 8;
    const service = new MarketDataService(d.node, { quarantineSlots: slots });
    const pushes = slots + 25;
    for (let i = 0; i < pushes; i++) await expect(service.push({ update: { market: "BTC-USD-PERP", mark_price: "x" + i } })).rejects.toThrow();
    await d.node.store.batch([]); // the quarantine writes are queued before this one
    const records: Array<{ seq: number }> = [];
    for await (const [, v] of d.node.store.iterator({ gte: key(Column.quarantine), lt: key((Column.quarantine + 1) as typeof Column.quarantine) })) records.push(unpack(v) as { seq: number });
    expect(records).toHaveLength(slots);
    // The newest overwrote the oldest.
    expect(Math.max(...records.map((r) => r.seq))).toBe(pushes - 1);
    expect(Math.min(...records.map((r) => r.seq))).toBe(25);
  });

  it("the restart race: zero funding indices pushed right after a restart change nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-race-"));
    dirs.push(dir);
    let clock_s = T0_S;
    let d = await startDevnet({ dbPath: dir, seed: 12, accounts: 2, port: 0, clock: () => clock_s * 1000 });
    running.push(d);
    await openPositions(d);
    const before = { long: accountView(d, 0), short: accountView(d, 1), pos: positionView(d, 0), oracle: d.marketData.onchain("BTC-USD-PERP") };
    expect(before.pos.size).toBe(50_000_000n);
    await d.stop();

    // Restart (new epoch); the feed immediately replays what a racing writer would send.
    clock_s += 5;
    d = await startDevnet({ dbPath: dir, seed: 12, accounts: 2, port: 0, clock: () => clock_s * 1000 });
    running.push(d);
    expect(d.node.epoch).toBe(2);
    // the restarted trigger engine still watches the accounts that deposited before the restart
    expect(d.triggers.watched().map((a) => toHex(a)).sort()).toEqual([0, 1].map((i) => toHex(BigInt(d.accounts[i]!.address))).sort());
    // ...read from its persisted watch list, not by replaying the chain
    expect(d.triggers.replayedBlocks).toBe(0);
    const race = { market: "BTC-USD-PERP", source: "feed-a", mark_price: "97000.00", index_price: "97000.00", funding_rate: "0", funding_index: "0", timestamp: clock_s, epoch: d.node.epoch, sequence: 1 };
    const r1 = await rpc(d, "appchain_pushMarketData", { update: race });
    expect(r1.result).toMatchObject({ accepted: false, reason: "funding_index_reset" });
    // an old process's update (previous epoch) is fenced off too
    const r2 = await rpc(d, "appchain_pushMarketData", { update: { ...race, epoch: 1, funding_index: "1523.774", sequence: 2 } });
    expect(r2.result).toMatchObject({ accepted: false, reason: "stale_epoch" });
    await new Promise((r) => setTimeout(r, 20));
    expect(d.node.mempool.size).toBe(0);
    expect(d.marketData.onchain("BTC-USD-PERP")).toEqual(before.oracle);
    expect(accountView(d, 0)).toEqual(before.long);
    expect(accountView(d, 1)).toEqual(before.short);
    expect(positionView(d, 0)).toEqual(before.pos);
    expect(d.triggers.stats.liquidationsSubmitted).toBe(0);
  });
});
