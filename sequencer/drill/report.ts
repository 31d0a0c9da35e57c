// Writes the drill's outcome: report.json (machine-readable, bigints as decimal strings,
// USDC amounts as "123.456789"), report.md (what happened, step timings, the refund
// policy, the audit table) and three hand-written SVG charts.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../state/felt.js";
import { MARKETS, type FundingPoint } from "./drill-chain.js";
import { usdc, type DrillOutcome } from "./run-drill.js";
import { barChart, linePanels, type Series } from "./svg.js";

export const REFUND_POLICY = [
  "The rollback restores every balance and position, so on chain nobody keeps a loss.",
  "What it cannot undo is what happened off chain while the damaged chain was live: users were notified they were liquidated, statements, tax exports and the insurance ledger recorded the liquidation penalty as charged, and users may have acted on it (hedged, closed elsewhere).",
  "For every account liquidated on the damaged chain that was NOT liquidatable on the reference chain (snapshot + replayed legitimate activity), we refund the liquidation penalty the damaged chain charged plus any collateral it wrote off as bad debt: the realized loss users and off-chain systems saw.",
  "Paid once per account, to the user's wallet, from the Liquidator Vault (the party that received the penalty), funded by the operator with fund_vault and paid with vault_payout (operator transactions on the restored chain).",
  "Funding P&L distortion and mark-to-market differences of accounts that were not liquidated are fully restored by the rollback and are listed, not refunded.",
];

export interface ReportFiles {
  json: string;
  md: string;
  charts: string[];
}

/** The report.json object (also what the tests read). */
export function reportJson(r: DrillOutcome): Record<string, unknown> {
  const u = r.unguarded;
  return jsonSafe({
    seed: r.seed,
    traders: r.traders,
    guarded: {
      liquidations: r.guarded.liquidations,
      refused_updates: r.guarded.refused_updates,
      refusals: r.guarded.refusals,
    },
    unguarded: {
      corrupted_writes: u.corrupted_writes,
      liquidations_before_rollback: u.liquidations_before_rollback,
      liquidated_accounts: u.liquidations.map((l) => ({ account: toHex(l.account), block: l.block, fee: usdc(l.fee_usdc6), bad_debt: usdc(l.bad_debt_usdc6), sizes_e8: l.sizes })),
      cancelled_orders: u.cancelled_orders,
      tpsl_kept: u.tpsl_kept,
      tpsl_total: u.tpsl_total,
      snapshot: u.snapshot,
      rollback_ms: u.rollback_ms,
      keys_changed: u.keys_changed,
      removed_transactions: u.removed_transactions,
      replayed_legitimate: u.replayed_legitimate,
      state_root_matches_snapshot: u.state_root_matches_snapshot,
      accounts_equal_snapshot: u.accounts_equal_snapshot,
      account_differences: u.account_differences,
      reopen: {
        band_ppm: u.reopen.band_ppm,
        mark: usdc(u.reopen.mark_e6),
        refused: u.reopen.refused,
        accepted_aggressive: u.reopen.accepted_aggressive,
        without_band: {
          trades: u.reopen.without_band.trades.map((t) => ({ price: usdc(t.price_e6), size_e8: t.size_e8 })),
          max_trade_price: usdc(u.reopen.without_band.max_trade_price_e6),
          max_skew_ppm: u.reopen.without_band.max_skew_ppm,
          best_ask_after: usdc(u.reopen.without_band.best_ask_after_e6),
          liquidatable_at_oracle_mark: u.reopen.without_band.liquidatable_at_oracle_mark,
          liquidatable_if_mark_followed_book: u.reopen.without_band.liquidatable_if_mark_followed_book,
          reverts: u.reopen.without_band.reverts,
        },
      },
      audit: {
        accounts_compared: u.audit.accounts_compared,
        improper_liquidations: u.audit.improper_liquidations.map(findingJson),
        proper_liquidations: u.audit.proper_liquidations.map(findingJson),
        distorted_not_liquidated: u.audit.distorted_not_liquidated.map(findingJson),
      },
      refunds: u.refunds.map((p) => ({ account: toHex(p.address), label: p.label, amount: usdc(p.amount_usdc6), wallet_delta: usdc(p.wallet_delta_usdc6) })),
      refunds_total: usdc(u.refunds_total_usdc6),
      audited_losses_total: usdc(u.audited_losses_total_usdc6),
      accounts_refunded: u.refunds.length,
      vault_funded: usdc(u.vault_funded_usdc6),
    },
    refund_policy: REFUND_POLICY,
    steps: r.steps,
  }) as Record<string, unknown>;
}

