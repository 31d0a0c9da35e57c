// CLI: npm run drill -- [--seed N] [--out DIR] [--traders N] [--small]
// The January-incident rollback drill (sequencer/drill/): run 1 with guards, run 2 without
// guards and with the incident-model oracle, then the runbook. Writes report.md,
// report.json and SVG charts to --out (default drill-out/). One progress line per step.

import { runDrill } from "../sequencer/drill/run-drill.js";
import { reportJson, writeReport } from "../sequencer/drill/report.js";

const USAGE = "usage: npm run drill -- [--seed N] [--out DIR] [--traders N] [--small]";

function parseArgs(argv: string[]): { seed: number; out: string; traders: number } {
  let seed = 0;
  let out = "drill-out";
  let traders = 24;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      return v;
    };
    if (a === "--seed") seed = integer(a, value());
    else if (a === "--out") out = value();
    else if (a === "--traders") traders = integer(a, value());
    else if (a === "--small") traders = 8;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else throw new RangeError(`unknown argument ${a}`);
  }
  return { seed, out, traders };
}

function integer(flag: string, v: string): number {
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new RangeError(`${flag} expects a non-negative integer, got ${v}`);
  return Number(v);
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const outcome = await runDrill({ seed: args.seed, traders: args.traders, log: (l) => process.stdout.write(l + "\n") });
const files = writeReport(args.out, outcome);
const j = reportJson(outcome) as { guarded: unknown; unguarded: Record<string, unknown> };
const u = j.unguarded;
process.stdout.write(
  `wrote ${files.md}, ${files.json}, ${files.charts.length} charts\n` +
    JSON.stringify({
      guarded: j.guarded && { liquidations: outcome.guarded.liquidations, refused_updates: outcome.guarded.refused_updates },
      unguarded: {
        liquidations_before_rollback: u.liquidations_before_rollback,
        rollback_ms: u.rollback_ms,
        state_root_matches_snapshot: u.state_root_matches_snapshot,
        refunds_total: u.refunds_total,
        audited_losses_total: u.audited_losses_total,
        accounts_refunded: u.accounts_refunded,
      },
    }) +
    "\n",
);
