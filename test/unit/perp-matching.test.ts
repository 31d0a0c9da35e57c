// Order book and matching rules of the exchange, on the in-memory store:
// price-time priority, partial fills, sweeping, post-only, reduce-only, self-trade,
// TP/SL triggers, operator controls. Amounts in the scales of contracts/perp/units.ts.

import { describe, expect, it } from "vitest";
import { ExchangeError } from "../../contracts/perp/errors.js";
import { OrderFlag, OrderStatus, OrderType, Side } from "../../contracts/perp/types.js";
import { parsePrice, parseSize, parseUsdc } from "../../contracts/perp/units.js";
import { ALICE, BOB, BTC, CAROL, makeExchange, OPERATOR } from "./perp-helpers.js";

const DAVE = 0xda7en;

function funded() {
  const x = makeExchange();
  for (const who of [ALICE, BOB, CAROL, DAVE]) x.deposit(who, "100000");
  return x;
}

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ExchangeError);
    expect((e as ExchangeError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

describe("perp matching", () => {
  it("fills by price first, then by time within a level, and rests the rest", () => {
    const x = funded();
    const a = x.sell(ALICE, "0.1", "100100");
    const b = x.sell(BOB, "0.1", "100000");
    const c = x.sell(CAROL, "0.1", "100000");
    const d = x.buy(DAVE, "0.25", undefined);
    const fills = x.trades().map((t) => t.name === "Trade" && [t.maker_order_id, t.price_e6, t.size_e8]);
    expect(fills).toEqual([
      [b, parsePrice("100000"), parseSize("0.1")],
      [c, parsePrice("100000"), parseSize("0.1")],
      [a, parsePrice("100100"), parseSize("0.05")],
    ]);
    expect(x.ex.order(d).status).toBe(OrderStatus.FILLED);
    expect(x.ex.order(a).remaining_e8).toBe(parseSize("0.05"));
    expect(x.ex.depth(BTC, Side.SELL, 5)).toEqual([{ price_e6: parsePrice("100100"), size_e8: parseSize("0.05") }]);
    expect(x.ex.position(DAVE, BTC).size_e8).toBe(parseSize("0.25"));
    // Dave paid 0.2 × 100000 + 0.05 × 100100 = 25005 USDC, entry = 25005 / 0.25.
    expect(x.ex.position(DAVE, BTC).cost_usdc6).toBe(parseUsdc("25005"));
    expect(x.ex.position(DAVE, BTC).entry_price_e6).toBe(parsePrice("100020"));
  });

  it("partially fills a resting order and keeps its time priority", () => {
    const x = funded();
    const b = x.sell(BOB, "0.1", "100000");
    x.sell(CAROL, "0.1", "100000");
    x.buy(DAVE, "0.04", "100000");
    expect(x.ex.order(b).remaining_e8).toBe(parseSize("0.06"));
    expect(x.ex.depth(BTC, Side.SELL, 5)).toEqual([{ price_e6: parsePrice("100000"), size_e8: parseSize("0.16") }]);
    x.buy(DAVE, "0.07", "100000");
    const makers = x.trades().map((t) => t.name === "Trade" && [t.maker, t.size_e8]);
    expect(makers).toEqual([
      [BOB, parseSize("0.04")],
      [BOB, parseSize("0.06")],
      [CAROL, parseSize("0.01")],
    ]);
  });

  it("sweeps levels with a market order up to its protection price and cancels the rest", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    x.sell(CAROL, "0.1", "100050");
    x.sell(ALICE, "0.1", "100200");
    const id = x.buy(DAVE, "0.3", undefined, { order_type: OrderType.MARKET, price_e6: parsePrice("100100") });
    expect(x.trades().map((t) => t.name === "Trade" && t.price_e6)).toEqual([parsePrice("100000"), parsePrice("100050")]);
    const o = x.ex.order(id);
    expect([o.status, o.remaining_e8]).toEqual([OrderStatus.CANCELLED, parseSize("0.1")]);
    const cancel = x.store.events.at(-1)!;
    expect(cancel).toMatchObject({ name: "OrderCancelled", order_id: id, reason: "UNFILLED" });
    expect(x.ex.depth(BTC, Side.BUY, 5)).toEqual([]);
  });

  it("rests the unfilled part of a limit order at its price", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    const id = x.buy(DAVE, "0.3", "100000");
    expect(x.ex.order(id)).toMatchObject({ status: OrderStatus.OPEN, remaining_e8: parseSize("0.2") });
    expect(x.ex.depth(BTC, Side.BUY, 5)).toEqual([{ price_e6: parsePrice("100000"), size_e8: parseSize("0.2") }]);
    expect(x.ex.position(DAVE, BTC).open_buy_e8).toBe(parseSize("0.2"));
  });

  it("keeps the book sorted: depth lists bids high→low and asks low→high", () => {
    const x = funded();
    for (const p of ["99900", "99700", "99800", "99950"]) x.buy(ALICE, "0.01", p);
    for (const p of ["100300", "100100", "100200"]) x.sell(BOB, "0.01", p);
    expect(x.ex.depth(BTC, Side.BUY, 3).map((l) => l.price_e6)).toEqual(["99950", "99900", "99800"].map(parsePrice));
    expect(x.ex.depth(BTC, Side.SELL, 10).map((l) => l.price_e6)).toEqual(["100100", "100200", "100300"].map(parsePrice));
  });

  it("charges maker 0.02 % and taker 0.05 % of the notional, rounded up", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    x.buy(DAVE, "0.1", undefined);
    const t = x.trades()[0]!;
    expect(t).toMatchObject({ maker_fee_usdc6: parseUsdc("2"), taker_fee_usdc6: parseUsdc("5") });
    expect(x.ex.globals().fee_balance_usdc6).toBe(parseUsdc("7"));
    // 0.0001 BTC at 100000.1 = 10.00001 USDC: fee 0.05 % = 0.005000005 → 0.005001 (ceil).
    x.sell(BOB, "0.0001", "100000.1");
    x.buy(DAVE, "0.0001", undefined);
    expect(x.trades()[1]).toMatchObject({ maker_fee_usdc6: 2001n, taker_fee_usdc6: 5001n });
  });

  it("refuses a post-only order that would cross, leaving state untouched", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    const before = x.ex.globals().next_order_id;
    expectCode(() => x.buy(DAVE, "0.1", "100000", { flags: OrderFlag.POST_ONLY }), "PERP: post-only would cross");
    expect(x.ex.globals().next_order_id).toBe(before);
    expect(x.ex.depth(BTC, Side.SELL, 5)).toEqual([{ price_e6: parsePrice("100000"), size_e8: parseSize("0.1") }]);
    const ok = x.buy(DAVE, "0.1", "99999.9", { flags: OrderFlag.POST_ONLY });
    expect(x.ex.order(ok).status).toBe(OrderStatus.OPEN);
  });

  it("cancels the resting order on a self-trade and keeps matching", () => {
    const x = funded();
    const own = x.sell(ALICE, "0.1", "100000");
    const other = x.sell(BOB, "0.1", "100000");
    const id = x.buy(ALICE, "0.1", "100000");
    expect(x.ex.order(own).status).toBe(OrderStatus.CANCELLED);
    expect(x.store.events.find((e) => e.name === "OrderCancelled")).toMatchObject({ order_id: own, reason: "SELF_TRADE" });
    expect(x.trades()).toHaveLength(1);
    expect(x.trades()[0]).toMatchObject({ maker_order_id: other, taker_order_id: id });
  });

  it("enforces reduce-only at placement and clips or cancels it at fill time", () => {
    const x = funded();
    expectCode(() => x.sell(ALICE, "0.1", "100000", { flags: OrderFlag.REDUCE_ONLY }), "PERP: reduce-only increases");
    x.sell(BOB, "0.1", "100000");
    x.buy(ALICE, "0.1", undefined); // Alice long 0.1
    expectCode(() => x.sell(ALICE, "0.2", "101000", { flags: OrderFlag.REDUCE_ONLY }), "PERP: reduce-only increases");
    const ro = x.sell(ALICE, "0.1", "101000", { flags: OrderFlag.REDUCE_ONLY });
    expect(x.ex.position(ALICE, BTC).open_sell_e8).toBe(0n); // reduce-only needs no order margin
    x.buy(CAROL, "0.1", "99000");
    x.sell(ALICE, "0.1", undefined); // closes the position against Carol's bid
    expect(x.ex.position(ALICE, BTC).size_e8).toBe(0n);
    x.buy(DAVE, "0.1", "101000"); // reaches Alice's reduce-only order, which can no longer reduce
    expect(x.ex.order(ro).status).toBe(OrderStatus.CANCELLED);
    expect(x.store.events.filter((e) => e.name === "OrderCancelled").at(0)).toMatchObject({ order_id: ro, reason: "REDUCE_ONLY" });
    expect(x.ex.position(ALICE, BTC).size_e8).toBe(0n);
  });

  it("lets only the owner cancel an open order", () => {
    const x = funded();
    const id = x.buy(ALICE, "0.1", "99000");
    expectCode(() => x.tx(() => x.ex.cancelOrder(BOB, id)), "PERP: not order owner");
    expectCode(() => x.tx(() => x.ex.cancelOrder(ALICE, 999n)), "PERP: unknown order");
    x.tx(() => x.ex.cancelOrder(ALICE, id));
    expect(x.ex.order(id).status).toBe(OrderStatus.CANCELLED);
    expect(x.ex.position(ALICE, BTC).open_buy_e8).toBe(0n);
    expect(x.ex.depth(BTC, Side.BUY, 5)).toEqual([]);
    expectCode(() => x.tx(() => x.ex.cancelOrder(ALICE, id)), "PERP: order not open");
  });

  it("validates order fields: lot size, tick size, side, type", () => {
    const x = funded();
    expectCode(() => x.buy(ALICE, "0.00005", "100000"), "PERP: bad size");
    expectCode(() => x.buy(ALICE, "0.1", "100000.05"), "PERP: bad price");
    expectCode(() => x.order(ALICE, { side: 2, size: "0.1", price: "100000" }), "PERP: bad side");
    expectCode(() => x.order(ALICE, { side: 0, size: "0.1", price: "100000", order_type: 7 }), "PERP: bad order type");
    expectCode(() => x.buy(ALICE, "0.1", "100000", { market: 12345n }), "PERP: unknown market");
  });
});

