// The January-incident rollback drill at reduced size (8 traders): run 1 refuses the
// restart race's zero funding indices and liquidates nobody; run 2 lets them land,
// liquidates, rolls back to the snapshot exactly, refuses the aggressive reopen orders,
// and refunds exactly the audited losses. Plus the audit's pure rules.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditAccounts, diffRecords, refundFor, type AccountRecord } from "../../sequencer/drill/audit.js";
import { writeReport } from "../../sequencer/drill/report.js";
import { runDrill, type DrillOutcome } from "../../sequencer/drill/run-drill.js";
import { planScenario } from "../../sequencer/drill/scenario.js";

describe("rollback drill --small (seed 3)", () => {
  let r: DrillOutcome;
  let out: string;
  beforeAll(async () => {
    r = await runDrill({ seed: 3, traders: 8 });
    out = mkdtempSync(join(tmpdir(), "drill-"));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("run 1 (guards on): the three zero-index writes are refused as funding_index_reset and nobody is liquidated", () => {
    expect(r.guarded.liquidations).toBe(0);
    expect(r.guarded.refused_updates).toBe(3);
    expect(r.guarded.refusals.map((x) => [x.market, x.reason])).toEqual([
      ["BTC-USD-PERP", "funding_index_reset"],
      ["ETH-USD-PERP", "funding_index_reset"],
      ["PAXG-USD-PERP", "funding_index_reset"],
    ]);
    // The funding index never left its legitimate path in run 1.
    for (const p of r.guarded.funding) for (const v of Object.values(p.index_e6)) expect(v).toBeGreaterThan(0n);
  });

  it("run 2 (guards off, incident-model oracle): the corrupted write lands and liquidations follow", () => {
    const u = r.unguarded;
    expect(u.corrupted_writes).toBe(3);
    // At least the 19.5× BTC and ETH longs of the plan.
    expect(u.liquidations_before_rollback).toBeGreaterThanOrEqual(2);
    expect(u.liquidations.every((l) => l.fee_usdc6 > 0n)).toBe(true);
    expect(u.funding_damaged.some((p) => Object.values(p.index_e6).every((v) => v === 0n))).toBe(true);
    // The operator's cancel keeps every TP/SL order of the accounts that were not liquidated.
    expect(u.cancelled_orders).toBeGreaterThan(0);
    expect(u.tpsl_kept).toBeGreaterThan(0);
    expect(u.tpsl_kept).toBeLessThanOrEqual(u.tpsl_total);
  });

  it("run 2: after the rollback the root and every account equal the snapshot's", () => {
    const u = r.unguarded;
    expect(u.state_root_matches_snapshot).toBe(true);
    expect(u.accounts_equal_snapshot).toBe(true);
    expect(u.account_differences).toEqual([]);
    expect(u.removed_transactions).toBeGreaterThan(u.liquidations_before_rollback);
    expect(u.replayed_legitimate).toBe(2);
    expect(u.rollback_ms).toBeLessThan(1_000);
  });

  it("run 2: the reopen refuses the aggressive orders; without the band they print ~8 % over the mark", () => {
    const re = r.unguarded.reopen;
    expect(re.refused).toEqual([
      { order: "post-only ask +8 %", reason: "PERP: outside price band" },
      { order: "post-only ask +12 %", reason: "PERP: outside price band" },
      { order: "market buy 3 PAXG", reason: "PERP: post-only mode" },
    ]);
    expect(re.accepted_aggressive).toBe(0);
    expect(re.without_band.max_skew_ppm).toBeGreaterThan(70_000n);
    expect(re.without_band.liquidatable_at_oracle_mark).toBe(0);
    expect(re.without_band.liquidatable_if_mark_followed_book.length).toBeGreaterThan(0);
  });

  it("run 2: every liquidation was improper, and refunds equal the audited losses to the unit", () => {
    const u = r.unguarded;
    expect(u.audit.improper_liquidations.length).toBe(u.liquidations_before_rollback);
    expect(u.refunds.length).toBe(u.liquidations_before_rollback);
    expect(u.refunds_total_usdc6).toBeGreaterThan(0n);
    expect(u.audit.proper_liquidations).toEqual([]);
    const fees = u.liquidations.reduce((s, l) => s + l.fee_usdc6 + l.bad_debt_usdc6, 0n);
    expect(u.audited_losses_total_usdc6).toBe(fees);
    expect(u.refunds_total_usdc6).toBe(u.audited_losses_total_usdc6);
    expect(u.vault_funded_usdc6).toBe(u.audited_losses_total_usdc6);
    for (const p of u.refunds) expect(p.wallet_delta_usdc6).toBe(p.amount_usdc6);
  });

  it("writes report.json with the agreed fields, report.md and three well-formed SVG charts", () => {
    const files = writeReport(out, r);
    const j = JSON.parse(readFileSync(files.json, "utf8"));
    expect(j.guarded).toMatchObject({ liquidations: 0, refused_updates: 3 });
    expect(j.unguarded).toMatchObject({ state_root_matches_snapshot: true, accounts_refunded: r.unguarded.refunds.length });
    expect(j.unguarded.refunds_total).toBe(j.unguarded.audited_losses_total);
    expect(typeof j.unguarded.rollback_ms).toBe("number");
    expect(j.unguarded.liquidations_before_rollback).toBe(r.unguarded.liquidations_before_rollback);
    expect(readFileSync(files.md, "utf8")).toContain("## Refund policy");
    expect(files.charts.map((c) => c.split("/").pop())).toEqual(["funding-index.svg", "liquidations.svg", "refunds.svg"]);
    for (const c of files.charts) expect(readFileSync(c, "utf8")).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
  });

  it("is deterministic: the same seed gives the same chain outcome", async () => {
    const again = await runDrill({ seed: 3, traders: 8 });
    expect(again.unguarded.snapshot.global_root).toBe(r.unguarded.snapshot.global_root);
    expect(again.unguarded.liquidations).toEqual(r.unguarded.liquidations);
    expect(again.unguarded.refunds_total_usdc6).toBe(r.unguarded.refunds_total_usdc6);
  }, 60_000);
});

describe("drill audit rules", () => {
  const rec = (address: bigint, equity: bigint, mm: bigint, exposure = 1_000n): AccountRecord => ({
    address,
    label: `a${address}`,
    balance_usdc6: equity,
    equity_usdc6: equity,
    maintenance_margin_usdc6: mm,
    exposure_usdc6: exposure,
    positions: { "BTC-USD-PERP": exposure === 0n ? 0n : 10n },
  });

  it("a liquidation of an account healthy on the reference is improper and refunds penalty + bad debt", () => {
    const reference = new Map([[1n, rec(1n, 500n, 300n)], [2n, rec(2n, 200n, 300n)], [3n, rec(3n, 900n, 300n)]]);
    const damaged = new Map([[1n, rec(1n, 100n, 0n, 0n)], [2n, rec(2n, 0n, 0n, 0n)], [3n, rec(3n, 850n, 300n)]]);
    const a = auditAccounts(reference, damaged, [
      { account: 1n, block: 9, fee_usdc6: 40n, bad_debt_usdc6: 0n, sizes: {} },
      { account: 2n, block: 9, fee_usdc6: 10n, bad_debt_usdc6: 5n, sizes: {} },
    ]);
    expect(a.improper_liquidations.map((f) => [f.address, f.refund_usdc6])).toEqual([[1n, 40n]]);
    expect(a.proper_liquidations.map((f) => f.address)).toEqual([2n]);
    expect(a.distorted_not_liquidated.map((f) => [f.address, f.equity_shortfall_usdc6])).toEqual([[3n, 50n]]);
    expect(a.audited_losses_total_usdc6).toBe(40n);
  });

  it("refuses mismatched record sets and negative amounts", () => {
    expect(() => auditAccounts(new Map([[1n, rec(1n, 1n, 0n)]]), new Map(), [])).toThrow(RangeError);
    expect(() => auditAccounts(new Map([[1n, rec(1n, 1n, 0n)]]), new Map([[1n, rec(1n, 1n, 0n)]]), [{ account: 7n, block: 1, fee_usdc6: 1n, bad_debt_usdc6: 0n, sizes: {} }])).toThrow(RangeError);
    expect(() => refundFor(-1n, 0n)).toThrow(RangeError);
  });

  it("diffRecords names the field that differs", () => {
    const a = new Map([[1n, rec(1n, 500n, 300n)]]);
    const b = new Map([[1n, { ...rec(1n, 500n, 300n), positions: { "BTC-USD-PERP": 11n } }]]);
    expect(diffRecords(a, a)).toEqual([]);
    expect(diffRecords(a, b)).toEqual(["a1.position[BTC-USD-PERP]: 10 ≠ 11"]);
  });

  it("the plan is a function of the seed and validates the trader count", () => {
    expect(planScenario(5, 8)).toEqual(planScenario(5, 8));
    expect(planScenario(5, 8)).not.toEqual(planScenario(6, 8));
    expect(() => planScenario(1, 2)).toThrow(RangeError);
  });
});
