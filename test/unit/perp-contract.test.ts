// The perp exchange contract through the real runtime (no RPC): every entry point with
// its failure paths, and worked margin / funding / liquidation examples computed by hand.
// USDC e6, price e6, size e8 (contracts/perp/units.ts).

import { beforeAll, describe, expect, it } from "vitest";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { OrderFlag, OrderStatus, OrderType, Side } from "../../contracts/perp/types.js";
import { parsePrice as px, parseSize as sz, parseUsdc as usd } from "../../contracts/perp/units.js";
import { ADMIN, ALICE, BOB, BTC, CAROL, deployPerp, ETH, OPERATOR } from "./perp-contract-helpers.js";

type Perp = ReturnType<typeof deployPerp>;

function order(p: Perp, who: bigint, o: { side: number; size: bigint; price?: bigint; type?: number; flags?: number; trigger?: bigint; market?: bigint }) {
  return p.ex(who, exchangeFns.placeOrder, {
    market: o.market ?? BTC,
    side: BigInt(o.side),
    order_type: BigInt(o.type ?? (o.price === undefined ? OrderType.MARKET : OrderType.LIMIT)),
    flags: BigInt(o.flags ?? 0),
    price: o.price ?? 0n,
    trigger_price: o.trigger ?? 0n,
    size: o.size,
  });
}

function fresh(): Perp {
  const p = deployPerp();
  p.setMarket(BTC, px("100000"));
  p.setMarket(ETH, px("3000"));
  return p;
}

describe("perp exchange contract: collateral", () => {
  it("deposits pull USDC in with transfer_from and withdrawals pay it back", () => {
    const p = fresh();
    p.fund(ALICE, usd("1000"));
    expect(p.usdcBalance(p.exchange)).toBe(usd("1000"));
    expect(p.ex(0n, exchangeFns.getAccount, { account: ALICE })).toMatchObject({ balance: usd("1000"), equity: usd("1000") });
    p.ex(ALICE, exchangeFns.withdraw, { amount: usd("400") });
    expect(p.usdcBalance(ALICE)).toBe(usd("400"));
    expect(p.usdcBalance(p.exchange)).toBe(usd("600"));
    expect(p.ex(0n, exchangeFns.getExchangeState, {})).toMatchObject({ total_deposits: usd("1000"), total_withdrawals: usd("400") });
  });

  it("refuses a deposit without allowance, a zero amount and an over-withdrawal", () => {
    const p = fresh();
    expect(p.revertReason(BOB, p.exchange, exchangeFns.deposit, { amount: 5n })).toBe("ERC20: insufficient allowance");
    expect(p.revertReason(BOB, p.exchange, exchangeFns.deposit, { amount: 0n })).toBe("PERP: bad amount");
    p.fund(BOB, usd("10"));
    expect(p.revertReason(BOB, p.exchange, exchangeFns.withdraw, { amount: usd("10.000001") })).toBe("PERP: insufficient collateral");
    expect(p.ex(0n, exchangeFns.getAccount, { account: BOB }).balance).toBe(usd("10"));
  });
});

