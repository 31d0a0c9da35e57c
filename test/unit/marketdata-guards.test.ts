// Each guard alone: it accepts the valid update and refuses its bad case with its exact code.

import { describe, expect, it } from "vitest";
import {
  baselineFromOracle,
  baselineGuard,
  DEFAULT_GUARD_CONFIG,
  epochGuard,
  fundingIndexGuard,
  fundingRateCapGuard,
  futureTimestampGuard,
  GUARDS,
  makeGuardConfig,
  markIndexDivergenceGuard,
  median,
  priceJumpGuard,
  readinessGuard,
  resolveMarketConfig,
  runGuards,
  sourceDeviationGuard,
  sourceOrderGuard,
  stalenessGuard,
  updateFingerprint,
  valueDomainGuard,
  type Guard,
  type GuardContext,
} from "../../sequencer/marketdata/guards.js";
import { normalizeMarketData, type MarketDataUpdate } from "../../sequencer/marketdata/update.js";
import { EPOCH, genesisOracle, NOW_S, validPush } from "./marketdata-fixture.js";

const valid = (over: Record<string, unknown> = {}): MarketDataUpdate => normalizeMarketData(validPush(over));

function context(over: Partial<GuardContext> = {}): GuardContext {
  return {
    now_s: NOW_S,
    lifecycle: "ready",
    epoch: EPOCH,
    market_config: resolveMarketConfig(DEFAULT_GUARD_CONFIG, "BTC-USD-PERP"),
    baseline: baselineFromOracle(genesisOracle().get("BTC-USD-PERP")),
    market_has_history: true,
    last_seen: undefined,
    recent: [],
    ...over,
  };
}

function code(guard: Guard, u: MarketDataUpdate, ctx: GuardContext = context()): string {
  const r = guard(u, ctx);
  return r.ok ? "ok" : r.code;
}

describe("the valid update", () => {
  it("passes every guard", () => {
    for (const { name, guard } of GUARDS) expect(guard(valid(), context()), name).toEqual({ ok: true });
    expect(runGuards(valid(), context())).toEqual({ ok: true });
  });
});

