// How a trade changes a position: size, cost basis, realized P&L and the account's
// quote balance. Pure; the caller supplies the trade notional (computed ONCE for both
// legs, so the two balances move by exactly opposite amounts).

import type { Position } from "./types.js";
import { abs, sign } from "./units.js";

export interface TradeEffect {
  position: Position;
  /** Change of the account's quote balance (−signed notional). */
  balance_delta_usdc6: bigint;
  /** Realized P&L of the closed part (0 when the trade only opens). */
  realized_usdc6: bigint;
}

/**
 * Apply a signed size change `delta_e8` (> 0 buy) traded for `notional_usdc6` (≥ 0, the
 * absolute quote amount) to `pos`. Funding must be settled before calling.
 */
export function applyTrade(pos: Position, delta_e8: bigint, notional_usdc6: bigint): TradeEffect {
  if (delta_e8 === 0n) throw new RangeError("applyTrade: zero size");
  if (notional_usdc6 < 0n) throw new RangeError("applyTrade: negative notional");
  const dir = sign(delta_e8);
  const d = abs(delta_e8);
  const s0 = pos.size_e8;
  const out: Position = { ...pos };
  const balance_delta_usdc6 = -dir * notional_usdc6;

  if (s0 === 0n || sign(s0) === dir) {
    out.size_e8 = s0 + delta_e8;
    out.cost_usdc6 = pos.cost_usdc6 + dir * notional_usdc6;
    return { position: out, balance_delta_usdc6, realized_usdc6: 0n };
  }

  // Reducing (and maybe flipping): close c, open the rest in the trade's direction.
  const held = abs(s0);
  const c = d < held ? d : held;
  const notionalClose = c === d ? notional_usdc6 : (notional_usdc6 * c) / d;
  const notionalOpen = notional_usdc6 - notionalClose;
  // Cost of the closed part, truncated towards zero; closing everything takes all of it,
  // so no residue can outlive the position.
  const costClosed = c === held ? pos.cost_usdc6 : (pos.cost_usdc6 * c) / held;
  const realized = sign(s0) * notionalClose - costClosed;
  out.realized_pnl_usdc6 = pos.realized_pnl_usdc6 + realized;
  if (d <= held) {
    out.size_e8 = s0 + delta_e8;
    out.cost_usdc6 = pos.cost_usdc6 - costClosed;
  } else {
    out.size_e8 = dir * (d - held);
    out.cost_usdc6 = dir * notionalOpen;
  }
  return { position: out, balance_delta_usdc6, realized_usdc6: realized };
}

/** Volume-weighted entry price (e6), truncated; 0 for a flat position. */
export function entryPrice(pos: Position): bigint {
  if (pos.size_e8 === 0n) return 0n;
  return (abs(pos.cost_usdc6) * 100_000_000n) / abs(pos.size_e8);
}
