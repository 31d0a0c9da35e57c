// Normalization of pushed market data: exact decimal conversion, typed errors naming the
// field, and the round trip back to decimal strings.

import { describe, expect, it } from "vitest";
import { InvalidParamsError, toJsonRpcError } from "../../sequencer/errors.js";
import { formatMarketData, formatWrite, MarketDataInputError, normalizeMarketData } from "../../sequencer/marketdata/update.js";
import { validPush } from "./marketdata-fixture.js";

function inputError(raw: unknown): MarketDataInputError {
  try {
    normalizeMarketData(raw);
  } catch (e) {
    if (e instanceof MarketDataInputError) return e;
    throw e;
  }
  throw new Error("expected a MarketDataInputError");
}

describe("normalizeMarketData", () => {
  it("converts the example push exactly into the units' scales", () => {
    expect(
      normalizeMarketData({
        market: "BTC-USD-PERP",
        source: "feed-a",
        mark_price: "97123.45",
        index_price: "97120.00",
        funding_rate: "0.0000125",
        funding_index: "1523.774",
        timestamp: 1769000000,
        epoch: 3,
        sequence: 1042,
      }),
    ).toEqual({
      market: "BTC-USD-PERP",
      source: "feed-a",
      mark_price_e6: 97_123_450_000n,
      index_price_e6: 97_120_000_000n,
      funding_rate_e12: 12_500_000n,
      funding_index_e6: 1_523_774_000n,
      timestamp_s: 1769000000,
      epoch: 3,
      sequence: 1042,
    });
  });

  it("keeps values that a float would round (exact decimal parsing)", () => {
    const u = normalizeMarketData(validPush({ mark_price: "9007199254740993.000001", funding_index: "-0.000001", funding_rate: "0.000000000001" }));
    expect(u.mark_price_e6).toBe(9_007_199_254_740_993_000_001n);
    expect(u.funding_index_e6).toBe(-1n);
    expect(u.funding_rate_e12).toBe(1n);
  });

  it("accepts trailing zeros beyond the scale but refuses significant extra decimals", () => {
    expect(normalizeMarketData(validPush({ mark_price: "97123.450000000" })).mark_price_e6).toBe(97_123_450_000n);
    const e = inputError(validPush({ mark_price: "97123.4500001" }));
    expect([e.reasonCode, e.field]).toEqual(["invalid_value", "mark_price"]);
    expect(e.reason).toBe('"97123.4500001": has more than 6 significant decimals; refusing to round');
  });

  it("refuses prices given as JSON numbers, naming the field", () => {
    const e = inputError(validPush({ index_price: 97120 }));
    expect(e).toBeInstanceOf(InvalidParamsError);
    expect([e.reasonCode, e.field, e.reason]).toEqual([
      "malformed",
      "index_price",
      "expected a decimal string: a JSON number (floating point) is refused; send a decimal string",
    ]);
    expect(toJsonRpcError(e)).toEqual({
      code: -32602,
      message: "Invalid params",
      data: "index_price: expected a decimal string: a JSON number (floating point) is refused; send a decimal string",
    });
  });

  it("refuses non-finite and non-plain decimal strings as invalid_value", () => {
    for (const bad of ["NaN", "Infinity", "-Infinity", "1e5", "0x10", " 1", "1.", ".5", "+1", "", "1,5"]) {
      const e = inputError(validPush({ funding_rate: bad }));
      expect([e.reasonCode, e.field], bad).toEqual(["invalid_value", "funding_rate"]);
    }
  });

  it("requires timestamp, epoch and sequence to be non-negative safe integers", () => {
    for (const [field, v] of [
      ["timestamp", "1769000000"],
      ["timestamp", 1769000000.5],
      ["epoch", -1],
      ["sequence", 2 ** 53],
      ["sequence", true],
    ] as const) {
      const e = inputError(validPush({ [field]: v }));
      expect([e.reasonCode, e.field], `${field}=${v}`).toEqual(["malformed", field]);
    }
    expect(normalizeMarketData(validPush({ epoch: 0, sequence: 0 })).epoch).toBe(0);
  });

  it("refuses a missing, null or unknown field and a non-object", () => {
    const { funding_index: _drop, ...missing } = validPush();
    expect([inputError(missing).field, inputError(missing).reason]).toEqual(["funding_index", "missing"]);
    expect(inputError(validPush({ source: null })).field).toBe("source");
    expect([inputError(validPush({ extra: 1 })).field, inputError(validPush({ extra: 1 })).reason]).toEqual(["extra", "unknown field"]);
    for (const raw of [null, "x", 5, [validPush()]]) expect([inputError(raw).reasonCode, inputError(raw).field]).toEqual(["malformed", ""]);
  });

  it("requires short-string-safe market and source names", () => {
    expect(inputError(validPush({ market: "" })).field).toBe("market");
    expect(inputError(validPush({ market: "A".repeat(32) })).field).toBe("market");
    expect(inputError(validPush({ source: "feed a" })).field).toBe("source");
    expect(normalizeMarketData(validPush({ market: "A".repeat(31) })).market).toBe("A".repeat(31));
  });
});

describe("formatting back to decimal strings", () => {
  it("formatMarketData is the inverse of normalization (shortest exact form)", () => {
    const u = normalizeMarketData(validPush({ funding_index: "-12.500000", funding_rate: "-0.000001" }));
    expect(formatMarketData(u)).toEqual({ ...validPush(), index_price: "97120", funding_index: "-12.5", funding_rate: "-0.000001" });
    expect(normalizeMarketData(formatMarketData(u))).toEqual(u);
  });

  it("formatWrite renders an accepted write", () => {
    expect(
      formatWrite({
        market: "ETH-USD-PERP",
        mark_price_e6: 3_400_010_000n,
        index_price_e6: 3_400_000_000n,
        funding_rate_e12: -7_000_000n,
        funding_index_e6: 87_124_987n,
        timestamp: 1769000001,
        epoch: 4,
        sequence: 7,
      }),
    ).toEqual({
      market: "ETH-USD-PERP",
      mark_price: "3400.01",
      index_price: "3400",
      funding_rate: "-0.000007",
      funding_index: "87.124987",
      timestamp: 1769000001,
      epoch: 4,
      sequence: 7,
    });
  });
});
