// The HTTP transport against a real server on 127.0.0.1 (port 0), with stub handlers.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockNotFoundError, type ErrorLogger } from "../../sequencer/errors.js";
import { HandlerRegistry } from "../../sequencer/rpc/registry.js";
import { RpcServer } from "../../sequencer/rpc/server.js";

const logged: { event: string; fields: Record<string, unknown> }[] = [];
const logger: ErrorLogger = { error: (event, fields) => void logged.push({ event, fields }) };
const notified: unknown[] = [];

function makeRegistry(): HandlerRegistry {
  const r = new HandlerRegistry();
  r.register("starknet_blockNumber", () => 7);
  r.register("starknet_chainId", () => "0x534e5f5345504f4c4941");
  r.register("starknet_getBlockTransactionCount", (p) => {
    if (typeof p.block_id === "object" && (p.block_id as { block_number?: number }).block_number === 99)
      throw new BlockNotFoundError("block 99");
    return 3;
  });
  r.register("starknet_getStorageAt", (p) => ({ echo: p }));
  r.register("starknet_getNonce", () => 5n);
  r.register("starknet_addInvokeTransaction", () => {
    throw new Error("disk on fire");
  });
  r.register("starknet_syncing", () => {
    throw new Error("secret internals");
  });
  r.register("devnet_note", (p) => void notified.push(p.text), { paramNames: ["text"] });
  r.register("devnet_negative", () => -1n);
  return r;
}

let server: RpcServer;
let base: string;

