// Benchmark: a long-running chain. A devnet node on LevelDB (in-process, real block path:
// operator-signed mint transactions, execution, one atomic batch per block) grows by
// --blocks (20000) one-transaction blocks that keep rewriting the same --balances (200) STRK
// balances, with --retention-blocks (1000). At --mid (half of --blocks) and at the end the
// node is stopped and restarted: the data directory's size on disk and the restart-to-ready
// time (startDevnet until it answers, trigger engine included) are measured there.
// disk_bytes_per_block is the growth between the two points over the blocks between them (the
// LevelDB is compacted fully before each size is taken: otherwise the figure measures how far
// background compaction had got, and may even be negative);
// bytes_per_block_by_column is the same for the logical bytes (keys + values) of each column;
// prune_ms_per_block is each pruning step's wall time (WorldState.pruneStepListener) over the blocks it pruned.
// Progress on stderr; last stdout line: one JSON object. Never in the test suite.

import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Column } from "../../state/columns.js";
import { Level } from "level";
import { LevelKvStore } from "../../state/level-store.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { intArg } from "./bench-args.js";
import { useFastestBackend } from "./bench-backend.js";
import { selectorFromName } from "../../state/crypto/hash.js";

const BLOCKS = intArg("blocks", 20_000);
const MID = intArg("mid", Math.floor(BLOCKS / 2));
const RETENTION = intArg("retention-blocks", 1000);
const BALANCES = intArg("balances", 200);
if (MID >= BLOCKS) throw new RangeError("--mid must be below --blocks");

const COLUMN_NAMES = new Map<number, string>(Object.entries(Column).map(([name, id]) => [id, name]));

/**
 * Compacts the whole LevelDB (deleted and overwritten entries dropped) so that two sizes on
 * disk compare what is stored, not how far background compaction had got.
 */
async function compact(dir: string): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  try {
    // On Node, level's Level is classic-level's, which has compactRange (its types cover browsers too).
    const compactRange = (db as unknown as { compactRange?: (start: Uint8Array, end: Uint8Array) => Promise<void> }).compactRange;
    if (typeof compactRange !== "function") throw new Error("this LevelDB binding has no compactRange");
    await compactRange.call(db, Uint8Array.of(0x00), Uint8Array.of(0xff, 0xff));
  } finally {
    await db.close();
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

/** Logical bytes (keys + values) per column. */
async function columnBytes(dir: string): Promise<Record<string, number>> {
  const store = await LevelKvStore.open(dir);
  const out: Record<string, number> = {};
  try {
    for await (const [k, v] of store.iterator({})) {
      const name = COLUMN_NAMES.get(k[0]!) ?? `0x${k[0]!.toString(16)}`;
      out[name] = (out[name] ?? 0) + k.byteLength + v.byteLength;
    }
  } finally {
    await store.close();
  }
  return out;
}

function open(dir: string): Promise<Devnet> {
  return startDevnet({ dbPath: dir, seed: 3, accounts: 2, retentionBlocks: RETENTION, nodeCacheMb: Number(process.env.LONGRUN_CACHE_MB ?? 256), blockGeneration: { mode: "demand" }, bootstrapMarketData: false });
}

async function timedRestart(dir: string): Promise<{ devnet: Devnet; readyMs: number }> {
  const t0 = performance.now();
  const devnet = await open(dir);
  const res = await fetch(devnet.rpcUrl.replace(/\/rpc$/, "/ready"));
  if (res.status !== 200) throw new Error(`restarted node is not ready: ${res.status}`);
  return { devnet, readyMs: performance.now() - t0 };
}

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap and RSS of this process (the node runs in it) after a full GC: flat over a long run when nothing grows with the chain. */
function memoryAfterGc(): { heap_mb: number; rss_mb: number } {
  gc();
  const m = process.memoryUsage();
  return { heap_mb: +((m.heapUsed + m.external) / 2 ** 20).toFixed(1), rss_mb: Math.round(m.rss / 2 ** 20) };
}

const MEMORY_EVERY = 2_500;
const memorySamples: Record<number, { heap_mb: number; rss_mb: number }> = {};

/** Each pruning step's duration over the blocks it pruned (ms per pruned block), while the chain grows. */
const pruneMsPerBlock: number[] = [];
let pruneSteps = 0;
function timePruning(d: Devnet): void {
  let t = 0;
  d.node.world.pruneStepListener = {
    started: () => (t = performance.now()),
    finished: (blocks) => {
      pruneSteps++;
      const ms = (performance.now() - t) / blocks;
      for (let i = 0; i < blocks; i++) pruneMsPerBlock.push(ms);
    },
  };
}

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
}

