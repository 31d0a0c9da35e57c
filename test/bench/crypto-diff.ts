// Bench-size differential run: native addon vs @scure/starknet on n seeded inputs per function
// (default 100,000). scure is slow (~560 pedersen/s, ~250 verify/s per core), so the cases are
// split over worker threads (crypto-diff-worker.mjs), one per core by default. Inputs do not
// depend on the worker count: the main thread draws them in one seeded sequence.
// Run: npx tsx test/bench/crypto-diff.ts [--n 100000] [--seed 1] [--workers 2]. Progress on
// stderr; the last stdout line is JSON; exit code 1 on any mismatch.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { loadNativeAddon } from "../../state/crypto/native-backend.js";
import { CURVE_ORDER, SeededRandom } from "../vectors/crypto/prng.js";
import { intArg } from "./bench-args.js";

const arg = intArg;

const n = arg("n", 100_000), seed = arg("seed", 1), workers = Math.min(arg("workers", availableParallelism()), n);
const addon = loadNativeAddon();
if (addon instanceof Error) throw addon;
const rng = new SeededRandom(seed);
const keys = Array.from({ length: 256 }, () => rng.below(CURVE_ORDER));
const pubs = keys.map((k) => addon.publicKey(k));
const cases: Array<[bigint, bigint, bigint]> = [];
for (let i = 0; i < n; i++) {
  const a = rng.felt(), b = rng.felt();
  cases.push([a, b, rng.bits(251)]);
}

type Report = { progress: number; mismatches?: Record<string, number>; firstMismatch?: Record<string, unknown> };
const t0 = performance.now();
let done = 0;
const per = Math.ceil(n / workers);
const reports = await Promise.all(
  Array.from({ length: workers }, (_, w) => {
    const start = w * per;
    const worker = new Worker(new URL("./crypto-diff-worker.mjs", import.meta.url), {
      workerData: { cases: cases.slice(start, start + per), keys, pubs, start },
    });
    return new Promise<Report>((resolve, reject) => {
      worker.on("message", (msg: Report) => {
        done += msg.progress;
        if (msg.progress) process.stderr.write(`${done}/${n} (${Math.round((performance.now() - t0) / 1000)} s)\n`);
        if (msg.mismatches) {
          resolve(msg);
          void worker.terminate();
        }
      });
      worker.on("error", reject);
    });
  }),
);
const mismatches: Record<string, number> = {};
const firstMismatch: Record<string, unknown> = {};
for (const r of reports) {
  for (const [k, v] of Object.entries(r.mismatches!)) mismatches[k] = (mismatches[k] ?? 0) + v;
  for (const [k, v] of Object.entries(r.firstMismatch!)) firstMismatch[k] ??= v;
}
console.log(JSON.stringify({ n, seed, workers, mismatches, firstMismatch, seconds: Math.round((performance.now() - t0) / 1000) }));
if (Object.values(mismatches).some((v) => v > 0)) process.exitCode = 1;