beforeAll(async () => {
  server = new RpcServer({
    registry: makeRegistry(),
    logger,
    maxBodyBytes: 4096,
    maxBatchSize: 5,
    metrics: () => "perp_blocks_total 12\n",
    readiness: () => ({ ready: false, state: "recovering" }),
  });
  const port = await server.start({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.stop();
});

async function post(body: string, path = "/rpc"): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function call(payload: unknown, path = "/rpc"): Promise<unknown> {
  const r = await post(JSON.stringify(payload), path);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("application/json");
  return JSON.parse(r.text);
}

describe("HTTP JSON-RPC", () => {
  it("answers a single request on /rpc and on /", async () => {
    expect(await call({ jsonrpc: "2.0", id: 1, method: "starknet_blockNumber" })).toEqual({ jsonrpc: "2.0", id: 1, result: 7 });
    expect(await call({ jsonrpc: "2.0", id: 2, method: "starknet_blockNumber", params: [] }, "/")).toEqual({
      jsonrpc: "2.0",
      id: 2,
      result: 7,
    });
  });

  it("echoes string, number and null ids with their type", async () => {
    expect(await call({ jsonrpc: "2.0", id: "abc", method: "starknet_blockNumber" })).toEqual({ jsonrpc: "2.0", id: "abc", result: 7 });
    expect(await call({ jsonrpc: "2.0", id: 0, method: "starknet_blockNumber" })).toEqual({ jsonrpc: "2.0", id: 0, result: 7 });
    expect(await call({ jsonrpc: "2.0", id: null, method: "starknet_blockNumber" })).toEqual({ jsonrpc: "2.0", id: null, result: 7 });
  });

  it("normalizes by-position and by-name params to the spec's names", async () => {
    const byPosition = await call({ jsonrpc: "2.0", id: 1, method: "starknet_getStorageAt", params: ["0x1", "0x2", "latest"] });
    const byName = await call({
      jsonrpc: "2.0",
      id: 1,
      method: "starknet_getStorageAt",
      params: { block_id: "latest", key: "0x2", contract_address: "0x1" },
    });
    expect(byPosition).toEqual({ jsonrpc: "2.0", id: 1, result: { echo: { contract_address: "0x1", key: "0x2", block_id: "latest" } } });
    expect(byName).toEqual(byPosition);
  });

  it("answers a batch in order, leaving out notifications", async () => {
    const res = await call([
      { jsonrpc: "2.0", id: 1, method: "starknet_blockNumber" },
      { jsonrpc: "2.0", method: "devnet_note", params: ["in batch"] },
      { jsonrpc: "2.0", id: "x", method: "starknet_chainId" },
      { jsonrpc: "2.0", id: 3, method: "starknet_getBlockTransactionCount", params: [{ block_number: 99 }] },
    ]);
    expect(res).toEqual([
      { jsonrpc: "2.0", id: 1, result: 7 },
      { jsonrpc: "2.0", id: "x", result: "0x534e5f5345504f4c4941" },
      { jsonrpc: "2.0", id: 3, error: { code: 24, message: "Block not found" } },
    ]);
    expect(notified).toContain("in batch");
  });

  it("executes a notification and answers 204 with no body", async () => {
    const r = await post(JSON.stringify({ jsonrpc: "2.0", method: "devnet_note", params: { text: "hello" } }));
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect(notified).toContain("hello");
    const batch = await post(JSON.stringify([{ jsonrpc: "2.0", method: "devnet_note", params: ["a"] }]));
    expect(batch.status).toBe(204);
  });

  it("answers malformed JSON with -32700 and id null", async () => {
    const r = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(body.id).toBeNull();
    expect(body.error.code).toBe(-32700);
    expect(body.error.message).toBe("Parse error");
  });

  it("answers invalid request objects with -32600", async () => {
    const cases: [unknown, unknown][] = [
      [[], null],
      [42, null],
      [{ jsonrpc: "1.0", id: 5, method: "starknet_blockNumber" }, 5],
      [{ jsonrpc: "2.0", id: 6 }, 6],
      [{ jsonrpc: "2.0", id: { a: 1 }, method: "starknet_blockNumber" }, null],
      [{ jsonrpc: "2.0", id: 8, method: "starknet_blockNumber", params: "x" }, 8],
    ];
    for (const [payload, id] of cases) {
      const res = (await call(payload)) as { id: unknown; error: { code: number; message: string } };
      expect(res.id).toEqual(id);
      expect(res.error.code).toBe(-32600);
      expect(res.error.message).toBe("Invalid request");
    }
  });

  it("answers each bad element of a batch on its own", async () => {
    const res = await call([1, { jsonrpc: "2.0", id: 2, method: "starknet_blockNumber" }]);
    expect(res).toEqual([
      { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request", data: "a request must be a JSON object" } },
      { jsonrpc: "2.0", id: 2, result: 7 },
    ]);
  });

  it("refuses a batch above the batch size limit with one -32600", async () => {
    const batch = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "starknet_blockNumber" }));
    expect(await call(batch)).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "Invalid request", data: "batch of 6 requests exceeds the limit of 5" },
    });
  });

  it("refuses a body above the size limit with 413 and a JSON-RPC error", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "devnet_note", params: ["x".repeat(5000)] });
    const r = await post(big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "Invalid request", data: "request body exceeds the limit of 4096 bytes" },
    });
  });

  it("refuses a chunked body above the limit (no Content-Length) with 413", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(base + "/rpc", { method: "POST", headers: { "Transfer-Encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write("x".repeat(1000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it("answers an unknown method with -32601", async () => {
    expect(await call({ jsonrpc: "2.0", id: 1, method: "starknet_doesNotExist" })).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32601, message: "Method not found", data: "method 'starknet_doesNotExist' does not exist" },
    });
  });

  it("answers a spec method the node does not implement with -32601 saying so", async () => {
    expect(await call({ jsonrpc: "2.0", id: 1, method: "starknet_getCompiledCasm", params: ["0x1"] })).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: {
        code: -32601,
        message: "Method not found",
        data: "method 'starknet_getCompiledCasm' is part of Starknet JSON-RPC 0.10.3 but not implemented by this node",
      },
    });
  });

  it("answers a WS-only method over HTTP with -32601 pointing at /ws", async () => {
    const res = (await call({ jsonrpc: "2.0", id: 1, method: "starknet_subscribeNewHeads" })) as { error: unknown };
    expect(res.error).toEqual({
      code: -32601,
      message: "Method not found",
      data: "method 'starknet_subscribeNewHeads' is only available over WebSocket (/ws)",
    });
  });

  it("answers bad params with -32602 naming the param", async () => {
    const missing = (await call({ jsonrpc: "2.0", id: 1, method: "starknet_getStorageAt", params: ["0x1"] })) as { error: unknown };
    expect(missing.error).toEqual({ code: -32602, message: "Invalid params", data: "key: missing required param" });
    const unknown = (await call({ jsonrpc: "2.0", id: 1, method: "starknet_blockNumber", params: { foo: 1 } })) as { error: unknown };
    expect(unknown.error).toEqual({ code: -32602, message: "Invalid params", data: "foo: unknown param (expected: none)" });
    const tooMany = (await call({ jsonrpc: "2.0", id: 1, method: "starknet_blockNumber", params: [1] })) as { error: unknown };
    expect(tooMany.error).toEqual({ code: -32602, message: "Invalid params", data: "expected at most 0 positional params, got 1" });
  });

  it("hides handler exceptions: -32603 for reads, 63 for the write API, details only in the log", async () => {
    const read = (await call({ jsonrpc: "2.0", id: 1, method: "starknet_syncing" })) as { error: { code: number; data: string } };
    expect(read.error.code).toBe(-32603);
    expect(JSON.stringify(read)).not.toContain("secret");
    const write = (await call({ jsonrpc: "2.0", id: 2, method: "starknet_addInvokeTransaction", params: [{}] })) as {
      error: { code: number; message: string };
    };
    expect(write.error.code).toBe(63);
    expect(write.error.message).toBe("An unexpected error occurred");
    expect(JSON.stringify(write)).not.toContain("disk on fire");
    const events = logged.filter((l) => l.event === "rpc.unexpected_exception").map((l) => l.fields.method);
    expect(events).toEqual(expect.arrayContaining(["starknet_syncing", "starknet_addInvokeTransaction"]));
  });

  it("writes bigint results as 0x-hex felts and a negative bigint as an internal error", async () => {
    expect(await call({ jsonrpc: "2.0", id: 1, method: "starknet_getNonce", params: ["latest", "0x1"] })).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: "0x5",
    });
    const neg = (await call({ jsonrpc: "2.0", id: 2, method: "devnet_negative" })) as { id: number; error: { code: number } };
    expect(neg.id).toBe(2);
    expect(neg.error.code).toBe(-32603);
  });
});