describe("perp operator controls", () => {
  it("refuses orders outside the post-only band around the mark price", () => {
    const x = funded();
    x.tx(() => x.ex.setPostOnly(OPERATOR, true, 10_000n)); // ±1 % of mark 100000
    expect(x.ex.order(x.buy(ALICE, "0.1", "99000", { flags: OrderFlag.POST_ONLY })).status).toBe(OrderStatus.OPEN);
    expect(x.ex.order(x.sell(BOB, "0.1", "101000", { flags: OrderFlag.POST_ONLY })).status).toBe(OrderStatus.OPEN);
    expectCode(() => x.buy(ALICE, "0.1", "98999.9", { flags: OrderFlag.POST_ONLY }), "PERP: outside price band");
    expectCode(() => x.sell(BOB, "0.1", "101000.1", { flags: OrderFlag.POST_ONLY }), "PERP: outside price band");
    expectCode(() => x.buy(ALICE, "0.1", "99500"), "PERP: post-only mode");
    expectCode(() => x.buy(ALICE, "0.1", undefined), "PERP: post-only mode");
    expectCode(() => x.tx(() => x.ex.setPostOnly(ALICE, false, 0n)), "PERP: only operator");
    x.tx(() => x.ex.setPostOnly(OPERATOR, false, 0n));
    expect(x.ex.order(x.buy(ALICE, "0.1", "99500")).status).toBe(OrderStatus.OPEN);
  });

  it("pause blocks trading and collateral moves but not cancels; resume restores", () => {
    const x = funded();
    const id = x.buy(ALICE, "0.1", "99000");
    expectCode(() => x.tx(() => x.ex.pause(ALICE)), "PERP: only operator");
    x.tx(() => x.ex.pause(OPERATOR));
    expectCode(() => x.buy(ALICE, "0.1", "99000"), "PERP: paused");
    expectCode(() => x.deposit(ALICE, "1"), "PERP: paused");
    expectCode(() => x.tx(() => x.ex.withdraw(ALICE, 1n)), "PERP: paused");
    x.tx(() => x.ex.cancelOrder(ALICE, id));
    x.tx(() => x.ex.resume(OPERATOR));
    expect(x.ex.order(x.buy(ALICE, "0.1", "99000")).status).toBe(OrderStatus.OPEN);
  });

  it("cancel_all_orders clears the books but keeps untriggered TP/SL orders", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    x.buy(ALICE, "0.1", undefined);
    const resting = [x.buy(ALICE, "0.01", "99000"), x.sell(BOB, "0.01", "101000"), x.buy(CAROL, "0.1", "2900", { market: 0x4554482d5553442d50455250n })];
    const sl = x.sell(ALICE, "0.1", undefined, {
      order_type: OrderType.STOP_LOSS,
      flags: OrderFlag.REDUCE_ONLY,
      trigger_price_e6: parsePrice("95000"),
    });
    expectCode(() => x.tx(() => x.ex.cancelAllOrders(ALICE, 100)), "PERP: only operator");
    expect(x.tx(() => x.ex.cancelAllOrders(OPERATOR, 2))).toBe(2);
    expect(x.tx(() => x.ex.cancelAllOrders(OPERATOR, 100))).toBe(1);
    for (const id of resting) expect(x.ex.order(id).status).toBe(OrderStatus.CANCELLED);
    expect(x.ex.order(sl).status).toBe(OrderStatus.UNTRIGGERED);
    expect(x.ex.depth(BTC, Side.BUY, 5)).toEqual([]);
  });

  it("triggers a stop-loss only once the mark price crosses it, then sells at market", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    x.buy(ALICE, "0.1", undefined); // Alice long 0.1 at 100000
    const sl = x.sell(ALICE, "0.1", undefined, {
      order_type: OrderType.STOP_LOSS,
      flags: OrderFlag.REDUCE_ONLY,
      trigger_price_e6: parsePrice("95000"),
    });
    x.buy(CAROL, "0.1", "94000");
    expectCode(() => x.tx(() => x.ex.triggerOrder(OPERATOR, sl)), "PERP: trigger not reached");
    x.md.mark.set(BTC, parsePrice("95000.5"));
    expectCode(() => x.tx(() => x.ex.triggerOrder(OPERATOR, sl)), "PERP: trigger not reached");
    x.md.mark.set(BTC, parsePrice("95000"));
    expectCode(() => x.tx(() => x.ex.triggerOrder(ALICE, sl)), "PERP: only operator");
    x.tx(() => x.ex.triggerOrder(OPERATOR, sl));
    expect(x.ex.order(sl).status).toBe(OrderStatus.FILLED);
    const p = x.ex.position(ALICE, BTC);
    // Realized: 0.1 × (94000 − 100000) = −600 USDC.
    expect([p.size_e8, p.realized_pnl_usdc6]).toEqual([0n, parseUsdc("-600")]);
    expectCode(() => x.tx(() => x.ex.triggerOrder(OPERATOR, sl)), "PERP: not triggerable");
  });

  it("triggers a take-profit sell when the mark reaches it from below", () => {
    const x = funded();
    x.sell(BOB, "0.1", "100000");
    x.buy(ALICE, "0.1", undefined);
    const tp = x.sell(ALICE, "0.1", "104000", {
      order_type: OrderType.TAKE_PROFIT,
      flags: OrderFlag.REDUCE_ONLY,
      trigger_price_e6: parsePrice("105000"),
    });
    x.buy(CAROL, "0.1", "105000");
    x.md.mark.set(BTC, parsePrice("104999.9"));
    expectCode(() => x.tx(() => x.ex.triggerOrder(OPERATOR, tp)), "PERP: trigger not reached");
    x.md.mark.set(BTC, parsePrice("105000"));
    x.tx(() => x.ex.triggerOrder(OPERATOR, tp));
    expect(x.ex.position(ALICE, BTC).realized_pnl_usdc6).toBe(parseUsdc("500"));
  });
});
