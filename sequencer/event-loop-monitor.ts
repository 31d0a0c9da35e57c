// The longest event-loop stall of this process, from perf_hooks.monitorEventLoopDelay (one
// process-wide histogram with a 10 ms timer, so a reading is the stall plus up to 10 ms).
// A reading covers the window since the previous reading (or since the monitor started) and
// starts a new one, like a Prometheus gauge reset per scrape. Never blocks or allocates per tick.

import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

let histogram: IntervalHistogram | undefined;
let windowStart_ms = 0;

/** Start measuring (idempotent; the histogram lives as long as the process). */
export function startEventLoopMonitor(): void {
  if (histogram) return;
  histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  windowStart_ms = performance.now();
}

/** Longest stall in the window since the previous call, in ms, and the window's length; starts a new window. */
export function takeEventLoopMax(): { max_ms: number; window_ms: number } {
  startEventLoopMonitor();
  const h = histogram!;
  const now = performance.now();
  const out = { max_ms: Math.round(h.max / 1e5) / 10, window_ms: Math.round(now - windowStart_ms) };
  h.reset();
  windowStart_ms = now;
  return out;
}
