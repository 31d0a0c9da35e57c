// The composed pipeline: the adversarial corpus, aggregation and quorum, the circuit
// breaker, the oracle pre-check, status and quarantine, the unguarded drill mode, and the
// incident race (a restart with a missing baseline must not write a zero funding index).

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ExchangeError } from "../../contracts/perp/errors.js";
import { makeGuardConfig, type Baseline } from "../../sequencer/marketdata/guards.js";
import type { PipelineResult } from "../../sequencer/marketdata/pipeline.js";
import { EPOCH, NOW_S, validPush, World } from "./marketdata-fixture.js";

const here = dirname(new URL(import.meta.url).pathname);
const corpusPath = resolve(here, "../vectors/marketdata/adversarial.jsonl");

interface CorpusCase {
  name: string;
  expect: string;
  push: unknown;
  setup?: { prior?: unknown[]; lifecycle?: string; baseline?: "unavailable" | "empty"; history?: boolean; epoch?: number };
}

const corpus: CorpusCase[] = readFileSync(corpusPath, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as CorpusCase);

function refused(r: PipelineResult): { reason: string; message: string; field?: string } {
  if (r.accepted) throw new Error(`expected a refusal, got ${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  return r;
}

function accepted(r: PipelineResult) {
  if (!r.accepted) throw new Error(`expected acceptance, got ${r.reason}: ${r.message}`);
  return r;
}

describe("adversarial corpus", () => {
  it("has at least 20 cases covering every guard code", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    const codes = new Set(corpus.map((c) => c.expect));
    for (const code of [
      "malformed", "invalid_value", "unknown_market", "node_not_ready", "stale_epoch", "future_epoch", "stale", "future_timestamp",
      "duplicate", "replayed_sequence", "non_monotonic_timestamp", "no_baseline", "funding_rate_cap", "funding_index_reset",
      "funding_index_jump", "price_jump", "mark_index_divergence", "source_deviation",
    ]) expect(codes, code).toContain(code);
  });

  for (const c of corpus) {
    it(`refuses: ${c.name} → ${c.expect}`, () => {
      const world = new World();
      const s = c.setup ?? {};
      if (s.lifecycle) world.lifecycle = s.lifecycle;
      if (s.epoch !== undefined) world.epoch = s.epoch;
      if (s.baseline === "unavailable") world.baselineOverride = { kind: "unavailable", reason: "store unreadable" };
      if (s.baseline === "empty") world.baselineOverride = { kind: "empty", max_funding_rate_e12: 500_000_000n, funding_period_s: 3600n };
      const p = world.pipeline({ marketsWithHistory: s.history ? ["BTC-USD-PERP"] : [] });
      for (const prior of s.prior ?? []) accepted(p.submit(prior));
      const r = refused(p.submit(c.push));
      expect(r.reason).toBe(c.expect);
      expect(p.rejections().at(-1)!.reason).toBe(c.expect);
    });
  }

  it("the valid push the corpus mutates is accepted in the same fixture", () => {
    const r = accepted(new World().pipeline().submit(validPush()));
    expect(r.write).toEqual({
      market: "BTC-USD-PERP",
      mark_price_e6: 97_123_450_000n,
      index_price_e6: 97_120_000_000n,
      funding_rate_e12: 12_500_000n,
      funding_index_e6: 1_523_774_000n,
      timestamp: NOW_S,
      epoch: EPOCH,
      sequence: 11,
    });
  });
});

describe("aggregation and quorum", () => {
  it("writes the median of three sources", () => {
    const world = new World();
    const p = world.pipeline();
    accepted(p.submit(validPush({ source: "a", mark_price: "97121.00", timestamp: NOW_S - 2 })));
    accepted(p.submit(validPush({ source: "b", mark_price: "97125.00", funding_index: "1523.770", timestamp: NOW_S - 1 })));
    const r = accepted(p.submit(validPush({ source: "c", mark_price: "97130.00", funding_index: "1523.775" })));
    expect(r.write!.mark_price_e6).toBe(97_125_000_000n);
    expect(r.write!.funding_index_e6).toBe(1_523_774_000n);
    // stamped with the median timestamp; b's update (median still NOW−2) wrote nothing
    expect(r.write!.timestamp).toBe(NOW_S - 1);
    expect(r.write!.sequence).toBe(12);
  });

  it("waits for the quorum before writing, then writes the (floored) median of two", () => {
    const world = new World();
    const p = world.pipeline({ config: makeGuardConfig({ defaults: { quorum: 2 } }) });
    expect(accepted(p.submit(validPush({ source: "a", mark_price: "97121.00", timestamp: NOW_S - 1 })))).toEqual({ accepted: true, write: null, pending: "quorum" });
    const r = accepted(p.submit(validPush({ source: "b", mark_price: "97122.000001" })));
    expect(r.write!.mark_price_e6).toBe(97_121_500_000n);
  });

  it("does not count a source whose latest value is no longer fresh", () => {
    const world = new World();
    const p = world.pipeline({ config: makeGuardConfig({ defaults: { quorum: 2 } }) });
    world.now_s = NOW_S - 5;
    accepted(p.submit(validPush({ source: "a", timestamp: NOW_S - 5 })));
    world.now_s = NOW_S + 30; // a's update is 35 s old now
    expect(accepted(p.submit(validPush({ source: "b", timestamp: NOW_S + 29 })))).toEqual({ accepted: true, write: null, pending: "quorum" });
  });

  it("accepts a second source at the same second without a second write", () => {
    const p = new World().pipeline();
    accepted(p.submit(validPush({ source: "a" })));
    expect(accepted(p.submit(validPush({ source: "b" })))).toEqual({ accepted: true, write: null, pending: "not_newer" });
  });

  it("accepts a lagging source's update without writing when it is not newer than the chain", () => {
    const world = new World();
    const p = world.pipeline();
    expect(accepted(p.submit(validPush({ timestamp: NOW_S - 12, funding_index: "1523.778" })))).toEqual({ accepted: true, write: null, pending: "not_newer" });
    expect(p.status().markets["BTC-USD-PERP"]!.last_accepted!.timestamp).toBe(NOW_S - 12);
  });

  it("refuses an aggregate the oracle would refuse after this process's own pending write", () => {
    const p = new World().pipeline();
    // a: +0.060000 over 5 s (cap 0.067444): accepted and written at NOW-5
    accepted(p.submit(validPush({ source: "a", funding_index: "1523.837372", timestamp: NOW_S - 5 })));
    // b, c: −0.080000 over 6 s (cap 0.080933) pass their guards; b alone does not move the
    // median timestamp, c does, and the median (−0.080000) is 0.140000 away from the
    // pending write only 1 s later (cap 0.013488).
    expect(accepted(p.submit(validPush({ source: "b", funding_index: "1523.697372", timestamp: NOW_S - 4 }))).pending).toBe("not_newer");
    const r = refused(p.submit(validPush({ source: "c", funding_index: "1523.697372", timestamp: NOW_S - 4 })));
    expect(r.reason).toBe("onchain_precheck");
    expect(r.message).toBe("the aggregate would be refused on chain: ORACLE: funding step too big");
  });
});

describe("writes land on chain", () => {
  it("consecutive writes continue the on-chain sequence and pass the oracle's check", () => {
    const world = new World();
    const p = world.pipeline();
    for (let i = 0; i < 5; i++) {
      const r = accepted(p.submit(validPush({ sequence: 1042 + i, timestamp: NOW_S + i })));
      world.now_s += 1;
      world.commit(r.write!);
    }
    expect(world.oracle.get("BTC-USD-PERP")!.sequence).toBe(15n);
  });

  it("starts the sequence at 1 in a new epoch", () => {
    const world = new World();
    world.epoch = 4;
    const r = accepted(world.pipeline().submit(validPush({ epoch: 4 })));
    expect([r.write!.epoch, r.write!.sequence]).toEqual([4, 1]);
    world.commit(r.write!);
  });

  it("bootstraps a registered market that was never written (no history)", () => {
    const world = new World();
    const r = accepted(
      world.pipeline().submit(validPush({ market: "PAXG-USD-PERP", mark_price: "2650.10", index_price: "2650.00", funding_rate: "0.00001", funding_index: "0" })),
    );
    expect(r.write!.funding_index_e6).toBe(0n);
    world.commit(r.write!);
    expect(world.oracle.get("PAXG-USD-PERP")!.timestamp_s).toBe(BigInt(NOW_S));
  });
});

describe("circuit breaker", () => {
  const bad = (i: number) => validPush({ mark_price: "0", sequence: 2000 + i });

  it("opens after 5 counted refusals within 60 s and refuses valid updates with circuit_open", () => {
    const world = new World();
    const p = world.pipeline();
    for (let i = 0; i < 4; i++) {
      expect(refused(p.submit(bad(i))).reason).toBe("invalid_value");
      expect(p.breakerState("BTC-USD-PERP")).toBe("closed");
    }
    expect(refused(p.submit(bad(4))).reason).toBe("invalid_value");
    expect(p.breakerState("BTC-USD-PERP")).toBe("open");
    expect(refused(p.submit(validPush())).reason).toBe("circuit_open");
    // other markets are unaffected
    accepted(p.submit(validPush({ market: "ETH-USD-PERP", mark_price: "3401.00", index_price: "3400.90", funding_rate: "0.00001", funding_index: "87.124" })));
  });

  it("stays open as time passes and closes only by the operator call", () => {
    const world = new World();
    const p = world.pipeline();
    for (let i = 0; i < 5; i++) p.submit(bad(i));
    world.now_s += 10_000;
    expect(p.breakerState("BTC-USD-PERP")).toBe("open");
    expect(refused(p.submit(validPush({ timestamp: world.now_s }))).reason).toBe("circuit_open");
    world.baselineOverride = undefined;
    world.now_s = NOW_S;
    expect(p.closeBreaker("BTC-USD-PERP")).toBe("open");
    expect(p.breakerState("BTC-USD-PERP")).toBe("closed");
    accepted(p.submit(validPush()));
    expect(p.status().markets["BTC-USD-PERP"]!.rejections).toEqual({ invalid_value: 5, circuit_open: 1 });
  });

  it("does not open when the refusals are spread wider than the window", () => {
    const world = new World();
    const p = world.pipeline();
    for (let i = 0; i < 8; i++) {
      p.submit(bad(i));
      world.now_s += 15; // at most 4 refusals in any 60 s
    }
    expect(p.breakerState("BTC-USD-PERP")).toBe("closed");
  });

  it("does not count node_not_ready refusals (a restart is not bad data)", () => {
    const world = new World();
    world.lifecycle = "recovering";
    const p = world.pipeline();
    for (let i = 0; i < 10; i++) expect(refused(p.submit(validPush({ sequence: 3000 + i }))).reason).toBe("node_not_ready");
    expect(p.breakerState("BTC-USD-PERP")).toBe("closed");
  });

  it("refuses to close the breaker of an unknown market", () => {
    expect(() => new World().pipeline().closeBreaker("DOGE-USD-PERP")).toThrow(RangeError);
  });
});

describe("the incident race, in pure form", () => {
  it("after a restart with an unreadable baseline, a zero funding index is refused, not written", () => {
    const world = new World();
    const before = world.pipeline();
    const first = accepted(before.submit(validPush()));
    world.commit(first.write!);
    // restart: new process, new epoch, and the store the baseline comes from is empty
    world.epoch = 4;
    world.now_s += 5;
    world.baselineOverride = { kind: "unavailable", reason: "store is being upgraded" };
    const after = world.pipeline();
    const r = refused(after.submit(validPush({ funding_index: "0", epoch: 4, sequence: 1, timestamp: world.now_s })));
    expect(r.reason).toBe("no_baseline");
    expect(world.oracle.get("BTC-USD-PERP")!.funding_index_e6).toBe(1_523_774_000n);
  });

  it("an empty committed record for a market known to have had values is refused", () => {
    const world = new World();
    world.epoch = 4;
    world.baselineOverride = { kind: "empty", max_funding_rate_e12: 500_000_000n, funding_period_s: 3600n };
    const p = world.pipeline({ marketsWithHistory: ["BTC-USD-PERP"] });
    expect(refused(p.submit(validPush({ funding_index: "0", epoch: 4, sequence: 1 }))).reason).toBe("no_baseline");
  });

  it("a pipeline that has seen on-chain values remembers the market had history", () => {
    const world = new World();
    const p = world.pipeline();
    accepted(p.submit(validPush()));
    world.baselineOverride = { kind: "empty", max_funding_rate_e12: 500_000_000n, funding_period_s: 3600n };
    expect(refused(p.submit(validPush({ funding_index: "0", sequence: 1043, timestamp: NOW_S + 1 }))).reason).toBe("no_baseline");
  });

  it("a baseline read that throws is a refusal", () => {
    const world = new World();
    const p = world.pipeline({
      readBaseline: (): Baseline => {
        throw new Error("LEVEL_NOT_OPEN");
      },
    });
    const r = refused(p.submit(validPush()));
    expect(r.reason).toBe("no_baseline");
    expect(r.message).toBe("no on-chain baseline for BTC-USD-PERP: reading the baseline failed: LEVEL_NOT_OPEN");
  });

  it("with guards disabled (drill only) the zero index goes through, and only the oracle stops it", () => {
    const world = new World();
    world.baselineOverride = { kind: "unavailable", reason: "store is being upgraded" };
    const p = world.pipeline({ unsafeDisableGuards: true });
    const r = accepted(p.submit(validPush({ funding_index: "0" })));
    expect(r.write!.funding_index_e6).toBe(0n);
    expect(() => world.commit(r.write!)).toThrow(ExchangeError);
    expect(p.status().guards_disabled).toBe(true);
  });
});

describe("status and quarantine", () => {
  it("reports epoch, last accepted values as decimal strings, rejection counts and breaker", () => {
    const world = new World();
    const p = world.pipeline();
    accepted(p.submit(validPush()));
    p.submit(validPush({ mark_price: "0", sequence: 1043 }));
    p.submit(validPush({ market: "DOGE-USD-PERP" }));
    p.submit({ nonsense: true });
    const s = p.status();
    expect(s.epoch).toBe(3);
    expect(s.markets["BTC-USD-PERP"]).toEqual({
      last_accepted: {
        market: "BTC-USD-PERP",
        source: "feed-a",
        mark_price: "97123.45",
        index_price: "97120",
        funding_rate: "0.0000125",
        funding_index: "1523.774",
        timestamp: NOW_S,
        epoch: 3,
        sequence: 1042,
      },
      last_write: {
        market: "BTC-USD-PERP",
        mark_price: "97123.45",
        index_price: "97120",
        funding_rate: "0.0000125",
        funding_index: "1523.774",
        timestamp: NOW_S,
        epoch: 3,
        sequence: 11,
      },
      rejections: { invalid_value: 1 },
      breaker: "closed",
      breaker_detail: { state: "closed", recent_refusals: 1 },
    });
    expect(s.markets["ETH-USD-PERP"]!.last_accepted).toBeNull();
    expect(s.unattributed_rejections).toEqual({ unknown_market: 1, malformed: 1 });
    expect(Object.keys(s.markets)).toEqual(["BTC-USD-PERP", "ETH-USD-PERP", "PAXG-USD-PERP"]);
  });

  it("keeps a bounded list of recent rejections and hands each to onRejection", () => {
    const seen: string[] = [];
    const world = new World();
    const p = world.pipeline({ maxRecentRejections: 3, onRejection: (r) => seen.push(`${r.reason}:${r.field ?? ""}`) });
    p.submit(validPush({ mark_price: 1 }));
    p.submit(validPush({ epoch: 2 }));
    p.submit(validPush({ timestamp: NOW_S - 100 }));
    p.submit(validPush({ market: "X" }));
    expect(seen).toEqual(["malformed:mark_price", "stale_epoch:", "stale:", "unknown_market:"]);
    const list = p.rejections();
    expect(list.map((r) => r.reason)).toEqual(["stale_epoch", "stale", "unknown_market"]);
    expect(list[0]).toEqual({
      market: "BTC-USD-PERP",
      source: "feed-a",
      reason: "stale_epoch",
      message: "update epoch 2 is older than the node's epoch 3",
      at_s: NOW_S,
      epoch: 3,
      update: { ...validPush({ epoch: 2 }), index_price: "97120" },
    });
  });

  it("reports the field of a malformed push", () => {
    const r = refused(new World().pipeline().submit(validPush({ timestamp: "soon" })));
    expect(r).toEqual({ accepted: false, reason: "malformed", field: "timestamp", message: "expected a non-negative safe integer, got a string" });
  });
});
