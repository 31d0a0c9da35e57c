// The benchmarks' raw HTTP/1.1 client (test/bench/load-runner.ts RawConnection): it must read
// every response shape a JSON-RPC server may send (Content-Length, chunked, Connection: close,
// error statuses), keep one connection alive across requests, and reject rather than hang when
// the server goes away mid-response.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RawConnection } from "../bench/load-runner.js";

let server: http.Server | undefined;
let conn: RawConnection | undefined;

afterEach(async () => {
  conn?.close();
  conn = undefined;
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = undefined;
});

async function serve(handler: http.RequestListener): Promise<{ url: URL; connections: () => number }> {
  let connections = 0;
  server = http.createServer(handler);
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/rpc`), connections: () => connections };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

describe("RawConnection", () => {
  it("sends the body and reads Content-Length responses on one kept-alive connection", async () => {
    const { url, connections } = await serve(async (req, res) => {
      const body = await readBody(req);
      const out = Buffer.from(JSON.stringify({ path: req.url, method: req.method, type: req.headers["content-type"], echo: body, é: "ü" }));
      res.writeHead(200, { "content-type": "application/json", "content-length": out.length });
      res.end(out);
    });
    conn = new RawConnection(url);
    for (let i = 0; i < 5; i++) {
      const body = JSON.stringify({ jsonrpc: "2.0", id: i, method: "m", params: ["x".repeat(i * 3000)] });
      const got = JSON.parse(await conn.post(body)) as Record<string, string>;
      expect(got).toEqual({ path: "/rpc", method: "POST", type: "application/json", echo: body, é: "ü" });
    }
    expect(connections()).toBe(1);
  });

  it("reads chunked responses and error statuses", async () => {
    const { url } = await serve(async (req, res) => {
      await readBody(req);
      res.writeHead(req.headers["content-length"] === "2" ? 500 : 200, { "content-type": "application/json" });
      res.write('{"a":');
      setTimeout(() => res.end('"' + "b".repeat(20_000) + '"}'), 5);
    });
    conn = new RawConnection(url);
    expect(JSON.parse(await conn.post("{}"))).toEqual({ a: "b".repeat(20_000) });
    expect(JSON.parse(await conn.post('{"long":1}'))).toEqual({ a: "b".repeat(20_000) });
  });

  it("reconnects after a response with Connection: close", async () => {
    let n = 0;
    const { url, connections } = await serve(async (req, res) => {
      await readBody(req);
      const out = JSON.stringify({ n: n++ });
      res.writeHead(200, { "content-length": Buffer.byteLength(out), connection: "close" });
      res.end(out);
    });
    conn = new RawConnection(url);
    expect(JSON.parse(await conn.post("{}"))).toEqual({ n: 0 });
    expect(JSON.parse(await conn.post("{}"))).toEqual({ n: 1 });
    expect(connections()).toBe(2);
  });

  it("rejects when the server drops the connection mid-response, and works again after", async () => {
    let n = 0;
    const { url } = await serve(async (req, res) => {
      await readBody(req);
      if (n++ === 0) {
        res.writeHead(200, { "content-length": 100 });
        res.write("{");
        setTimeout(() => res.socket?.destroy(), 5);
        return;
      }
      res.writeHead(200, { "content-length": 2 });
      res.end("{}");
    });
    conn = new RawConnection(url);
    await expect(conn.post("{}")).rejects.toThrow(/closed the connection/);
    expect(await conn.post("{}")).toBe("{}");
  });

  it("refuses a second request while one is in flight", async () => {
    const { url } = await serve(async (req, res) => {
      await readBody(req);
      setTimeout(() => res.end("{}"), 20);
    });
    conn = new RawConnection(url);
    const first = conn.post("{}");
    await expect(conn.post("{}")).rejects.toThrow(/one request at a time/);
    expect(await first).toBe("{}");
  });
});
