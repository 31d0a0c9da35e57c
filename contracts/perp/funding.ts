// Funding rules shared by the oracle (which refuses oversized index steps) and the
// exchange (which settles funding into balances). Pure. Scales: see units.ts.

import { abs, FUNDING_RATE_ONE, fundingPnl } from "./units.js";

export { fundingPnl };

/**
 * The cap on one funding-index step:
 *   |Δindex_e6| ≤ max_rate_e12 × mark_e6 × elapsed_s / (1e12 × funding_period_s)
 * compared exactly in integers (no rounding). `mark_e6` is the price the cap is taken
 * at; the oracle uses the smaller of the previous and the new mark (the conservative one).
 */
export function fundingStepWithinCap(
  delta_index_e6: bigint,
  mark_e6: bigint,
  elapsed_s: bigint,
  max_rate_e12: bigint,
  funding_period_s: bigint,
): boolean {
  if (elapsed_s < 0n || mark_e6 <= 0n || funding_period_s <= 0n) return false;
  return abs(delta_index_e6) * FUNDING_RATE_ONE * funding_period_s <= max_rate_e12 * mark_e6 * elapsed_s;
}

/** The largest |Δindex| the cap allows (floored), for messages and guards. */
export function maxFundingStep(mark_e6: bigint, elapsed_s: bigint, max_rate_e12: bigint, funding_period_s: bigint): bigint {
  return (max_rate_e12 * mark_e6 * elapsed_s) / (FUNDING_RATE_ONE * funding_period_s);
}
