// A deterministic market-data simulator: seeded PRNG, realistic levels (BTC ~97,000,
// ETH ~3,400, PAXG ~2,650), a small random walk, a funding rate inside the market's cap,
// and a funding index that accumulates exactly as rate × mark × elapsed says. Time comes
// from the caller (`step(now_s)`, or the injected clock of SimulatorSource), never from
// the wall clock, so the same seed and times give the same pushes, byte for byte.
// Integer arithmetic only; prices never pass through floating point.
//
// Funding sign (contracts/perp/units.ts): a long gains when the index rises, and a
// positive rate means longs pay, so the index FALLS by rate × mark × elapsed / 1 h.

import { divFloor, FUNDING_RATE_ONE, formatDecimal, FUNDING_INDEX_DECIMALS, FUNDING_RATE_DECIMALS, PPM_ONE, PRICE_DECIMALS, SECONDS_PER_HOUR } from "../../contracts/perp/units.js";
import { intervalScheduler, type MarketDataSource, type OnMarketData, type Scheduler } from "./source.js";
import type { MarketDataPush } from "./update.js";
import { mulberry32 } from "../seeded-random.js";

export interface SimulatedMarket {
  market: string;
  start_price_e6: bigint;
  start_funding_index_e6: bigint;
  /** The market's funding-rate cap per hour (e12); the simulator stays within ±60 % of it. */
  max_funding_rate_e12: bigint;
}

export const DEFAULT_SIMULATED_MARKETS: readonly SimulatedMarket[] = Object.freeze([
  { market: "BTC-USD-PERP", start_price_e6: 97_000_000_000n, start_funding_index_e6: 1_523_774_000n, max_funding_rate_e12: 500_000_000n },
  { market: "ETH-USD-PERP", start_price_e6: 3_400_000_000n, start_funding_index_e6: 87_125_000n, max_funding_rate_e12: 500_000_000n },
  { market: "PAXG-USD-PERP", start_price_e6: 2_650_000_000n, start_funding_index_e6: 12_400_000n, max_funding_rate_e12: 250_000_000n },
]);

export interface SimulatorOptions {
  seed: number;
  /** Source names; each sees the common path plus its own small noise. Default ["sim"]. */
  sources?: readonly string[];
  markets?: readonly SimulatedMarket[];
  /** Epoch stamped on every push (the node's current epoch). */
  epoch: () => number;
  /** Largest random-walk step per update, ppm (default 300 = 0.03 %). */
  step_ppm?: number;
  /** Per-source deviation from the common path, ppm (default 50). */
  source_noise_ppm?: number;
}

interface MarketPath {
  cfg: SimulatedMarket;
  index_price_e6: bigint;
  premium_ppm: bigint;
  funding_rate_e12: bigint;
  funding_index_e6: bigint;
}

/** The pure generator: one push per (market, source) for each strictly later `now_s`. */
export class MarketDataSimulator {
  private readonly rng: () => number;
  private readonly sources: readonly string[];
  private readonly paths: MarketPath[];
  private readonly sequence = new Map<string, number>();
  private readonly stepPpm: number;
  private readonly noisePpm: number;
  private last_s: number | undefined;

