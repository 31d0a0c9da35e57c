// Market-data guards (DESIGN §7): pure functions (update, context) → accept | refuse.
// Nothing reaches the oracle unless every guard below accepts it. Each guard reads only
// its arguments: the clock is `context.now_s`, the on-chain values are `context.baseline`
// (read by the caller from COMMITTED chain state on every update — never from a cache that
// can be empty after a restart), and a missing baseline is a refusal, never "accept anything".
//
// Guards, in the order they run (the first refusal wins), their codes and defaults:
//
// | # | guard                 | refuses with                                   | default (per market, overridable)                    | why this default |
// |---|-----------------------|------------------------------------------------|------------------------------------------------------|------------------|
// | 1 | readiness             | node_not_ready                                 | lifecycle must be `ready`                            | DESIGN §8: nothing is written before recovery finished; the incident was a write during a restart. |
// | 2 | value domain          | unknown_market, invalid_value                  | markets: BTC/ETH/PAXG-USD-PERP; 0 < price ≤ 2^64−1 (e6); rate, index in i128; exact decimals (6 / 12 / 6, checked at normalization) | the oracle stores prices as u64 and rate/index as i128; a zero or negative price is never real. |
// | 3 | epoch fencing         | stale_epoch, future_epoch                      | update.epoch must equal the node's epoch (and ≥ the on-chain epoch) | an old process or a replayed feed carries an older epoch; a newer one than the node's cannot be genuine. |
// | 4 | staleness             | stale                                          | max_age_s = 30                                       | sources publish every 1–5 s; 30 s tolerates a few missed beats and block latency, older data would misprice liquidations. |
// | 5 | future timestamp      | future_timestamp                               | max_clock_skew_s = 5                                 | NTP-synced hosts agree within milliseconds; 5 s allows a sloppy clock, more means a wrong clock or a forged stamp (which would also block later honest updates on chain). |
// | 6 | per-source order      | duplicate, replayed_sequence, non_monotonic_timestamp | per (source, market): (epoch, sequence) strictly increases; timestamp strictly increases; an identical repeat of the last update is `duplicate` | a replayed or reordered feed is exactly what fencing must stop; strict because the oracle requires strictly increasing timestamps. |
// | 7 | baseline              | no_baseline, stale_epoch                       | the market must have a readable on-chain record; a market known to have had values must have them on chain; epoch ≥ on-chain epoch | the incident: after a restart the baseline was empty and everything was accepted. "Nothing to compare with" is only legitimate for a market that never had data. |
// | 8 | funding rate cap      | funding_rate_cap                               | |rate| ≤ the oracle's max_funding_rate (converted to per hour): 0.05 %/h BTC, ETH; 0.025 %/h PAXG | the same cap the exchange is configured with; a rate beyond it is a feed error, and it bounds the index step below. |
// | 9 | funding-index continuity | funding_index_reset, funding_index_jump     | index ≠ 0 when the on-chain index ≠ 0; |Δindex| ≤ max_rate × min(prev mark, new mark) × elapsed / period — the oracle's own check (contracts/perp/funding.ts), exact integers, no slack | the incident wrote zero indices; anything the chain would refuse is refused here first, quarantined rather than reverted. |
// |10 | price jump            | price_jump                                     | mark and index each move ≤ 5 % per 60 s versus the on-chain value, at most 20 % in total for long gaps | extreme 1-minute BTC candles stay within a few %; a bigger move halts the market (breaker) for an operator instead of liquidating on one unverified print. |
// |11 | mark/index divergence | mark_index_divergence                          | |mark − index| ≤ 2 % of index                         | perp premiums stay well under 0.5 % in normal markets; 2 % leaves room for stress, more means one of the two is broken. |
// |12 | cross-source deviation| source_deviation                               | mark and index within 1 % of the median of the OTHER sources' fresh (≤ max_age_s) accepted values, when ≥ 1 other source is fresh | independent venues agree within ~0.1 %; 1 % is ten times that. |
//
// Time versus the chain: guards 9 and 10 measure elapsed time in either direction, so a
// source a second behind the on-chain value still contributes to the median; only the
// aggregate must be newer than the chain to be written (pipeline.ts, else no write).
//
// Outside this file: `malformed` (shape errors at normalization, update.ts), `circuit_open`
// (breaker.ts: 5 refusals within 60 s open a market until an operator closes it), and
// `onchain_precheck` (pipeline.ts: the aggregate is run through the oracle's own check).
//
// Never reads the clock, randomness or the environment; never mutates its inputs.

