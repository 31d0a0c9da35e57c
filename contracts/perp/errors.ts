// Typed errors of the exchange and oracle rules. Each carries a `code` that is also a
// valid Cairo short string (≤ 31 ASCII chars), so the contract wrapper can revert with
// it as panic data and clients see a Starknet-looking revert reason.

export type ExchangeErrorCode =
  | "PERP: paused"
  | "PERP: only operator"
  | "PERP: only admin"
  | "PERP: unknown market"
  | "PERP: market exists"
  | "PERP: bad market config"
  | "PERP: bad amount"
  | "PERP: bad size"
  | "PERP: bad price"
  | "PERP: bad order type"
  | "PERP: bad side"
  | "PERP: insufficient margin"
  | "PERP: insufficient collateral"
  | "PERP: post-only would cross"
  | "PERP: post-only mode"
  | "PERP: outside price band"
  | "PERP: reduce-only increases"
  | "PERP: unknown order"
  | "PERP: not order owner"
  | "PERP: order not open"
  | "PERP: not triggerable"
  | "PERP: trigger not reached"
  | "PERP: not liquidatable"
  | "PERP: vault cannot trade"
  | "PERP: book side full"
  | "PERP: no mark price"
  | "PERP: too many markets"
  | "ORACLE: only operator"
  | "ORACLE: unknown market"
  | "ORACLE: market exists"
  | "ORACLE: bad config"
  | "ORACLE: price not positive"
  | "ORACLE: stale timestamp"
  | "ORACLE: stale epoch"
  | "ORACLE: stale sequence"
  | "ORACLE: funding step too big"
  | "ORACLE: funding index reset";

/** A rule refused an operation. `details` holds the numbers behind the refusal. */
export class ExchangeError extends Error {
  constructor(
    readonly code: ExchangeErrorCode,
    readonly details: Record<string, bigint | string | number> = {},
  ) {
    const extra = Object.entries(details)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    super(extra ? `${code} (${extra})` : code);
    this.name = "ExchangeError";
  }
}

/** Throw an ExchangeError unless `cond` holds. */
export function require_(
  cond: boolean,
  code: ExchangeErrorCode,
  details?: Record<string, bigint | string | number>,
): asserts cond {
  if (!cond) throw new ExchangeError(code, details);
}

/** An internal invariant broke: crash rather than corrupt state. */
export function invariant(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(`perp invariant violated: ${message}`);
}
