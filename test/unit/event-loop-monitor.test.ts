// The event-loop monitor behind appchain_getStatus.event_loop_max_ms: a synchronous stall
// shows in the next reading, and a reading starts a new window.

import { describe, expect, it } from "vitest";
import { startEventLoopMonitor, takeEventLoopMax } from "../../sequencer/event-loop-monitor.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("event-loop monitor", () => {
  it("reports a 60 ms synchronous stall in the window that contains it", async () => {
    startEventLoopMonitor();
    await tick(30);
    takeEventLoopMax(); // a fresh window from here
    await tick(30);
    const t0 = performance.now();
    while (performance.now() - t0 < 60) {
      // stall the loop
    }
    await tick(30);
    const r = takeEventLoopMax();
    expect(r.max_ms).toBeGreaterThanOrEqual(60);
    expect(r.window_ms).toBeGreaterThanOrEqual(120);
  });

  it("starts a new window at each reading", async () => {
    startEventLoopMonitor();
    await tick(50);
    const first = takeEventLoopMax();
    const second = takeEventLoopMax(); // right after the first: its window is the gap between the calls
    expect(first.window_ms).toBeGreaterThanOrEqual(50);
    expect(second.window_ms).toBeLessThan(first.window_ms);
  });
});