import type { OracleMarket } from "../../contracts/oracle.js";
import { fundingStepWithinCap, maxFundingStep } from "../../contracts/perp/funding.js";
import { GENESIS_MARKETS } from "../../contracts/perp/market-config.js";
import { abs, min, PPM_ONE, SECONDS_PER_HOUR } from "../../contracts/perp/units.js";
import { decodeShortString } from "../../state/felt.js";
import type { MarketDataUpdate } from "./update.js";

/** Stable reason codes (they appear in metrics, the quarantine column and RPC errors). */
export type GuardCode =
  | "node_not_ready"
  | "unknown_market"
  | "invalid_value"
  | "stale_epoch"
  | "future_epoch"
  | "stale"
  | "future_timestamp"
  | "duplicate"
  | "replayed_sequence"
  | "non_monotonic_timestamp"
  | "no_baseline"
  | "funding_rate_cap"
  | "funding_index_reset"
  | "funding_index_jump"
  | "price_jump"
  | "mark_index_divergence"
  | "source_deviation";

export type GuardResult = { ok: true } | { ok: false; code: GuardCode; reason: string };
export type Guard = (update: MarketDataUpdate, context: GuardContext) => GuardResult;

// ---- configuration ---------------------------------------------------------------------

/** Per-market guard parameters. Times in seconds, ratios in ppm. */
export interface MarketGuardConfig {
  max_age_s: number;
  max_clock_skew_s: number;
  /** Allowed move per `price_move_interval_s` versus the on-chain value. */
  max_price_move_ppm: bigint;
  price_move_interval_s: number;
  /** Ceiling of the allowed move however long the gap since the on-chain value. */
  max_price_move_total_ppm: bigint;
  max_mark_index_divergence_ppm: bigint;
  max_source_deviation_ppm: bigint;
  /** Fresh other sources needed before the deviation guard applies. */
  min_peer_sources: number;
  /** Funding rate cap per hour (e12); null = the oracle's on-chain cap converted to per hour. */
  max_funding_rate_e12: bigint | null;
  /** Largest price (e6): the oracle stores prices as u64. */
  max_price_e6: bigint;
  /** Distinct fresh sources needed before an aggregate is written (aggregate.ts). */
  quorum: number;
  /** Circuit breaker (breaker.ts): this many counted refusals within the window open it. */
  breaker_threshold: number;
  breaker_window_s: number;
}

export const DEFAULT_MARKET_GUARD_CONFIG: Readonly<MarketGuardConfig> = Object.freeze({
  max_age_s: 30,
  max_clock_skew_s: 5,
  max_price_move_ppm: 50_000n,
  price_move_interval_s: 60,
  max_price_move_total_ppm: 200_000n,
  max_mark_index_divergence_ppm: 20_000n,
  max_source_deviation_ppm: 10_000n,
  min_peer_sources: 1,
  max_funding_rate_e12: null,
  max_price_e6: (1n << 64n) - 1n,
  quorum: 1,
  breaker_threshold: 5,
  breaker_window_s: 60,
});

/** Known markets, each with its overrides of the defaults. */
export interface GuardConfig {
  defaults: MarketGuardConfig;
  markets: Readonly<Record<string, Partial<MarketGuardConfig>>>;
}

/** Genesis markets (contracts/perp/market-config.ts), all on the defaults. */
export const DEFAULT_GUARD_CONFIG: GuardConfig = Object.freeze({
  defaults: DEFAULT_MARKET_GUARD_CONFIG,
  markets: Object.freeze(Object.fromEntries(GENESIS_MARKETS.map((m) => [decodeShortString(m.name), Object.freeze({})]))),
});

