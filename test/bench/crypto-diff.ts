// Bench-size differential run: native addon vs @scure/starknet on n seeded inputs per function
// (default 100,000; slow: scure runs ~560 pedersen/s and ~250 verify/s per core).
// Run: npx tsx test/bench/crypto-diff.ts [--n 100000] [--seed 1]. Last stdout line is JSON.
import * as scure from "@scure/starknet";
import { loadNativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { CURVE_ORDER, SeededRandom } from "../vectors/crypto/prng.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const n = arg("n", 100_000), seed = arg("seed", 1);
const addon = loadNativeAddon();
if (addon instanceof Error) throw addon;
const rng = new SeededRandom(seed);
const pad = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");
const mismatches: Record<string, number> = { pedersen: 0, poseidon: 0, sign: 0, verify: 0 };
const keys = Array.from({ length: 256 }, () => rng.below(CURVE_ORDER));
const pubs = keys.map((k) => addon.publicKey(k));
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const a = rng.felt(), b = rng.felt();
  if (addon.pedersen(a, b) !== BigInt(scure.pedersen(a, b))) mismatches.pedersen!++;
  if (addon.poseidon(a, b) !== scure.poseidonHash(a, b)) mismatches.poseidon!++;
  const k = i % keys.length, m = rng.bits(251);
  const sig = scure.sign(pad(m), pad(keys[k]!));
  const [r, s] = addon.ecdsaSign(m, keys[k]!);
  if (r !== sig.r || s !== sig.s) mismatches.sign!++;
  // alternate valid and tampered signatures
  const vr = i % 2 === 0 ? r : (r % ((1n << 251n) - 1n)) + 1n;
  if (addon.ecdsaVerify(m, vr, s, pubs[k]!) !== scureBackend.ecdsaVerify(m, vr, s, pubs[k]!)) mismatches.verify!++;
  if (i % 1000 === 999) process.stderr.write(`${i + 1}/${n} mismatches ${JSON.stringify(mismatches)}\n`);
}
console.log(JSON.stringify({ n, seed, mismatches, seconds: Math.round((performance.now() - t0) / 1000) }));
if (Object.values(mismatches).some((v) => v > 0)) process.exitCode = 1;
