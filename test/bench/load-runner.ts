// The timed part of the HTTP benchmarks (rpc, peer), the same for every chain: pre-signed
// transactions are POSTed with C requests in flight (optionally paced to an offered rate),
// and inclusion is observed by polling the chain's blocks every 10 ms (JSON-RPC batches),
// so latencies carry up to 10 ms of polling. The chain-specific parts (which method lists a
// block's transaction hashes) come in a ChainProbe. The client shares the machine with the
// server it measures, so its CPU per request is kept small: each worker keeps one keep-alive
// HTTP/1.1 connection of its own and writes its request bytes straight to the socket
// (RawConnection below: about a third of node:http's CPU per request, which was itself half
// of fetch's); `client: "http"` sends through node:http with a keep-alive agent instead, for
// comparison. Never signs anything itself and never waits unboundedly: the inclusion wait
// has a deadline, every request a 60 s timeout.

import http from "node:http";
import net from "node:net";

export interface SignedTx {
  /** Transaction hash as the chain's blocks list it (lowercase hex). */
  hash: string;
  /** The whole JSON-RPC request body. */
  body: string;
}

export interface ChainProbe {
  /** Number of the newest block. */
  head(url: string): Promise<number>;
  /** Transaction hashes of each block in `numbers`, in that order (lowercase hex). */
  blockTxHashes(url: string, numbers: number[]): Promise<string[][]>;
}

export interface LoadPlan {
  /**
   * Queues of transactions, each sent in order. With one queue, `concurrency` workers share
   * it; with several, worker i sends queue i % queues.length (one account per queue keeps an
   * account's nonces in order, which Hardhat's automine requires).
   */
  queues: SignedTx[][];
  concurrency: number;
  /** Offered rate cap in tx/s (open-loop pacing on top of the in-flight bound); none by default. */
  rate_per_s?: number;
  /** Longest wait for inclusion after the last submission. Default 300 s. */
  inclusion_timeout_ms?: number;
  /** How the submissions are sent: one raw keep-alive connection per worker (default) or node:http's agent. */
  client?: LoadClient;
  log?: (s: string) => void;
}

export type LoadClient = "raw" | "http";
export const LOAD_CLIENTS: readonly LoadClient[] = ["raw", "http"];

export interface LoadResult {
  sent: number;
  refused: number;
  firstError?: string;
  included: number;
  /** ms from the first send to the last response. */
  submit_ms: number;
  /** ms from the first send to the last inclusion seen. */
  include_ms: number;
  /** Sorted submit-to-inclusion latencies, ms. */
  latencies_ms: number[];
  /** Blocks that included at least one of the transactions. */
  blocks: Set<number>;
}