/** Build a config from partial input; validates every value (RangeError naming it). */
export function makeGuardConfig(input: { defaults?: Partial<MarketGuardConfig>; markets?: Record<string, Partial<MarketGuardConfig>> } = {}): GuardConfig {
  const defaults = { ...DEFAULT_MARKET_GUARD_CONFIG, ...input.defaults };
  const markets = input.markets ?? DEFAULT_GUARD_CONFIG.markets;
  validateMarketGuardConfig("defaults", defaults);
  for (const [m, o] of Object.entries(markets)) validateMarketGuardConfig(m, { ...defaults, ...o });
  return { defaults, markets: { ...markets } };
}

/** The effective parameters for a market, or undefined when the market is unknown. */
export function resolveMarketConfig(config: GuardConfig, market: string): MarketGuardConfig | undefined {
  if (!Object.prototype.hasOwnProperty.call(config.markets, market)) return undefined;
  return { ...config.defaults, ...config.markets[market] };
}

function validateMarketGuardConfig(where: string, c: MarketGuardConfig): void {
  const bad = (field: string, rule: string): never => {
    throw new RangeError(`guard config ${where}.${field}: ${rule}`);
  };
  const posInt = (field: keyof MarketGuardConfig, allowZero = false) => {
    const v = c[field] as number;
    if (!Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) bad(field, allowZero ? "a non-negative integer" : "a positive integer");
  };
  const ppm = (field: keyof MarketGuardConfig) => {
    const v = c[field] as bigint;
    if (typeof v !== "bigint" || v <= 0n) bad(field, "a positive bigint (ppm)");
  };
  posInt("max_age_s");
  posInt("max_clock_skew_s", true);
  posInt("price_move_interval_s");
  posInt("min_peer_sources");
  posInt("quorum");
  posInt("breaker_threshold");
  posInt("breaker_window_s");
  ppm("max_price_move_ppm");
  ppm("max_price_move_total_ppm");
  ppm("max_mark_index_divergence_ppm");
  ppm("max_source_deviation_ppm");
  if (c.max_price_move_total_ppm < c.max_price_move_ppm) bad("max_price_move_total_ppm", "≥ max_price_move_ppm");
  if (c.max_funding_rate_e12 !== null && (typeof c.max_funding_rate_e12 !== "bigint" || c.max_funding_rate_e12 <= 0n)) {
    bad("max_funding_rate_e12", "null or a positive bigint");
  }
  if (typeof c.max_price_e6 !== "bigint" || c.max_price_e6 <= 0n || c.max_price_e6 >= 1n << 64n) bad("max_price_e6", "in (0, 2^64)");
}

// ---- context ---------------------------------------------------------------------------

/**
 * What the chain holds for the update's market, as read from COMMITTED state:
 *  - `onchain`:     the oracle has values (timestamp > 0);
 *  - `empty`:       the market is registered on chain but has never been written;
 *  - `unavailable`: could not be read, or the oracle has no record of the market at all
 *                   (an empty or half-loaded store looks exactly like this).
 */
export type Baseline =
  | { kind: "onchain"; market: OracleMarket }
  | { kind: "empty"; max_funding_rate_e12: bigint; funding_period_s: bigint }
  | { kind: "unavailable"; reason: string };

/** Classify a raw oracle read (contracts/oracle.ts readOracleMarket); undefined = read failed. */
export function baselineFromOracle(m: OracleMarket | undefined | null): Baseline {
  if (!m) return { kind: "unavailable", reason: "the oracle record could not be read" };
  if (m.funding_period_s <= 0n) return { kind: "unavailable", reason: "the oracle holds no record of this market" };
  if (m.timestamp_s === 0n) return { kind: "empty", max_funding_rate_e12: m.max_funding_rate_e12, funding_period_s: m.funding_period_s };
  return { kind: "onchain", market: m };
}

/** The last accepted update of one source for one market. */
export interface SourceMark {
  epoch: number;
  sequence: number;
  timestamp_s: number;
  /** Canonical content of the update, to tell an identical repeat from a replay. */
  fingerprint: string;
}

