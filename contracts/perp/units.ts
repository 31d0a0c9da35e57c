// The ONE place where the exchange's fixed-point scales and rounding rules live.
// Every amount in contracts/perp and contracts/oracle.ts is a bigint in one of these
// scales; no floating point anywhere. Never reads the clock, randomness or environment.
//
// Scales (suffix in names says which):
//   amount_usdc6        USDC amounts, 6 decimals (1 USDC = 1_000_000). Same as the ERC20.
//   price_e6            USDC e6 per ONE whole base unit ("97123.45" BTC → 97_123_450_000).
//   size_e8             base asset quantity, 8 decimals (1 BTC = 100_000_000).
//   funding_index_e6    cumulative funding, USDC e6 per ONE whole base unit (signed).
//   funding_rate_e12    funding rate per hour as a fraction, 12 decimals ("0.0000125" → 12_500_000).
//   ratio_ppm           margin fractions, fees and bands in parts per million (5% = 50_000).
//
//   notional_usdc6 = size_e8 × price_e6 / 1e8
//   funding P&L_usdc6 = size_e8 × (index_now_e6 − index_last_e6) / 1e8
//
// Funding sign convention (as DESIGN §6 states it): a position's funding P&L is
//   size × (index_now − index_at_last_settlement)
// so a long GAINS when the index rises. A feed whose positive rate means "longs pay"
// must therefore push an index that FALLS while the rate is positive.
//
// Rounding rules (always against the trader, in favour of the exchange, so USDC is
// conserved exactly and the exchange can never owe more than it holds):
//   - trade notional is EXACT: markets require lot_size_e8 × tick_size_e6 ≡ 0 (mod 1e8),
//     so size × price is always divisible by 1e8 (validated in market-config.ts);
//   - fees and margin requirements round UP (ceil);
//   - unrealized P&L and funding P&L round DOWN (floor, towards −∞), whichever sign;
//   - liquidation transfers at mark price round against the liquidated account
//     (a long receives floor, a short pays ceil); the vault takes the other side of
//     the very same integer, so both legs balance to the unit.
//   The funding rounding residue stays in the exchange's funding pool (see engine).

export const USDC_DECIMALS = 6;
export const PRICE_DECIMALS = 6;
export const SIZE_DECIMALS = 8;
export const FUNDING_INDEX_DECIMALS = 6;
export const FUNDING_RATE_DECIMALS = 12;
export const PPM_DECIMALS = 6;

export const USDC_ONE = 10n ** 6n;
export const PRICE_ONE = 10n ** 6n;
export const SIZE_ONE = 10n ** 8n;
export const FUNDING_INDEX_ONE = 10n ** 6n;
export const FUNDING_RATE_ONE = 10n ** 12n;
export const PPM_ONE = 10n ** 6n;

/** Seconds per hour: funding rates are quoted per hour. */
export const SECONDS_PER_HOUR = 3600n;

/** Raised when a decimal string cannot be converted exactly to the requested scale. */
export class DecimalFormatError extends RangeError {
  constructor(readonly input: string, message: string) {
    super(`${JSON.stringify(input).slice(0, 60)}: ${message}`);
    this.name = "DecimalFormatError";
  }
}

const DECIMAL_RE = /^(-)?([0-9]{1,40})(?:\.([0-9]{1,40}))?$/;

/**
 * Exact conversion of a decimal string ("97123.45", "-0.0000125") to a fixed-point bigint
 * with `decimals` fractional digits. Extra fractional digits are accepted only when they
 * are zeros; anything that would need rounding throws DecimalFormatError.
 */
export function parseDecimal(input: string, decimals: number): bigint {
  if (typeof input !== "string") throw new DecimalFormatError(String(input), "expected a decimal string");
  const m = DECIMAL_RE.exec(input);
  if (!m) throw new DecimalFormatError(input, "not a plain decimal number (digits, optional '.' and '-')");
  const negative = m[1] === "-";
  const whole = m[2]!;
  let frac = m[3] ?? "";
  if (frac.length > decimals) {
    if (!/^0*$/.test(frac.slice(decimals))) {
      throw new DecimalFormatError(input, `has more than ${decimals} significant decimals; refusing to round`);
    }
    frac = frac.slice(0, decimals);
  }
  const v = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  return negative ? -v : v;
}

/** Inverse of parseDecimal: shortest exact decimal string for a fixed-point value. */
export function formatDecimal(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const one = 10n ** BigInt(decimals);
  const whole = abs / one;
  let frac = (abs % one).toString().padStart(decimals, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + whole.toString() + (frac ? "." + frac : "");
}

export const parsePrice = (s: string): bigint => parseDecimal(s, PRICE_DECIMALS);
export const parseSize = (s: string): bigint => parseDecimal(s, SIZE_DECIMALS);
export const parseUsdc = (s: string): bigint => parseDecimal(s, USDC_DECIMALS);
export const parseFundingIndex = (s: string): bigint => parseDecimal(s, FUNDING_INDEX_DECIMALS);
export const parseFundingRate = (s: string): bigint => parseDecimal(s, FUNDING_RATE_DECIMALS);

/** Floor division for signed bigints (BigInt `/` truncates towards zero). */
export function divFloor(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError("divFloor: divisor must be positive");
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Ceiling division for signed bigints. */
export function divCeil(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError("divCeil: divisor must be positive");
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
export const sign = (x: bigint): bigint => (x > 0n ? 1n : x < 0n ? -1n : 0n);
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Exact trade notional; callers guarantee divisibility (lot × tick ≡ 0 mod 1e8). */
export function exactNotional(size_e8: bigint, price_e6: bigint): bigint {
  const p = size_e8 * price_e6;
  if (p % SIZE_ONE !== 0n) throw new RangeError(`notional not exact: size ${size_e8} × price ${price_e6}`);
  return p / SIZE_ONE;
}

/** Signed notional at a (possibly off-tick) mark price, floored (against the holder). */
export function notionalFloor(size_e8: bigint, price_e6: bigint): bigint {
  return divFloor(size_e8 * price_e6, SIZE_ONE);
}

/** |size| × price rounded up: the base for margin requirements. */
export function absNotionalCeil(size_e8: bigint, price_e6: bigint): bigint {
  return divCeil(abs(size_e8) * price_e6, SIZE_ONE);
}

/** amount × ratio_ppm rounded up (fees, margin requirements). */
export function ppmCeil(amount: bigint, ratio_ppm: bigint): bigint {
  return divCeil(amount * ratio_ppm, PPM_ONE);
}

/** Funding P&L of a signed position between two index values, floored. */
export function fundingPnl(size_e8: bigint, indexLast_e6: bigint, indexNow_e6: bigint): bigint {
  return divFloor(size_e8 * (indexNow_e6 - indexLast_e6), SIZE_ONE);
}
