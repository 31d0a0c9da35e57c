// Benchmark: rollback cost. Blocks of exchange place_order calls (contract runtime, no
// signatures/fees/RPC: the fast path) are committed block by block with
// state/world-state.ts on a LevelDB in a temp dir; then the state is rolled back in one
// batch (prepareRollback + rollback: reverse diffs merged, flat state and head rewritten).
// Three chains show the cost follows the keys changed, not the chain length:
//   A  --blocks (1000) × --txs (100) orders, rolled back entirely;
//   B  --blocks × 1 order per block (few keys), rolled back entirely;
//   C  --blocks/10 × --txs orders (many keys, short chain), rolled back entirely.
// What is timed is the state rollback of world-state.ts (what node.rollbackTo runs inside
// its batch); deleting the removed blocks' chain records (blocks, txs, receipts) is not in
// these chains, which are built without a node. Last stdout line: one JSON object.

import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { EMPTY_TX_INFO, encodeArgs, ExecutionEngine, GasMeter, JournaledState } from "../../contracts/runtime/index.js";
import { hashBackend } from "../../state/crypto/hash.js";
import { LevelKvStore } from "../../state/level-store.js";
import { WorldState } from "../../state/world-state.js";
import { BTC, deployPerp } from "../unit/perp-contract-helpers.js";
import { useFastestBackend } from "./bench-backend.js";
import { seededRandom } from "../support/seeded-random.js";
import { intArg } from "./bench-args.js";

const arg = intArg;
const BLOCKS = arg("blocks", 1000);
const TXS = arg("txs", 100);
const TRADERS = 50;

/** Deterministic uniform [0, 1) stream (mulberry32, shared with the tests). */
const prng = (seed: number) => seededRandom(seed).next;

interface ChainResult {
  name: string;
  blocks_rolled_back: number;
  txs_per_block: number;
  build_ms: number;
  rollback_ms: number;
  prepare_ms: number;
  keys_changed: number;
  root_restored: boolean;
}

async function chain(name: string, blocks: number, txsPerBlock: number, seed: number): Promise<ChainResult> {
  const dir = mkdtempSync(join(tmpdir(), "perpchain-bench-rollback-"));
  const store = await LevelKvStore.open(join(dir, "db"));
  try {
    const rnd = prng(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const p = deployPerp();
    p.setMarket(BTC, 100_000_000_000n);
    const traders = Array.from({ length: TRADERS }, (_, i) => 0x7000n + BigInt(i));
    for (const t of traders) p.fund(t, 10_000_000_000_000n);
    const ws = await WorldState.open(store);
    await ws.commit(await ws.prepareCommit(0, p.state.toStateDiff()), { blockHash: 1n });
    const genesisRoot = ws.head()!.roots.globalRoot;
    const env = { block: { blockNumber: 1n, blockTimestamp: 1_700_000_000n, sequencerAddress: 0x5e9n }, tx: EMPTY_TX_INFO };
    const mkOrder = () => {
      const market = rnd() < 0.6;
      return encodeArgs(exchangeFns.placeOrder.inputs, {
        market: BTC,
        side: BigInt(int(2)),
        order_type: market ? 1n : 0n,
        flags: 0n,
        price: market ? 0n : 100_000_000_000n + BigInt(int(41) - 20) * 100_000n,
        trigger_price: 0n,
        size: BigInt(1 + int(10)) * 10_000n,
      });
    };
    const b0 = performance.now();
    for (let b = 1; b <= blocks; b++) {
      const state = new JournaledState(ws);
      const engine = new ExecutionEngine(state, p.registry, env, new GasMeter(10n ** 18n));
      for (let i = 0; i < txsPerBlock; i++) {
        try {
          engine.call({ to: p.exchange, selector: exchangeFns.placeOrder.selector, calldata: mkOrder(), caller: traders[int(TRADERS)]! });
        } catch {
          // a refused order (margin, live-order limit) changes nothing; it still counts as a tx
        }
      }
      await ws.commit(await ws.prepareCommit(b, state.toStateDiff()), { blockHash: BigInt(b + 1) });
      if (b % 100 === 0) process.stderr.write(`${name}: block ${b}/${blocks} (${((performance.now() - b0) / 1000).toFixed(0)} s)\n`);
    }
    const build_ms = performance.now() - b0;
    const t0 = performance.now();
    const prepared = await ws.prepareRollback(0);
    const t1 = performance.now();
    await ws.rollback(prepared, { blockHash: 1n });
    const t2 = performance.now();
    const r: ChainResult = {
      name,
      blocks_rolled_back: blocks,
      txs_per_block: txsPerBlock,
      build_ms: Math.round(build_ms),
      rollback_ms: Number((t2 - t0).toFixed(1)),
      prepare_ms: Number((t1 - t0).toFixed(1)),
      keys_changed: prepared.keysChanged,
      root_restored: ws.head()!.roots.globalRoot === genesisRoot && ws.head()!.blockNumber === 0,
    };
    process.stderr.write(`${JSON.stringify(r)}\n`);
    return r;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  process.stderr.write(`${await useFastestBackend()}\n`);
  const a = await chain("A long×many", BLOCKS, TXS, 1);
  const b = await chain("B long×few", BLOCKS, 1, 2);
  const c = await chain("C short×many", Math.max(1, Math.floor(BLOCKS / 10)), TXS, 3);
  const out = {
    bench: "rollback",
    backend: hashBackend().name,
    rollback_ms: a.rollback_ms,
    blocks_rolled_back: a.blocks_rolled_back,
    txs_per_block: a.txs_per_block,
    keys_changed: a.keys_changed,
    root_restored: a.root_restored && b.root_restored && c.root_restored,
    build_ms: a.build_ms,
    chains: [a, b, c],
    machine: `${cpus()[0]?.model ?? "?"} x${cpus().length}`,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
