// The oracle contract through the runtime: operator-only writes, monotonic timestamps,
// epoch/sequence fencing, the funding-step cap, positive prices, and the refusal of a
// funding index reset — plus what such a reset would have done to positions.

import { describe, expect, it } from "vitest";
import { oracleFns } from "../../contracts/oracle.js";
import { fundingPnl } from "../../contracts/perp/units.js";
import { parseFundingIndex, parseFundingRate, parsePrice, parseSize, parseUsdc } from "../../contracts/perp/units.js";
import { ADMIN, ALICE, BTC, deployPerp, OPERATOR } from "./perp-contract-helpers.js";

const T0 = 1_700_000_000n;

function update(over: Partial<Record<string, bigint>> = {}) {
  return {
    market: BTC,
    mark_price: parsePrice("97123.45"),
    index_price: parsePrice("97100"),
    funding_rate: parseFundingRate("0.0000125"),
    funding_index: parseFundingIndex("1523.774"),
    timestamp: T0,
    epoch: 1n,
    sequence: 1n,
    ...over,
  };
}

describe("oracle contract", () => {
  it("stores an operator update and returns it exactly from the view", () => {
    const p = deployPerp();
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update());
    expect(p.invoke(0n, p.oracle, oracleFns.getMarketData, { market: BTC })).toEqual({
      mark_price: 97_123_450_000n,
      index_price: 97_100_000_000n,
      funding_rate: 12_500_000n,
      funding_index: 1_523_774_000n,
      timestamp: T0,
      epoch: 1n,
      sequence: 1n,
    });
    expect(p.invoke(0n, p.oracle, oracleFns.getMarketConfig, { market: BTC })).toEqual({
      market: BTC,
      max_funding_rate: 500_000_000n,
      funding_period: 3600n,
    });
    expect(p.invoke(0n, p.oracle, oracleFns.getOperator, {})).toBe(OPERATOR);
  });

  it("stores a negative funding index and rate in Cairo's signed form", () => {
    const p = deployPerp();
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ funding_index: -parseFundingIndex("3.5"), funding_rate: -5n }));
    const d = p.invoke(0n, p.oracle, oracleFns.getMarketData, { market: BTC });
    expect([d.funding_index, d.funding_rate]).toEqual([-3_500_000n, -5n]);
  });

  it("refuses writes from anyone but the operator", () => {
    const p = deployPerp();
    expect(p.revertReason(ALICE, p.oracle, oracleFns.updateMarketData, update())).toBe("ORACLE: only operator");
    expect(p.revertReason(ADMIN, p.oracle, oracleFns.updateMarketData, update())).toBe("ORACLE: only operator");
  });

  it("refuses zero prices, unknown markets, stale timestamps, epochs and sequences", () => {
    const p = deployPerp();
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ mark_price: 0n }))).toBe("ORACLE: price not positive");
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ index_price: 0n }))).toBe("ORACLE: price not positive");
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ market: 0x99n }))).toBe("ORACLE: unknown market");
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ epoch: 2n, sequence: 5n }));
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ timestamp: T0, epoch: 2n, sequence: 6n }))).toBe(
      "ORACLE: stale timestamp",
    );
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ timestamp: T0 + 1n, epoch: 1n, sequence: 9n }))).toBe(
      "ORACLE: stale epoch",
    );
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ timestamp: T0 + 1n, epoch: 2n, sequence: 5n }))).toBe(
      "ORACLE: stale sequence",
    );
    // A new epoch may restart its sequence.
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ timestamp: T0 + 1n, epoch: 3n, sequence: 1n }));
    expect(p.invoke(0n, p.oracle, oracleFns.getMarketData, { market: BTC }).epoch).toBe(3n);
  });

  it("caps the funding-index step at max_rate × mark × elapsed / period", () => {
    const p = deployPerp();
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ mark_price: parsePrice("100000") }));
    // 60 s at 0.05 %/h on mark 100000: cap = 0.0005 × 100000 × 60 / 3600 = 0.833333… USDC per BTC.
    const base = parseFundingIndex("1523.774");
    expect(
      p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ mark_price: parsePrice("100000"), timestamp: T0 + 60n, sequence: 2n, funding_index: base + 833_334n })),
    ).toBe("ORACLE: funding step too big");
    expect(
      p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ mark_price: parsePrice("100000"), timestamp: T0 + 60n, sequence: 2n, funding_index: base - 833_334n })),
    ).toBe("ORACLE: funding step too big");
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ mark_price: parsePrice("100000"), timestamp: T0 + 60n, sequence: 2n, funding_index: base + 833_333n }));
    expect(p.invoke(0n, p.oracle, oracleFns.getMarketData, { market: BTC }).funding_index).toBe(base + 833_333n);
  });

  it("rejects a funding index reset to zero", () => {
    const p = deployPerp();
    p.invoke(OPERATOR, p.oracle, oracleFns.updateMarketData, update());
    // Even a year later, when the step cap alone would allow it:
    const reset = update({ timestamp: T0 + 86_400n * 365n, sequence: 2n, funding_index: 0n });
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, reset)).toBe("ORACLE: funding index reset");
    expect(p.invoke(0n, p.oracle, oracleFns.getMarketData, { market: BTC }).funding_index).toBe(parseFundingIndex("1523.774"));
  });

  it("documents what a reset to zero would have done to a 1 BTC long and short", () => {
    // Both settled at index 1523.774; a reset makes Δindex = −1523.774 USDC per BTC.
    const last = parseFundingIndex("1523.774");
    expect(fundingPnl(parseSize("1"), last, 0n)).toBe(parseUsdc("-1523.774")); // the long would lose 1523.774 USDC
    expect(fundingPnl(parseSize("-1"), last, 0n)).toBe(parseUsdc("1523.774")); // the short would gain it
    // With 10 BTC of open interest that is 15 237.74 USDC moved by a bug, not by the market.
    expect(fundingPnl(parseSize("10"), last, 0n)).toBe(parseUsdc("-15237.74"));
  });

  it("adds markets and changes the operator by admin only", () => {
    const p = deployPerp();
    const SOL = 0x534f4cn;
    expect(p.revertReason(ALICE, p.oracle, oracleFns.addMarket, { config: { market: SOL, max_funding_rate: 1n, funding_period: 3600n } })).toBe(
      "ORACLE: only operator",
    );
    expect(p.revertReason(ADMIN, p.oracle, oracleFns.addMarket, { config: { market: SOL, max_funding_rate: 0n, funding_period: 3600n } })).toBe(
      "ORACLE: bad config",
    );
    p.invoke(ADMIN, p.oracle, oracleFns.addMarket, { config: { market: SOL, max_funding_rate: 1n, funding_period: 3600n } });
    expect(p.revertReason(ADMIN, p.oracle, oracleFns.addMarket, { config: { market: SOL, max_funding_rate: 1n, funding_period: 3600n } })).toBe(
      "ORACLE: market exists",
    );
    p.invoke(ADMIN, p.oracle, oracleFns.setOperator, { operator: ALICE });
    p.invoke(ALICE, p.oracle, oracleFns.updateMarketData, update());
    expect(p.revertReason(OPERATOR, p.oracle, oracleFns.updateMarketData, update({ timestamp: T0 + 1n, sequence: 2n }))).toBe("ORACLE: only operator");
  });
});