export function writeReport(outDir: string, r: DrillOutcome): ReportFiles {
  mkdirSync(outDir, { recursive: true });
  const files: ReportFiles = { json: join(outDir, "report.json"), md: join(outDir, "report.md"), charts: [] };
  writeFileSync(files.json, JSON.stringify(reportJson(r), null, 2) + "\n");
  const charts = {
    "funding-index.svg": fundingChart(r),
    "liquidations.svg": barChart(
      "Liquidation penalties on the damaged chain (run 2); run 1: none",
      "USDC",
      r.unguarded.liquidations.map((l) => ({ label: labelOf(r, l.account), value: Number(l.fee_usdc6) / 1e6 })),
      "#c0392b",
      "no liquidations",
    ),
    "refunds.svg": barChart(
      "Refunds per account from the Liquidator Vault",
      "USDC",
      r.unguarded.refunds.map((p) => ({ label: p.label, value: Number(p.amount_usdc6) / 1e6 })),
      "#27ae60",
      "no refunds owed",
    ),
  };
  for (const [name, svg] of Object.entries(charts)) {
    const p = join(outDir, name);
    writeFileSync(p, svg + "\n");
    files.charts.push(p);
  }
  writeFileSync(files.md, markdown(r));
  return files;
}

function fundingChart(r: DrillOutcome): string {
  const pts = (f: FundingPoint[], m: string) => f.map((p) => [p.block, Number(p.index_e6[m]!) / 1e6] as const);
  return linePanels(
    "Funding index per market over blocks (USDC per unit)",
    "block number",
    MARKETS.map((m) => ({
      title: m,
      series: [
        { name: "run 1: guards on", color: "#2980b9", points: pts(r.guarded.funding, m) },
        { name: "run 2: damaged chain", color: "#c0392b", points: pts(r.unguarded.funding_damaged, m) },
        { name: "run 2: after rollback", color: "#27ae60", points: pts(r.unguarded.funding_restored, m) },
      ] satisfies Series[],
    })),
  );
}

function labelOf(r: DrillOutcome, account: bigint): string {
  return r.unguarded.audit.findings.find((f) => f.address === account)?.label ?? toHex(account);
}

