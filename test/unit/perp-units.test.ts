// Fixed-point conversions and rounding rules of contracts/perp/units.ts.

import { describe, expect, it } from "vitest";
import {
  DecimalFormatError,
  divCeil,
  divFloor,
  formatDecimal,
  fundingPnl,
  notionalFloor,
  parseFundingIndex,
  parseFundingRate,
  parsePrice,
  parseSize,
  ppmCeil,
} from "../../contracts/perp/units.js";
import { applyTrade } from "../../contracts/perp/position.js";
import { emptyPosition } from "../../contracts/perp/types.js";

describe("perp units", () => {
  it("converts feed decimal strings exactly", () => {
    expect(parsePrice("97123.45")).toBe(97_123_450_000n);
    expect(parseFundingRate("0.0000125")).toBe(12_500_000n);
    expect(parseFundingIndex("1523.774")).toBe(1_523_774_000n);
    expect(parseFundingIndex("-0.000001")).toBe(-1n);
    expect(parseSize("0.00000001")).toBe(1n);
    expect(parsePrice("1.2300000000")).toBe(1_230_000n); // trailing zeros beyond the scale are exact
    expect(formatDecimal(-1_523_774_000n, 6)).toBe("-1523.774");
  });

  it("refuses strings that would need rounding or are not plain decimals", () => {
    expect(() => parsePrice("0.0000001")).toThrow(DecimalFormatError);
    expect(() => parsePrice("1e5")).toThrow(DecimalFormatError);
    expect(() => parsePrice(" 1")).toThrow(DecimalFormatError);
    expect(() => parsePrice("")).toThrow(DecimalFormatError);
  });

  it("rounds against the holder: floor for P&L, ceil for fees and margins", () => {
    expect([divFloor(-7n, 2n), divFloor(7n, 2n), divCeil(-7n, 2n), divCeil(7n, 2n)]).toEqual([-4n, 3n, -3n, 4n]);
    // 0.0001 BTC × Δindex 0.000001: exact P&L is ±0.0000001 µUSDC-units → long 0, short −1.
    expect(fundingPnl(10_000n, 0n, 1n)).toBe(0n);
    expect(fundingPnl(-10_000n, 0n, 1n)).toBe(-1n);
    expect(notionalFloor(-1n, 1n)).toBe(-1n);
    expect(ppmCeil(10_000_001n, 500n)).toBe(5001n);
  });

  it("realizes P&L on a flip and keeps the open part at the trade price", () => {
    // Long 0.1 at 100000 (cost 10000), then sell 0.3 at 110000 for 33000.
    const long = applyTrade(emptyPosition(), 10_000_000n, 10_000_000_000n).position;
    const flip = applyTrade(long, -30_000_000n, 33_000_000_000n);
    expect(flip.realized_usdc6).toBe(1_000_000_000n); // 0.1 × 10000
    expect(flip.position).toMatchObject({ size_e8: -20_000_000n, cost_usdc6: -22_000_000_000n });
    expect(flip.balance_delta_usdc6).toBe(33_000_000_000n);
  });
});
