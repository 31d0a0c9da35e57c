// The guarded market-data path (DESIGN §7) as one object the node drives:
//   push → normalize → circuit breaker → guards → aggregation → oracle pre-check → write
// The node turns an accepted `write` into the operator INVOKE of the oracle's
// update_market_data, persists `rejections` into the quarantine column, and serves
// `status()` over RPC. Everything the rules depend on is pulled through the injected
// ports on EVERY update: the clock, the lifecycle state, the epoch and — above all — the
// baseline, read from committed chain state (never cached here, so a restart cannot leave
// an empty cache that accepts anything).
//
// Held in memory (bounded by markets × sources): per source its last accepted update
// (ordering, deviation and aggregation), per market the last write of this process
// (write sequence numbers), rejection counters, the breaker, the last N rejections.
// All of it is epoch-scoped: a restart takes a new epoch, so nothing here needs to survive.
//
// `unsafeDisableGuards` exists for the rollback drill's deliberately unguarded run: it
// skips breaker, guards, aggregation and the pre-check and writes every parseable update
// as is. Never enable it on a node that serves users.

import { checkMarketDataUpdate, emptyOracleMarket, type MarketDataUpdate as OracleUpdate, type OracleMarket } from "../../contracts/oracle.js";
import { ExchangeError } from "../../contracts/perp/errors.js";
import { boundedCopy } from "../bounded-copy.js";
import { aggregateSources } from "./aggregate.js";
import { CircuitBreaker, type BreakerState, type BreakerStatus } from "./breaker.js";
import {
  DEFAULT_GUARD_CONFIG,
  resolveMarketConfig,
  runGuards,
  updateFingerprint,
  type Baseline,
  type GuardCode,
  type GuardConfig,
  type GuardContext,
  type SourceMark,
} from "./guards.js";
import {
  formatMarketData,
  formatWrite,
  MarketDataInputError,
  normalizeMarketData,
  type FormattedWrite,
  type InputErrorCode,
  type MarketDataPush,
  type MarketDataUpdate,
  type MarketDataWrite,
} from "./update.js";

/** Every reason the pipeline can refuse with. */
export type RejectionCode = GuardCode | InputErrorCode | "circuit_open" | "onchain_precheck";

export type PipelineResult =
  | {
      accepted: true;
      /** What to write on chain; null when the update was accepted but produced no write yet. */
      write: MarketDataWrite | null;
      /** Why there is no write: too few fresh sources, or nothing newer than the chain / our last write. */
      pending?: "quorum" | "not_newer";
    }
  | { accepted: false; reason: RejectionCode; message: string; field?: string };

/** One quarantined update, as the node persists it. JSON-safe (no bigints). */
export interface Rejection {
  /** The market named by the update, "" when it named none. */
  market: string;
  source: string;
  reason: RejectionCode;
  message: string;
  field?: string;
  /** Injected clock at refusal, s. */
  at_s: number;
  epoch: number;
  /** The push as received (normalized back to decimal strings when it parsed). */
  update: unknown;
}

export interface MarketStatus {
  last_accepted: MarketDataPush | null;
  last_write: FormattedWrite | null;
  rejections: Record<string, number>;
  breaker: BreakerState;
  breaker_detail: BreakerStatus;
}

export interface PipelineStatus {
  epoch: number;
  guards_disabled: boolean;
  markets: Record<string, MarketStatus>;
  /** Refusals that name no configured market (unknown market, no market field). */
  unattributed_rejections: Record<string, number>;
}

