// Unit: the node's metrics registry (sequencer/metrics.ts) lets a stopped node go. A process that
// starts and stops nodes (test suites, devnet_restart harnesses) must not keep each one alive
// through prom-client's process collectors, which are never stopped.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { NodeMetrics } from "../../sequencer/metrics.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A node's metrics, bound to a gauge source, then dropped; returns a weak reference to the source. */
function boundAndDropped(): WeakRef<object> {
  const source = { headNumber: () => 7, mempoolSize: () => 0, lifecycleState: () => "ready", epoch: () => 1 };
  const metrics = new NodeMetrics();
  metrics.bindNode(source);
  return new WeakRef(source);
}

describe("node metrics", () => {
  it("keeps no node reachable once its metrics are dropped (process metrics are shared by the process)", async () => {
    const refs = [boundAndDropped(), boundAndDropped(), boundAndDropped()];
    // A weak reference holds its target until the job that made it ends.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
  });

  it("serves the process metrics once, then the node's own", async () => {
    const a = new NodeMetrics();
    const b = new NodeMetrics();
    a.bindNode({ headNumber: () => 12, mempoolSize: () => 3, lifecycleState: () => "ready", epoch: () => 2 });
    const text = await a.text();
    expect(text.match(/^# TYPE process_cpu_user_seconds_total counter$/gm)).toHaveLength(1);
    expect(text).toMatch(/^perpchain_block_height 12$/m);
    expect(await b.text()).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text.indexOf("process_cpu_user_seconds_total")).toBeLessThan(text.indexOf("perpchain_block_height"));
  });
});