describe("perp exchange contract: orders", () => {
  let p: Perp;
  beforeAll(() => {
    p = fresh();
    for (const who of [ALICE, BOB, CAROL]) p.fund(who, usd("100000"));
  });

  it("places, matches with price-time priority and reports depth, orders and positions", () => {
    const a = order(p, ALICE, { side: Side.SELL, size: sz("0.1"), price: px("100100") });
    const b = order(p, BOB, { side: Side.SELL, size: sz("0.1"), price: px("100000") });
    expect(p.ex(0n, exchangeFns.getBookDepth, { market: BTC, side: 1n, levels: 10n })).toEqual([
      { price: px("100000"), size: sz("0.1") },
      { price: px("100100"), size: sz("0.1") },
    ]);
    const c = order(p, CAROL, { side: Side.BUY, size: sz("0.15") });
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: b })).toMatchObject({ status: BigInt(OrderStatus.FILLED), remaining: 0n });
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: a })).toMatchObject({ status: BigInt(OrderStatus.OPEN), remaining: sz("0.05"), owner: ALICE, market: BTC });
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: c }).status).toBe(BigInt(OrderStatus.FILLED));
    const pos = p.ex(0n, exchangeFns.getPosition, { account: CAROL, market: BTC });
    // 0.1 × 100000 + 0.05 × 100100 = 15005 USDC for 0.15 BTC → entry 100033.333333
    expect(pos).toMatchObject({ size: sz("0.15"), cost: usd("15005"), entry_price: 100_033_333_333n, mark_price: px("100000") });
    expect(pos.unrealized_pnl).toBe(usd("-5"));
  });

  it("reverts post-only crossing, bad sizes, unknown markets and foreign cancels", () => {
    expect(p.revertReason(BOB, p.exchange, exchangeFns.placeOrder, {
      market: BTC, side: 0n, order_type: 0n, flags: BigInt(OrderFlag.POST_ONLY), price: px("100100"), trigger_price: 0n, size: sz("0.01"),
    })).toBe("PERP: post-only would cross");
    expect(p.revertReason(BOB, p.exchange, exchangeFns.placeOrder, {
      market: BTC, side: 0n, order_type: 0n, flags: 0n, price: px("99000"), trigger_price: 0n, size: 1n,
    })).toBe("PERP: bad size");
    expect(p.revertReason(BOB, p.exchange, exchangeFns.placeOrder, {
      market: 0x1234n, side: 0n, order_type: 0n, flags: 0n, price: px("99000"), trigger_price: 0n, size: sz("0.01"),
    })).toBe("PERP: unknown market");
    const id = order(p, BOB, { side: Side.BUY, size: sz("0.01"), price: px("99000") });
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.cancelOrder, { order_id: id })).toBe("PERP: not order owner");
    p.ex(BOB, exchangeFns.cancelOrder, { order_id: id });
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: id }).status).toBe(BigInt(OrderStatus.CANCELLED));
    expect(p.revertReason(BOB, p.exchange, exchangeFns.cancelOrder, { order_id: id })).toBe("PERP: order not open");
  });

  it("operator controls: pause/resume, post-only band, cancel_all keeps TP/SL, trigger_order", () => {
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.pause, {})).toBe("PERP: only operator");
    p.ex(OPERATOR, exchangeFns.pause, {});
    expect(p.revertReason(BOB, p.exchange, exchangeFns.placeOrder, {
      market: BTC, side: 0n, order_type: 0n, flags: 0n, price: px("99000"), trigger_price: 0n, size: sz("0.01"),
    })).toBe("PERP: paused");
    p.ex(OPERATOR, exchangeFns.resume, {});
    p.ex(OPERATOR, exchangeFns.setPostOnly, { enabled: true, band_ppm: 5_000n }); // ±0.5 % around 100000
    expect(p.revertReason(BOB, p.exchange, exchangeFns.placeOrder, {
      market: BTC, side: 0n, order_type: 0n, flags: BigInt(OrderFlag.POST_ONLY), price: px("99499.9"), trigger_price: 0n, size: sz("0.01"),
    })).toBe("PERP: outside price band");
    const inBand = order(p, BOB, { side: Side.BUY, size: sz("0.01"), price: px("99500"), flags: OrderFlag.POST_ONLY });
    p.ex(OPERATOR, exchangeFns.setPostOnly, { enabled: false, band_ppm: 0n });
    // Carol is long 0.15: a reduce-only stop-loss at 95000.
    const sl = order(p, CAROL, { side: Side.SELL, size: sz("0.15"), type: OrderType.STOP_LOSS, flags: OrderFlag.REDUCE_ONLY, trigger: px("95000") });
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.cancelAllOrders, { max_count: 100n })).toBe("PERP: only operator");
    expect(p.ex(OPERATOR, exchangeFns.cancelAllOrders, { max_count: 100n })).toBe(2n); // Bob's bid + Alice's ask remainder
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: inBand }).status).toBe(BigInt(OrderStatus.CANCELLED));
    expect(p.ex(0n, exchangeFns.getOrder, { order_id: sl }).status).toBe(BigInt(OrderStatus.UNTRIGGERED));
    expect(p.revertReason(OPERATOR, p.exchange, exchangeFns.triggerOrder, { order_id: sl })).toBe("PERP: trigger not reached");
    order(p, ALICE, { side: Side.BUY, size: sz("0.15"), price: px("94000") });
    p.setMarket(BTC, px("94999.9"));
    expect(p.revertReason(BOB, p.exchange, exchangeFns.triggerOrder, { order_id: sl })).toBe("PERP: only operator");
    p.ex(OPERATOR, exchangeFns.triggerOrder, { order_id: sl });
    const pos = p.ex(0n, exchangeFns.getPosition, { account: CAROL, market: BTC });
    // Realized: 0.15 × 94000 − 15005 = −905 USDC.
    expect([pos.size, pos.realized_pnl]).toEqual([0n, usd("-905")]);
  });

  it("adds a market only by admin, with a validated config", () => {
    const cfg = { ...p.ex(0n, exchangeFns.getMarket, { market: ETH }), name: 0x534f4c2d5553442d50455250n };
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.addMarket, { config: cfg })).toBe("PERP: only admin");
    expect(p.revertReason(ADMIN, p.exchange, exchangeFns.addMarket, { config: { ...cfg, lot_size: 3n } })).toBe("PERP: bad market config");
    p.ex(ADMIN, exchangeFns.addMarket, { config: cfg });
    expect(p.ex(0n, exchangeFns.getMarket, { market: cfg.name })).toEqual(cfg);
    expect(p.revertReason(ADMIN, p.exchange, exchangeFns.addMarket, { config: cfg })).toBe("PERP: market exists");
  });
});