function markdown(r: DrillOutcome): string {
  const u = r.unguarded;
  const L: string[] = [];
  L.push(`# Rollback drill: the January-2026 incident (seed ${r.seed}, ${r.traders} traders)`, "");
  L.push("## Outcome", "");
  L.push("| | run 1: guards on, checked oracle | run 2: guards off, incident-model oracle |", "|---|---|---|");
  L.push(`| corrupted updates written | 0 (refused: ${r.guarded.refused_updates}) | ${u.corrupted_writes} |`);
  L.push(`| liquidations | ${r.guarded.liquidations} | ${u.liquidations_before_rollback} before rollback |`);
  L.push(`| rollback | — | ${u.rollback_ms} ms, ${u.removed_transactions} txs removed, ${u.keys_changed} keys |`);
  L.push(`| state root = snapshot's | — | ${u.state_root_matches_snapshot} |`);
  L.push(`| accounts = snapshot's | — | ${u.accounts_equal_snapshot} |`);
  L.push(`| audited losses / refunds | — | ${usdc(u.audited_losses_total_usdc6)} / ${usdc(u.refunds_total_usdc6)} USDC to ${u.refunds.length} accounts |`, "");
  L.push("Run 1 refusals (reason codes from the guard pipeline):", "");
  for (const x of r.guarded.refusals) L.push(`- ${x.market}: \`${x.reason}\` — ${x.message}`);
  L.push("", "## Steps and timings", "", "| run | step | wall ms | head | detail |", "|---|---|---|---|---|");
  for (const s of r.steps) L.push(`| ${s.run} | ${s.step} | ${s.wall_ms} | ${s.head_block} | ${s.detail.replace(/\|/g, "/")} |`);
  L.push("", "Chain time is a simulated clock driven by the drill (same seed ⇒ same chain); wall ms are measured on this machine.", "");
  L.push("## Reopen: post-only with a price band", "");
  L.push(`Band ${u.reopen.band_ppm} ppm around the PAXG mark ${usdc(u.reopen.mark_e6)}. The thin PAXG book was re-quoted inside the band; the aggressive orders were refused:`, "");
  for (const x of u.reopen.refused) L.push(`- ${x.order}: \`${x.reason}\``);
  const w = u.reopen.without_band;
  L.push("", "The same orders on a throwaway branch of the same state with post-only and the band off:", "");
  L.push(`- prints: ${w.trades.map((t) => `${Number(t.size_e8) / 1e8} @ ${usdc(t.price_e6)}`).join(", ") || "none"}; worst print ${usdc(w.max_trade_price_e6)} = +${Number(w.max_skew_ppm) / 10_000} % over the mark; best ask left at ${usdc(w.best_ask_after_e6)}`);
  L.push(`- liquidatable at the oracle mark (perpchain's design): ${w.liquidatable_at_oracle_mark}`);
  L.push(`- liquidatable if the mark followed the book's last print (the incident system): ${w.liquidatable_if_mark_followed_book.length}${w.liquidatable_if_mark_followed_book.length ? ` (${w.liquidatable_if_mark_followed_book.join(", ")})` : ""}`);
  if (w.reverts.length) L.push(`- reverted on the branch: ${w.reverts.join("; ")}`);
  L.push("", "## Audit", "", `${u.audit.accounts_compared} accounts compared between the reference chain (snapshot + ${u.replayed_legitimate} replayed legitimate transactions) and the damaged chain recorded before the rollback.`, "");
  L.push("| account | reference equity | damaged equity | shortfall | liquidated | improper | penalty | bad debt | refund |", "|---|---|---|---|---|---|---|---|---|");
  for (const f of u.audit.findings) {
    L.push(`| ${f.label} | ${usdc(f.reference_equity_usdc6)} | ${usdc(f.damaged_equity_usdc6)} | ${usdc(f.equity_shortfall_usdc6)} | ${f.liquidated} | ${f.improper} | ${usdc(f.liquidation_fee_usdc6)} | ${usdc(f.bad_debt_usdc6)} | ${usdc(f.refund_usdc6)} |`);
  }
  L.push("", "## Refund policy", "", ...REFUND_POLICY.map((p) => `- ${p}`), "");
  L.push(`Vault funded with ${usdc(u.vault_funded_usdc6)} USDC; payouts:`, "");
  for (const p of u.refunds) L.push(`- ${p.label}: ${usdc(p.amount_usdc6)} USDC (wallet +${usdc(p.wallet_delta_usdc6)})`);
  L.push("", "## Charts", "", "![funding index](funding-index.svg)", "", "![liquidations](liquidations.svg)", "", "![refunds](refunds.svg)", "");
  return L.join("\n");
}

function findingJson(f: DrillOutcome["unguarded"]["audit"]["findings"][number]) {
  return {
    account: toHex(f.address),
    label: f.label,
    reference_equity: usdc(f.reference_equity_usdc6),
    damaged_equity: usdc(f.damaged_equity_usdc6),
    shortfall: usdc(f.equity_shortfall_usdc6),
    penalty: usdc(f.liquidation_fee_usdc6),
    bad_debt: usdc(f.bad_debt_usdc6),
    refund: usdc(f.refund_usdc6),
  };
}

function jsonSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
}