describe("guards refuse their bad case", () => {
  it("readiness: node_not_ready in every state but ready", () => {
    for (const s of ["starting", "recovering", "catching-up", "draining", "stopped"]) {
      expect(readinessGuard(valid(), context({ lifecycle: s }))).toEqual({
        ok: false,
        code: "node_not_ready",
        reason: `node is ${s}; market data is written only when ready`,
      });
    }
  });

  it("value domain: unknown market, non-positive and out-of-range values", () => {
    expect(code(valueDomainGuard, valid({ market: "DOGE-USD-PERP" }), context({ market_config: undefined }))).toBe("unknown_market");
    expect(code(valueDomainGuard, valid({ mark_price: "0" }))).toBe("invalid_value");
    expect(code(valueDomainGuard, valid({ index_price: "-1" }))).toBe("invalid_value");
    expect(code(valueDomainGuard, valid({ mark_price: "18446744073709.551615" }))).toBe("ok"); // 2^64 − 1 e6
    expect(code(valueDomainGuard, valid({ mark_price: "18446744073709.551616" }))).toBe("invalid_value");
    expect(code(valueDomainGuard, valid({ funding_index: "-170141183460469231731687303715884.105728" }))).toBe("ok"); // −2^127 e6
    expect(code(valueDomainGuard, valid({ funding_index: "-170141183460469231731687303715884.105729" }))).toBe("invalid_value");
    expect(code(valueDomainGuard, valid({ funding_rate: "170141183460469231731687303.715884105728" }))).toBe("invalid_value");
  });

  it("every guard that needs market parameters refuses an unknown market on its own", () => {
    const ctx = context({ market_config: undefined });
    for (const g of [stalenessGuard, futureTimestampGuard, priceJumpGuard, markIndexDivergenceGuard, sourceDeviationGuard]) {
      expect(code(g, valid(), ctx)).toBe("unknown_market");
    }
  });

  it("epoch fencing: older and newer epochs than the node's", () => {
    expect(epochGuard(valid({ epoch: 2 }), context())).toEqual({ ok: false, code: "stale_epoch", reason: "update epoch 2 is older than the node's epoch 3" });
    expect(code(epochGuard, valid({ epoch: 4 }))).toBe("future_epoch");
  });

  it("staleness: max_age_s = 30 by default, inclusive", () => {
    expect(code(stalenessGuard, valid({ timestamp: NOW_S - 30 }))).toBe("ok");
    expect(stalenessGuard(valid({ timestamp: NOW_S - 31 }), context())).toEqual({ ok: false, code: "stale", reason: "update is 31 s old; max_age_s is 30" });
  });

  it("future timestamp: max_clock_skew_s = 5 by default, inclusive", () => {
    expect(code(futureTimestampGuard, valid({ timestamp: NOW_S + 5 }))).toBe("ok");
    expect(code(futureTimestampGuard, valid({ timestamp: NOW_S + 6 }))).toBe("future_timestamp");
  });

  it("per-source order: duplicate, replayed sequence, non-monotonic timestamp", () => {
    const last = valid({ timestamp: NOW_S - 1 });
    const seen = { epoch: last.epoch, sequence: last.sequence, timestamp_s: last.timestamp_s, fingerprint: updateFingerprint(last) };
    const ctx = context({ last_seen: seen });
    expect(code(sourceOrderGuard, last, ctx)).toBe("duplicate");
    expect(code(sourceOrderGuard, valid(), ctx)).toBe("replayed_sequence"); // same sequence, new content
    expect(code(sourceOrderGuard, valid({ sequence: 1000 }), ctx)).toBe("replayed_sequence");
    expect(code(sourceOrderGuard, valid({ sequence: 1043, timestamp: NOW_S - 1 }), ctx)).toBe("non_monotonic_timestamp");
    expect(code(sourceOrderGuard, valid({ sequence: 1043 }), ctx)).toBe("ok");
    // a newer epoch may restart the sequence
    expect(code(sourceOrderGuard, valid({ sequence: 1, epoch: 4 }), ctx)).toBe("ok");
  });

  it("baseline: unavailable, empty with history, timestamp and epoch versus the chain", () => {
    expect(baselineGuard(valid(), context({ baseline: baselineFromOracle(undefined) }))).toEqual({
      ok: false,
      code: "no_baseline",
      reason: "no on-chain baseline for BTC-USD-PERP: the oracle record could not be read",
    });
    const unregistered = { ...genesisOracle().get("BTC-USD-PERP")!, funding_period_s: 0n };
    expect(code(baselineGuard, valid(), context({ baseline: baselineFromOracle(unregistered) }))).toBe("no_baseline");
    const empty = baselineFromOracle(genesisOracle().get("PAXG-USD-PERP"));
    expect(empty.kind).toBe("empty");
    expect(code(baselineGuard, valid(), context({ baseline: empty, market_has_history: true }))).toBe("no_baseline");
    expect(code(baselineGuard, valid(), context({ baseline: empty, market_has_history: false }))).toBe("ok");
    expect(code(baselineGuard, valid({ timestamp: NOW_S - 15 }))).toBe("ok"); // lagging sources still count
    const newerEpoch = baselineFromOracle({ ...genesisOracle().get("BTC-USD-PERP")!, epoch: 4n });
    expect(code(baselineGuard, valid(), context({ baseline: newerEpoch }))).toBe("stale_epoch");
  });

  it("funding rate cap: the on-chain cap per hour by default, a configured override wins", () => {
    expect(code(fundingRateCapGuard, valid({ funding_rate: "0.0005" }))).toBe("ok");
    expect(code(fundingRateCapGuard, valid({ funding_rate: "-0.000500000001" }))).toBe("funding_rate_cap");
    // a 2-hour funding period halves the per-hour cap
    const twoHour = baselineFromOracle({ ...genesisOracle().get("BTC-USD-PERP")!, funding_period_s: 7200n });
    expect(code(fundingRateCapGuard, valid({ funding_rate: "0.00025" }), context({ baseline: twoHour }))).toBe("ok");
    expect(code(fundingRateCapGuard, valid({ funding_rate: "0.000250000001" }), context({ baseline: twoHour }))).toBe("funding_rate_cap");
    const strict = resolveMarketConfig(makeGuardConfig({ markets: { "BTC-USD-PERP": { max_funding_rate_e12: 10_000_000n } } }), "BTC-USD-PERP");
    expect(code(fundingRateCapGuard, valid(), context({ market_config: strict }))).toBe("funding_rate_cap");
  });

  it("funding index: reset to zero, and steps exactly at and beyond the oracle's cap", () => {
    // cap = 500e6 × min(97120, 97123.45)e6 × 10 / (1e12 × 3600) = 134888 (e6, floored)
    expect(code(fundingIndexGuard, valid({ funding_index: "0" }))).toBe("funding_index_reset");
    expect(code(fundingIndexGuard, valid({ funding_index: "1523.912260" }))).toBe("ok"); // +0.134888
    expect(fundingIndexGuard(valid({ funding_index: "1523.912261" }), context())).toEqual({
      ok: false,
      code: "funding_index_jump",
      reason: "|Δfunding_index| 134889 (e6) over 10 s exceeds the cap 134888",
    });
    expect(code(fundingIndexGuard, valid({ funding_index: "1523.642484" }))).toBe("ok"); // −0.134888
    expect(code(fundingIndexGuard, valid({ funding_index: "1523.642483" }))).toBe("funding_index_jump");
    // a source 5 s behind the chain: cap over |−5 s| = 67444
    expect(code(fundingIndexGuard, valid({ timestamp: NOW_S - 15, funding_index: "1523.844816" }))).toBe("ok");
    expect(code(fundingIndexGuard, valid({ timestamp: NOW_S - 15, funding_index: "1523.844817" }))).toBe("funding_index_jump");
    // a market never written has nothing to compare with (the baseline guard decides)
    const empty = baselineFromOracle(genesisOracle().get("PAXG-USD-PERP"));
    expect(code(fundingIndexGuard, valid({ funding_index: "0" }), context({ baseline: empty }))).toBe("ok");
  });

  it("price jump: 5 % per 60 s versus the on-chain value, at most 20 %", () => {
    // baseline mark 97120.00 / index 97118.00 10 s ago: +5 % = 101976.00 / 101973.90
    expect(code(priceJumpGuard, valid({ mark_price: "101976.00", index_price: "101973.90" }))).toBe("ok");
    expect(code(priceJumpGuard, valid({ mark_price: "101976.00", index_price: "101973.91" }))).toBe("price_jump");
    expect(code(priceJumpGuard, valid({ mark_price: "101976.01" }))).toBe("price_jump");
    expect(code(priceJumpGuard, valid({ index_price: "92261.00" }))).toBe("price_jump"); // index −5.0001 %
    // 3 min later: 15 % allowed; 1 h later: capped at 20 %
    const at = (s: number) => valid({ timestamp: NOW_S - 10 + s });
    const ctx = (s: number) => context({ now_s: NOW_S - 10 + s });
    expect(code(priceJumpGuard, { ...at(180), mark_price_e6: 111_688_000_000n, index_price_e6: 111_685_700_000n }, ctx(180))).toBe("ok");
    expect(code(priceJumpGuard, { ...at(180), mark_price_e6: 111_688_000_001n }, ctx(180))).toBe("price_jump");
    expect(code(priceJumpGuard, { ...at(3600), mark_price_e6: 116_544_000_000n, index_price_e6: 116_541_600_000n }, ctx(3600))).toBe("ok");
    expect(code(priceJumpGuard, { ...at(3600), mark_price_e6: 116_544_000_001n }, ctx(3600))).toBe("price_jump");
    expect(code(priceJumpGuard, valid({ mark_price: "145680.00", index_price: "145680.00" }))).toBe("price_jump");
  });

  it("mark/index divergence: 2 % of the index", () => {
    expect(code(markIndexDivergenceGuard, valid({ mark_price: "99062.40" }))).toBe("ok"); // exactly +2 %
    expect(code(markIndexDivergenceGuard, valid({ mark_price: "99062.41" }))).toBe("mark_index_divergence");
    expect(code(markIndexDivergenceGuard, valid({ mark_price: "95177.60" }))).toBe("ok"); // exactly −2 %
    expect(code(markIndexDivergenceGuard, valid({ mark_price: "95177.59" }))).toBe("mark_index_divergence");
  });

  it("source deviation: 1 % from the median of the other sources' fresh values", () => {
    const peers = [valid({ source: "b", mark_price: "97000.00" }), valid({ source: "c", mark_price: "97200.00" }), valid({ source: "d", mark_price: "97100.00" })];
    const ctx = context({ recent: peers });
    // median of b, c, d marks = 97100.00; 1 % = 971.00
    expect(code(sourceDeviationGuard, valid({ mark_price: "98071.00" }), ctx)).toBe("ok");
    expect(sourceDeviationGuard(valid({ mark_price: "98071.01" }), ctx)).toEqual({
      ok: false,
      code: "source_deviation",
      reason: "mark_price 98071010000 (e6) is more than 10000 ppm from the median 97100000000 of 3 other source(s)",
    });
    // the source's own previous value and stale peers do not count
    const own = context({ recent: [valid({ source: "feed-a", mark_price: "50000.00" })] });
    expect(code(sourceDeviationGuard, valid(), own)).toBe("ok");
    const stalePeers = context({ recent: [valid({ source: "b", mark_price: "50000.00", timestamp: NOW_S - 31 })] });
    expect(code(sourceDeviationGuard, valid(), stalePeers)).toBe("ok");
    const needTwo = resolveMarketConfig(makeGuardConfig({ defaults: { min_peer_sources: 2 } }), "BTC-USD-PERP");
    expect(code(sourceDeviationGuard, valid(), context({ market_config: needTwo, recent: [valid({ source: "b", mark_price: "50000.00" })] }))).toBe("ok");
  });

  it("runGuards answers with the first refusal in the documented order", () => {
    const r = runGuards(valid({ mark_price: "0", epoch: 2 }), context({ lifecycle: "recovering" }));
    expect(r.ok ? "ok" : r.code).toBe("node_not_ready");
    expect(GUARDS.map((g) => g.name)).toEqual([
      "readiness", "value_domain", "epoch", "staleness", "future_timestamp", "source_order", "baseline",
      "funding_rate_cap", "funding_index", "price_jump", "mark_index_divergence", "source_deviation",
    ]);
  });
});

