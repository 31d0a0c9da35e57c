// Shared set-up for the exchange rule tests: a MemoryStore-backed exchange with the
// genesis markets, fixed market data, and short helpers. Not a test file itself.

import { ExchangeRules, type PlaceOrderParams } from "../../contracts/perp/exchange-rules.js";
import { GENESIS_MARKETS } from "../../contracts/perp/market-config.js";
import { MemoryStore, StaticMarketData } from "../../contracts/perp/memory-store.js";
import { OrderType, Side } from "../../contracts/perp/types.js";
import { parsePrice, parseSize, parseUsdc } from "../../contracts/perp/units.js";
import { encodeShortString } from "../../state/felt.js";

export const BTC = encodeShortString("BTC-USD-PERP");
export const ETH = encodeShortString("ETH-USD-PERP");
export const PAXG = encodeShortString("PAXG-USD-PERP");
export const ADMIN = 0xad01n;
export const OPERATOR = 0x0e01n;
export const ALICE = 0xa11cen;
export const BOB = 0xb0bn;
export const CAROL = 0xca201n;

export function makeExchange(marks: Record<string, string> = { BTC: "100000", ETH: "3000", PAXG: "2000" }) {
  const store = new MemoryStore();
  const md = new StaticMarketData();
  const names: Record<string, bigint> = { BTC, ETH, PAXG };
  for (const [k, v] of Object.entries(marks)) md.mark.set(names[k]!, parsePrice(v));
  const ex = new ExchangeRules(store, md);
  store.transaction(() => ex.initialize(ADMIN, OPERATOR, GENESIS_MARKETS));
  const tx = <T>(fn: () => T): T => store.transaction(fn);
  const deposit = (who: bigint, usdc: string) => tx(() => ex.deposit(who, parseUsdc(usdc)));
  const order = (who: bigint, o: Partial<PlaceOrderParams> & { side: number; size: string; price?: string }) =>
    tx(() =>
      ex.placeOrder(who, {
        market: o.market ?? BTC,
        side: o.side,
        order_type: o.order_type ?? OrderType.LIMIT,
        flags: o.flags ?? 0,
        price_e6: o.price === undefined ? (o.price_e6 ?? 0n) : parsePrice(o.price),
        trigger_price_e6: o.trigger_price_e6 ?? 0n,
        size_e8: parseSize(o.size),
      }),
    );
  const buy = (who: bigint, size: string, price?: string, extra: Partial<PlaceOrderParams> = {}) =>
    order(who, { side: Side.BUY, size, price, order_type: price === undefined ? OrderType.MARKET : OrderType.LIMIT, ...extra });
  const sell = (who: bigint, size: string, price?: string, extra: Partial<PlaceOrderParams> = {}) =>
    order(who, { side: Side.SELL, size, price, order_type: price === undefined ? OrderType.MARKET : OrderType.LIMIT, ...extra });
  const trades = () => store.events.filter((e) => e.name === "Trade");
  return { store, md, ex, tx, deposit, order, buy, sell, trades };
}
