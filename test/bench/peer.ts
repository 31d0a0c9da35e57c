// Benchmark: perpchain beside the EVM devnet people use, in one run, with the same load.
// Hardhat 2 (EDR) is installed on demand into a scratch folder (not a project dependency),
// `hardhat node` is started on a free port of 127.0.0.1 and gets N pre-signed plain ETH
// transfers (EIP-1559, 21,000 gas, signed with micro-eth-signer, which Hardhat's install
// brings) from 32 accounts, one request in flight per account; then perpchain (the devnet
// CLI as `npm start` runs it, on LevelDB) gets N pre-signed STRK transfers from 32 accounts
// the same way. Both are timed until every transaction is in a block (blocks polled every
// 10 ms over JSON-RPC batches); each server's CPU time per transaction is read from /proc,
// since wall-clock rates on a shared machine are noise. Every process started here is stopped before exit.
//
// Warm-up: perpchain's node warms its JIT on a throwaway chain after ready (`npm start`'s
// --warmup, 3000 transactions; the bench waits for it), so Hardhat gets the same number of
// transfers, untimed, before its timed load: both are measured warm. --warmup 0: both cold.
//
// Flags: --txs N (4000)  --concurrency C (32, also the number of accounts)  --warmup N (3000)
//        --hardhat-quiet (hardhat node without its per-request log; default: as users run it)
//        --peer-dir DIR (scratch folder; default ~/.cache/perpchain-peer/hardhat-VERSION)
//        --pairs K (1): K runs of each, alternating which goes first (Hardhat first in odd
//        pairs), each pair with its own ratio; this machine's speed drifts within minutes
//        --client raw|http (how the load is sent; see load-runner.ts; the same for both)
// Progress on stderr; last stdout line: one JSON object, both rates and their ratio (with
// --pairs: the first pair's figures under `hardhat`/`perpchain`, every pair and the medians).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { freePort, killAllChildren, spawnNode, stopGracefully } from "../crash/child-node.js";
import { useFastestBackend } from "./bench-backend.js";
import { intArg, stringArg } from "./bench-args.js";
import { LOAD_CLIENTS, loadFigures, median, round2, rpcBatchResults, runLoad, sleep, type ChainProbe, type LoadClient, type SignedTx } from "./load-runner.js";
import { groupCpuMs } from "./proc-stats.js";
import { eventLoopMaxMs, prepareStarknetLoad, receiptTally, starknetProbe, waitForWarmup } from "./starknet-load.js";
import { DEFAULT_WARMUP_TXS } from "../../sequencer/warmup.js";

const HARDHAT_VERSION = "2.29.1";
const HARDHAT_CHAIN_ID = 31337n;

const TXS = intArg("txs", 4000);
const WARMUP = intArg("warmup", DEFAULT_WARMUP_TXS, 0);
const CONCURRENCY = intArg("concurrency", 32);
const QUIET = process.argv.includes("--hardhat-quiet");
const PAIRS = intArg("pairs", 1);
const CLIENT = stringArg("client", "raw", LOAD_CLIENTS) as LoadClient;
const dirArg = process.argv.indexOf("--peer-dir");
const PEER_DIR = dirArg >= 0 ? process.argv[dirArg + 1]! : join(homedir(), ".cache", "perpchain-peer", `hardhat-${HARDHAT_VERSION}`);
const log = (s: string) => process.stderr.write(s + "\n");

const started = new Set<ChildProcess>();

async function main(): Promise<void> {
  log(await useFastestBackend());
  installHardhat(PEER_DIR);
  const pairs: Array<{ first: "hardhat" | "perpchain"; hardhat: Awaited<ReturnType<typeof runHardhat>>; perpchain: Awaited<ReturnType<typeof runPerpchain>> }> = [];
  for (let i = 0; i < PAIRS; i++) {
    const first = i % 2 === 0 ? "hardhat" : "perpchain";
    if (PAIRS > 1) log(`pair ${i + 1}/${PAIRS}, ${first} first`);
    if (first === "hardhat") {
      const hardhat = await runHardhat();
      pairs.push({ first, hardhat, perpchain: await runPerpchain() });
    } else {
      const perpchain = await runPerpchain();
      pairs.push({ first, hardhat: await runHardhat(), perpchain });
    }
  }
  const ratio = (p: (typeof pairs)[0]) => round2(p.perpchain.included_tx_per_s / p.hardhat.included_tx_per_s);
  // CPU time per transaction of each server process group: comparable on a shared machine
  const cpuRatio = (p: (typeof pairs)[0]) => round2(p.hardhat.cpu_ms_per_tx / p.perpchain.cpu_ms_per_tx);
  const { hardhat, perpchain } = pairs[0]!;
  process.stdout.write(
    JSON.stringify({
      bench: "peer",
      load: "plain transfers, pre-signed, one account per request in flight",
      txs: TXS,
      concurrency: CONCURRENCY,
      accounts: CONCURRENCY,
      warmup_txs: WARMUP,
      client: CLIENT,
      hardhat,
      perpchain,
      ratio_included_tx_per_s: ratio(pairs[0]!),
      cpu_ms_per_tx_hardhat_over_perpchain: cpuRatio(pairs[0]!),
      ...(PAIRS > 1
        ? {
            pairs: pairs.map((p) => ({
              first: p.first,
              hardhat_tx_per_s: p.hardhat.included_tx_per_s,
              perpchain_tx_per_s: p.perpchain.included_tx_per_s,
              ratio_included_tx_per_s: ratio(p),
              cpu_ms_per_tx_hardhat_over_perpchain: cpuRatio(p),
            })),
            median_ratio_included_tx_per_s: round2(median(pairs.map(ratio))),
            median_cpu_ms_per_tx_hardhat_over_perpchain: round2(median(pairs.map(cpuRatio))),
          }
        : {}),
      machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
    }) + "\n",
  );
}

