import { describe, expect, it } from "vitest";
import { ExchangeClass } from "../../contracts/perp/exchange-contract.js";
import { OracleClass } from "../../contracts/oracle.js";
import { CalldataError, decodeEvent } from "../../contracts/runtime/index.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { P } from "../../state/felt.js";

describe("decodeEvent", () => {
  it("decodes an OrderPlaced event's keys and data by the members the exchange declares", () => {
    const keys = [selectorFromName("OrderPlaced"), 42n, 0xabcn, 0x4254432d5553442d50455250n];
    const data = [1n, 3n, 0n, 0n, 95_000_000_000n, 5_000_000n];
    expect(decodeEvent(ExchangeClass, keys, data)).toEqual({
      name: "OrderPlaced",
      values: { order_id: 42n, owner: 0xabcn, market: 0x4254432d5553442d50455250n, side: 1n, order_type: 3n, flags: 0n, price_e6: 0n, trigger_price_e6: 95_000_000_000n, size_e8: 5_000_000n },
    });
  });

  it("decodes signed members in Cairo's convention (P - |x|)", () => {
    const ev = decodeEvent(OracleClass, [selectorFromName("MarketDataUpdated"), 0x1234n], [97_000_000_000n, 97_000_000_000n, P - 5n, P - 1_000n, 1_700_000_000n, 2n, 9n]);
    expect(ev?.values).toMatchObject({ funding_rate: -5n, funding_index: -1_000n, timestamp: 1_700_000_000n, epoch: 2n, sequence: 9n });
  });

  it("answers undefined for an event the class does not declare, and refuses missing or extra felts", () => {
    expect(decodeEvent(ExchangeClass, [selectorFromName("Transfer"), 1n], [2n])).toBeUndefined();
    expect(decodeEvent(ExchangeClass, [], [])).toBeUndefined();
    expect(() => decodeEvent(ExchangeClass, [selectorFromName("Deposit")], [5n])).toThrow(CalldataError);
    expect(() => decodeEvent(ExchangeClass, [selectorFromName("Deposit"), 0xabcn], [5n, 6n])).toThrow(CalldataError);
  });
});
