// Benchmark: two node versions (or two sets of node flags) side by side, in one run, under the
// `bench rpc` load. This VM's speed drifts by tens of percent over minutes, and of two runs back
// to back the first tends to be the faster; so the runs go in pairs, the two sides alternate,
// and which side goes first swaps every pair (A B, B A, A B, ...). The figure to read is the
// per-pair ratio (this side over the baseline) and how many pairs this side won, not two
// averages taken minutes apart.
//
//   npm run bench -- compare --base DIR [--pairs K (4)] [--mode orders|transfers] [--txs N]
//                            [--base-flags "V8 FLAGS"] [--flags "V8 FLAGS"]
//
// --base DIR: the baseline checkout (e.g. `git worktree add /tmp/base <rev>`, with
// node_modules and build/ in place); each side runs as its own `npm start` does. Without
// --base, both sides run this checkout and differ only by --base-flags / --flags (node/V8
// flags for the spawned node). Other flags pass through to `bench rpc` (--txs, --mode, ...).
// Progress on stderr; last stdout line: one JSON object.

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { intArg, textArg } from "./bench-args.js";
import { median } from "./load-runner.js";

const PAIRS = intArg("pairs", 4);
const BASE = textArg("base");
const BASE_FLAGS = textArg("base-flags");
const FLAGS = textArg("flags");
const OWN = new Set(["--pairs", "--base", "--base-flags", "--flags"]);

/** The arguments this bench does not take itself, for `bench rpc`. */
function passThrough(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (OWN.has(argv[i]!)) i++;
    else out.push(argv[i]!);
  }
  return out;
}

type RpcResult = Record<string, unknown> & { included_tx_per_s: number };

const KEYS = ["included_tx_per_s", "p50_ms", "p99_ms", "event_loop_max_ms", "node_cpu_ms_per_tx", "node_main_thread_cpu_ms_per_tx", "client_cpu_ms_per_tx", "peak_rss_mb", "node_disk_write_kb_per_tx"] as const;

function runSide(side: "base" | "this", rest: readonly string[]): RpcResult {
  const repo = side === "base" ? (BASE !== undefined ? resolve(BASE) : undefined) : undefined;
  const flags = side === "base" ? BASE_FLAGS : FLAGS;
  const bench = fileURLToPath(new URL("../../scripts/bench.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
  const args = [tsx, bench, "rpc", ...rest, ...(repo !== undefined ? ["--node-repo", repo] : []), ...(flags !== undefined ? ["--node-flags", flags] : [])];
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0) throw new Error(`bench rpc (${side}) exited with ${r.status}: ${last}`);
  return JSON.parse(last) as RpcResult;
}

function pick(r: RpcResult): Record<string, unknown> {
  return Object.fromEntries(KEYS.map((k) => [k, r[k]]));
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function main(): void {
  if (BASE === undefined && BASE_FLAGS === undefined && FLAGS === undefined) throw new RangeError("compare needs --base DIR, or --base-flags / --flags");
  const rest = passThrough(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(s + "\n");
  const pairs: Array<{ first: "base" | "this"; base: Record<string, unknown>; this: Record<string, unknown>; rate_ratio: number; node_cpu_ratio: number }> = [];
  for (let i = 0; i < PAIRS; i++) {
    const order: Array<"base" | "this"> = i % 2 === 0 ? ["base", "this"] : ["this", "base"];
    const got: Partial<Record<"base" | "this", RpcResult>> = {};
    for (const side of order) {
      log(`pair ${i + 1}/${PAIRS}: ${side}`);
      got[side] = runSide(side, rest);
    }
    const b = got.base!;
    const t = got.this!;
    pairs.push({
      first: order[0]!,
      base: pick(b),
      this: pick(t),
      rate_ratio: round(t.included_tx_per_s / b.included_tx_per_s),
      node_cpu_ratio: round(Number(t.node_cpu_ms_per_tx) / Number(b.node_cpu_ms_per_tx)),
    });
    log(`pair ${i + 1}: this/base included tx/s ${pairs.at(-1)!.rate_ratio}, node CPU ${pairs.at(-1)!.node_cpu_ratio}`);
  }
  const rates = pairs.map((p) => p.rate_ratio);
  process.stdout.write(
    JSON.stringify({
      bench: "compare",
      base: BASE !== undefined ? resolve(BASE) : "this checkout",
      base_flags: BASE_FLAGS ?? "",
      flags: FLAGS ?? "",
      rpc_args: rest.join(" "),
      pairs,
      median_rate_ratio: round(median(rates)),
      median_node_cpu_ratio: round(median(pairs.map((p) => p.node_cpu_ratio))),
      pairs_this_faster: rates.filter((r) => r > 1).length,
      pairs_first_faster: pairs.filter((p) => (p.first === "this" ? p.rate_ratio > 1 : p.rate_ratio < 1)).length,
    }) + "\n",
  );
}

try {
  main();
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
