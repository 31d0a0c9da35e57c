// Sources: the deterministic simulator (same seed ⇒ same pushes; its pushes pass every
// guard and every write passes the oracle's check) and JSONL file replay.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJsonl, ReplaySource } from "../../sequencer/marketdata/replay-source.js";
import { MarketDataSimulator, SimulatorSource } from "../../sequencer/marketdata/simulator-source.js";
import type { Scheduler, SourceError } from "../../sequencer/marketdata/source.js";
import { normalizeMarketData, type MarketDataPush } from "../../sequencer/marketdata/update.js";
import { EPOCH, NOW_S, validPush, World } from "./marketdata-fixture.js";

const run = (seed: number, steps: number, sources = ["sim-a", "sim-b", "sim-c"]) => {
  const sim = new MarketDataSimulator({ seed, sources, epoch: () => EPOCH });
  const out: MarketDataPush[] = [];
  for (let i = 1; i <= steps; i++) out.push(...sim.step(NOW_S + i));
  return out;
};

/** A scheduler driven by the test: tick() runs the registered callback once. */
function manualScheduler(): { schedule: Scheduler; tick: () => void; active: () => boolean } {
  let fn: (() => void) | undefined;
  return {
    schedule: (f) => {
      fn = f;
      return () => {
        fn = undefined;
      };
    },
    tick: () => fn?.(),
    active: () => fn !== undefined,
  };
}

describe("simulator", () => {
  it("is deterministic: the same seed gives the same pushes, another seed different ones", () => {
    const a = run(42, 50);
    expect(run(42, 50)).toEqual(a);
    expect(run(43, 50)).not.toEqual(a);
    expect(a.length).toBe(50 * 3 * 3);
    expect(a[0]).toEqual({
      market: "BTC-USD-PERP",
      source: "sim-a",
      mark_price: a[0]!.mark_price,
      index_price: a[0]!.index_price,
      funding_rate: "0",
      funding_index: "1523.774",
      timestamp: NOW_S + 1,
      epoch: EPOCH,
      sequence: 1,
    });
  });

  it("stays at realistic levels with a funding index that moves against the rate", () => {
    const pushes = run(7, 600, ["sim"]);
    const levels: Record<string, [number, number]> = { "BTC-USD-PERP": [90_000, 105_000], "ETH-USD-PERP": [3_100, 3_700], "PAXG-USD-PERP": [2_450, 2_850] };
    const last = new Map<string, MarketDataPush>();
    for (const p of pushes) {
      const u = normalizeMarketData(p);
      const [lo, hi] = levels[p.market]!;
      expect(u.mark_price_e6 >= BigInt(lo) * 1_000_000n && u.mark_price_e6 <= BigInt(hi) * 1_000_000n, `${p.market} ${p.mark_price}`).toBe(true);
      const cap = p.market === "PAXG-USD-PERP" ? 250_000_000n : 500_000_000n;
      expect(u.funding_rate_e12 <= cap && u.funding_rate_e12 >= -cap).toBe(true);
      const prev = last.get(p.market);
      if (prev) {
        const d = u.funding_index_e6 - normalizeMarketData(prev).funding_index_e6;
        // positive rate: longs pay, index falls (contracts/perp/units.ts sign convention)
        if (u.funding_rate_e12 > 0n) expect(d <= 0n).toBe(true);
        if (u.funding_rate_e12 < 0n) expect(d >= 0n).toBe(true);
        // |Δ| ≤ |rate| × mark × 1 s / 1 h
        const bound = ((u.funding_rate_e12 < 0n ? -u.funding_rate_e12 : u.funding_rate_e12) * u.mark_price_e6 * 2n) / (10n ** 12n * 3600n) + 1n;
        expect(d <= bound && -d <= bound).toBe(true);
      }
      last.set(p.market, p);
    }
    expect([...last.values()].some((p) => p.funding_index !== "1523.774" && p.market === "BTC-USD-PERP")).toBe(true);
  });

  it("produces updates that pass every guard, and writes that pass the oracle's check, for 10 minutes of 3 sources", () => {
    const world = new World();
    world.oracle.set("BTC-USD-PERP", { ...world.oracle.get("BTC-USD-PERP")!, timestamp_s: BigInt(NOW_S - 10), mark_price_e6: 97_000_000_000n, index_price_e6: 97_000_000_000n, funding_index_e6: 1_523_774_000n });
    world.oracle.set("ETH-USD-PERP", { ...world.oracle.get("ETH-USD-PERP")!, mark_price_e6: 3_400_000_000n, index_price_e6: 3_400_000_000n });
    const p = world.pipeline();
    const sim = new MarketDataSimulator({ seed: 2026, sources: ["sim-a", "sim-b", "sim-c"], epoch: () => world.epoch });
    let writes = 0;
    for (let i = 1; i <= 600; i++) {
      world.now_s = NOW_S + i;
      for (const push of sim.step(world.now_s)) {
        const r = p.submit(push);
        if (!r.accepted) throw new Error(`refused ${push.market}/${push.source} at step ${i}: ${r.reason}: ${r.message}`);
        if (r.write) {
          world.commit(r.write);
          writes++;
        }
      }
    }
    expect(writes).toBe(600 * 3);
    expect(p.rejections()).toEqual([]);
  });

  it("refuses a step that does not advance time", () => {
    const sim = new MarketDataSimulator({ seed: 1, epoch: () => 1 });
    sim.step(100);
    expect(() => sim.step(100)).toThrow(RangeError);
  });

  it("SimulatorSource stamps the injected clock and stops delivering after stop()", () => {
    let now = NOW_S;
    const sched = manualScheduler();
    const src = new SimulatorSource(new MarketDataSimulator({ seed: 5, epoch: () => EPOCH }), { now_s: () => now, interval_ms: 1000, schedule: sched.schedule });
    const got: MarketDataPush[] = [];
    src.start((p) => got.push(p as MarketDataPush));
    expect(() => src.start(() => {})).toThrow("simulator already started");
    sched.tick();
    sched.tick(); // clock did not advance: nothing new
    now += 1;
    sched.tick();
    expect(got.map((p) => [p.market, p.timestamp])).toEqual([
      ["BTC-USD-PERP", NOW_S], ["ETH-USD-PERP", NOW_S], ["PAXG-USD-PERP", NOW_S],
      ["BTC-USD-PERP", NOW_S + 1], ["ETH-USD-PERP", NOW_S + 1], ["PAXG-USD-PERP", NOW_S + 1],
    ]);
    src.stop();
    expect(sched.active()).toBe(false);
  });
});