export interface PipelineOptions {
  config?: GuardConfig;
  /** Injected clock, whole seconds. */
  now_s: () => number;
  /** Node lifecycle state (sequencer/lifecycle.ts `Lifecycle.state`). */
  lifecycle: () => string;
  /** The node's current epoch. */
  epoch: () => number;
  /**
   * The market's on-chain baseline from COMMITTED state, e.g.
   * `baselineFromOracle(readOracleMarket(committedView, encodeShortString(market)))`.
   * A throw is treated as an unreadable baseline (refusal `no_baseline`).
   */
  readBaseline: (market: string) => Baseline;
  /** Markets known to have had on-chain values (an empty baseline for them is refused). */
  marketsWithHistory?: Iterable<string>;
  /** Length of the in-memory list of recent rejections (default 256). */
  maxRecentRejections?: number;
  /** Called for every refusal (e.g. to persist it to the quarantine column). */
  onRejection?: (r: Rejection) => void;
  /** Skip every guard, the breaker and aggregation (rollback drill only). */
  unsafeDisableGuards?: boolean;
}

const UNATTRIBUTED = "";

export class MarketDataPipeline {
  readonly guardsDisabled: boolean;
  private readonly config: GuardConfig;
  private readonly breaker: CircuitBreaker;
  private readonly maxRecent: number;
  private readonly history: Set<string>;
  /** market → source → last accepted update. */
  private readonly latest = new Map<string, Map<string, MarketDataUpdate>>();
  private readonly lastWrite = new Map<string, MarketDataWrite>();
  private readonly lastAccepted = new Map<string, MarketDataUpdate>();
  /** market ("" for unattributed) → reason → count. */
  private readonly counters = new Map<string, Map<string, number>>();
  private readonly recentRejections: Rejection[] = [];

  constructor(private readonly opts: PipelineOptions) {
    this.config = opts.config ?? DEFAULT_GUARD_CONFIG;
    this.guardsDisabled = opts.unsafeDisableGuards === true;
    this.maxRecent = opts.maxRecentRejections ?? 256;
    if (!Number.isSafeInteger(this.maxRecent) || this.maxRecent < 1) throw new RangeError("maxRecentRejections must be a positive integer");
    this.history = new Set(opts.marketsWithHistory ?? []);
    this.breaker = new CircuitBreaker((market) => {
      const c = resolveMarketConfig(this.config, market) ?? this.config.defaults;
      return { threshold: c.breaker_threshold, window_s: c.breaker_window_s };
    });
  }

  /** Entry point for a raw push (RPC params, simulator, replay line). */
  submit(raw: unknown): PipelineResult {
    let update: MarketDataUpdate;
    try {
      update = normalizeMarketData(raw);
    } catch (e) {
      if (!(e instanceof MarketDataInputError)) throw e;
      const market = typeof (raw as { market?: unknown } | null)?.market === "string" ? (raw as { market: string }).market : UNATTRIBUTED;
      const source = typeof (raw as { source?: unknown } | null)?.source === "string" ? (raw as { source: string }).source : "";
      return this.refuse(market, source, e.reasonCode, e.reason, raw, e.field);
    }
    return this.submitUpdate(update);
  }

