// Margin math: equity, initial and maintenance requirements, margin ratio. Pure.
//
// For one account, with per market: signed size s, mark price m, unsettled funding f,
// open (non-reduce-only) resting sizes b (buys) and a (sells):
//   equity        = balance + Σ floor(s × m / 1e8) + Σ f
//   maintenance   = Σ ceil(ceil(|s| × m / 1e8) × mm_ppm / 1e6)
//   initial       = Σ ceil(ceil(max(|s + b|, |s − a|) × m / 1e8) × im_ppm / 1e6)
//   margin_ratio  = floor(equity × 1e6 / Σ ceil(|s| × m / 1e8))  in ppm (0 when flat)
// Initial margin (positions plus worst-case fill of open orders) is checked when an
// order is placed or collateral leaves; maintenance margin decides liquidation.

import type { MarketConfig, Position } from "./types.js";
import { abs, absNotionalCeil, divFloor, fundingPnl, max, notionalFloor, PPM_ONE, ppmCeil } from "./units.js";

export interface MarketExposure {
  market: MarketConfig;
  position: Position;
  mark_e6: bigint;
  funding_index_e6: bigint;
}

export interface AccountHealth {
  equity_usdc6: bigint;
  /** Cash at entry prices: balance + Σ cost + unsettled funding. */
  collateral_usdc6: bigint;
  unrealized_pnl_usdc6: bigint;
  pending_funding_usdc6: bigint;
  initial_margin_usdc6: bigint;
  maintenance_margin_usdc6: bigint;
  exposure_usdc6: bigint;
  margin_ratio_ppm: bigint;
}

export function accountHealth(balance_usdc6: bigint, exposures: readonly MarketExposure[]): AccountHealth {
  let value = 0n;
  let cost = 0n;
  let funding = 0n;
  let im = 0n;
  let mm = 0n;
  let exposure = 0n;
  for (const e of exposures) {
    const p = e.position;
    if (p.size_e8 === 0n && p.open_buy_e8 === 0n && p.open_sell_e8 === 0n) continue;
    value += notionalFloor(p.size_e8, e.mark_e6);
    cost += p.cost_usdc6;
    funding += fundingPnl(p.size_e8, p.funding_index_e6, e.funding_index_e6);
    const n = absNotionalCeil(p.size_e8, e.mark_e6);
    exposure += n;
    mm += ppmCeil(n, e.market.maintenance_margin_ppm);
    const worst = max(abs(p.size_e8 + p.open_buy_e8), abs(p.size_e8 - p.open_sell_e8));
    im += ppmCeil(absNotionalCeil(worst, e.mark_e6), e.market.initial_margin_ppm);
  }
  const equity = balance_usdc6 + value + funding;
  return {
    equity_usdc6: equity,
    collateral_usdc6: balance_usdc6 + cost + funding,
    unrealized_pnl_usdc6: value - cost,
    pending_funding_usdc6: funding,
    initial_margin_usdc6: im,
    maintenance_margin_usdc6: mm,
    exposure_usdc6: exposure,
    margin_ratio_ppm: exposure === 0n ? 0n : divFloor(equity * PPM_ONE, exposure),
  };
}

/** Below maintenance margin (and holding a position) ⇒ liquidatable. */
export function isLiquidatable(h: AccountHealth): boolean {
  return h.exposure_usdc6 > 0n && h.equity_usdc6 < h.maintenance_margin_usdc6;
}
