// Benchmark: state commitment. Builds a state of --leaves storage leaves over --contracts
// contracts on LevelDB, then commits --blocks blocks each updating --slots random slots.
// Last stdout line: one JSON object. Progress goes to stderr.
// The timed blocks run in a fresh process that opens the store the setup built, as a node
// restarted on that data directory would: its peak RSS (peak_rss_mb) is the node's (open +
// blocks), not the setup's, whose 100k-leaf blocks no node commits (peak_rss_mb_setup).
// As the node commits: node tables hashed on the backend's hash thread (native) while this
// thread walks tries, encodes diffs and writes; block b+1 starts once block b's storage
// tries are hashed (WorldState.stageCommit). --inline and --no-pipeline turn each off.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { hashBackend } from "../../state/crypto/hash.js";
import { hashNodeTable, hashNodeTableOffThread, type NodeTableHasher } from "../../state/patricia-trie.js";
import { LevelKvStore } from "../../state/level-store.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { WorldState, type PreparedCommit, type StagedCommit } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";
import { useFastestBackend } from "./bench-backend.js";
import { intArg } from "./bench-args.js";

const arg = intArg;

const LEAVES = arg("leaves", 100_000);
const CONTRACTS = arg("contracts", 1_000);
const BLOCKS = arg("blocks", 50);
const SLOTS = arg("slots", 1_000);
/**
 * The initial state is committed in blocks of at most this many leaves (a node never commits
 * a million leaves in one block: at most 2,000 transactions). peak_rss_mb covers this setup;
 * peak_rss_mb_blocks only the timed blocks.
 */
const GENESIS_CHUNK = arg("genesis-chunk", 100_000);
/** --no-pipeline: prepare each block only after the previous one is written. */
const PIPELINE = !process.argv.includes("--no-pipeline");
/** --inline: hash node tables on the committing thread, not the backend's hash thread. */
const INLINE = process.argv.includes("--inline");
/**
 * --retention-blocks N: the world state prunes behind a window of N blocks, as the node does
 * (default: keep everything, as before pruning existed; the bookkeeping a block writes for
 * pruning is the same either way). With a window smaller than --blocks the timed blocks
 * include pruning steps (prune_node_reads_per_block).
 */
const RETENTION = process.argv.includes("--retention-blocks") ? arg("retention-blocks", 0) : undefined;
/** --node-cache-mb N: the world state's trie-node cache (default: the world state's, 256 MB). */
const NODE_CACHE_MB = process.argv.includes("--node-cache-mb") ? arg("node-cache-mb", 256) : undefined;
/**
 * --setup-dir DIR: build the initial state in DIR once and keep it; later runs with the same
 * DIR (and the same --leaves, --contracts, --genesis-chunk) skip the setup and time a copy of it.
 */
const SETUP_DIR = process.argv.includes("--setup-dir") ? process.argv[process.argv.indexOf("--setup-dir") + 1]! : undefined;
/** Internal: `--timed-in DIR` runs the timed blocks on the store the setup built in DIR. */
const TIMED_IN = process.argv.includes("--timed-in") ? process.argv[process.argv.indexOf("--timed-in") + 1]! : undefined;
/** Blocks at the end whose node tables are timed alone after the run. */
const KEPT_BLOCKS = 10;

function contractAddresses(): bigint[] {
  return Array.from({ length: CONTRACTS }, (_, i) => 0x10000n + BigInt(i) * 0x1000n);
}

/** Builds the initial state in DIR and closes it. Returns the setup's figures. */
async function setup(dir: string): Promise<{ genesisMs: number; peakRss: number; setupBlocks: number; genesisHashes: number }> {
  const rnd = seededRandom(42);
  let peakRss = process.memoryUsage().rss;
  const ws = await WorldState.open(await LevelKvStore.open(dir), worldOptions(hashNodeTableOffThread));
  const contracts = contractAddresses();
  // The initial state, committed every GENESIS_CHUNK leaves (and dropped once committed).
  process.stderr.write(`genesis: ${LEAVES} leaves over ${CONTRACTS} contracts...\n`);
  const g0 = performance.now();
  let genesisHashes = 0;
  let setupBlocks = 0;
  let chunk = emptyStateDiff();
  for (const c of contracts) chunk.deployed.set(c, 0xc1a55n);
  for (let i = 0; i < LEAVES; i++) {
    const c = contracts[i % CONTRACTS]!;
    let m = chunk.storage.get(c);
    if (!m) chunk.storage.set(c, (m = new Map()));
    m.set(rnd.bits(251), rnd.bits(128) + 1n);
    if ((i + 1) % GENESIS_CHUNK === 0 || i === LEAVES - 1) {
      const gp = await ws.prepareCommit(setupBlocks, chunk);
      await ws.commit(gp, { blockHash: BigInt(setupBlocks + 1) });
      genesisHashes += gp.hashCount;
      setupBlocks++;
      chunk = emptyStateDiff();
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      process.stderr.write(`genesis: ${i + 1} leaves committed (rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB)\n`);
    }
  }
  const genesisMs = performance.now() - g0;
  await ws.settle();
  await ws.store.close();
  process.stderr.write(`genesis committed in ${genesisMs.toFixed(0)} ms (${setupBlocks} blocks, ${genesisHashes} hashes)\n`);
  return { genesisMs, peakRss, setupBlocks, genesisHashes };
}

