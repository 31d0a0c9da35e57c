// Benchmark: the devnet end to end over HTTP, the node in its own process (as users run
// it: `npm start` on LevelDB) and this process as the client. Two loads:
//   --mode orders (default): 100 accounts deposit USDC, then N pre-signed place_order INVOKEs
//     (even accounts bid, odd accounts ask at the same price, alternating, so every ask fills
//     a resting bid), C requests in flight from one shared queue;
//   --mode transfers: N pre-signed STRK transfers from C accounts (32), one account per
//     request in flight, each account's nonces in order.
// Signing happens before the timed part; nonces are pre-assigned. Inclusion is observed by
// polling new blocks every 10 ms (so latencies carry up to 10 ms of polling). The node's
// longest event-loop stall comes from appchain_getStatus read before and after the timed part.
//
// Flags: --txs N (5000)  --concurrency C (32)  --accounts A (100; transfers: C)  --mode orders|transfers
//        --rate R (offer at most R tx/s; default: as fast as C in flight allow)
//        --client raw|http (how the client sends: one raw keep-alive connection per request in flight,
//        the default, or node:http's agent, the client of earlier versions; see load-runner.ts)
//        --in-process (node in this process, with its block listener and --profile; see rpc-inprocess.ts)
//        --url URL (use a node that is already running; it needs --accounts ≥ A and a fresh chain)
//        --cpu-prof DIR (the node runs under `node --cpu-prof`; its profile lands in DIR and the
//        top self-time functions of the timed part are printed to stderr and in the JSON)
//        --node-args "FLAGS" (more devnet flags for the spawned node, e.g. "--block-batch-ms 50")
//        --node-flags "FLAGS" (node/V8 flags for the spawned node, e.g. "--max-semi-space-size=32")
//        --node-repo DIR (run the node from another checkout, e.g. the previous version, for before/after)
//        --warmup N (the spawned node's --warmup: JIT warm-up transactions on a throwaway chain after
//        ready; default as `npm start`; 0 measures a cold node). The bench waits for the warm-up
//        to end before it prepares its load (orders' deposits would end it early).
// Progress on stderr; last stdout line: one JSON object.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hashBackend } from "../../state/crypto/hash.js";
import { DEFAULT_WARMUP_TXS } from "../../sequencer/warmup.js";
import { killAllChildren, spawnNode, stopGracefully, type ChildNode } from "../crash/child-node.js";
import { cryptoRates, useFastestBackend } from "./bench-backend.js";
import { intArg, stringArg, textArg, wordsArg } from "./bench-args.js";
import { formatRows, monotonicUs, topSelfTime, type CpuProfile, type SelfTimeRow } from "./cpu-profile.js";
import { LOAD_CLIENTS, loadFigures, round, round2, runLoad, type LoadClient } from "./load-runner.js";
import { groupCpuMs, groupDiskWriteBytes, groupMainThreadCpuMs, groupPeakRssKb, selfCpuMs } from "./proc-stats.js";
import { eventLoopMaxMs, waitForWarmup, prepareStarknetLoad, receiptTally, starknetProbe, type StarknetLoadMode } from "./starknet-load.js";

if (process.argv.includes("--in-process")) {
  await import("./rpc-inprocess.js");
} else {
  await main().catch(async (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    await killAllChildren();
    process.exit(1);
  });
}