// ── Hardhat ─────────────────────────────────────────────────────────────────────────────

/** `npm install` of the pinned Hardhat into `dir`, once (skipped when that version is there). */
function installHardhat(dir: string): void {
  const pkg = join(dir, "node_modules", "hardhat", "package.json");
  if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version === HARDHAT_VERSION) return;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "perpchain-peer", private: true }) + "\n");
  log(`installing hardhat@${HARDHAT_VERSION} into ${dir} (once)`);
  const r = spawnSync("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", `hardhat@${HARDHAT_VERSION}`], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`npm install hardhat@${HARDHAT_VERSION} failed (exit ${r.status})`);
}

/** Deterministic keys of the load's accounts (funded in the Hardhat config). */
function evmKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => "0x" + bytesToHex(keccak_256(utf8ToBytes(`perpchain-peer-account-${i}`))));
}

async function runHardhat() {
  const keys = evmKeys(CONCURRENCY);
  // A config of our own: the 32 load accounts, funded; everything else Hardhat's defaults
  // (automine: one block per transaction).
  const config = {
    networks: {
      hardhat: {
        chainId: Number(HARDHAT_CHAIN_ID),
        accounts: keys.map((privateKey) => ({ privateKey, balance: (10n ** 24n).toString() })),
        ...(QUIET ? { loggingEnabled: false } : {}),
      },
    },
  };
  writeFileSync(join(PEER_DIR, "hardhat.config.js"), `// written by perpchain's bench peer\nmodule.exports = ${JSON.stringify(config, null, 2)};\n`);
  const port = await freePort();
  const cli = join(PEER_DIR, "node_modules", "hardhat", "internal", "cli", "bootstrap.js");
  const t0 = performance.now();
  const proc = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: PEER_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", NO_COLOR: "1" },
  });
  started.add(proc);
  proc.once("exit", () => started.delete(proc));
  let out = "";
  let ready = false;
  // The node logs every request (unless --hardhat-quiet): drain it, keep only the start.
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    if (!ready) {
      out += d;
      ready = out.includes("Started HTTP and WebSocket JSON-RPC server at");
    }
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const url = `http://127.0.0.1:${port}/`;
  try {
    for (const deadline = performance.now() + 120_000; !ready; await sleep(20)) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`hardhat node exited (${proc.exitCode ?? proc.signalCode}):\n${out}`);
      if (performance.now() > deadline) throw new Error(`hardhat node did not start within 120 s:\n${out}`);
    }
    const edr = (JSON.parse(readFileSync(join(PEER_DIR, "node_modules", "@nomicfoundation", "edr", "package.json"), "utf8")) as { version: string }).version;
    log(`hardhat ${HARDHAT_VERSION} (EDR ${edr}) up in ${(performance.now() - t0).toFixed(0)} ms at ${url}${QUIET ? " (request log off)" : ""}`);

    // pre-sign (not timed): account i sends 1 wei to account i+1, nonces from the node
    const require = createRequire(join(PEER_DIR, "package.json"));
    const { Transaction, addr } = require("micro-eth-signer") as MicroEthSigner;
    const addresses = keys.map((k) => addr.fromPrivateKey(k));
    const nonces = (await rpcBatchResults<string>(url, addresses.map((a) => ({ method: "eth_getTransactionCount", params: [a, "latest"] })))).map(BigInt);
    const t1 = performance.now();
    const warm: SignedTx[][] = keys.map(() => []);
    const queues: SignedTx[][] = keys.map(() => []);
    for (let k = 0; k < WARMUP + TXS; k++) {
      const i = k % keys.length;
      const tx = Transaction.prepare(
        { to: addresses[(i + 1) % keys.length]!, value: 1n, nonce: nonces[i]!++, gasLimit: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: HARDHAT_CHAIN_ID },
        false,
      ).signBy(keys[i]!);
      const rawHex = tx.toHex(true);
      (k < WARMUP ? warm : queues)[i]!.push({
        hash: "0x" + bytesToHex(keccak_256(hexToBytes(rawHex.replace(/^0x/, "")))),
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [rawHex] }),
      });
    }
    log(`${WARMUP} + ${TXS} ETH transfers from ${keys.length} accounts signed in ${(performance.now() - t1).toFixed(0)} ms`);
    if (WARMUP > 0) {
      const w = await runLoad(url, evmProbe, { queues: warm, concurrency: CONCURRENCY, client: CLIENT, log });
      log(`hardhat warm-up: ${w.included}/${WARMUP} included`);
    }

    const cpu0 = groupCpuMs(proc.pid!);
    const r = await runLoad(url, evmProbe, { queues, concurrency: CONCURRENCY, client: CLIENT, log });
    const cpuMs = groupCpuMs(proc.pid!) - cpu0;
    if (r.refused > 0) log(`hardhat: ${r.refused} refused, first: ${r.firstError}`);
    const f = loadFigures(r);
    log(`hardhat: included ${f.included}/${TXS} in ${f.blocks} blocks, ${f.included_tx_per_s} tx/s`);
    return { version: HARDHAT_VERSION, edr, request_log: !QUIET, ...f, cpu_ms_per_tx: round2(cpuMs / Math.max(1, f.included)) };
  } finally {
    await stopProcess(proc);
  }
}

