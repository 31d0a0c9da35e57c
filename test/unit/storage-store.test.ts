// The exchange's storage-backed store reads back every record it writes, field for field, with
// a distinct value in each field (so two fields swapped, or a field read from its neighbour's
// slot, would show), and writes only felts whose value changes.

import { describe, expect, it } from "vitest";
import { StorageStore } from "../../contracts/perp/storage-store.js";
import type { Globals, MarketConfig, Order, Position } from "../../contracts/perp/types.js";
import type { Felt } from "../../state/felt.js";

function memoryIO() {
  const slots = new Map<Felt, Felt>();
  let writes = 0;
  return {
    slots,
    writes: () => writes,
    readRaw: (k: Felt) => slots.get(k) ?? 0n,
    writeRaw: (k: Felt, v: Felt) => {
      writes++;
      slots.set(k, v);
    },
  };
}

describe("StorageStore", () => {
  it("reads back a market, globals, an order and a position field for field", () => {
    const io = memoryIO();
    const store = new StorageStore(io, () => {});
    const market: MarketConfig = {
      id: 3,
      name: 0x4254432d5553442d50455250n,
      tick_size_e6: 11n,
      lot_size_e8: 12n,
      initial_margin_ppm: 13n,
      maintenance_margin_ppm: 14n,
      liquidation_fee_ppm: 15n,
      max_leverage: 16n,
      maker_fee_ppm: 17n,
      taker_fee_ppm: 18n,
      max_funding_rate_e12: 19n,
      funding_period_s: 20n,
    };
    store.putMarket(market);
    const globals: Globals = {
      admin: 0xa1n,
      operator: 0xa2n,
      paused: true,
      post_only: false,
      market_count: 7,
      band_ppm: 25_000n,
      next_order_id: 42n,
      fee_balance_usdc6: -5n,
      funding_pool_usdc6: 6n,
      total_deposits_usdc6: 7n,
      total_withdrawals_usdc6: 8n,
      total_payouts_usdc6: 9n,
    };
    store.putGlobals(globals);
    const order: Order = {
      id: 42n,
      owner: 0xbeefn,
      market: 3,
      side: 1,
      type: 2,
      flags: 3,
      status: 2,
      price_e6: 101n,
      trigger_price_e6: 102n,
      size_e8: 103n,
      remaining_e8: 104n,
      prev: 105n,
      next: 106n,
      acct_prev: 107n,
      acct_next: 108n,
    };
    store.putOrder(order);
    const position: Position = { size_e8: -201n, cost_usdc6: 202n, realized_pnl_usdc6: -203n, funding_index_e6: 204n, open_buy_e8: 205n, open_sell_e8: 206n };
    store.putPosition(0xbeefn, 3, position);

    // A fresh store over the same slots: nothing comes from the first one's cache.
    const again = new StorageStore(io, () => {});
    expect(again.getMarket(3)).toEqual(market);
    expect(Object.keys(again.getMarket(3)!)).toEqual(Object.keys(market));
    expect(again.getMarket(4)).toBeUndefined();
    expect(again.getGlobals()).toEqual(globals);
    expect(again.getOrder(42n)).toEqual(order);
    expect(again.getPosition(0xbeefn, 3)).toEqual(position);
    expect(again.getPosition(0xbeefn, 4)).toEqual({ size_e8: 0n, cost_usdc6: 0n, realized_pnl_usdc6: 0n, funding_index_e6: 0n, open_buy_e8: 0n, open_sell_e8: 0n });
  });

  it("writes only the felts whose value changes", () => {
    const io = memoryIO();
    const store = new StorageStore(io, () => {});
    const position: Position = { size_e8: 1n, cost_usdc6: 2n, realized_pnl_usdc6: 3n, funding_index_e6: 4n, open_buy_e8: 5n, open_sell_e8: 6n };
    store.putPosition(0xcafen, 1, position);
    expect(io.writes()).toBe(5); // five felts, open_buy and open_sell packed in one
    store.putPosition(0xcafen, 1, { ...position, cost_usdc6: 20n });
    expect(io.writes()).toBe(6);
    store.putPosition(0xcafen, 1, { ...position, cost_usdc6: 20n });
    expect(io.writes()).toBe(6);
  });
});
