// Helpers for the crash tests: run `scripts/devnet.ts` as a child process on a LevelDB
// directory, talk JSON-RPC to it, and sign INVOKE v3 transactions the way a wallet does
// (starknet.js computes the hash and the signature; nothing from our sequencer is used to
// build what we send, so the node is tested as a black box).
//
// tsx's CLI runs the script in a second Node process of its own, so killing only the CLI
// would leave the real node running (and holding the LevelDB lock). Each child is started
// as the leader of its own process group and killed as a group: `kill -9 -<pgid>` hits the
// node and its tsx wrapper at the same instant. Every child is tracked so the test can
// kill it in afterAll even after a failure.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { ec, hash, transaction } from "starknet";

const REPO = resolve(import.meta.dirname, "../..");

export interface ChildNode {
  proc: ChildProcess;
  rpcUrl: string;
  baseUrl: string;
  /** ms from spawn to the "JSON-RPC: ..." line. */
  startup_ms: number;
  /** Everything the child wrote, for failure messages. */
  output(): string;
}

const live = new Set<ChildProcess>();

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface NodeArgs {
  dbPath: string;
  seed: number;
  accounts: number;
  /** Flags for the node's own Node.js process (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** More devnet flags (e.g. --retention-blocks 2; cluster mode: --cluster-etcd, --node-id, --lease-ttl). */
  extraArgs?: string[];
  /** Another checkout of the repository to run the node from (benchmarks compare versions). Default: this one. */
  repo?: string;
  /**
   * `--warmup N` (JIT warm-up transactions after ready). Default 0: tests do not spend the CPU.
   * With another `repo` and no value, no flag is passed (older checkouts do not know it).
   */
  warmup?: number;
}

/**
 * The Node.js flags of `npm start` in the checkout at `repo`: its start script is
 * `node FLAGS --import tsx scripts/devnet.ts` (or, in versions before the flags, `tsx ...`).
 * Anything else throws, so a changed start script cannot leave the spawned nodes silently
 * running another way than `npm start`.
 */
export function startScriptNodeFlags(repo: string): string[] {
  const start = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { scripts?: { start?: string } }).scripts?.start ?? "";
  if (/^tsx scripts\/devnet\.ts$/.test(start)) return [];
  const m = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+--import tsx scripts\/devnet\.ts$/.exec(start);
  if (m === null) throw new Error(`unexpected start script in ${repo}/package.json: ${start}`);
  return m[1]!.split(/\s+/).filter(Boolean);
}

/** Spawn the devnet CLI on `dbPath` and wait until it prints its RPC URL. */
export async function spawnNode(opts: NodeArgs & { timeout_ms?: number }): Promise<ChildNode> {
  const started = await startNodeProcess(opts);
  const rpcUrl = await started.rpcUrl(opts.timeout_ms ?? 30_000);
  return { proc: started.proc, rpcUrl, baseUrl: rpcUrl.replace(/\/rpc$/, ""), startup_ms: performance.now() - started.t0, output: started.output };
}

/** Spawn without waiting (to kill a node in the middle of its start-up). */
export async function startNodeProcess(opts: NodeArgs): Promise<{ proc: ChildProcess; t0: number; output(): string; rpcUrl(timeout_ms: number): Promise<string> }> {
  const port = await freePort();
  const repo = opts.repo ?? REPO;
  // The node runs as ONE process (`node --import tsx`, resolved from `repo`, the working
  // directory), not under tsx's CLI wrapper: a signal sent to the process group then reaches the
  // node itself, with no relay that can lose the race under load. With the V8 flags `npm start`
  // gives it (that checkout's), so tests and benches run the node as users do.
  const launcher = [...startScriptNodeFlags(repo), ...(opts.nodeFlags ?? []), "--import", "tsx"];
  const args = [...launcher, resolve(repo, "scripts/devnet.ts"), "--db", opts.dbPath, "--host", "127.0.0.1", "--port", String(port), "--seed", String(opts.seed), "--accounts", String(opts.accounts), "--hash-backend", "auto", ...(opts.warmup !== undefined || opts.repo === undefined ? ["--warmup", String(opts.warmup ?? 0)] : []), ...(opts.extraArgs ?? [])];
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"], detached: true });
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  let out = "";
  let url: string | null = null;
  proc.stdout!.setEncoding("utf8");
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => (out += d));
  proc.stdout!.on("data", (d: string) => {
    out += d;
    url ??= /JSON-RPC: (http:\/\/\S+)/.exec(out)?.[1] ?? null;
  });
  const rpcUrl = async (timeout_ms: number): Promise<string> => {
    const deadline = performance.now() + timeout_ms;
    while (url === null) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`node exited (code ${proc.exitCode}, signal ${proc.signalCode}) before it was up:\n${out}`);
      if (performance.now() > deadline) throw new Error(`node did not print its RPC URL within ${timeout_ms} ms:\n${out}`);
      await sleep(5);
    }
    return url;
  };
  return { proc, t0, output: () => out, rpcUrl };
}

/** SIGKILL the child's whole process group and wait until every process of it is gone. */
export async function kill9(node: { proc: ChildProcess }): Promise<void> {
  await killGroup(node.proc);
}

/** Graceful stop (SIGTERM to the group: the node finishes its block and closes the store). */
export async function stopGracefully(node: ChildNode, timeout_ms = 10_000): Promise<number | null> {
  const exited = new Promise<number | null>((res) => {
    if (node.proc.exitCode !== null || node.proc.signalCode !== null) return res(node.proc.exitCode);
    node.proc.once("exit", (code) => res(code));
  });
  signalGroup(node.proc, "SIGTERM");
  const code = await Promise.race([exited, sleep(timeout_ms).then(() => "timeout" as const)]);
  if (code === "timeout") throw new Error(`node did not stop within ${timeout_ms} ms after SIGTERM`);
  await waitGroupGone(node.proc, timeout_ms);
  return code;
}

