// Market parameters: the genesis markets and the validation every market config
// (genesis or admin-added) must pass. Scales: see units.ts.

import { encodeShortString, type Felt } from "../../state/felt.js";
import { ExchangeError } from "./errors.js";
import type { MarketConfig } from "./types.js";
import { PPM_ONE, SIZE_ONE } from "./units.js";

/** At most this many markets, so per-account loops over markets stay bounded. */
export const MAX_MARKETS = 32;

/** The Liquidator Vault: an account inside the exchange that no key controls. */
export const VAULT_ACCOUNT: Felt = encodeShortString("LIQUIDATOR_VAULT");

/** Genesis markets. `id` is assigned in this order starting at 1. */
export const GENESIS_MARKETS: readonly Omit<MarketConfig, "id">[] = [
  {
    name: encodeShortString("BTC-USD-PERP"),
    tick_size_e6: 100_000n, // 0.1 USDC
    lot_size_e8: 10_000n, // 0.0001 BTC
    initial_margin_ppm: 50_000n, // 5 %
    maintenance_margin_ppm: 30_000n, // 3 %
    liquidation_fee_ppm: 10_000n, // 1 % of liquidated notional
    max_leverage: 20n,
    maker_fee_ppm: 200n, // 0.02 %
    taker_fee_ppm: 500n, // 0.05 %
    max_funding_rate_e12: 500_000_000n, // 0.05 % per hour
    funding_period_s: 3600n,
  },
  {
    name: encodeShortString("ETH-USD-PERP"),
    tick_size_e6: 10_000n, // 0.01 USDC
    lot_size_e8: 100_000n, // 0.001 ETH
    initial_margin_ppm: 50_000n,
    maintenance_margin_ppm: 30_000n,
    liquidation_fee_ppm: 10_000n,
    max_leverage: 20n,
    maker_fee_ppm: 200n,
    taker_fee_ppm: 500n,
    max_funding_rate_e12: 500_000_000n,
    funding_period_s: 3600n,
  },
  {
    name: encodeShortString("PAXG-USD-PERP"),
    tick_size_e6: 10_000n, // 0.01 USDC
    lot_size_e8: 100_000n, // 0.001 PAXG
    initial_margin_ppm: 100_000n, // 10 %
    maintenance_margin_ppm: 50_000n, // 5 %
    liquidation_fee_ppm: 10_000n,
    max_leverage: 10n,
    maker_fee_ppm: 200n,
    taker_fee_ppm: 500n,
    max_funding_rate_e12: 250_000_000n, // 0.025 % per hour
    funding_period_s: 3600n,
  },
];

/** Throws ExchangeError('PERP: bad market config') naming the broken rule. */
export function validateMarketConfig(m: Omit<MarketConfig, "id">): void {
  const bad = (rule: string): never => {
    throw new ExchangeError("PERP: bad market config", { rule });
  };
  if (m.name <= 0n || m.name >= 1n << 248n) bad("name must be a non-empty short string");
  if (m.tick_size_e6 <= 0n || m.tick_size_e6 >= 1n << 64n) bad("tick_size_e6 in (0, 2^64)");
  if (m.lot_size_e8 <= 0n || m.lot_size_e8 >= 1n << 64n) bad("lot_size_e8 in (0, 2^64)");
  // Makes every trade notional an exact USDC e6 integer (see units.ts rounding rules).
  if ((m.tick_size_e6 * m.lot_size_e8) % SIZE_ONE !== 0n) bad("tick_size_e6 × lot_size_e8 must be a multiple of 1e8");
  if (m.maintenance_margin_ppm <= 0n) bad("maintenance margin > 0");
  if (m.initial_margin_ppm <= m.maintenance_margin_ppm) bad("initial margin > maintenance margin");
  if (m.initial_margin_ppm > PPM_ONE) bad("initial margin ≤ 100 %");
  if (m.liquidation_fee_ppm < 0n || m.liquidation_fee_ppm > m.maintenance_margin_ppm) bad("0 ≤ liquidation fee ≤ maintenance margin");
  if (m.max_leverage <= 0n || m.initial_margin_ppm * m.max_leverage < PPM_ONE) bad("initial margin ≥ 1 / max leverage");
  if (m.maker_fee_ppm < 0n || m.taker_fee_ppm < 0n || m.maker_fee_ppm > 100_000n || m.taker_fee_ppm > 100_000n) bad("fees in [0, 10 %]");
  if (m.max_funding_rate_e12 <= 0n || m.max_funding_rate_e12 >= 1n << 64n) bad("max funding rate in (0, 2^64)");
  if (m.funding_period_s <= 0n || m.funding_period_s >= 1n << 32n) bad("funding period in (0, 2^32) s");
}