/** The part of micro-eth-signer 0.14 used here (it lives in the scratch folder, untyped for us). */
interface MicroEthSigner {
  Transaction: { prepare(data: Record<string, unknown>, strict?: boolean): { signBy(privateKey: string): { toHex(includeSignature?: boolean): string } } };
  addr: { fromPrivateKey(privateKey: string): string };
}

const evmProbe: ChainProbe = {
  head: async (url) => Number(BigInt((await rpcBatchResults<string>(url, [{ method: "eth_blockNumber", params: [] }]))[0]!)),
  async blockTxHashes(url, numbers) {
    const blocks = await rpcBatchResults<{ transactions: string[] }>(url, numbers.map((n) => ({ method: "eth_getBlockByNumber", params: ["0x" + n.toString(16), false] })));
    return blocks.map((b) => b.transactions.map((h) => h.toLowerCase()));
  },
};

// ── perpchain ───────────────────────────────────────────────────────────────────────────

async function runPerpchain() {
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-peer-"));
  const child = await spawnNode({ dbPath: dir, seed: 11, accounts: CONCURRENCY, timeout_ms: 60_000, warmup: WARMUP });
  try {
    const warm = await waitForWarmup(child.baseUrl);
    log(`perpchain warm-up: ${warm.end} (waited ${warm.waited_ms} ms)`);
    const load = await prepareStarknetLoad(child.rpcUrl, { mode: "transfers", txs: TXS, accounts: CONCURRENCY, log });
    log(load.setup);
    await eventLoopMaxMs(child.rpcUrl);
    const cpu0 = groupCpuMs(child.proc.pid!);
    const r = await runLoad(child.rpcUrl, starknetProbe, { queues: load.queues, concurrency: CONCURRENCY, client: CLIENT, log });
    const cpuMs = groupCpuMs(child.proc.pid!) - cpu0;
    const loopMax = await eventLoopMaxMs(child.rpcUrl);
    if (r.refused > 0) log(`perpchain: ${r.refused} refused, first: ${r.firstError}`);
    const tally = await receiptTally(child.rpcUrl, r.blocks);
    const f = loadFigures(r);
    log(`perpchain: included ${f.included}/${TXS} in ${f.blocks} blocks, ${f.included_tx_per_s} tx/s, ${tally.reverted} reverted`);
    return { store: "LevelDB", ...f, reverted: tally.reverted, event_loop_max_ms: loopMax, cpu_ms_per_tx: round2(cpuMs / Math.max(1, f.included)) };
  } finally {
    await stopGracefully(child).catch(() => killAllChildren());
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── processes ───────────────────────────────────────────────────────────────────────────

/** SIGTERM to the process group, SIGKILL after 5 s; resolves when the leader has exited. */
async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, s);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  };
  signal("SIGTERM");
  const t = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited;
  clearTimeout(t);
}

main().catch(async (e) => {
  process.stderr.write(`bench peer failed: ${(e as Error).stack ?? String(e)}\n`);
  for (const p of [...started]) await stopProcess(p).catch(() => {});
  await killAllChildren();
  process.exit(1);
});
