// Fuzz of the node's network face: a real devnet (LevelDB in a temp dir) on 127.0.0.1 gets tens of
// thousands of malformed HTTP bodies and WebSocket frames (random bytes, truncated and deeply
// nested JSON, huge bodies and batches, wrong types for every registered method's params,
// out-of-range felts, unknown methods, subscription floods, malformed HTTP on raw sockets).
// It asserts: no uncaught exception or unhandled rejection in the process; every answer is a
// JSON-RPC response whose errors carry an integer code and never an internal error (-32603, or
// 63 which the write API uses for the same thing); heap after GC stays within a bound; and a
// real signed transaction is included afterwards.
//
// PERPCHAIN_FUZZ_REQUESTS sets the number of cases (default 10,000; e.g. 100000 for an external
// run), PERPCHAIN_FUZZ_SEED the seed (default 12). Never binds anything but 127.0.0.1.
import "../integration/ws-global.js";
import http from "node:http";
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebSocket } from "ws";
import { CallData, cairo } from "starknet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { startHarness, type Harness } from "../integration/devnet-harness.js";
import { seededRandom, type SeededRandom } from "../support/seeded-random.js";
import { makeCase, pickKind, type FuzzCase, type FuzzWorld } from "./rpc-fuzz-cases.js";

const CASES = Number(process.env.PERPCHAIN_FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.PERPCHAIN_FUZZ_SEED ?? 12);
/** Share of the cases sent over WebSocket (the rest over HTTP). */
const WS_SHARE = 0.35;
const HTTP_CONCURRENCY = 8;
const WS_CONNECTIONS = 4;
/** A WS connection sends this many frames, then a sentinel request it waits for (back-pressure). */
const WS_WINDOW = 8;
/** Warm-up cases before the memory baseline (caches, JIT, first blocks). */
const WARMUP = Math.min(2_000, Math.floor(CASES / 5));
/**
 * Growth allowed in heap + external memory (Buffers) between the warm-up baseline and the end,
 * both after a full GC. The chain grows while fuzzed (blocks from devnet_createBlock/mint/
 * setTime, snapshots, rejected transactions' statuses) but its data lives in LevelDB, off the JS
 * heap; what stays on the heap is bounded per block and per snapshot (a 20k-case run keeps
 * ~2 MiB). 64 MiB is far below what one leak would keep: the run sends tens of 2–10 MiB bodies
 * (big market-data pushes were kept whole in the recent-rejections list before the fix) and
 * opens hundreds of WebSocket connections. RSS is reported, not asserted: the allocator keeps
 * freed pages of those big bodies mapped.
 */
const MAX_MEMORY_GROWTH_BYTES = 64 * 1024 * 1024;
/** Codes that mean "the node hit a bug": internal error, and the write API's unexpected error. */
const INTERNAL_CODES = new Set([-32603, 63]);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

interface Violation {
  where: string;
  kind: string;
  problem: string;
  request: string;
}

let h: Harness;
let dir: string;
let world: FuzzWorld;
const violations: Violation[] = [];
const crashes: unknown[] = [];
const counts = { cases: 0, http: 0, ws: 0, responses: 0, errors: 0, results: 0, status413: 0, resets: 0, wsCloses: new Map<number, number>(), byKind: new Map<string, number>(), byCode: new Map<number, number>() };
const onCrash = (e: unknown) => void crashes.push(e);

beforeAll(async () => {
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  selectHashBackend(); // native where it built, like `npm start`
  dir = mkdtempSync(join(tmpdir(), "perpchain-fuzz-"));
  h = await startHarness({ seed: 3, inMemory: false, dbPath: join(dir, "db"), dumpDir: join(dir, "dumps"), accounts: 4 });
  world = await discoverWorld(h);
});