function worldOptions(nodeTableHasher: NodeTableHasher) {
  return {
    nodeTableHasher,
    ...(RETENTION !== undefined ? { retentionBlocks: RETENTION } : {}),
    ...(NODE_CACHE_MB !== undefined ? { nodeCacheBytes: NODE_CACHE_MB * 2 ** 20 } : {}),
  };
}

async function main() {
  const backendLine = await useFastestBackend();
  if (TIMED_IN !== undefined) return timed(TIMED_IN);
  process.stderr.write(`${backendLine}\n`);
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-commit-"));
  try {
    let s = { genesisMs: NaN, peakRss: NaN };
    if (SETUP_DIR === undefined) s = await setup(dir);
    else {
      if (!existsSync(SETUP_DIR)) s = await setup(SETUP_DIR);
      else process.stderr.write(`setup: reusing ${SETUP_DIR}\n`);
      cpSync(SETUP_DIR, dir, { recursive: true });
    }
    // The timed blocks in a fresh process on the same store (see the header).
    const args = process.argv.slice(2).filter((a, i, all) => a !== "--setup-dir" && all[i - 1] !== "--setup-dir");
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args, "--timed-in", dir], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) throw new Error(`timed blocks failed (exit ${code})`);
    const timedResult = JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
    const result = { ...timedResult, genesis_ms: Number.isNaN(s.genesisMs) ? null : Math.round(s.genesisMs), peak_rss_mb_setup: Number.isNaN(s.peakRss) ? null : Math.round(s.peakRss / 2 ** 20) };
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The timed blocks, on the store in `dir` (a fresh process: see the header). */
async function timed(dir: string) {
  const inner = hashBackend();
  // The setup's draws again (not committed): the same slots in the same order and the random
  // sequence where the setup left it, so the blocks are the ones a single process would commit.
  const rnd = seededRandom(42);
  const contracts = contractAddresses();
  const slotsOf = new Map<bigint, bigint[]>(contracts.map((c) => [c, []]));
  for (let i = 0; i < LEAVES; i++) {
    slotsOf.get(contracts[i % CONTRACTS]!)!.push(rnd.bits(251));
    rnd.bits(128);
  }
  let peakRss = process.memoryUsage().rss;
  let peakHeap = 0;
  const sampleRss = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  // By default node tables are hashed the way the node hashes them: on the backend's hash
  // thread when it has one (native). --inline hashes them on this thread instead.
  // The node tables of the last blocks are kept (by reference) to time them alone at the end.
  const hasher: NodeTableHasher = INLINE ? hashNodeTable : hashNodeTableOffThread;
  const kept: Array<Parameters<NodeTableHasher>> = [];
  let keep = false;
  const nodeTableHasher: NodeTableHasher = (...args) => {
    if (keep) kept.push(args);
    return hasher(...args);
  };
  const o0 = performance.now();
  const ws = await WorldState.open(await LevelKvStore.open(dir), worldOptions(nodeTableHasher));
  ws.setHistoryPins(() => []);
  const openMs = performance.now() - o0;
  sampleRss();
  const rssAfterOpen = peakRss;
  const hashThread = !INLINE && inner.hashNodeTableAsync !== undefined;
  const setupBlocks = ws.nextBlockNumber();
  let hashes = 0;
  let bytes = 0;
  let leaves = 0;
  // The blocks' writes are drawn before the clock starts: the benchmark times commits only.
  const diffs = Array.from({ length: BLOCKS }, () => {
    const d = emptyStateDiff();
    for (let i = 0; i < SLOTS; i++) {
      const c = contracts[rnd.int(CONTRACTS)]!;
      const ks = slotsOf.get(c)!;
      // mostly overwrite existing slots, sometimes add new ones
      const k = rnd.int(10) === 0 || ks.length === 0 ? rnd.bits(251) : ks[rnd.int(ks.length)]!;
      let m = d.storage.get(c);
      if (!m) d.storage.set(c, (m = new Map()));
      m.set(k, rnd.bits(128) + 1n);
    }
    return d;
  });
  let prev: StagedCommit | undefined;
  let commits: Promise<void> = Promise.resolve();
  const account = (p: PreparedCommit) => {
    hashes += p.hashCount;
    bytes += ws.lastBatchBytes;
    for (const m of p.diff.storage.values()) leaves += m.size;
  };
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  const reads0 = ws.nodeReads;
  const pruneReads0 = ws.pruneNodeReads;
  const pruned0 = ws.blocksPruned;
  const lookups0 = ws.birthLookups;
  const rssBefore = peakRss;
  peakRss = 0;
  peakHeap = 0;
  const t0 = performance.now();
  for (let b = setupBlocks; b < setupBlocks + BLOCKS; b++) {
    const d = diffs[b - setupBlocks]!;
    keep = b >= setupBlocks + BLOCKS - KEPT_BLOCKS;
    const blockHash = BigInt(b + 1);
    if (PIPELINE) {
      // Block b starts as soon as block b-1's storage tries are hashed; b-1's contracts
      // trie, batch and write proceed meanwhile, and commits land in order.
      const staged = await ws.stageCommit(b, d, { after: prev });
      commits = commits.then(async () => {
        const p = await staged.prepared;
        await ws.commit(p, { blockHash });
        account(p);
      });
      commits.catch(() => {}); // awaited at the end
      prev = staged;
    } else {
      const p = await ws.prepareCommit(b, d);
      await ws.commit(p, { blockHash });
      account(p);
    }
    sampleRss();
    if ((b - setupBlocks + 1) % 10 === 0) process.stderr.write(`block ${b - setupBlocks + 1}/${BLOCKS}\n`);
  }
  await commits;
  await ws.settle(); // pruning steps queued by the last commits
  const seconds = (performance.now() - t0) / 1000;
  gcObserver.disconnect();
  const nodeReads = ws.nodeReads - reads0;
  const peakRssBlocks = peakRss;
  peakRss = Math.max(peakRss, rssBefore);
  await ws.store.close();

  // Raw Pedersen rate of the same backend in the same run (best of 5 batches of 20k).
  const N = 20_000;
  const a = Array.from({ length: N }, () => rnd.bits(251));
  const bb = Array.from({ length: N }, () => rnd.bits(251));
  let rawPedersen = 0;
  for (let rep = 0; rep < 5; rep++) {
    const r0 = performance.now();
    inner.pedersenBatch(a, bb);
    rawPedersen = Math.max(rawPedersen, N / ((performance.now() - r0) / 1000));
  }

  // The same backend hashing the last blocks' own node tables on this thread, nothing else
  // running (best of 5): how fast the commit's hashing alone goes, inputs included.
  let tableEntries = 0;
  for (const [, table] of kept) tableEntries += table.length / 3;
  let rawTables = 0;
  for (let rep = 0; rep < 5; rep++) {
    const r0 = performance.now();
    for (const args of kept) hashNodeTable(...args);
    rawTables = Math.max(rawTables, tableEntries / ((performance.now() - r0) / 1000));
  }

  const nodeHashesPerS = hashes / seconds;
  const result = {
    bench: "commit",
    backend: inner.name + (hashThread ? "+hash-thread" : ""),
    pipelined: PIPELINE,
    leaves_total: LEAVES,
    contracts: CONTRACTS,
    blocks: BLOCKS,
    slots_per_block: SLOTS,
    open_ms: Math.round(openMs),
    leaves_per_s: Math.round(leaves / seconds),
    node_hashes_per_s: Math.round(nodeHashesPerS),
    raw_pedersen_per_s: Math.round(rawPedersen),
    // Node hashes per second of the whole commit over the raw Pedersen rate of the same
    // backend on one thread: the share of the commit's wall time worth of hashing done at
    // the raw rate (1.0 = the commit goes as fast as bare hashing).
    hash_ratio: Number((nodeHashesPerS / rawPedersen).toFixed(3)),
    // The stricter reading: node hashes per second over the rate of hashing the commit's own
    // node tables alone (their inputs, e.g. short edge paths and nonces, hash faster than
    // random felts): the share of wall time that is hashing work.
    raw_node_tables_per_s: Math.round(rawTables),
    hash_time_share: Number((nodeHashesPerS / rawTables).toFixed(3)),
    ms_per_block: Number(((seconds * 1000) / BLOCKS).toFixed(1)),
    bytes_per_block: Math.round(bytes / BLOCKS),
    peak_rss_mb: Math.round(peakRss / 2 ** 20),
    rss_mb_after_open: Math.round(rssAfterOpen / 2 ** 20),
    peak_rss_mb_blocks: Math.round(peakRssBlocks / 2 ** 20),
    peak_heap_used_mb_blocks: Math.round(peakHeap / 2 ** 20),
    genesis_chunk: GENESIS_CHUNK,
    node_reads_per_block: Math.round(nodeReads / BLOCKS),
    retention_blocks: RETENTION ?? null,
    blocks_pruned: ws.blocksPruned - pruned0,
    prune_node_reads_per_block: Math.round((ws.pruneNodeReads - pruneReads0) / BLOCKS),
    // Records a commit read to learn whether its new records already existed (reference counts).
    birth_lookups_per_block: Math.round((ws.birthLookups - lookups0) / BLOCKS),
    gc_ms_per_block: Number((gcMs / BLOCKS).toFixed(1)),
    machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});

