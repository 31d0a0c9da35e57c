// Benchmark: state commitment. Builds a state of --leaves storage leaves over --contracts
// contracts on LevelDB, then commits --blocks blocks each updating --slots random slots.
// Last stdout line: one JSON object. Progress goes to stderr.

import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { hashBackend, setHashBackend } from "../../state/crypto/hash.js";
import { HashPool } from "../../state/crypto/hash-pool.js";
import { LevelKvStore } from "../../state/level-store.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { WorldState, type PreparedCommit } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";
import { useFastestBackend } from "./bench-backend.js";
import { intArg } from "./bench-args.js";

const arg = intArg;

const LEAVES = arg("leaves", 100_000);
const CONTRACTS = arg("contracts", 1_000);
const BLOCKS = arg("blocks", 50);
const SLOTS = arg("slots", 1_000);
/** --no-pipeline: prepare each block only after the previous one is written. */
const PIPELINE = !process.argv.includes("--no-pipeline");

async function main() {
  const backendLine = await useFastestBackend();
  process.stderr.write(`${backendLine}\n`);
  // Time spent inside the hash backend (every hash of the commit path goes through it).
  const inner = hashBackend();
  let hashMs = 0;
  const timed = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => {
    const t = performance.now();
    try {
      return f(...a);
    } finally {
      hashMs += performance.now() - t;
    }
  };
  setHashBackend({
    ...inner,
    name: inner.name,
    pedersen: timed(inner.pedersen.bind(inner)),
    poseidon: timed(inner.poseidon.bind(inner)),
    poseidonMany: timed(inner.poseidonMany.bind(inner)),
    pedersenBatch: timed(inner.pedersenBatch.bind(inner)),
    poseidonBatch: timed(inner.poseidonBatch.bind(inner)),
    ...(inner.hashNodeTable ? { hashNodeTable: timed(inner.hashNodeTable.bind(inner)) } : {}),
  });
  const rnd = seededRandom(42);
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-commit-"));
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  try {
    // --hash-thread: hash on one worker thread while this thread does the rest of the commit.
    const pool = process.argv.includes("--hash-thread") ? new HashPool({ threads: 1, offload: true, inlineHashesBelow: 16 }) : null;
    const ws = await WorldState.open(
      await LevelKvStore.open(dir),
      pool ? { nodeTableHasher: (k, t, f, p) => pool.hashNodeTable(k, t, f, p) } : {},
    );
    const contracts = Array.from({ length: CONTRACTS }, (_, i) => 0x10000n + BigInt(i) * 0x1000n);
    const slotsOf = new Map<bigint, bigint[]>();
    const genesis = emptyStateDiff();
    for (const c of contracts) {
      genesis.deployed.set(c, 0xc1a55n);
      genesis.storage.set(c, new Map());
      slotsOf.set(c, []);
    }
    for (let i = 0; i < LEAVES; i++) {
      const c = contracts[i % CONTRACTS]!;
      const k = rnd.bits(251);
      genesis.storage.get(c)!.set(k, rnd.bits(128) + 1n);
      slotsOf.get(c)!.push(k);
    }
    process.stderr.write(`genesis: ${LEAVES} leaves over ${CONTRACTS} contracts...\n`);
    const g0 = performance.now();
    const gp = await ws.prepareCommit(0, genesis);
    await ws.commit(gp, { blockHash: 1n });
    const genesisMs = performance.now() - g0;
    sampleRss();
    process.stderr.write(`genesis committed in ${genesisMs.toFixed(0)} ms (${gp.hashCount} hashes)\n`);

    let hashes = 0;
    let bytes = 0;
    let leaves = 0;
    hashMs = 0;
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
    let prev: PreparedCommit | undefined;
    let writing: Promise<void> = Promise.resolve();
    const t0 = performance.now();
    for (let b = 1; b <= BLOCKS; b++) {
      const d = diffs[b - 1]!;
      let p: PreparedCommit;
      if (PIPELINE) {
        // Block b is hashed while block b-1 is written; its commit waits for b-1's to land.
        p = await ws.prepareCommit(b, d, { after: prev });
        await writing;
        writing = ws.commit(p, { blockHash: BigInt(b + 1) });
        prev = p;
      } else {
        p = await ws.prepareCommit(b, d);
        await ws.commit(p, { blockHash: BigInt(b + 1) });
      }
      hashes += p.hashCount;
      bytes += ws.lastBatchBytes;
      for (const m of p.diff.storage.values()) leaves += m.size;
      sampleRss();
      if (b % 10 === 0) process.stderr.write(`block ${b}/${BLOCKS}\n`);
    }
    await writing;
    const seconds = (performance.now() - t0) / 1000;
    const hashSeconds = hashMs / 1000;
    await ws.store.close();
    await pool?.close();

    // Raw Pedersen rate of the same backend in the same run (best of 3 batches of 20k).
    const N = 20_000;
    const a = Array.from({ length: N }, () => rnd.bits(251));
    const bb = Array.from({ length: N }, () => rnd.bits(251));
    let rawPedersen = 0;
    for (let rep = 0; rep < 3; rep++) {
      const r0 = performance.now();
      inner.pedersenBatch(a, bb);
      rawPedersen = Math.max(rawPedersen, N / ((performance.now() - r0) / 1000));
    }

    const nodeHashesPerS = hashes / seconds;
    const result = {
      bench: "commit",
      backend: hashBackend().name + (pool ? "+hash-thread" : ""),
      leaves_total: LEAVES,
      contracts: CONTRACTS,
      blocks: BLOCKS,
      slots_per_block: SLOTS,
      genesis_ms: Math.round(genesisMs),
      leaves_per_s: Math.round(leaves / seconds),
      node_hashes_per_s: Math.round(nodeHashesPerS),
      raw_pedersen_per_s: Math.round(rawPedersen),
      // Fraction of the commit time spent inside the hash backend.
      hash_ratio: Number((hashSeconds / seconds).toFixed(3)),
      hash_rate_vs_raw: Number((nodeHashesPerS / rawPedersen).toFixed(3)),
      ms_per_block: Number(((seconds * 1000) / BLOCKS).toFixed(1)),
      bytes_per_block: Math.round(bytes / BLOCKS),
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
    };
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
