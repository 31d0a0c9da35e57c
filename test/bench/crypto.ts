// Crypto benchmark: pedersen, poseidon, ECDSA verify/sign per backend (native addon, scure
// JS), one core and all cores (HashPool). Progress on stderr; the last stdout line is JSON.
// Run: npx tsx test/bench/crypto.ts
import { availableParallelism, cpus } from "node:os";
import * as scure from "@scure/starknet";
import { HashPool } from "../../state/crypto/hash-pool.js";
import { loadNativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { SeededRandom, CURVE_ORDER } from "../vectors/crypto/prng.js";

function rate(label: string, count: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  const perS = Math.round((count / (performance.now() - t0)) * 1000);
  process.stderr.write(`${label}: ${perS}/s (${count} ops)\n`);
  return perS;
}
async function rateAsync(label: string, count: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const perS = Math.round((count / (performance.now() - t0)) * 1000);
  process.stderr.write(`${label}: ${perS}/s (${count} ops)\n`);
  return perS;
}

export async function main(): Promise<Record<string, unknown>> {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw new Error(`native addon missing (node scripts/build-native.mjs): ${addon.message}`);
  const rng = new SeededRandom(7);
  const N = 40_000;
  const a = Array.from({ length: N }, () => rng.felt()), b = Array.from({ length: N }, () => rng.felt());
  const pad = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");

  addon.pedersenBatch(a.slice(0, 100), b.slice(0, 100)); // warm-up (tables, JIT)
  const pedersen = rate("native pedersen batch, 1 core", N, () => addon.pedersenBatch(a, b));
  const pedersenSingle = rate("native pedersen single calls, 1 core", 10_000, () => { for (let i = 0; i < 10_000; i++) addon.pedersen(a[i]!, b[i]!); });
  const poseidon = rate("native poseidon batch, 1 core", N, () => addon.poseidonBatch(a, b));

  const d = 0x1234567890abcdefn, pub = addon.publicKey(d);
  const V = 10_000;
  const msgs = a.slice(0, V).map((x) => x % (1n << 251n));
  let sigs: Array<[bigint, bigint]> = [];
  const sign = rate("native ecdsa sign, 1 core", V, () => { sigs = msgs.map((m) => addon.ecdsaSign(m, d)); });
  addon.ecdsaVerify(msgs[0]!, sigs[0]![0], sigs[0]![1], pub);
  addon.ecdsaVerify(msgs[0]!, sigs[0]![0], sigs[0]![1], pub); // second sight builds the key table
  const verify = rate("native ecdsa verify, same key (cached table), 1 core", V, () => {
    for (let i = 0; i < V; i++) if (!addon.ecdsaVerify(msgs[i]!, sigs[i]![0], sigs[i]![1], pub)) throw new Error("verify failed");
  });
  const K = 3000;
  const keys = Array.from({ length: K }, () => rng.below(CURVE_ORDER));
  const keyed = keys.map((k, i) => ({ msgHash: msgs[i]!, sig: addon.ecdsaSign(msgs[i]!, k), publicKey: addon.publicKey(k) }));
  const verifyUncached = rate("native ecdsa verify, distinct keys (uncached), 1 core", K, () => {
    for (const it of keyed) if (!addon.ecdsaVerify(it.msgHash, it.sig[0], it.sig[1], it.publicKey)) throw new Error("verify failed");
  });

  const J = 300;
  const jsPedersen = rate("scure pedersen, 1 core", J, () => scureBackend.pedersenBatch(a.slice(0, J), b.slice(0, J)));
  const jsPoseidon = rate("scure poseidon, 1 core", 3000, () => scureBackend.poseidonBatch(a.slice(0, 3000), b.slice(0, 3000)));
  const jsVerify = rate("scure ecdsa verify, 1 core", 100, () => { for (let i = 0; i < 100; i++) scureBackend.ecdsaVerify(msgs[i]!, sigs[i]![0], sigs[i]![1], pub); });
  const jsSign = rate("scure ecdsa sign, 1 core", 200, () => { for (let i = 0; i < 200; i++) scure.sign(pad(msgs[i]!), pad(d)); });

  const pool = new HashPool();
  const items = msgs.map((m, i) => ({ msgHash: m, r: sigs[i]![0], s: sigs[i]![1], publicKey: pub }));
  let poolResults: Record<string, number>;
  try {
    await pool.pedersenBatch(a.slice(0, 1000), b.slice(0, 1000)); // start workers
    await pool.ecdsaVerifyBatch(items.slice(0, 100));
    await pool.ecdsaVerifyBatch(items.slice(0, 100));
    poolResults = {
      pedersen: await rateAsync(`pool pedersen, ${pool.threads} threads`, N, () => pool.pedersenBatch(a, b)),
      poseidon: await rateAsync(`pool poseidon, ${pool.threads} threads`, N, () => pool.poseidonBatch(a, b)),
      verify: await rateAsync(`pool ecdsa verify same key, ${pool.threads} threads`, V, () => pool.ecdsaVerifyBatch(items)),
    };
  } finally {
    await pool.close();
  }
  const jsPool = new HashPool({ addonPath: null, inlineBackend: scureBackend });
  let jsPoolPedersen: number;
  try {
    await jsPool.pedersenBatch(a.slice(0, 100), b.slice(0, 100));
    jsPoolPedersen = await rateAsync(`scure pool pedersen, ${jsPool.threads} threads`, 2 * J, () => jsPool.pedersenBatch(a.slice(0, 2 * J), b.slice(0, 2 * J)));
  } finally {
    await jsPool.close();
  }

  const result = {
    backend: "native",
    pedersen_per_s: pedersen,
    pedersen_single_call_per_s: pedersenSingle,
    poseidon_per_s: poseidon,
    ecdsa_verify_per_s: verify,
    ecdsa_verify_uncached_key_per_s: verifyUncached,
    ecdsa_sign_per_s: sign,
    all_cores_pedersen_per_s: poolResults.pedersen,
    all_cores_poseidon_per_s: poolResults.poseidon,
    all_cores_ecdsa_verify_per_s: poolResults.verify,
    js_pedersen_per_s: jsPedersen,
    js_poseidon_per_s: jsPoseidon,
    js_ecdsa_verify_per_s: jsVerify,
    js_ecdsa_sign_per_s: jsSign,
    js_all_cores_pedersen_per_s: jsPoolPedersen,
    ratio_pedersen: +(pedersen / jsPedersen).toFixed(1),
    ratio_poseidon: +(poseidon / jsPoseidon).toFixed(1),
    ratio_ecdsa_verify: +(verify / jsVerify).toFixed(1),
    ratio_ecdsa_sign: +(sign / jsSign).toFixed(1),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: availableParallelism(), node: process.version },
  };
  return result;
}

const result = await main();
console.log(JSON.stringify(result));