  /** Entry point for an already normalized update. */
  submitUpdate(u: MarketDataUpdate): PipelineResult {
    if (this.guardsDisabled) return this.acceptUnguarded(u);
    const now_s = this.opts.now_s();
    const raw = formatMarketData(u);
    if (this.breaker.state(u.market) === "open") {
      return this.refuse(u.market, u.source, "circuit_open", `circuit breaker for ${u.market} is open; an operator must close it`, raw);
    }
    const baseline = this.baseline(u.market);
    if (baseline.kind === "onchain") this.history.add(u.market);
    const bySource = this.latest.get(u.market);
    const last = bySource?.get(u.source);
    const ctx: GuardContext = {
      now_s,
      lifecycle: this.opts.lifecycle(),
      epoch: this.opts.epoch(),
      market_config: resolveMarketConfig(this.config, u.market),
      baseline,
      market_has_history: this.history.has(u.market),
      last_seen: last && sourceMark(last),
      recent: bySource ? [...bySource.values()] : [],
    };
    const verdict = runGuards(u, ctx);
    if (!verdict.ok) return this.refuse(u.market, u.source, verdict.code, verdict.reason, raw);

    // Aggregate with this update in place of the source's previous one.
    const c = ctx.market_config!;
    const candidates = [...(bySource?.values() ?? [])].filter((x) => x.source !== u.source);
    candidates.push(u);
    const agg = aggregateSources(candidates, now_s, c.max_age_s, c.quorum);
    if (!agg.ok) {
      this.remember(u);
      return { accepted: true, write: null, pending: "quorum" };
    }
    const prevWrite = this.lastWrite.get(u.market);
    const ownPrev = prevWrite && prevWrite.epoch === ctx.epoch ? prevWrite : undefined;
    const chainTimestamp = baseline.kind === "onchain" ? Number(baseline.market.timestamp_s) : 0;
    if (agg.value.timestamp_s <= Math.max(chainTimestamp, ownPrev?.timestamp ?? 0)) {
      this.remember(u);
      return { accepted: true, write: null, pending: "not_newer" };
    }
    const write: MarketDataWrite = {
      market: u.market,
      mark_price_e6: agg.value.mark_price_e6,
      index_price_e6: agg.value.index_price_e6,
      funding_rate_e12: agg.value.funding_rate_e12,
      funding_index_e6: agg.value.funding_index_e6,
      timestamp: agg.value.timestamp_s,
      epoch: ctx.epoch,
      sequence: nextWriteSequence(baseline, ownPrev, ctx.epoch),
    };
    // The oracle's own check against what the chain will hold when this write lands:
    // the committed value, or this process's newer pending write.
    try {
      checkMarketDataUpdate(effectivePrevious(baseline, ownPrev), toOracleUpdate(write));
    } catch (e) {
      if (!(e instanceof ExchangeError)) throw e;
      return this.refuse(u.market, u.source, "onchain_precheck", `the aggregate would be refused on chain: ${e.code}`, raw);
    }
    this.remember(u);
    this.lastWrite.set(u.market, write);
    return { accepted: true, write };
  }

  /** Operator call: close a market's breaker. Returns the state it was in. */
  closeBreaker(market: string): BreakerState {
    if (!resolveMarketConfig(this.config, market)) throw new RangeError(`unknown market ${market}`);
    return this.breaker.close(market);
  }

  /** True when `market` is one the guards are configured for (bounded metric labels). */
  isConfiguredMarket(market: string): boolean {
    return resolveMarketConfig(this.config, market) !== undefined;
  }

  breakerState(market: string): BreakerState {
    return this.breaker.state(market);
  }

  /** Record that a market has had on-chain values (e.g. found in the event log at start). */
  noteHistory(market: string): void {
    this.history.add(market);
  }

  /** The last refusals, oldest first (bounded by maxRecentRejections). */
  rejections(): readonly Rejection[] {
    return [...this.recentRejections];
  }

  status(): PipelineStatus {
    const now_s = this.opts.now_s();
    const markets: Record<string, MarketStatus> = {};
    for (const market of Object.keys(this.config.markets).sort()) {
      const accepted = this.lastAccepted.get(market);
      const write = this.lastWrite.get(market);
      markets[market] = {
        last_accepted: accepted ? formatMarketData(accepted) : null,
        last_write: write ? formatWrite(write) : null,
        rejections: Object.fromEntries(this.counters.get(market) ?? []),
        breaker: this.breaker.state(market),
        breaker_detail: this.breaker.status(market, now_s),
      };
    }
    return {
      epoch: this.opts.epoch(),
      guards_disabled: this.guardsDisabled,
      markets,
      unattributed_rejections: Object.fromEntries(this.counters.get(UNATTRIBUTED) ?? []),
    };
  }

  // ---- internals -----------------------------------------------------------------------

