// Benchmark: devnet_restart latency on the in-memory store, as a test suite sees it (the
// starknet-devnet JS client's restart() over HTTP, before every case). Each round dirties the
// chain first (--blocks empty blocks and one mint), then restarts; only the restart is timed.
// Progress on stderr; last stdout line: one JSON object with the latencies in ms.

import { DevnetProvider } from "starknet-devnet";
import { startDevnet } from "../../sequencer/devnet.js";
import { intArg } from "./bench-args.js";

const ROUNDS = intArg("rounds", 50);
const BLOCKS = intArg("blocks", 3);

const d = await startDevnet({ seed: 0, inMemory: true });
try {
  const devnet = new DevnetProvider({ url: `http://127.0.0.1:${d.port}`, timeout: 30_000 });
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await devnet.mint(d.accounts[0]!.address, 1n);
    for (let b = 0; b < BLOCKS; b++) await devnet.createBlock();
    const t0 = performance.now();
    await devnet.restart();
    ms.push(performance.now() - t0);
    if ((i + 1) % 10 === 0) process.stderr.write(`restart ${i + 1}/${ROUNDS}\n`);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => Number(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2));
  const storeEntries = await (async () => {
    let n = 0;
    for await (const _ of d.node.store.iterator({})) n++;
    return n;
  })();
  process.stdout.write(JSON.stringify({ bench: "devnet-restart", rounds: ROUNDS, blocks_per_round: BLOCKS + 1, store_entries: storeEntries, min_ms: q(0), median_ms: q(0.5), p90_ms: q(0.9), max_ms: q(1) }) + "\n");
} finally {
  await d.stop();
}