/** Everything a guard may look at for ONE update (the pipeline builds it per update). */
export interface GuardContext {
  /** Injected clock, seconds. */
  now_s: number;
  /** Node lifecycle state (sequencer/lifecycle.ts). */
  lifecycle: string;
  /** The node's current epoch. */
  epoch: number;
  /** Effective parameters for the update's market; undefined when the market is unknown. */
  market_config: MarketGuardConfig | undefined;
  /** On-chain values for the update's market, read from committed state. */
  baseline: Baseline;
  /** True when the market is known to have had values (so an empty baseline is suspect). */
  market_has_history: boolean;
  /** This source's last accepted update for this market. */
  last_seen: SourceMark | undefined;
  /** Latest accepted update of every source for this market (this source's is ignored). */
  recent: readonly MarketDataUpdate[];
}

// ---- the guards --------------------------------------------------------------------------

const ACCEPT: GuardResult = Object.freeze({ ok: true });
const refuse = (code: GuardCode, reason: string): GuardResult => ({ ok: false, code, reason });

/** Guards that need the market's parameters refuse an unknown market on their own. */
function withConfig(g: (u: MarketDataUpdate, ctx: GuardContext, c: MarketGuardConfig) => GuardResult): Guard {
  return (u, ctx) => (ctx.market_config ? g(u, ctx, ctx.market_config) : refuse("unknown_market", `unknown market ${u.market}`));
}

const I128_MAX = (1n << 127n) - 1n;
const I128_MIN = -(1n << 127n);

export const readinessGuard: Guard = (_u, ctx) =>
  ctx.lifecycle === "ready" ? ACCEPT : refuse("node_not_ready", `node is ${ctx.lifecycle}; market data is written only when ready`);

export const valueDomainGuard: Guard = (u, ctx) => {
  const c = ctx.market_config;
  if (!c) return refuse("unknown_market", `unknown market ${u.market}`);
  for (const [field, v] of [
    ["mark_price", u.mark_price_e6],
    ["index_price", u.index_price_e6],
  ] as const) {
    if (v <= 0n) return refuse("invalid_value", `${field} must be positive, got ${v} (e6)`);
    if (v > c.max_price_e6) return refuse("invalid_value", `${field} ${v} (e6) exceeds the maximum ${c.max_price_e6}`);
  }
  for (const [field, v] of [
    ["funding_rate", u.funding_rate_e12],
    ["funding_index", u.funding_index_e6],
  ] as const) {
    if (v > I128_MAX || v < I128_MIN) return refuse("invalid_value", `${field} ${v} is outside the i128 range`);
  }
  return ACCEPT;
};

export const epochGuard: Guard = (u, ctx) => {
  if (u.epoch < ctx.epoch) return refuse("stale_epoch", `update epoch ${u.epoch} is older than the node's epoch ${ctx.epoch}`);
  if (u.epoch > ctx.epoch) return refuse("future_epoch", `update epoch ${u.epoch} is newer than the node's epoch ${ctx.epoch}`);
  return ACCEPT;
};

export const stalenessGuard: Guard = withConfig((u, ctx, c) => {
  const age = ctx.now_s - u.timestamp_s;
  return age > c.max_age_s ? refuse("stale", `update is ${age} s old; max_age_s is ${c.max_age_s}`) : ACCEPT;
});

export const futureTimestampGuard: Guard = withConfig((u, ctx, c) => {
  const ahead = u.timestamp_s - ctx.now_s;
  return ahead > c.max_clock_skew_s ? refuse("future_timestamp", `update is ${ahead} s in the future; max_clock_skew_s is ${c.max_clock_skew_s}`) : ACCEPT;
});