afterAll(async () => {
  await h?.stop();
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`RPC fuzz (${CASES} cases, seed ${SEED})`, () => {
  it("answers every malformed request with a JSON-RPC error, never an internal one, and stays up with bounded memory", async () => {
    await runCases(0, WARMUP);
    const before = memory();
    await Promise.all([runCases(WARMUP, CASES - WARMUP), subscriptionFlood(seededRandom(SEED + 1)), rawHttp(seededRandom(SEED + 2))]);
    const after = memory();
    const summary = {
      ...counts,
      wsCloses: Object.fromEntries(counts.wsCloses),
      byKind: Object.fromEntries(counts.byKind),
      byCode: Object.fromEntries([...counts.byCode].sort((a, b) => b[1] - a[1])),
      heapExternalBefore_mib: mib(before.heap),
      heapExternalAfter_mib: mib(after.heap),
      rssBefore_mib: mib(before.rss),
      rssAfter_mib: mib(after.rss),
      head: h.devnet.node.headNumber(),
    };
    process.stderr.write(`rpc fuzz: ${JSON.stringify(summary)}\n`);
    if (process.env.PERPCHAIN_FUZZ_REPORT) writeFileSync(process.env.PERPCHAIN_FUZZ_REPORT, JSON.stringify(violations, null, 1));
    expect(crashes.map(String)).toEqual([]);
    expect(violations.slice(0, 20)).toEqual([]);
    expect(counts.responses).toBeGreaterThan(CASES / 2);
    expect(after.heap - before.heap).toBeLessThan(MAX_MEMORY_GROWTH_BYTES);
    // Every error the server counted has a known code, and none is internal.
    const serverCodes = [...h.devnet.server.stats().errorsByCode.keys()];
    expect(serverCodes.filter((c) => INTERNAL_CODES.has(c))).toEqual([]);
  }, 240_000);

  it("still includes a real signed transaction afterwards", async () => {
    // Undo what the fuzz may have switched on (these are operator methods it called at random).
    expect((await h.rpc("appchain_resume", [])).error).toBeUndefined();
    expect((await h.rpc("appchain_setPostOnly", { enabled: false })).error).toBeUndefined();
    const sender = h.account(1);
    const strk = h.devnet.contracts.STRK!.address;
    const { transaction_hash } = await sender.execute([{ contractAddress: strk, entrypoint: "transfer", calldata: CallData.compile({ recipient: h.devnet.accounts[2]!.address, amount: cairo.uint256(1234n) }) }]);
    const receipt = await h.provider.waitForTransaction(transaction_hash);
    expect(receipt.isSuccess()).toBe(true);
    expect(crashes.map(String)).toEqual([]);
  });
});

// --- the world the generator draws plausible values from -----------------------------------------

async function discoverWorld(h: Harness): Promise<FuzzWorld> {
  const strk = h.devnet.contracts.STRK!.address;
  const sender = h.account(0);
  const { transaction_hash } = await sender.execute([{ contractAddress: strk, entrypoint: "transfer", calldata: CallData.compile({ recipient: h.devnet.accounts[1]!.address, amount: cairo.uint256(1n) }) }]);
  await h.provider.waitForTransaction(transaction_hash);
  const sent = h.recorder.calls.find((c) => c.method === "starknet_addInvokeTransaction");
  if (!sent) throw new Error("starknet.js did not send an INVOKE");
  const invoke = (Array.isArray(sent.params) ? sent.params[0] : (sent.params as Record<string, unknown>).invoke_transaction) as Record<string, unknown>;
  const head = h.devnet.node.headNumber();
  const blockHashes: string[] = [];
  for (let n = 0; n <= head; n++) blockHashes.push((await h.rpc("starknet_getBlockWithTxHashes", [{ block_number: n }])).result.block_hash);
  const registry = h.devnet.registry;
  return {
    methods: registry.list().map((name) => ({ name, ...registry.describe(name)! })),
    addresses: [...Object.values(h.devnet.contracts).map((c) => c.address), ...h.devnet.accounts.map((a) => a.address), "0x1", "0x0"],
    classHashes: [...new Set(Object.values(h.devnet.contracts).map((c) => c.class_hash))],
    txHashes: [transaction_hash, "0x1", "0x" + "ab".repeat(31)],
    blockHashes,
    invoke,
  };
}

// --- sending -----------------------------------------------------------------------------------

/**
 * Cases `from` … `from + n - 1`. Case i is drawn from its own PRNG stream (seed, i), so a seed
 * names the same cases whatever the timing, and a failing case can be rebuilt from its index.
 * Cases are made when a sender is free, so at most a few bodies are alive at once.
 */
async function runCases(from: number, n: number): Promise<void> {
  const end = from + n;
  const draw = (i: number) => {
    const r = seededRandom((SEED * 1_000_003 + i) >>> 0);
    const ws = r.next() < WS_SHARE;
    const transport = ws ? ("ws" as const) : ("http" as const);
    return { ws, r, c: makeCase(r, world, transport, pickKind(r, !ws), i + 1) };
  };
  // HTTP senders and WS connections take the next index; a case drawn for the other transport
  // is handed over through a small queue.
  let next = from;
  const wsQueue: FuzzCase[] = [];
  const httpQueue: { c: FuzzCase; chunked: boolean }[] = [];
  const take = (wantWs: boolean): FuzzCase | { c: FuzzCase; chunked: boolean } | undefined => {
    for (;;) {
      if (wantWs && wsQueue.length) return wsQueue.shift();
      if (!wantWs && httpQueue.length) return httpQueue.shift();
      if (next >= end) return undefined;
      const d = draw(next++);
      if (d.ws) wsQueue.push(d.c);
      else httpQueue.push({ c: d.c, chunked: d.r.next() < 0.3 });
    }
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });
  const url = new URL(h.devnet.rpcUrl);
  const httpWorker = async () => {
    for (let job = take(false) as { c: FuzzCase; chunked: boolean } | undefined; job; job = take(false) as typeof job) await sendHttp(agent, url, job.c, job.chunked);
  };
  await Promise.all([...Array.from({ length: HTTP_CONCURRENCY }, httpWorker), ...Array.from({ length: WS_CONNECTIONS }, () => runWs(() => take(true) as FuzzCase | undefined))]);
  counts.cases += n;
  agent.destroy();
}