async function main(): Promise<void> {
  const MODE = stringArg("mode", "orders", ["orders", "transfers"]) as StarknetLoadMode;
  const TXS = intArg("txs", 5000);
  const CONCURRENCY = intArg("concurrency", 32);
  const ACCOUNTS = MODE === "transfers" ? CONCURRENCY : intArg("accounts", 100);
  const RATE = process.argv.includes("--rate") ? intArg("rate", 1) : undefined;
  const CLIENT = stringArg("client", "raw", LOAD_CLIENTS) as LoadClient;
  const log = (s: string) => process.stderr.write(s + "\n");
  log(await useFastestBackend());
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-rpc-"));
  const URL_ARG = textArg("url");
  const profDir = textArg("cpu-prof");
  const PROF_DIR = profDir !== undefined ? resolve(profDir) : undefined;
  const extraArgs = wordsArg("node-args");
  const WARMUP_ARG = textArg("warmup");
  const WARMUP = WARMUP_ARG !== undefined ? intArg("warmup", DEFAULT_WARMUP_TXS, 0) : DEFAULT_WARMUP_TXS;
  const repo = textArg("node-repo");
  const nodeRepo = repo !== undefined ? { repo: resolve(repo) } : {};
  const nodeFlags = [...wordsArg("node-flags"), ...(PROF_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROF_DIR] : [])];
  const child =
    URL_ARG !== undefined
      ? null
      : await spawnNode({ dbPath: dir, seed: 11, accounts: ACCOUNTS, timeout_ms: 60_000, extraArgs, ...nodeRepo, nodeFlags, ...(repo === undefined || WARMUP_ARG !== undefined ? { warmup: WARMUP } : {}) });
  const url = child?.rpcUrl ?? URL_ARG!;
  const warmup = await waitForWarmup(url.replace(/\/rpc$/, ""));
  log(`warm-up: ${warmup.end} (waited ${warmup.waited_ms} ms)`);
  let peakRssKb = 0;
  const rssTimer = setInterval(() => (peakRssKb = Math.max(peakRssKb, child ? groupPeakRssKb(child.proc.pid!) : 0)), 100);
  try {
    const load = await prepareStarknetLoad(url, { mode: MODE, txs: TXS, accounts: ACCOUNTS, log });
    log(load.setup);
    await eventLoopMaxMs(url); // starts the window the timed part is measured in
    const window_us = { from: monotonicUs(), to: 0 };
    const cpu0 = { node: child ? groupCpuMs(child.proc.pid!) : 0, nodeMain: child ? groupMainThreadCpuMs(child.proc.pid!) : 0, client: selfCpuMs() };
    const disk0 = child ? groupDiskWriteBytes(child.proc.pid!) : 0;
    const r = await runLoad(url, starknetProbe, { queues: load.queues, concurrency: CONCURRENCY, client: CLIENT, ...(RATE !== undefined ? { rate_per_s: RATE } : {}), log });
    window_us.to = monotonicUs();
    const cpu = {
      node: child ? groupCpuMs(child.proc.pid!) - cpu0.node : NaN,
      nodeMain: child ? groupMainThreadCpuMs(child.proc.pid!) - cpu0.nodeMain : NaN,
      client: selfCpuMs() - cpu0.client,
    };
    const diskBytes = child ? groupDiskWriteBytes(child.proc.pid!) - disk0 : NaN;
    const loopMax = await eventLoopMaxMs(url);
    if (r.refused > 0) log(`${r.refused} refused, first: ${r.firstError}`);
    const tally = await receiptTally(url, r.blocks);
    if (tally.reverted > 0) log(`${tally.reverted} reverted, first: ${tally.firstRevert}`);
    const crypto = cryptoRates(hashBackend());
    const f = loadFigures(r);
    log(`included ${f.included} txs in ${f.blocks} blocks, ${tally.trades} trades, ${tally.reverted} reverted`);
    process.stdout.write(
      JSON.stringify({
        bench: "rpc",
        mode: "node in its own process (LevelDB), client here",
        load: MODE,
        backend: hashBackend().name,
        txs: TXS,
        concurrency: CONCURRENCY,
        client: CLIENT,
        accounts: ACCOUNTS,
        warmup: warmup.end,
        ...(RATE !== undefined ? { rate_cap_tx_per_s: RATE } : {}),
        refused: f.refused,
        included: f.included,
        reverted: tally.reverted,
        trades: tally.trades,
        offered_tx_per_s: f.offered_tx_per_s,
        submitted_tx_per_s: f.submitted_tx_per_s,
        included_tx_per_s: f.included_tx_per_s,
        p50_ms: f.p50_ms,
        p99_ms: f.p99_ms,
        blocks: f.blocks,
        avg_txs_per_block: f.avg_txs_per_block,
        event_loop_max_ms: loopMax,
        node_cpu_ms_per_tx: child ? round2(cpu.node / Math.max(1, f.included)) : null,
        node_main_thread_cpu_ms_per_tx: child ? round2(cpu.nodeMain / Math.max(1, f.included)) : null,
        client_cpu_ms_per_tx: round2(cpu.client / Math.max(1, f.included)),
        peak_rss_mb: round(peakRssKb / 1024),
        node_disk_write_kb_per_tx: child ? round2(diskBytes / 1024 / Math.max(1, f.included)) : null,
        ecdsa_verify_per_s: crypto.ecdsa_verify_per_s,
        pedersen_per_s: crypto.pedersen_per_s,
        machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
        ...(child && PROF_DIR ? { profile_window_us: window_us, profile_top: await nodeProfile(child, PROF_DIR, window_us, log) } : {}),
      }) + "\n",
    );
  } finally {
    clearInterval(rssTimer);
    if (child) await stopGracefully(child).catch(() => killAllChildren());
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stops the node (it writes its profile on exit) and returns the top self-time functions of
 * the timed part. The newest main-thread .cpuprofile in `dir` is the node's.
 */
async function nodeProfile(child: ChildNode, dir: string, window_us: { from: number; to: number }, log: (s: string) => void): Promise<SelfTimeRow[]> {
  await stopGracefully(child, 30_000);
  const files = readdirSync(dir)
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) // CPU.date.time.pid.THREAD.seq: thread 0 is the main thread
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (files.length === 0) throw new Error(`the node wrote no .cpuprofile into ${dir}`);
  const file = join(dir, files[0]!.f);
  const { rows, total_ms } = topSelfTime(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, 25, window_us);
  log(`node profile ${file}: ${total_ms.toFixed(0)} ms sampled in the timed part\n${formatRows(rows)}`);
  return rows;
}