export const sourceOrderGuard: Guard = (u, ctx) => {
  const last = ctx.last_seen;
  if (!last) return ACCEPT;
  if (u.epoch === last.epoch && u.sequence === last.sequence && updateFingerprint(u) === last.fingerprint) {
    return refuse("duplicate", `identical repeat of ${u.source}'s last update (sequence ${u.sequence})`);
  }
  if (u.epoch < last.epoch || (u.epoch === last.epoch && u.sequence <= last.sequence)) {
    return refuse("replayed_sequence", `${u.source} sequence ${u.epoch}/${u.sequence} is not after the last accepted ${last.epoch}/${last.sequence}`);
  }
  if (u.timestamp_s <= last.timestamp_s) {
    return refuse("non_monotonic_timestamp", `${u.source} timestamp ${u.timestamp_s} is not after its last accepted ${last.timestamp_s}`);
  }
  return ACCEPT;
};

export const baselineGuard: Guard = (u, ctx) => {
  const b = ctx.baseline;
  if (b.kind === "unavailable") return refuse("no_baseline", `no on-chain baseline for ${u.market}: ${b.reason}`);
  if (b.kind === "empty") {
    return ctx.market_has_history
      ? refuse("no_baseline", `${u.market} has had values but the committed oracle record is empty`)
      : ACCEPT;
  }
  const prev = b.market;
  if (BigInt(u.epoch) < prev.epoch) return refuse("stale_epoch", `update epoch ${u.epoch} is older than the on-chain epoch ${prev.epoch}`);
  return ACCEPT;
};

export const fundingRateCapGuard: Guard = (u, ctx) => {
  const cap = fundingRateCapPerHour(ctx);
  if (cap === undefined) return refuse("no_baseline", `no funding-rate cap known for ${u.market}`);
  return abs(u.funding_rate_e12) > cap
    ? refuse("funding_rate_cap", `|funding_rate| ${u.funding_rate_e12} (e12/h) exceeds the cap ${cap}`)
    : ACCEPT;
};

export const fundingIndexGuard: Guard = (u, ctx) => {
  if (ctx.baseline.kind !== "onchain") return ACCEPT; // first write of a never-written market
  const prev = ctx.baseline.market;
  if (prev.funding_index_e6 !== 0n && u.funding_index_e6 === 0n) {
    return refuse("funding_index_reset", `funding index reset to 0 (on-chain ${prev.funding_index_e6} e6)`);
  }
  const mark = min(prev.mark_price_e6, u.mark_price_e6);
  const elapsed = absElapsed(u, prev);
  const delta = u.funding_index_e6 - prev.funding_index_e6;
  if (!fundingStepWithinCap(delta, mark, elapsed, prev.max_funding_rate_e12, prev.funding_period_s)) {
    const cap = maxFundingStep(mark, elapsed, prev.max_funding_rate_e12, prev.funding_period_s);
    return refuse("funding_index_jump", `|Δfunding_index| ${abs(delta)} (e6) over ${elapsed} s exceeds the cap ${cap}`);
  }
  return ACCEPT;
};

export const priceJumpGuard: Guard = withConfig((u, ctx, c) => {
  if (ctx.baseline.kind !== "onchain") return ACCEPT;
  const prev = ctx.baseline.market;
  const elapsed = absElapsed(u, prev);
  const interval = BigInt(c.price_move_interval_s);
  const periods = elapsed <= interval ? 1n : (elapsed + interval - 1n) / interval;
  const allowed = min(c.max_price_move_ppm * periods, c.max_price_move_total_ppm);
  for (const [field, now, then] of [
    ["mark_price", u.mark_price_e6, prev.mark_price_e6],
    ["index_price", u.index_price_e6, prev.index_price_e6],
  ] as const) {
    if (then > 0n && exceedsPpm(now, then, allowed)) {
      return refuse("price_jump", `${field} moved from ${then} to ${now} (e6) in ${elapsed} s; allowed ${allowed} ppm`);
    }
  }
  return ACCEPT;
});

export const markIndexDivergenceGuard: Guard = withConfig((u, ctx, c) => {
  return exceedsPpm(u.mark_price_e6, u.index_price_e6, c.max_mark_index_divergence_ppm)
    ? refuse("mark_index_divergence", `mark ${u.mark_price_e6} and index ${u.index_price_e6} (e6) differ by more than ${c.max_mark_index_divergence_ppm} ppm`)
    : ACCEPT;
});