function sendHttp(agent: http.Agent, url: URL, c: FuzzCase, chunked: boolean): Promise<void> {
  counts.http++;
  count(counts.byKind, c.kind);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (!chunked) headers["content-length"] = c.body.length;
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 204) {
          if (!c.mayBeSilent) violations.push(violation("http", c, "204 for a request that needs an answer"));
        } else if (res.statusCode === 413) {
          counts.status413++;
          if (!c.overLimit) violations.push(violation("http", c, "413 for a body under the limit"));
          checkPayload("http", c, text);
        } else if (res.statusCode === 200) {
          if (c.overLimit) violations.push(violation("http", c, "200 for a body over the limit"));
          checkPayload("http", c, text);
        } else violations.push(violation("http", c, `status ${res.statusCode}: ${text.slice(0, 200)}`));
        resolve();
      });
      res.on("error", () => resolve());
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      // The server answers 413 and closes before reading an oversized body: the client's write can fail.
      if (c.overLimit && (e.code === "ECONNRESET" || e.code === "EPIPE")) counts.resets++;
      else violations.push(violation("http", c, `request failed: ${e.code ?? e.message}`));
      resolve();
    });
    if (chunked) {
      for (let off = 0; off < c.body.length; off += 64 * 1024) req.write(c.body.subarray(off, off + 64 * 1024));
      req.end();
    } else req.end(c.body);
  });
}

/** One WebSocket connection working through the cases `nextCase` hands out; reconnects when the server closes it. */
async function runWs(nextCase: () => FuzzCase | undefined): Promise<void> {
  let pending = nextCase();
  while (pending) {
    const ws = await openWs();
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    let sentinelWaiter: ((ok: boolean) => void) | null = null;
    let sentinelId = "";
    let current: FuzzCase = pending;
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      let msg: any;
      try {
        msg = JSON.parse(text);
      } catch {
        violations.push(violation("ws", current, `non-JSON frame: ${text.slice(0, 200)}`));
        return;
      }
      if (msg && msg.id === sentinelId && sentinelWaiter) return sentinelWaiter(true);
      if (msg && typeof msg.method === "string" && msg.method.startsWith("starknet_subscription")) return; // a notification
      checkParsed("ws", current, msg);
    });
    let sentinels = 0;
    const sentinel = (): Promise<boolean> => {
      sentinelId = `sentinel-${sentinels++}`;
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: sentinelId, method: "starknet_chainId" }));
      return Promise.race([new Promise<boolean>((resolve) => (sentinelWaiter = resolve)), closed.then(() => false)]);
    };
    let open = true;
    while (open && pending) {
      for (let k = 0; k < WS_WINDOW && pending; k++) {
        current = pending;
        counts.ws++;
        count(counts.byKind, current.kind);
        // A few binary frames: answered with an invalid-request error.
        ws.send(current.body, { binary: current.kind === "bytes" && current.body.length % 7 === 0 });
        pending = nextCase();
      }
      open = await sentinel();
    }
    if (open) ws.close();
    const code = await closed;
    count(counts.wsCloses, code);
    // 1000/1005: our own close; 1007: a text frame that is not UTF-8 (RFC 6455 §8.1 says fail the
    // connection); 1009: frame over maxPayload; 1008: outgoing queue overflow.
    if (![1000, 1005, 1007, 1008, 1009].includes(code)) violations.push(violation("ws", current, `connection closed with ${code}`));
  }
}

