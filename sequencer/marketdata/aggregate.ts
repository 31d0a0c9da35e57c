// Aggregation across sources: the value that would be written on chain is the median,
// field by field, of the latest accepted update of each source that is still fresh.
// A write needs `quorum` distinct fresh sources (1 when there is one source). Pure.
// The pipeline writes an aggregate only when its timestamp is newer than the chain's.

import { median } from "./guards.js";
import type { MarketDataUpdate } from "./update.js";

export interface Aggregate {
  mark_price_e6: bigint;
  index_price_e6: bigint;
  funding_rate_e12: bigint;
  funding_index_e6: bigint;
  /**
   * The median timestamp (the lower middle one for an even count): the time a majority of
   * sources has reached, so the median values and their timestamp belong together. Taking
   * the newest instead would stamp older sources' values with a later time, and the
   * oracle's funding-step check (cap × elapsed) would see a step over zero seconds.
   */
  timestamp_s: number;
  /** The contributing sources, sorted. */
  sources: string[];
}

export type AggregateResult = { ok: true; value: Aggregate } | { ok: false; fresh_sources: number; quorum: number };

/**
 * `latest` holds at most one update per source (its latest accepted one) for ONE market.
 * An update is fresh when now_s − timestamp_s ≤ max_age_s.
 */
export function aggregateSources(latest: readonly MarketDataUpdate[], now_s: number, max_age_s: number, quorum: number): AggregateResult {
  if (!Number.isSafeInteger(quorum) || quorum < 1) throw new RangeError(`quorum must be a positive integer, got ${quorum}`);
  const seen = new Set<string>();
  const fresh: MarketDataUpdate[] = [];
  for (const u of latest) {
    if (seen.has(u.source)) throw new RangeError(`aggregateSources: two updates from source ${u.source}`);
    seen.add(u.source);
    if (now_s - u.timestamp_s <= max_age_s) fresh.push(u);
  }
  if (fresh.length < quorum) return { ok: false, fresh_sources: fresh.length, quorum };
  return {
    ok: true,
    value: {
      mark_price_e6: median(fresh.map((u) => u.mark_price_e6)),
      index_price_e6: median(fresh.map((u) => u.index_price_e6)),
      funding_rate_e12: median(fresh.map((u) => u.funding_rate_e12)),
      funding_index_e6: median(fresh.map((u) => u.funding_index_e6)),
      timestamp_s: lowerMedian(fresh.map((u) => u.timestamp_s)),
      sources: fresh.map((u) => u.source).sort(),
    },
  };
}

function lowerMedian(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}