export const sourceDeviationGuard: Guard = withConfig((u, ctx, c) => {
  const peers = ctx.recent.filter((p) => p.source !== u.source && p.market === u.market && ctx.now_s - p.timestamp_s <= c.max_age_s);
  if (peers.length < c.min_peer_sources) return ACCEPT;
  for (const [field, pick] of [
    ["mark_price", (x: MarketDataUpdate) => x.mark_price_e6],
    ["index_price", (x: MarketDataUpdate) => x.index_price_e6],
  ] as const) {
    const med = median(peers.map(pick));
    if (exceedsPpm(pick(u), med, c.max_source_deviation_ppm)) {
      return refuse("source_deviation", `${field} ${pick(u)} (e6) is more than ${c.max_source_deviation_ppm} ppm from the median ${med} of ${peers.length} other source(s)`);
    }
  }
  return ACCEPT;
});

/** All guards in the order they run. */
export const GUARDS: readonly { name: string; guard: Guard }[] = Object.freeze([
  { name: "readiness", guard: readinessGuard },
  { name: "value_domain", guard: valueDomainGuard },
  { name: "epoch", guard: epochGuard },
  { name: "staleness", guard: stalenessGuard },
  { name: "future_timestamp", guard: futureTimestampGuard },
  { name: "source_order", guard: sourceOrderGuard },
  { name: "baseline", guard: baselineGuard },
  { name: "funding_rate_cap", guard: fundingRateCapGuard },
  { name: "funding_index", guard: fundingIndexGuard },
  { name: "price_jump", guard: priceJumpGuard },
  { name: "mark_index_divergence", guard: markIndexDivergenceGuard },
  { name: "source_deviation", guard: sourceDeviationGuard },
]);

/** Run every guard in order; the first refusal is the answer. */
export function runGuards(update: MarketDataUpdate, context: GuardContext): GuardResult {
  for (const { guard } of GUARDS) {
    const r = guard(update, context);
    if (!r.ok) return r;
  }
  return ACCEPT;
}

// ---- helpers -------------------------------------------------------------------------------

/** Canonical content of an update (for duplicate detection). */
export function updateFingerprint(u: MarketDataUpdate): string {
  return [u.market, u.source, u.mark_price_e6, u.index_price_e6, u.funding_rate_e12, u.funding_index_e6, u.timestamp_s, u.epoch, u.sequence].join("|");
}

/** The funding-rate cap per hour for the context's market: config override, else on chain. */
export function fundingRateCapPerHour(ctx: GuardContext): bigint | undefined {
  const override = ctx.market_config?.max_funding_rate_e12;
  if (override !== null && override !== undefined) return override;
  const b = ctx.baseline;
  const [rate, period] =
    b.kind === "onchain" ? [b.market.max_funding_rate_e12, b.market.funding_period_s] : b.kind === "empty" ? [b.max_funding_rate_e12, b.funding_period_s] : [0n, 0n];
  if (period <= 0n) return undefined;
  return (rate * SECONDS_PER_HOUR) / period;
}

/**
 * Seconds between the update and the on-chain value, either way: a source lagging a
 * second behind the chain is still fresh data for aggregation, and a bounded path is
 * bounded in both directions of time. (Only the aggregate must be newer than the chain.)
 */
function absElapsed(u: MarketDataUpdate, prev: OracleMarket): bigint {
  const d = BigInt(u.timestamp_s) - prev.timestamp_s;
  return d < 0n ? -d : d;
}

/** |value − reference| > ppm × reference, exactly (reference > 0). */
function exceedsPpm(value: bigint, reference: bigint, ppm: bigint): boolean {
  return abs(value - reference) * PPM_ONE > ppm * reference;
}

/** Median of a non-empty list; for an even count the floored mean of the two middle values. */
export function median(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  if (s.length % 2 === 1) return s[mid]!;
  const sum = s[mid - 1]! + s[mid]!;
  return sum >= 0n || sum % 2n === 0n ? sum / 2n : sum / 2n - 1n;
}