describe("HTTP routes", () => {
  it("answers a CORS preflight and sets CORS headers on responses", async () => {
    const pre = await fetch(base + "/rpc", {
      method: "OPTIONS",
      headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(pre.headers.get("access-control-allow-headers")).toBe("content-type");
    const r = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_blockNumber" }));
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves /health, /ready (503 while not ready) and /metrics", async () => {
    const health = await fetch(base + "/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(base + "/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, state: "recovering" });
    const metrics = await fetch(base + "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await metrics.text();
    expect(text.startsWith("perp_blocks_total 12\n")).toBe(true);
    expect(text).toMatch(/^rpc_requests_total\{method="starknet_blockNumber"\} \d+$/m);
    expect(text).toMatch(/^rpc_errors_total\{code="-32601"\} \d+$/m);
    expect(text).toMatch(/^rpc_http_rejected_total\{reason="body_too_large"\} 2$/m);
    expect(text).toMatch(/^ws_connections 0$/m);
  });

  it("answers 404 for unknown paths and 405 for GET on /rpc", async () => {
    expect((await fetch(base + "/nope")).status).toBe(404);
    const r = await fetch(base + "/rpc");
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST, OPTIONS");
  });
});

describe("server lifecycle", () => {
  it("binds a free port for port 0 and stops promptly with a keep-alive client connected", async () => {
    const s = new RpcServer({ registry: makeRegistry(), logger });
    const port = await s.start({ port: 0 });
    expect(port).toBeGreaterThan(0);
    const agent = new http.Agent({ keepAlive: true });
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_blockNumber" });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/rpc", method: "POST", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    agent.destroy();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
