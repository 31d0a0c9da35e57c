// Plain-data records of the exchange: orders, price levels, positions, accounts, markets.
// The rules (matching, margin, funding, liquidation) operate on these through the
// ExchangeStore port (store.ts); where they live (memory maps or contract storage) is
// the store's business. Scales: see units.ts.

import type { Felt } from "../../state/felt.js";

export const Side = { BUY: 0, SELL: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const OrderType = { LIMIT: 0, MARKET: 1, TAKE_PROFIT: 2, STOP_LOSS: 3 } as const;
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

/** Bit flags of an order. */
export const OrderFlag = { POST_ONLY: 1, REDUCE_ONLY: 2 } as const;

export const OrderStatus = {
  NONE: 0,
  /** Resting in the book. */
  OPEN: 1,
  /** A take-profit / stop-loss waiting for trigger_order. Not in the book. */
  UNTRIGGERED: 2,
  FILLED: 3,
  CANCELLED: 4,
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

export interface Order {
  id: bigint;
  owner: Felt;
  market: number;
  side: Side;
  type: OrderType;
  flags: number;
  status: OrderStatus;
  /** Limit price; for market and triggered orders the worst acceptable price (0 = none). */
  price_e6: bigint;
  /** TP/SL trigger price against the oracle mark price; 0 for others. */
  trigger_price_e6: bigint;
  size_e8: bigint;
  remaining_e8: bigint;
  /** Time priority inside a level: doubly linked list of order ids (0 = none). */
  prev: bigint;
  next: bigint;
  /** The owner's list of live (OPEN or UNTRIGGERED) orders. */
  acct_prev: bigint;
  acct_next: bigint;
}

/** One price level of one side of one market's book. */
export interface Level {
  head: bigint;
  tail: bigint;
  total_e8: bigint;
  /** Neighbouring level prices (0 = none): `better` is closer to the top of the book. */
  better_e6: bigint;
  worse_e6: bigint;
}

export interface BookSide {
  /** Best price of this side, 0 when the side is empty. */
  best_e6: bigint;
  levels: number;
}

export interface Position {
  /** Signed: > 0 long, < 0 short. */
  size_e8: bigint;
  /** Signed cost basis of the open size (long > 0); entry price = cost × 1e8 / size. */
  cost_usdc6: bigint;
  /** Cumulative realized trade P&L of this market (informational; funding excluded). */
  realized_pnl_usdc6: bigint;
  /** Oracle funding index at the last settlement. */
  funding_index_e6: bigint;
  /** Open non-reduce-only resting size per side (for initial margin of open orders). */
  open_buy_e8: bigint;
  open_sell_e8: bigint;
}

export interface Account {
  /**
   * Signed quote balance: deposits − withdrawals − Σ signed trade notional − fees + funding.
   * Equity = balance + Σ size × mark; "collateral" (cash at entry prices) = balance + Σ cost.
   */
  balance_usdc6: bigint;
  /** Head of the account's live-order list. */
  order_head: bigint;
  /** Number of live (resting or untriggered) orders. */
  live_orders: number;
}

export interface MarketConfig {
  id: number;
  /** Short-string felt of the market name, e.g. 'BTC-USD-PERP'; the oracle uses the same key. */
  name: Felt;
  tick_size_e6: bigint;
  lot_size_e8: bigint;
  initial_margin_ppm: bigint;
  maintenance_margin_ppm: bigint;
  liquidation_fee_ppm: bigint;
  max_leverage: bigint;
  maker_fee_ppm: bigint;
  taker_fee_ppm: bigint;
  /** Funding-index step cap, enforced by the oracle: |Δindex| ≤ rate × mark × elapsed / period. */
  max_funding_rate_e12: bigint;
  funding_period_s: bigint;
}

export interface Globals {
  admin: Felt;
  operator: Felt;
  paused: boolean;
  post_only: boolean;
  /** Post-only price band half-width around the mark price, ppm of mark. */
  band_ppm: bigint;
  next_order_id: bigint;
  market_count: number;
  fee_balance_usdc6: bigint;
  /** Counter-side of lazily settled funding (signed); holds the rounding residue. */
  funding_pool_usdc6: bigint;
  total_deposits_usdc6: bigint;
  total_withdrawals_usdc6: bigint;
  total_payouts_usdc6: bigint;
}

export const emptyPosition = (): Position => ({
  size_e8: 0n,
  cost_usdc6: 0n,
  realized_pnl_usdc6: 0n,
  funding_index_e6: 0n,
  open_buy_e8: 0n,
  open_sell_e8: 0n,
});

export const isEmptyPosition = (p: Position): boolean =>
  p.size_e8 === 0n &&
  p.cost_usdc6 === 0n &&
  p.realized_pnl_usdc6 === 0n &&
  p.funding_index_e6 === 0n &&
  p.open_buy_e8 === 0n &&
  p.open_sell_e8 === 0n;

/** The arguments of place_order, as the rules take them and OrderPlaced carries them. */
export interface PlaceOrderParams {
  /** Market name felt ('BTC-USD-PERP'). */
  market: Felt;
  side: number;
  order_type: number;
  flags: number;
  price_e6: bigint;
  trigger_price_e6: bigint;
  size_e8: bigint;
}
