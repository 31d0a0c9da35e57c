// Events the exchange rules emit. The contract wrapper turns each into a Starknet event
// (keys[0] = sn_keccak(name), `key` fields next, the rest as data). Amounts signed where
// the name says so; scales: see units.ts.

import type { Felt } from "../../state/felt.js";
import type { PlaceOrderParams } from "./types.js";

export type CancelReason = "USER" | "OPERATOR" | "SELF_TRADE" | "LIQUIDATION" | "UNFILLED" | "REDUCE_ONLY";

export type ExchangeEvent =
  | { name: "Deposit"; account: Felt; amount_usdc6: bigint }
  | { name: "Withdrawal"; account: Felt; amount_usdc6: bigint }
  | ({ name: "OrderPlaced"; order_id: bigint; owner: Felt } & PlaceOrderParams)
  | { name: "OrderCancelled"; order_id: bigint; owner: Felt; remaining_e8: bigint; reason: CancelReason }
  | { name: "OrderTriggered"; order_id: bigint; owner: Felt; mark_e6: bigint }
  | {
      name: "Trade";
      market: Felt;
      maker_order_id: bigint;
      taker_order_id: bigint;
      maker: Felt;
      taker: Felt;
      /** Side of the taker (0 buy, 1 sell). */
      taker_side: number;
      price_e6: bigint;
      size_e8: bigint;
      maker_fee_usdc6: bigint;
      taker_fee_usdc6: bigint;
    }
  | { name: "FundingSettled"; account: Felt; market: Felt; amount_usdc6: bigint; funding_index_e6: bigint }
  | { name: "Liquidation"; account: Felt; market: Felt; size_e8: bigint; mark_e6: bigint; notional_usdc6: bigint }
  | { name: "LiquidationSettled"; account: Felt; fee_usdc6: bigint; bad_debt_usdc6: bigint }
  | { name: "VaultPayout"; recipient: Felt; amount_usdc6: bigint }
  | { name: "VaultFunded"; funder: Felt; amount_usdc6: bigint }
  | { name: "MarketAdded"; market: Felt; market_id: number }
  | { name: "TradingPaused"; paused: boolean }
  | { name: "PostOnlyMode"; enabled: boolean; band_ppm: bigint };

export const CANCEL_REASONS: readonly CancelReason[] = ["USER", "OPERATOR", "SELF_TRADE", "LIQUIDATION", "UNFILLED", "REDUCE_ONLY"];