function openWs(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(h.devnet.wsUrl);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Subscription floods: more subscriptions than a connection may hold, unsubscribes of junk ids, abrupt disconnects. */
async function subscriptionFlood(r: SeededRandom): Promise<void> {
  for (let round = 0; round < 4; round++) {
    const ws = await openWs();
    const answers: any[] = [];
    const flood = { kind: "subscription-flood", body: Buffer.alloc(0), mayBeSilent: false, overLimit: false } as unknown as FuzzCase;
    ws.on("message", (d) => {
      const msg = JSON.parse(d.toString());
      if (typeof msg.method === "string") return;
      answers.push(msg);
      checkParsed("ws", flood, msg);
    });
    const n = 300;
    const methods = ["starknet_subscribeNewHeads", "starknet_subscribeEvents", "starknet_subscribeNewTransactionReceipts", "starknet_subscribeNewTransactions", "starknet_subscribeTransactionStatus"];
    for (let k = 0; k < n; k++) {
      const method = methods[r.int(methods.length)]!;
      const params = method === "starknet_subscribeTransactionStatus" ? { transaction_hash: world.txHashes[0] } : method === "starknet_subscribeNewHeads" ? { block_id: { block_number: r.int(3) } } : {};
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: k, method, params }));
      // Junk ids no subscription can have (ids count up from 1 across all connections): an id
      // that happened to be live on this connection freed a slot, and the count below was off by one.
      if (k % 50 === 0) ws.send(JSON.stringify({ jsonrpc: "2.0", id: `u${k}`, method: "starknet_unsubscribe", params: { subscription_id: String(1_000_000_000 + r.int(1000)) } }));
    }
    counts.ws += n;
    count(counts.byKind, "subscription-flood", n);
    if (round % 2 === 1) {
      ws.terminate(); // vanish with subscriptions live and answers in flight
      continue;
    }
    const deadline = Date.now() + 20_000;
    while (answers.length < n + n / 50 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const overloaded = answers.filter((a) => a.error?.code === -32010).length;
    if (overloaded !== n - 256) violations.push(violation("ws", flood, `expected ${n - 256} subscriptions refused as overloaded, got ${overloaded} (of ${answers.length} answers)`));
    ws.close();
  }
}

/** Malformed HTTP on raw sockets: the server's HTTP parser answers 400 or closes; it must not fall over. */
async function rawHttp(r: SeededRandom): Promise<void> {
  const url = new URL(h.devnet.rpcUrl);
  const payloads = [
    "GARBAGE\r\n\r\n",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "POST /rpc HTTP/1.1\r\n" + "X-Long: " + "a".repeat(20_000) + "\r\n\r\n",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n",
    "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
  ];
  for (let k = 0; k < 60; k++) {
    const bytes = k < payloads.length ? Buffer.from(payloads[k]!) : Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256)));
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(url.port), url.hostname, () => {
        s.write(bytes);
        // Half the time hang up mid-request.
        if (r.next() < 0.5) s.end();
        else setTimeout(() => s.destroy(), 5);
      });
      s.on("data", () => undefined);
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      s.setTimeout(2_000, () => s.destroy());
    });
  }
}

// --- checking ----------------------------------------------------------------------------------

function checkPayload(where: string, c: FuzzCase, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    violations.push(violation(where, c, `answer is not JSON: ${text.slice(0, 200)}`));
    return;
  }
  checkParsed(where, c, parsed);
}

function checkParsed(where: string, c: FuzzCase, v: unknown): void {
  if (Array.isArray(v)) {
    if (v.length === 0) violations.push(violation(where, c, "empty batch answer"));
    for (const x of v) checkOne(where, c, x);
  } else checkOne(where, c, v);
}

function checkOne(where: string, c: FuzzCase, v: unknown): void {
  counts.responses++;
  const o = v as Record<string, any>;
  if (typeof o !== "object" || o === null || o.jsonrpc !== "2.0" || !("id" in o) || ("result" in o) === ("error" in o)) {
    violations.push(violation(where, c, `not a JSON-RPC response: ${JSON.stringify(v).slice(0, 200)}`));
    return;
  }
  if ("result" in o) return void counts.results++;
  counts.errors++;
  const code = o.error?.code;
  if (!Number.isInteger(code) || typeof o.error?.message !== "string") {
    violations.push(violation(where, c, `malformed error object: ${JSON.stringify(o.error).slice(0, 200)}`));
    return;
  }
  count(counts.byCode, code);
  if (INTERNAL_CODES.has(code)) violations.push(violation(where, c, `internal error ${code}: ${JSON.stringify(o.error.data).slice(0, 200)}`));
}

function violation(where: string, c: FuzzCase, problem: string): Violation {
  return { where, kind: c.kind, problem, request: c.body.subarray(0, 400).toString("utf8") };
}

function count<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

function memory(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

function mib(b: number): number {
  return Math.round((b / 1048576) * 10) / 10;
}