  private baseline(market: string): Baseline {
    try {
      return this.opts.readBaseline(market);
    } catch (e) {
      return { kind: "unavailable", reason: `reading the baseline failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  private remember(u: MarketDataUpdate): void {
    let bySource = this.latest.get(u.market);
    if (!bySource) this.latest.set(u.market, (bySource = new Map()));
    bySource.set(u.source, u);
    this.lastAccepted.set(u.market, u);
  }

  private acceptUnguarded(u: MarketDataUpdate): PipelineResult {
    const epoch = this.opts.epoch();
    const prev = this.lastWrite.get(u.market);
    const write: MarketDataWrite = {
      market: u.market,
      mark_price_e6: u.mark_price_e6,
      index_price_e6: u.index_price_e6,
      funding_rate_e12: u.funding_rate_e12,
      funding_index_e6: u.funding_index_e6,
      timestamp: u.timestamp_s,
      epoch,
      sequence: prev && prev.epoch === epoch ? prev.sequence + 1 : 1,
    };
    this.remember(u);
    this.lastWrite.set(u.market, write);
    return { accepted: true, write };
  }

  private refuse(market: string, source: string, reason: RejectionCode, message: string, update: unknown, field?: string): PipelineResult {
    const now_s = this.opts.now_s();
    const attributed = market !== UNATTRIBUTED && resolveMarketConfig(this.config, market) !== undefined;
    const key = attributed ? market : UNATTRIBUTED;
    let counts = this.counters.get(key);
    if (!counts) this.counters.set(key, (counts = new Map()));
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    if (attributed) this.breaker.recordRefusal(market, reason, now_s);
    // Kept in memory (the last N) and persisted: a bounded copy, never the client's whole payload.
    const rejection: Rejection = { market: clip(market), source: clip(source), reason, message, at_s: now_s, epoch: this.opts.epoch(), update: boundedCopy(update) };
    if (field !== undefined) rejection.field = field;
    this.recentRejections.push(rejection);
    if (this.recentRejections.length > this.maxRecent) this.recentRejections.shift();
    this.opts.onRejection?.(rejection);
    const out: PipelineResult = { accepted: false, reason, message };
    if (field !== undefined) out.field = field;
    return out;
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function sourceMark(u: MarketDataUpdate): SourceMark {
  return { epoch: u.epoch, sequence: u.sequence, timestamp_s: u.timestamp_s, fingerprint: updateFingerprint(u) };
}

/** Write sequence: continues the on-chain one within the epoch, restarts at 1 in a new epoch. */
function nextWriteSequence(baseline: Baseline, ownPrev: MarketDataWrite | undefined, epoch: number): number {
  let last = 0;
  if (baseline.kind === "onchain" && baseline.market.epoch === BigInt(epoch)) last = Number(baseline.market.sequence);
  if (ownPrev && ownPrev.sequence > last) last = ownPrev.sequence;
  return last + 1;
}

/** What the oracle will hold when the write lands: committed values, or our newer pending write. */
function effectivePrevious(baseline: Baseline, ownPrev: MarketDataWrite | undefined): OracleMarket {
  const base: OracleMarket =
    baseline.kind === "onchain"
      ? baseline.market
      : baseline.kind === "empty"
        ? emptyOracleMarket(baseline.max_funding_rate_e12, baseline.funding_period_s)
        : emptyOracleMarket();
  if (!ownPrev || BigInt(ownPrev.timestamp) <= base.timestamp_s) return base;
  return { ...base, ...toOracleUpdate(ownPrev) };
}

/** A write as the oracle contract's update (its scales; bigints for the counters). */
export function toOracleUpdate(w: MarketDataWrite): OracleUpdate {
  return {
    mark_price_e6: w.mark_price_e6,
    index_price_e6: w.index_price_e6,
    funding_rate_e12: w.funding_rate_e12,
    funding_index_e6: w.funding_index_e6,
    timestamp_s: BigInt(w.timestamp),
    epoch: BigInt(w.epoch),
    sequence: BigInt(w.sequence),
  };
}

function clip(s: string): string {
  return boundedCopy(s) as string;
}