describe("JSONL replay", () => {
  const dir = mkdtempSync(join(tmpdir(), "perpchain-md-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const lines = [
    JSON.stringify(validPush({ sequence: 1, timestamp: NOW_S - 2 })),
    "",
    "{not json",
    JSON.stringify(validPush({ sequence: 2, timestamp: NOW_S - 1 })),
    JSON.stringify(validPush({ sequence: 3, mark_price: "0" })),
  ];
  const file = join(dir, "feed.jsonl");
  writeFileSync(file, lines.join("\n") + "\n");

  it("parseJsonl keeps line numbers and reports undecodable lines", () => {
    const parsed = parseJsonl(lines.join("\n"));
    expect(parsed.map((l) => ("error" in l ? `${l.line}:error` : `${l.line}:ok`))).toEqual(["1:ok", "3:error", "4:ok", "5:ok"]);
  });

  it("delivers every line in order into the pipeline, undecodable lines to onError", async () => {
    const world = new World();
    const p = world.pipeline();
    const results: string[] = [];
    const errors: SourceError[] = [];
    const src = new ReplaySource({ path: file, name: "replay" });
    src.start(
      (push) => {
        const r = p.submit(push);
        results.push(r.accepted ? `accepted:${r.write?.sequence}` : `refused:${r.reason}`);
      },
      (e) => errors.push(e),
    );
    await src.done;
    expect(results).toEqual(["accepted:11", "accepted:12", "refused:invalid_value"]);
    expect(errors.map((e) => [e.source, e.line, e.text])).toEqual([["replay", 3, "{not json"]]);
  });

  it("paces lines with an injected scheduler and stops mid-file", async () => {
    const sched = manualScheduler();
    const got: unknown[] = [];
    const src = new ReplaySource({ path: file, interval_ms: 1000, schedule: sched.schedule });
    src.start((push) => got.push(push));
    for (let i = 0; i < 100 && !sched.active(); i++) await new Promise((r) => setTimeout(r, 5));
    sched.tick();
    expect(got.length).toBe(1);
    src.stop();
    await src.done;
    sched.tick();
    expect(got.length).toBe(1);
  });

  it("rejects done when the file cannot be read", async () => {
    const src = new ReplaySource({ path: join(dir, "missing.jsonl") });
    src.start(() => {});
    await expect(src.done).rejects.toThrow("ENOENT");
  });
});