let peakRssMb = 0;
const sampleRss = () => (peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20));

async function grow(d: Devnet, upTo: number, t0: number): Promise<void> {
  timePruning(d);
  const strk = BigInt(d.contracts.STRK!.address);
  const mint = selectorFromName("permissioned_mint");
  while (d.node.headNumber() < upTo) {
    const n = d.node.headNumber() + 1;
    const holder = 0x5000n + BigInt(n % BALANCES);
    await d.node.submitOperatorInvoke([{ to: strk, selector: mint, calldata: [holder, BigInt(n), 0n] }]);
    const block = await d.node.createBlock();
    if (block.txHashes.length !== 1) throw new Error(`block ${n} has ${block.txHashes.length} transactions`);
    if (n % MEMORY_EVERY === 0) memorySamples[n] = memoryAfterGc();
    if (n % 500 === 0) {
      sampleRss();
      const s = (performance.now() - t0) / 1000;
      process.stderr.write(`longrun: block ${n}/${BLOCKS} (${s.toFixed(0)} s, rss ${peakRssMb.toFixed(0)} MB, pruned ${d.node.world.blocksPruned ?? "-"})\n`);
    }
  }
  // (Optional calls: the same file measures a tree from before pruning existed.)
  await d.node.world.settle?.();
  if (d.node.world.pruneError) throw d.node.world.pruneError;
}

async function main() {
  const backend = await useFastestBackend();
  const root = mkdtempSync(join(tmpdir(), "perpchain-bench-longrun-"));
  const dir = join(root, "db");
  const t0 = performance.now();
  try {
    let d = await open(dir);
    await grow(d, MID, t0);
    await d.stop();
    await compact(dir);
    const diskMid = dirBytes(dir);
    const colsMid = await columnBytes(dir);
    let r = await timedRestart(dir);
    const readyMid = r.readyMs;
    d = r.devnet;
    await grow(d, BLOCKS, t0);
    await d.stop();
    await compact(dir);
    const diskEnd = dirBytes(dir);
    const colsEnd = await columnBytes(dir);
    r = await timedRestart(dir);
    const readyEnd = r.readyMs;
    sampleRss();
    await r.devnet.stop();

    const span = BLOCKS - MID;
    const byColumn: Record<string, number> = {};
    for (const name of new Set([...Object.keys(colsMid), ...Object.keys(colsEnd)])) {
      byColumn[name] = Math.round(((colsEnd[name] ?? 0) - (colsMid[name] ?? 0)) / span);
    }
    const out = {
      bench: "longrun",
      backend,
      blocks: BLOCKS,
      mid_block: MID,
      retention_blocks: RETENTION,
      balances: BALANCES,
      disk_bytes_per_block: Math.round((diskEnd - diskMid) / span),
      disk_mb_at_half: +(diskMid / 2 ** 20).toFixed(2),
      disk_mb_at_end: +(diskEnd / 2 ** 20).toFixed(2),
      ready_ms_at_half: Math.round(readyMid),
      ready_ms_at_end: Math.round(readyEnd),
      peak_rss_mb: Math.round(Math.max(peakRssMb, process.resourceUsage().maxRSS / 1024)),
      // Heap + external and RSS after a full GC, with the node running, every MEMORY_EVERY blocks
      // (the node is restarted at mid_block): flat when nothing grows with the chain.
      memory_by_block: memorySamples,
      // Pruning steps' own time (replaying a pruned block's deaths, its batch), per pruned block,
      // over the steps taken while the chain grew (a step prunes one block or a backlog of up to 32).
      prune_ms_per_block: { p50: percentile(pruneMsPerBlock, 0.5), p99: percentile(pruneMsPerBlock, 0.99), max: percentile(pruneMsPerBlock, 1), blocks: pruneMsPerBlock.length, steps: pruneSteps },
      bytes_per_block_by_column: byColumn,
      logical_mb_by_column_at_end: Object.fromEntries(Object.entries(colsEnd).map(([k, v]) => [k, +(v / 2 ** 20).toFixed(2)])),
      total_s: Math.round((performance.now() - t0) / 1000),
    };
    console.log(JSON.stringify(out));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
