// The exchange and oracle ABIs our runtime produces, read by unmodified starknet.js:
// calldata compiled by starknet.js CallData is what our runtime executes, and results
// our runtime returns are decoded by starknet.js into the same values.

import { CallData, hash } from "starknet";
import { describe, expect, it } from "vitest";
import { OracleClass } from "../../contracts/oracle.js";
import { ExchangeClass, exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { OrderType, Side } from "../../contracts/perp/types.js";
import { parsePrice, parseSize, parseUsdc } from "../../contracts/perp/units.js";
import { ALICE, BOB, BTC, deployPerp } from "./perp-contract-helpers.js";

describe("perp ABI cross-checked with starknet.js", () => {
  const abi = JSON.parse(ExchangeClass.abiJson);
  const cd = new CallData(abi);

  it("has the selectors starknet.js computes for every function", () => {
    for (const f of Object.values(exchangeFns)) expect(f.selector).toBe(BigInt(hash.getSelectorFromName(f.name)));
    expect(() => new CallData(JSON.parse(OracleClass.abiJson))).not.toThrow();
  });

  it("executes place_order calldata compiled by starknet.js and decodes results with it", () => {
    const p = deployPerp();
    p.setMarket(BTC, parsePrice("100000"));
    p.fund(ALICE, parseUsdc("10000"));
    p.fund(BOB, parseUsdc("10000"));
    p.ex(BOB, exchangeFns.placeOrder, {
      market: BTC, side: BigInt(Side.SELL), order_type: BigInt(OrderType.LIMIT), flags: 0n, price: parsePrice("100000"), trigger_price: 0n, size: parseSize("0.05"),
    });
    const calldata = cd.compile("place_order", {
      market: "BTC-USD-PERP",
      side: Side.BUY,
      order_type: OrderType.LIMIT,
      flags: 0,
      price: parsePrice("100000"),
      trigger_price: 0,
      size: parseSize("0.02"),
    });
    const inv = p.engine.call({ to: p.exchange, selector: exchangeFns.placeOrder.selector, calldata: calldata.map(BigInt), caller: ALICE });
    const orderId = cd.parse("place_order", inv.result.map((x) => "0x" + x.toString(16)));
    expect(orderId).toBe(2n);

    const pos = p.engine.call({
      to: p.exchange,
      selector: exchangeFns.getPosition.selector,
      calldata: cd.compile("get_position", { account: ALICE, market: "BTC-USD-PERP" }).map(BigInt),
      caller: 0n,
    });
    const parsed = cd.parse("get_position", pos.result.map((x) => "0x" + x.toString(16))) as Record<string, bigint>;
    expect(parsed.size).toBe(parseSize("0.02"));
    expect(parsed.entry_price).toBe(parsePrice("100000"));
    expect(parsed.cost).toBe(parseUsdc("2000"));

    const acct = p.engine.call({
      to: p.exchange,
      selector: exchangeFns.getAccount.selector,
      calldata: cd.compile("get_account", { account: ALICE }).map(BigInt),
      caller: 0n,
    });
    const a = cd.parse("get_account", acct.result.map((x) => "0x" + x.toString(16))) as Record<string, bigint>;
    // 10000 − 2000 notional − 1 USDC taker fee (0.05 %): a negative i128 decoded by starknet.js.
    expect(a.balance).toBe(parseUsdc("7999"));
    expect(a.equity).toBe(parseUsdc("9999"));

    const depth = p.engine.call({
      to: p.exchange,
      selector: exchangeFns.getBookDepth.selector,
      calldata: cd.compile("get_book_depth", { market: "BTC-USD-PERP", side: Side.SELL, levels: 5 }).map(BigInt),
      caller: 0n,
    });
    expect(cd.parse("get_book_depth", depth.result.map((x) => "0x" + x.toString(16)))).toEqual([
      { price: parsePrice("100000"), size: parseSize("0.03") },
    ]);
  });

  it("decodes a negative i128 balance as starknet.js does", () => {
    const p = deployPerp();
    p.setMarket(BTC, parsePrice("100000"));
    p.fund(ALICE, parseUsdc("10000"));
    p.fund(BOB, parseUsdc("10000"));
    p.ex(BOB, exchangeFns.placeOrder, {
      market: BTC, side: BigInt(Side.SELL), order_type: BigInt(OrderType.LIMIT), flags: 0n, price: parsePrice("100000"), trigger_price: 0n, size: parseSize("0.15"),
    });
    p.ex(ALICE, exchangeFns.placeOrder, {
      market: BTC, side: BigInt(Side.BUY), order_type: BigInt(OrderType.MARKET), flags: 0n, price: 0n, trigger_price: 0n, size: parseSize("0.15"),
    });
    const acct = p.engine.call({ to: p.exchange, selector: exchangeFns.getAccount.selector, calldata: [ALICE], caller: 0n });
    const a = cd.parse("get_account", acct.result.map((x) => "0x" + x.toString(16))) as Record<string, bigint>;
    expect(a.balance).toBe(parseUsdc("-5007.5")); // 10000 − 15000 − 7.5
  });
});
