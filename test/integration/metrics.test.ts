// GET /metrics of a real devnet: prom-client's text with the process metrics, the block build /
// commit and RPC latency histograms, the node's gauges and counters and the RPC counters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";

let d: Devnet;
beforeAll(async () => {
  d = await startDevnet({ seed: 5, inMemory: true, accounts: 2, triggerEngine: false });
});
afterAll(async () => {
  await d?.stop();
});

const rpc = (method: string, params: unknown = []) =>
  fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) }).then((r) => r.json());

/** The value of the sample line `name{labels}` (labels as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  it("serves histograms, node gauges, counters and process metrics in Prometheus text", async () => {
    await rpc("starknet_blockNumber");
    await rpc("starknet_blockNumber");
    await rpc("no_such_method");
    await rpc("devnet_createBlock");
    const res = await fetch(d.rpcUrl.replace("/rpc", "/metrics"));
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const head = d.node.headNumber();
    expect(sample(text, "perpchain_block_height")).toBe(head);
    expect(sample(text, 'perpchain_lifecycle_state{state="ready"}')).toBe(1);
    expect(sample(text, 'perpchain_lifecycle_state{state="draining"}')).toBe(0);
    expect(sample(text, "perpchain_epoch")).toBe(d.node.epoch);
    expect(sample(text, "perpchain_mempool_size")).toBe(0);
    // Blocks since start: the genesis market data (block 1) and devnet_createBlock.
    expect(sample(text, "perpchain_blocks_produced_total")).toBe(head);
    expect(sample(text, "perpchain_block_build_seconds_count")).toBe(head);
    // Commits also count the genesis block (0), which is committed but not built from a mempool.
    expect(sample(text, "perpchain_block_commit_seconds_count")).toBe(head + 1);
    expect(sample(text, 'perpchain_block_commit_seconds_bucket{le="+Inf"}')).toBe(head + 1);
    expect(sample(text, 'rpc_request_duration_seconds_count{method="starknet_blockNumber"}')).toBe(2);
    expect(sample(text, 'rpc_requests_total{method="starknet_blockNumber"}')).toBe(2);
    expect(sample(text, 'rpc_requests_total{method="unknown"}')).toBe(1);
    expect(sample(text, 'rpc_errors_total{code="-32601"}')).toBe(1);
    expect(sample(text, "ws_connections")).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it("counts market-data refusals under a configured market or 'unattributed', never a client's string", async () => {
    await rpc("appchain_pushMarketData", { update: { market: 'X"}\nevil 1', source: "t", mark_price: "1", index_price: "1", funding_rate: "0", funding_index: "0", timestamp: 1, epoch: 1, sequence: 1 } });
    const text = await (await fetch(d.rpcUrl.replace("/rpc", "/metrics"))).text();
    expect(text).not.toMatch(/^evil/m);
    expect(text).toMatch(/^perpchain_marketdata_rejections_total\{market="unattributed",reason="[a-z_]+"\} 1$/m);
    expect(sample(text, "perpchain_marketdata_writes_total")).toBe(3); // genesis values of the three markets
  });
});