describe("guard configuration", () => {
  it("has the documented defaults for the genesis markets", () => {
    expect(Object.keys(DEFAULT_GUARD_CONFIG.markets)).toEqual(["BTC-USD-PERP", "ETH-USD-PERP", "PAXG-USD-PERP"]);
    expect(resolveMarketConfig(DEFAULT_GUARD_CONFIG, "PAXG-USD-PERP")).toEqual({
      max_age_s: 30,
      max_clock_skew_s: 5,
      max_price_move_ppm: 50_000n,
      price_move_interval_s: 60,
      max_price_move_total_ppm: 200_000n,
      max_mark_index_divergence_ppm: 20_000n,
      max_source_deviation_ppm: 10_000n,
      min_peer_sources: 1,
      max_funding_rate_e12: null,
      max_price_e6: 18_446_744_073_709_551_615n,
      quorum: 1,
      breaker_threshold: 5,
      breaker_window_s: 60,
    });
    expect(resolveMarketConfig(DEFAULT_GUARD_CONFIG, "DOGE-USD-PERP")).toBeUndefined();
  });

  it("per-market overrides apply to that market only", () => {
    const cfg = makeGuardConfig({ markets: { "BTC-USD-PERP": { max_age_s: 10 }, "ETH-USD-PERP": {} } });
    expect(resolveMarketConfig(cfg, "BTC-USD-PERP")!.max_age_s).toBe(10);
    expect(resolveMarketConfig(cfg, "ETH-USD-PERP")!.max_age_s).toBe(30);
    expect(resolveMarketConfig(cfg, "PAXG-USD-PERP")).toBeUndefined();
  });

  it("rejects invalid values with a RangeError naming them", () => {
    expect(() => makeGuardConfig({ defaults: { quorum: 0 } })).toThrow("guard config defaults.quorum: a positive integer");
    expect(() => makeGuardConfig({ markets: { "BTC-USD-PERP": { max_price_move_total_ppm: 1n } } })).toThrow(
      "guard config BTC-USD-PERP.max_price_move_total_ppm: ≥ max_price_move_ppm",
    );
    expect(() => makeGuardConfig({ defaults: { max_price_e6: 1n << 64n } })).toThrow(RangeError);
  });
});

describe("median", () => {
  it("is the middle value, or the floored mean of the two middle values", () => {
    expect(median([3n, 1n, 2n])).toBe(2n);
    expect(median([4n, 1n, 2n, 3n])).toBe(2n);
    expect(median([-3n, -2n])).toBe(-3n);
    expect(median([7n])).toBe(7n);
    expect(() => median([])).toThrow(RangeError);
  });
});
