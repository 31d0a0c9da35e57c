// The timed part of the HTTP benchmarks (rpc, peer), the same for every chain: pre-signed
// transactions are POSTed with C requests in flight (optionally paced to an offered rate),
// and inclusion is observed by polling the chain's blocks every 10 ms (JSON-RPC batches),
// so latencies carry up to 10 ms of polling. The chain-specific parts (which method lists a
// block's transaction hashes) come in a ChainProbe. Requests go through node:http with a
// keep-alive agent (fetch costs the client about twice the CPU per request, and the client
// shares the machine with the server it measures). Never signs anything itself and never
// waits unboundedly: the inclusion wait has a deadline.

import http from "node:http";

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
  log?: (s: string) => void;
}

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
      const r = JSON.parse(await post(agent, target, t.body)) as { error?: { code: number; message: string; data?: unknown } };
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  try {
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  } finally {
    agent.destroy();
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

export function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
