// The market-data update: what a source pushes (decimal strings, JSON-shaped) and its
// normalized form (fixed-point bigints in the scales of contracts/perp/units.ts), plus the
// exact conversion between the two. Pure: no clock, no I/O.
//
// It must never pass a value through floating point: prices, rates and indices arrive as
// decimal strings and are converted exactly (parseDecimal); a price sent as a JSON number
// is refused, because by the time it reached us it was already a binary float.
//
// Two kinds of refusal, both typed and both naming the field (the RPC answers them with
// invalid-params, the pipeline quarantines them under their `code`):
//   malformed      the shape is wrong: not an object, field missing, unknown field, wrong
//                  JSON type (a price as a number), timestamp/epoch/sequence not a
//                  non-negative safe integer, market/source not a short name;
//   invalid_value  a decimal string that is not a finite plain decimal ("NaN", "1e5",
//                  "Infinity", "") or that has more decimals than its scale holds exactly.
// Sign and range (price > 0, u64 / i128 bounds) are the value-domain guard's job.

import { InvalidParamsError } from "../errors.js";
import {
  DecimalFormatError,
  formatDecimal,
  FUNDING_INDEX_DECIMALS,
  FUNDING_RATE_DECIMALS,
  parseDecimal,
  PRICE_DECIMALS,
} from "../../contracts/perp/units.js";

/** The object a source pushes (RPC push, simulator, JSONL replay line). */
export interface MarketDataPush {
  market: string;
  source: string;
  mark_price: string;
  index_price: string;
  funding_rate: string;
  funding_index: string;
  timestamp: number;
  epoch: number;
  sequence: number;
}

/** A normalized update. Scales: price e6, funding rate e12 per hour, funding index e6 (signed). */
export interface MarketDataUpdate {
  market: string;
  source: string;
  mark_price_e6: bigint;
  index_price_e6: bigint;
  funding_rate_e12: bigint;
  funding_index_e6: bigint;
  timestamp_s: number;
  epoch: number;
  sequence: number;
}

/** What the pipeline hands to the node for the operator INVOKE to the oracle. */
export interface MarketDataWrite {
  market: string;
  mark_price_e6: bigint;
  index_price_e6: bigint;
  funding_rate_e12: bigint;
  funding_index_e6: bigint;
  timestamp: number;
  epoch: number;
  sequence: number;
}

export type InputErrorCode = "malformed" | "invalid_value";

/**
 * A push that cannot be normalized. `field` names the offending field ("" for the whole
 * object); `reasonCode` is the pipeline's rejection code. As an InvalidParamsError the RPC
 * layer answers it with -32602 and "field: reason" as data.
 */
export class MarketDataInputError extends InvalidParamsError {
  constructor(
    readonly reasonCode: InputErrorCode,
    field: string,
    reason: string,
  ) {
    super(field, reason);
  }
}

const PUSH_FIELDS = [
  "market",
  "source",
  "mark_price",
  "index_price",
  "funding_rate",
  "funding_index",
  "timestamp",
  "epoch",
  "sequence",
] as const;

/** Names of markets and sources: short-string safe (≤ 31 printable ASCII, no spaces). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/;
/** A finite plain decimal: optional '-', digits, optional '.' and digits. */
const DECIMAL_RE = /^-?[0-9]{1,40}(\.[0-9]{1,40})?$/;

/**
 * Validate and convert a pushed object. Throws MarketDataInputError naming the first bad
 * field; fields are checked in a fixed order so the same input always names the same field.
 */
export function normalizeMarketData(raw: unknown): MarketDataUpdate {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MarketDataInputError("malformed", "", "market data update must be a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  for (const f of PUSH_FIELDS) {
    if (!(f in obj) || obj[f] === undefined || obj[f] === null) throw new MarketDataInputError("malformed", f, "missing");
  }
  for (const k of Object.keys(obj)) {
    if (!(PUSH_FIELDS as readonly string[]).includes(k)) throw new MarketDataInputError("malformed", k, "unknown field");
  }
  return {
    market: name(obj, "market"),
    source: name(obj, "source"),
    mark_price_e6: decimal(obj, "mark_price", PRICE_DECIMALS),
    index_price_e6: decimal(obj, "index_price", PRICE_DECIMALS),
    funding_rate_e12: decimal(obj, "funding_rate", FUNDING_RATE_DECIMALS),
    funding_index_e6: decimal(obj, "funding_index", FUNDING_INDEX_DECIMALS),
    timestamp_s: safeInteger(obj, "timestamp"),
    epoch: safeInteger(obj, "epoch"),
    sequence: safeInteger(obj, "sequence"),
  };
}

/** Inverse of normalizeMarketData: exact decimal strings (shortest form). */
export function formatMarketData(u: MarketDataUpdate): MarketDataPush {
  return {
    market: u.market,
    source: u.source,
    mark_price: formatDecimal(u.mark_price_e6, PRICE_DECIMALS),
    index_price: formatDecimal(u.index_price_e6, PRICE_DECIMALS),
    funding_rate: formatDecimal(u.funding_rate_e12, FUNDING_RATE_DECIMALS),
    funding_index: formatDecimal(u.funding_index_e6, FUNDING_INDEX_DECIMALS),
    timestamp: u.timestamp_s,
    epoch: u.epoch,
    sequence: u.sequence,
  };
}

/** An accepted write as decimal strings (for status, logs and the RPC). */
export type FormattedWrite = Omit<MarketDataPush, "source">;

export function formatWrite(w: MarketDataWrite): FormattedWrite {
  return {
    market: w.market,
    mark_price: formatDecimal(w.mark_price_e6, PRICE_DECIMALS),
    index_price: formatDecimal(w.index_price_e6, PRICE_DECIMALS),
    funding_rate: formatDecimal(w.funding_rate_e12, FUNDING_RATE_DECIMALS),
    funding_index: formatDecimal(w.funding_index_e6, FUNDING_INDEX_DECIMALS),
    timestamp: w.timestamp,
    epoch: w.epoch,
    sequence: w.sequence,
  };
}

// ---- field parsers ---------------------------------------------------------------------

function name(obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (typeof v !== "string") throw new MarketDataInputError("malformed", field, `expected a string, got ${jsonType(v)}`);
  if (!NAME_RE.test(v)) throw new MarketDataInputError("malformed", field, "expected 1-31 characters of [A-Za-z0-9._:-]");
  return v;
}

function decimal(obj: Record<string, unknown>, field: string, decimals: number): bigint {
  const v = obj[field];
  if (typeof v !== "string") {
    const why = typeof v === "number" ? "a JSON number (floating point) is refused; send a decimal string" : `got ${jsonType(v)}`;
    throw new MarketDataInputError("malformed", field, `expected a decimal string: ${why}`);
  }
  if (!DECIMAL_RE.test(v)) throw new MarketDataInputError("invalid_value", field, `not a finite plain decimal: ${JSON.stringify(v.slice(0, 40))}`);
  try {
    return parseDecimal(v, decimals);
  } catch (e) {
    if (e instanceof DecimalFormatError) throw new MarketDataInputError("invalid_value", field, e.message);
    throw e;
  }
}

function safeInteger(obj: Record<string, unknown>, field: string): number {
  const v = obj[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new MarketDataInputError("malformed", field, `expected a non-negative safe integer, got ${typeof v === "number" ? String(v) : jsonType(v)}`);
  }
  return v;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