  constructor(private readonly opts: SimulatorOptions) {
    if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`seed must be a safe integer, got ${opts.seed}`);
    this.rng = mulberry32(opts.seed);
    this.sources = opts.sources ?? ["sim"];
    if (this.sources.length === 0) throw new RangeError("at least one source name");
    this.stepPpm = opts.step_ppm ?? 300;
    this.noisePpm = opts.source_noise_ppm ?? 50;
    this.paths = (opts.markets ?? DEFAULT_SIMULATED_MARKETS).map((cfg) => ({
      cfg,
      index_price_e6: cfg.start_price_e6,
      premium_ppm: 0n,
      funding_rate_e12: 0n,
      funding_index_e6: cfg.start_funding_index_e6,
    }));
  }

  /** Advance to `now_s` (strictly after the previous step) and return the pushes. */
  step(now_s: number): MarketDataPush[] {
    if (!Number.isSafeInteger(now_s) || now_s < 0) throw new RangeError(`now_s must be a non-negative safe integer, got ${now_s}`);
    if (this.last_s !== undefined && now_s <= this.last_s) throw new RangeError(`now_s ${now_s} is not after the previous step ${this.last_s}`);
    const elapsed = this.last_s === undefined ? 0n : BigInt(now_s - this.last_s);
    this.last_s = now_s;
    const epoch = this.opts.epoch();
    const out: MarketDataPush[] = [];
    for (const p of this.paths) {
      if (elapsed > 0n) this.advance(p, elapsed);
      const mark = p.index_price_e6 + (p.index_price_e6 * p.premium_ppm) / PPM_ONE;
      for (const source of this.sources) {
        const noise = BigInt(this.int(-this.noisePpm, this.noisePpm));
        const seq = (this.sequence.get(source) ?? 0) + 1;
        this.sequence.set(source, seq);
        out.push({
          market: p.cfg.market,
          source,
          mark_price: formatDecimal(toCents(mark + (mark * noise) / PPM_ONE), PRICE_DECIMALS),
          index_price: formatDecimal(toCents(p.index_price_e6 + (p.index_price_e6 * noise) / PPM_ONE), PRICE_DECIMALS),
          funding_rate: formatDecimal(p.funding_rate_e12, FUNDING_RATE_DECIMALS),
          funding_index: formatDecimal(p.funding_index_e6, FUNDING_INDEX_DECIMALS),
          timestamp: now_s,
          epoch,
          sequence: seq,
        });
      }
    }
    return out;
  }

  private advance(p: MarketPath, elapsed_s: bigint): void {
    const prevMark = p.index_price_e6 + (p.index_price_e6 * p.premium_ppm) / PPM_ONE;
    p.index_price_e6 += (p.index_price_e6 * BigInt(this.int(-this.stepPpm, this.stepPpm))) / PPM_ONE;
    p.premium_ppm = clamp(p.premium_ppm + BigInt(this.int(-50, 50)), -1_000n, 1_000n);
    const rateLimit = (p.cfg.max_funding_rate_e12 * 6n) / 10n;
    const rateStep = p.cfg.max_funding_rate_e12 / 20n;
    p.funding_rate_e12 = clamp(p.funding_rate_e12 + (rateStep * BigInt(this.int(-1000, 1000))) / 1000n, -rateLimit, rateLimit);
    // Accrue at the smaller of the two marks, truncated towards zero: never more than
    // the rate says, so the oracle's cap (taken at min(prev, new) mark) always holds.
    const mark = p.index_price_e6 + (p.index_price_e6 * p.premium_ppm) / PPM_ONE;
    const atMark = mark < prevMark ? mark : prevMark;
    p.funding_index_e6 -= (p.funding_rate_e12 * atMark * elapsed_s) / (FUNDING_RATE_ONE * SECONDS_PER_HOUR);
  }

  /** Uniform integer in [lo, hi]. */
  private int(lo: number, hi: number): number {
    return lo + (this.rng() % (hi - lo + 1));
  }
}

/** A MarketDataSource that steps a simulator on a timer, stamping the injected clock. */
export class SimulatorSource implements MarketDataSource {
  readonly name: string;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly simulator: MarketDataSimulator,
    private readonly opts: { now_s: () => number; interval_ms: number; schedule?: Scheduler; name?: string },
  ) {
    this.name = opts.name ?? "simulator";
    if (!(opts.interval_ms > 0)) throw new RangeError("interval_ms must be positive");
  }

  start(onUpdate: OnMarketData): void {
    if (this.cancel) throw new Error(`${this.name} already started`);
    let last: number | undefined;
    this.cancel = (this.opts.schedule ?? intervalScheduler)(() => {
      const now = this.opts.now_s();
      if (last !== undefined && now <= last) return; // the clock has not advanced a second yet
      last = now;
      for (const push of this.simulator.step(now)) {
        if (!this.cancel) return;
        onUpdate(push);
      }
    }, this.opts.interval_ms);
  }

  stop(): void {
    const c = this.cancel;
    this.cancel = undefined;
    c?.();
  }
}


const clamp = (v: bigint, lo: bigint, hi: bigint): bigint => (v < lo ? lo : v > hi ? hi : v);
const toCents = (price_e6: bigint): bigint => divFloor(price_e6, 10_000n) * 10_000n;