/** Kill every child still running (afterAll, also after a failed test). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((p) => killGroup(p)));
}

async function killGroup(proc: ChildProcess): Promise<void> {
  signalGroup(proc, "SIGKILL");
  await waitGroupGone(proc, 10_000);
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-proc.pid!, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/**
 * Poll until no live process of the group is left (the kernel has then released the
 * LevelDB lock). On Linux a killed grandchild may linger as a zombie until init reaps it,
 * so /proc is read and zombies count as gone once their last thread has exited; elsewhere
 * kill(-pgid, 0) is the test.
 */
async function waitGroupGone(proc: ChildProcess, timeout_ms: number): Promise<void> {
  const deadline = performance.now() + timeout_ms;
  while (performance.now() < deadline) {
    if (!groupAlive(proc.pid!)) return;
    await sleep(5);
  }
  throw new Error(`process group ${proc.pid} still has live processes ${timeout_ms} ms after the signal`);
}

function groupAlive(pgid: number): boolean {
  if (existsSync("/proc/self/stat")) {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // exited while we were looking
      }
      // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      if (fields[0] !== "Z") return true;
      // A killed multi-threaded process shows its leader as a zombie while its other threads
      // are still exiting; its files (the LevelDB lock) are released when the last one is gone.
      try {
        if (readdirSync(`/proc/${entry}/task`).length > 1) return true;
      } catch {
        continue;
      }
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
    this.name = "RpcCallError";
  }
}

let rpcId = 0;

/** One JSON-RPC call; throws RpcCallError for an error response, a network error otherwise. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown = [], timeout_ms = 10_000): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
    signal: AbortSignal.timeout(timeout_ms),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } };
  if (body.error) throw new RpcCallError(body.error.code, body.error.message, body.error.data);
  return body.result as T;
}

/** A JSON-RPC batch (chunked under the server's batch limit); each entry is a result or an error. */
export async function rpcBatch(url: string, calls: Array<{ method: string; params: unknown }>, timeout_ms = 20_000): Promise<Array<{ result?: unknown; error?: { code: number; message: string } }>> {
  const out: Array<{ result?: unknown; error?: { code: number; message: string } }> = [];
  for (let i = 0; i < calls.length; i += 500) {
    const chunk = calls.slice(i, i + 500).map((c, j) => ({ jsonrpc: "2.0", id: j, method: c.method, params: c.params }));
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chunk), signal: AbortSignal.timeout(timeout_ms) });
    const body = (await res.json()) as Array<{ id: number; result?: unknown; error?: { code: number; message: string } }>;
    const byId = new Map(body.map((r) => [r.id, r]));
    for (let j = 0; j < chunk.length; j++) {
      const r = byId.get(j);
      if (r === undefined) throw new Error(`batch response is missing id ${j}`);
      out.push(r);
    }
  }
  return out;
}

export interface PredeployedAccount {
  address: string;
  private_key: string;
}

/** Resource bounds a wallet would send: generous maxima at twice the node's prices. */
const BOUNDS = {
  l1_gas: { max_amount: 0n, max_price_per_unit: 100_000_000_000n },
  l1_data_gas: { max_amount: 0x10000n, max_price_per_unit: 2_000_000n },
  l2_gas: { max_amount: 0x20000000n, max_price_per_unit: 2_000_000_000n },
};

const hex = (v: bigint) => "0x" + v.toString(16);

/** A signed INVOKE v3 (broadcast JSON) transferring `amount` STRK units, and its hash. */
export function signedTransfer(opts: {
  from: PredeployedAccount;
  to: string;
  token: string;
  amount: bigint;
  nonce: bigint;
  chainId: string;
}): { hash: string; tx: Record<string, unknown> } {
  const calldata = transaction
    .getExecuteCalldata([{ contractAddress: opts.token, entrypoint: "transfer", calldata: [opts.to, hex(opts.amount), "0x0"] }], "1")
    .map((x) => hex(BigInt(x)));
  const txHash = hash.calculateInvokeTransactionHash({
    senderAddress: opts.from.address,
    version: "0x3",
    compiledCalldata: calldata,
    chainId: opts.chainId,
    nonce: opts.nonce,
    accountDeploymentData: [],
    nonceDataAvailabilityMode: 0,
    feeDataAvailabilityMode: 0,
    resourceBounds: BOUNDS,
    tip: 0n,
    paymasterData: [],
  } as never);
  const sig = ec.starkCurve.sign(txHash, opts.from.private_key);
  const bound = (b: { max_amount: bigint; max_price_per_unit: bigint }) => ({ max_amount: hex(b.max_amount), max_price_per_unit: hex(b.max_price_per_unit) });
  return {
    hash: hex(BigInt(txHash)),
    tx: {
      type: "INVOKE",
      version: "0x3",
      sender_address: opts.from.address,
      calldata,
      nonce: hex(opts.nonce),
      resource_bounds: { l1_gas: bound(BOUNDS.l1_gas), l1_data_gas: bound(BOUNDS.l1_data_gas), l2_gas: bound(BOUNDS.l2_gas) },
      tip: "0x0",
      paymaster_data: [],
      account_deployment_data: [],
      nonce_data_availability_mode: "L1",
      fee_data_availability_mode: "L1",
      signature: [hex(sig.r), hex(sig.s)],
    },
  };
}