describe("perp exchange contract: margin, funding, liquidation (worked examples)", () => {
  /** Alice: 1000 USDC, buys 0.19 BTC at 100000 from Bob (taker fee 0.05 % = 9.5 USDC). */
  function aliceLong(): Perp {
    const p = fresh();
    p.fund(ALICE, usd("1000"));
    p.fund(BOB, usd("100000"));
    order(p, BOB, { side: Side.SELL, size: sz("1"), price: px("100000") });
    return p;
  }

  it("checks initial margin at placement: 0.2 BTC needs 1000 + fees, 0.19 BTC fits", () => {
    const p = aliceLong();
    // 0.2 BTC: IM 5 % × 20000 = 1000, equity after fee 10 = 990 < 1000 → refused.
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.placeOrder, {
      market: BTC, side: 0n, order_type: 1n, flags: 0n, price: 0n, trigger_price: 0n, size: sz("0.2"),
    })).toBe("PERP: insufficient margin");
    order(p, ALICE, { side: Side.BUY, size: sz("0.19") });
    const acct = p.ex(0n, exchangeFns.getAccount, { account: ALICE });
    expect(acct).toMatchObject({
      balance: usd("-18009.5"), // 1000 − 19000 − 9.5
      collateral: usd("990.5"),
      equity: usd("990.5"),
      initial_margin: usd("950"), // 5 % × 19000
      maintenance_margin: usd("570"), // 3 % × 19000
      exposure: usd("19000"),
      margin_ratio_ppm: 52_131n, // 990.5 / 19000 = 0.052131…
      free_collateral: usd("40.5"),
    });
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.withdraw, { amount: usd("40.500001") })).toBe("PERP: insufficient collateral");
  });

  it("liquidates below maintenance: position to the vault at mark, fee capped at equity", () => {
    const p = aliceLong();
    order(p, ALICE, { side: Side.BUY, size: sz("0.19") });
    expect(p.revertReason(OPERATOR, p.exchange, exchangeFns.liquidate, { account: ALICE })).toBe("PERP: not liquidatable");
    p.setMarket(BTC, px("97000"));
    // equity = −18009.5 + 0.19 × 97000 = 420.5 ≥ MM 3 % × 18430 = 552.9? no: 420.5 < 552.9 → liquidatable
    expect(p.ex(0n, exchangeFns.getAccount, { account: ALICE })).toMatchObject({ equity: usd("420.5"), maintenance_margin: usd("552.9") });
    expect(p.revertReason(BOB, p.exchange, exchangeFns.liquidate, { account: ALICE })).toBe("PERP: only operator");
    p.ex(OPERATOR, exchangeFns.liquidate, { account: ALICE });
    // Fee 1 % × 18430 = 184.3 ≤ equity 420.5 → Alice keeps 236.2; vault gets 0.19 BTC at 97000 and 184.3 USDC.
    expect(p.ex(0n, exchangeFns.getAccount, { account: ALICE })).toMatchObject({ balance: usd("236.2"), equity: usd("236.2"), exposure: 0n });
    const vault = p.ex(0n, exchangeFns.getVault, {});
    expect(vault).toMatchObject({ balance: usd("-18245.7"), equity: usd("184.3"), exposure: usd("18430") });
    p.ex(ALICE, exchangeFns.withdraw, { amount: usd("236.2") });
    expect(p.usdcBalance(ALICE)).toBe(usd("236.2"));
  });

  it("absorbs bad debt in the vault when the account is underwater", () => {
    const p = aliceLong();
    order(p, ALICE, { side: Side.BUY, size: sz("0.19") });
    p.setMarket(BTC, px("94000"));
    // equity = −18009.5 + 17860 = −149.5: no fee can be taken, 149.5 bad debt.
    p.ex(OPERATOR, exchangeFns.liquidate, { account: ALICE });
    expect(p.ex(0n, exchangeFns.getAccount, { account: ALICE })).toMatchObject({ balance: 0n, equity: 0n });
    expect(p.ex(0n, exchangeFns.getVault, {})).toMatchObject({ balance: usd("-18009.5"), equity: usd("-149.5") });
  });

  it("settles funding = size × Δindex on the next position change", () => {
    const p = aliceLong();
    order(p, ALICE, { side: Side.BUY, size: sz("0.1") }); // long 0.1, Bob short 0.1
    p.setMarket(BTC, px("100000"), px("12.5")); // index 0 → 12.5 USDC per BTC
    expect(p.ex(0n, exchangeFns.getPosition, { account: ALICE, market: BTC }).pending_funding).toBe(usd("1.25"));
    expect(p.ex(0n, exchangeFns.getPosition, { account: BOB, market: BTC }).pending_funding).toBe(usd("-1.25"));
    const before = p.ex(0n, exchangeFns.getAccount, { account: ALICE }).balance;
    order(p, ALICE, { side: Side.BUY, size: sz("0.01") }); // position change → settle
    const after = p.ex(0n, exchangeFns.getAccount, { account: ALICE }).balance;
    // +1.25 funding − 1000 notional − 0.5 taker fee
    expect(after - before).toBe(usd("1.25") - usd("1000") - usd("0.5"));
    expect(p.ex(0n, exchangeFns.getPosition, { account: ALICE, market: BTC })).toMatchObject({ pending_funding: 0n, funding_index: px("12.5") });
    // Bob (the maker of that fill) settled his −1.25 in the same trade: the pool is back to 0.
    expect(p.ex(0n, exchangeFns.getAccount, { account: BOB }).pending_funding).toBe(0n);
    expect(p.ex(0n, exchangeFns.getExchangeState, {}).funding_pool).toBe(0n);
  });

  it("vault payout by admin only, bounded by the vault's free collateral", () => {
    const p = aliceLong();
    order(p, ALICE, { side: Side.BUY, size: sz("0.19") });
    p.setMarket(BTC, px("97000"));
    p.ex(OPERATOR, exchangeFns.liquidate, { account: ALICE });
    // Vault: equity 184.3, IM 5 % × 18430 = 921.5 → nothing free while it holds the position.
    expect(p.revertReason(ADMIN, p.exchange, exchangeFns.vaultPayout, { recipient: CAROL, amount: 1n })).toBe("PERP: insufficient collateral");
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.vaultPayout, { recipient: CAROL, amount: 1n })).toBe("PERP: only admin");
    p.setMarket(BTC, px("110000")); // vault equity = −18245.7 + 20900 = 2654.3, IM 1045 → free 1609.3
    p.ex(ADMIN, exchangeFns.vaultPayout, { recipient: CAROL, amount: usd("1609.3") });
    expect(p.usdcBalance(CAROL)).toBe(usd("1609.3"));
    expect(p.ex(0n, exchangeFns.getExchangeState, {}).total_payouts).toBe(usd("1609.3"));
  });
});
