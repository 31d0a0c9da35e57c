// Per-market circuit breaker (DESIGN §7): after `threshold` counted refusals within
// `window_s` seconds a market's breaker opens, and every update for it is refused with
// `circuit_open` until an operator closes it. It never closes by itself: a feed that went
// wrong once is not trusted again until a human looked. Time is injected (now_s).
//
// Not counted (they say nothing about the market's data): node_not_ready (the node is
// restarting), duplicate (an idempotent retry), circuit_open itself, and refusals that
// cannot be attributed to a configured market (unknown_market, a push without a market).

export type BreakerState = "closed" | "open";

export interface BreakerSettings {
  threshold: number;
  window_s: number;
}

export interface BreakerStatus {
  state: BreakerState;
  /** When it opened (injected clock, s), and the refusal that tipped it. */
  opened_at_s?: number;
  opened_by?: string;
  /** Counted refusals still inside the window (closed breakers only). */
  recent_refusals: number;
}

const NOT_COUNTED = new Set(["node_not_ready", "duplicate", "circuit_open", "unknown_market"]);

interface MarketBreaker {
  open: boolean;
  opened_at_s?: number;
  opened_by?: string;
  /** Times of counted refusals, oldest first; never longer than the threshold. */
  times_s: number[];
}

export class CircuitBreaker {
  private readonly markets = new Map<string, MarketBreaker>();

  constructor(private readonly settings: (market: string) => BreakerSettings) {}

  state(market: string): BreakerState {
    return this.markets.get(market)?.open ? "open" : "closed";
  }

  /** Whether a refusal with this code counts towards opening the breaker. */
  static counts(code: string): boolean {
    return !NOT_COUNTED.has(code);
  }

  /** Record a refusal; returns true when this refusal opened the breaker. */
  recordRefusal(market: string, code: string, now_s: number): boolean {
    if (!CircuitBreaker.counts(code)) return false;
    const m = this.entry(market);
    if (m.open) return false;
    const { threshold, window_s } = this.settings(market);
    m.times_s.push(now_s);
    while (m.times_s.length > 0 && now_s - m.times_s[0]! >= window_s) m.times_s.shift();
    while (m.times_s.length > threshold) m.times_s.shift();
    if (m.times_s.length < threshold) return false;
    m.open = true;
    m.opened_at_s = now_s;
    m.opened_by = code;
    m.times_s = [];
    return true;
  }

  /** Operator call: close the breaker (and forget the refusals). Returns the previous state. */
  close(market: string): BreakerState {
    const prev = this.state(market);
    this.markets.set(market, { open: false, times_s: [] });
    return prev;
  }

  status(market: string, now_s: number): BreakerStatus {
    const m = this.markets.get(market);
    if (!m) return { state: "closed", recent_refusals: 0 };
    if (m.open) return { state: "open", opened_at_s: m.opened_at_s, opened_by: m.opened_by, recent_refusals: 0 };
    const { window_s } = this.settings(market);
    return { state: "closed", recent_refusals: m.times_s.filter((t) => now_s - t < window_s).length };
  }

  private entry(market: string): MarketBreaker {
    let m = this.markets.get(market);
    if (!m) this.markets.set(market, (m = { open: false, times_s: [] }));
    return m;
  }
}