export async function runLoad(url: string, probe: ChainProbe, plan: LoadPlan): Promise<LoadResult> {
  const log = plan.log ?? (() => {});
  const total = plan.queues.reduce((a, q) => a + q.length, 0);
  const submittedAt = new Map<string, number>();
  const includedAt = new Map<string, number>();
  const blocks = new Set<number>();
  let polling = true;
  let seen = await probe.head(url);
  const poller = (async () => {
    while (polling) {
      const head = await probe.head(url);
      if (head > seen) {
        const numbers = Array.from({ length: head - seen }, (_, i) => seen + 1 + i);
        const lists = await probe.blockTxHashes(url, numbers);
        const now = performance.now();
        lists.forEach((hashes, i) => {
          for (const h of hashes)
            if (submittedAt.has(h) && !includedAt.has(h)) {
              includedAt.set(h, now);
              blocks.add(numbers[i]!);
            }
        });
        seen = head;
      }
      await sleep(10);
    }
  })();

  const start = performance.now();
  const cursors = plan.queues.map(() => 0);
  let ticket = 0;
  let refused = 0;
  let firstError: string | undefined;
  let sent = 0;
  const worker = async (w: number) => {
    const qi = w % plan.queues.length;
    const q = plan.queues[qi]!;
    while (cursors[qi]! < q.length) {
      const t = q[cursors[qi]!++]!;
      if (plan.rate_per_s !== undefined) {
        const due = start + (ticket++ * 1000) / plan.rate_per_s;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      submittedAt.set(t.hash, performance.now());
      const text = raw ? await raw[w]!.post(t.body) : await post(agent!, target, t.body);
      const r = JSON.parse(text) as { error?: { code: number; message: string; data?: unknown } };
      if (++sent % 1000 === 0) log(`submitted ${sent}/${total}`);
      if (r.error) {
        refused++;
        submittedAt.delete(t.hash);
        firstError ??= JSON.stringify(r.error);
      }
    }
  };
  const workers = Math.max(plan.concurrency, 1);
  const target = new URL(url);
  const raw = (plan.client ?? "raw") === "raw" ? Array.from({ length: workers }, () => new RawConnection(target)) : undefined;
  const agent = raw ? undefined : new http.Agent({ keepAlive: true, maxSockets: workers });
  try {
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  } finally {
    agent?.destroy();
    raw?.forEach((c) => c.close());
  }
  const submitEnd = performance.now();
  const deadline = submitEnd + (plan.inclusion_timeout_ms ?? 300_000);
  while (includedAt.size < submittedAt.size && performance.now() < deadline) await sleep(20);
  polling = false;
  await poller;
  if (includedAt.size < submittedAt.size) log(`only ${includedAt.size}/${submittedAt.size} accepted transactions included before the deadline`);
  const latencies_ms = [...includedAt].map(([h, t]) => t - submittedAt.get(h)!).sort((a, b) => a - b);
  const lastInclusion = includedAt.size > 0 ? Math.max(...includedAt.values()) : submitEnd;
  return {
    sent: total,
    refused,
    ...(firstError !== undefined ? { firstError } : {}),
    included: includedAt.size,
    submit_ms: submitEnd - start,
    include_ms: lastInclusion - start,
    latencies_ms,
    blocks,
  };
}

/** One POST of a JSON body; resolves with the response text (any status), rejects on a network error or after 60 s. */
function post(agent: http.Agent, url: URL, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 60_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`POST ${url.href} timed out after 60 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * One keep-alive HTTP/1.1 connection that sends one POST at a time: the request's bytes are
 * written to the socket as they are, and the response is read by its Content-Length (or
 * chunked). Any status is answered with its body, as `post` does; a network error, a response
 * it cannot read, or 60 s without an answer rejects and drops the connection (the next request
 * opens a new one). A connection the server closes is reopened for the next request.
 */
export class RawConnection {
  private socket: net.Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (s: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private readonly head: string;

  constructor(private readonly url: URL) {
    this.head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: `;
  }

  post(body: string): Promise<string> {
    if (this.pending) return Promise.reject(new Error("RawConnection: one request at a time"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`POST ${this.url.href} timed out after 60 s`)), 60_000);
      this.pending = { resolve, reject, timer };
      const socket = this.socket ?? this.open();
      socket.write(`${this.head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private open(): net.Socket {
    const socket = net.connect({ host: this.url.hostname, port: Number(this.url.port || 80) });
    socket.setNoDelay(true);
    // Events of a connection already dropped (closed after a response, failed) are ignored.
    socket.on("data", (chunk: Buffer) => {
      if (this.socket !== socket) return;
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    socket.on("error", (e) => {
      if (this.socket === socket) this.fail(e);
    });
    socket.on("close", () => {
      if (this.socket === socket) this.fail(new Error(`POST ${this.url.href}: the server closed the connection`));
    });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    return socket;
  }

  /** Completes the pending request once its whole response is buffered. */
  private parse(): void {
    const end = this.buffered.indexOf("\r\n\r\n");
    if (end < 0 || !this.pending) return;
    const headers = this.buffered.toString("latin1", 0, end).toLowerCase();
    let body: Buffer | undefined;
    let used = 0;
    const length = /\r\ncontent-length: *(\d+)/.exec(headers);
    if (length) {
      const n = Number(length[1]);
      if (this.buffered.length < end + 4 + n) return;
      body = this.buffered.subarray(end + 4, end + 4 + n);
      used = end + 4 + n;
    } else if (/\r\ntransfer-encoding: *chunked/.test(headers)) {
      const parts: Buffer[] = [];
      let at = end + 4;
      for (;;) {
        const eol = this.buffered.indexOf("\r\n", at);
        if (eol < 0) return;
        const size = parseInt(this.buffered.toString("latin1", at, eol), 16);
        if (!Number.isFinite(size)) return this.fail(new Error(`POST ${this.url.href}: unreadable chunked response`));
        if (this.buffered.length < eol + 2 + size + 2) return;
        if (size === 0) {
          used = eol + 4;
          break;
        }
        parts.push(this.buffered.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      return this.fail(new Error(`POST ${this.url.href}: a response without Content-Length or chunked encoding`));
    }
    const text = body.toString("utf8");
    const closing = /\r\nconnection: *close/.test(headers);
    this.buffered = this.buffered.subarray(used);
    const p = this.pending;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (closing) this.close();
    p.resolve(text);
  }

  private fail(e: Error): void {
    this.close();
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(e);
  }
}

/** The keys every HTTP benchmark prints for a load run. */
export function loadFigures(r: LoadResult) {
  const pct = (q: number) => r.latencies_ms[Math.min(r.latencies_ms.length - 1, Math.floor(q * r.latencies_ms.length))] ?? NaN;
  return {
    refused: r.refused,
    included: r.included,
    offered_tx_per_s: round(r.sent / (r.submit_ms / 1000)),
    submitted_tx_per_s: round((r.sent - r.refused) / (r.submit_ms / 1000)),
    included_tx_per_s: round(r.included / (r.include_ms / 1000)),
    p50_ms: round(pct(0.5)),
    p99_ms: round(pct(0.99)),
    blocks: r.blocks.size,
    avg_txs_per_block: round(r.included / Math.max(1, r.blocks.size)),
  };
}

/** JSON-RPC batch in chunks of at most 500 requests; results in request order, errors thrown. */
export async function rpcBatchResults<T>(url: string, calls: Array<{ method: string; params: unknown }>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < calls.length; i += 500) {
    const chunk = calls.slice(i, i + 500).map((c, j) => ({ jsonrpc: "2.0", id: j, method: c.method, params: c.params }));
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chunk), signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as Array<{ id: number; result?: T; error?: { code: number; message: string } }>;
    if (!Array.isArray(body)) throw new Error(`batch answered with ${JSON.stringify(body).slice(0, 200)}`);
    const byId = new Map(body.map((r) => [r.id, r]));
    for (let j = 0; j < chunk.length; j++) {
      const r = byId.get(j);
      if (r === undefined) throw new Error(`batch response is missing id ${j}`);
      if (r.error) throw new Error(`${chunk[j]!.method}: ${r.error.code} ${r.error.message}`);
      out.push(r.result as T);
    }
  }
  return out;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
