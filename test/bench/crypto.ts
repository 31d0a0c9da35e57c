// Crypto benchmark: pedersen, poseidon, ECDSA verify/sign per backend (native addon, scure
// JS), one core and the worker pool (HashPool). Pool speed-ups are measured against one core
// within the same run, alternating, three rounds (median), so a busy neighbour on a shared
// machine skews both sides alike; the 1-minute load average is reported with the figures.
// Progress on stderr; the last stdout line is JSON. Run: npx tsx test/bench/crypto.ts
import { availableParallelism, cpus, loadavg } from "node:os";
import * as scure from "@scure/starknet";
import { HashPool, type SignatureItem } from "../../state/crypto/hash-pool.js";
import { loadNativeAddon, type NativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { SeededRandom, CURVE_ORDER } from "../vectors/crypto/prng.js";

function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}
function rate(label: string, count: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  const perS = perSecond(count, performance.now() - t0);
  process.stderr.write(`${label}: ${perS}/s (${count} ops)\n`);
  return perS;
}
async function rateAsync(label: string, count: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const perS = perSecond(count, performance.now() - t0);
  process.stderr.write(`${label}: ${perS}/s (${count} ops)\n`);
  return perS;
}
function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** `count` signatures, each by a fresh private key (so every key is seen for the first time). */
function freshKeySignatures(addon: NativeAddon, rng: SeededRandom, count: number): SignatureItem[] {
  return Array.from({ length: count }, () => {
    const d = rng.below(CURVE_ORDER), msgHash = rng.bits(251);
    const [r, s] = addon.ecdsaSign(msgHash, d);
    return { msgHash, r, s, publicKey: addon.publicKey(d) };
  });
}
function expectAllValid(results: ArrayLike<boolean | number>): void {
  for (let i = 0; i < results.length; i++) if (!results[i]) throw new Error(`signature ${i} failed to verify`);
}

export async function main(): Promise<Record<string, unknown>> {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw new Error(`native addon missing (node scripts/build-native.mjs): ${addon.message}`);
  const loadBefore = loadavg()[0]!;
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
  const K = 4000;
  const firstKeyItems = freshKeySignatures(addon, rng, K);
  const verifyFirstKey = rate("native ecdsa verify, first-time keys, single calls, 1 core", K, () => {
    expectAllValid(firstKeyItems.map((it) => addon.ecdsaVerify(it.msgHash, it.r, it.s, it.publicKey)));
  });
  const firstKeyBuffer = packSignatures(addon, freshKeySignatures(addon, rng, K));
  const verifyFirstKeyBatch = rate("native ecdsa verify, first-time keys, batch buffer, 1 core", K, () => {
    expectAllValid(addon.ecdsaVerifyBatchBuffer(firstKeyBuffer));
  });

  const J = 300;
  const jsPedersen = rate("scure pedersen, 1 core", J, () => scureBackend.pedersenBatch(a.slice(0, J), b.slice(0, J)));
  const jsPoseidon = rate("scure poseidon, 1 core", 3000, () => scureBackend.poseidonBatch(a.slice(0, 3000), b.slice(0, 3000)));
  const jsVerify = rate("scure ecdsa verify, 1 core", 100, () => { for (let i = 0; i < 100; i++) scureBackend.ecdsaVerify(msgs[i]!, sigs[i]![0], sigs[i]![1], pub); });
  const jsSign = rate("scure ecdsa sign, 1 core", 200, () => { for (let i = 0; i < 200; i++) scure.sign(pad(msgs[i]!), pad(d)); });

  // Pool: whole batches through HashPool (bigint arrays in, bigint arrays out, conversion
  // included) against the same batch on one core, alternating, three rounds.
  const pool = new HashPool();
  const items = msgs.map((m, i) => ({ msgHash: m, r: sigs[i]![0], s: sigs[i]![1], publicKey: pub }));
  const rounds: Array<Record<string, number>> = [];
  try {
    await pool.pedersenBatch(a.slice(0, 1000), b.slice(0, 1000)); // start workers
    await pool.ecdsaVerifyBatch(items.slice(0, 100));
    await pool.ecdsaVerifyBatch(items.slice(0, 100)); // each worker builds its key table
    for (let round = 1; round <= 3; round++) {
      const fresh = freshKeySignatures(addon, rng, 2 * K);
      const one = fresh.slice(0, K), many = fresh.slice(K);
      const r = {
        pedersen_1: rate(`round ${round}: pedersen batch, 1 core`, N, () => addon.pedersenBatch(a, b)),
        pedersen_pool: await rateAsync(`round ${round}: pool pedersen, ${pool.threads} workers`, N, () => pool.pedersenBatch(a, b)),
        poseidon_pool: await rateAsync(`round ${round}: pool poseidon, ${pool.threads} workers`, N, () => pool.poseidonBatch(a, b)),
        verify_pool: await rateAsync(`round ${round}: pool ecdsa verify same key, ${pool.threads} workers`, V, async () => expectAllValid(await pool.ecdsaVerifyBatch(items))),
        first_key_1: rate(`round ${round}: ecdsa verify first-time keys, 1 core`, K, () => expectAllValid(one.map((it) => addon.ecdsaVerify(it.msgHash, it.r, it.s, it.publicKey)))),
        first_key_pool: await rateAsync(`round ${round}: pool ecdsa verify first-time keys, ${pool.threads} workers`, K, async () => expectAllValid(await pool.ecdsaVerifyBatch(many))),
      };
      rounds.push(r);
    }
  } finally {
    await pool.close();
  }
  const med = (key: string) => median(rounds.map((r) => r[key]!));
  const speedup = (num: string, den: string) => +median(rounds.map((r) => r[num]! / r[den]!)).toFixed(2);

  const jsPool = new HashPool({ addonPath: null, inlineBackend: scureBackend });
  let jsPoolPedersen: number;
  try {
    await jsPool.pedersenBatch(a.slice(0, 100), b.slice(0, 100));
    jsPoolPedersen = await rateAsync(`scure pool pedersen, ${jsPool.threads} workers`, 2 * J, () => jsPool.pedersenBatch(a.slice(0, 2 * J), b.slice(0, 2 * J)));
  } finally {
    await jsPool.close();
  }

  return {
    backend: "native",
    pedersen_per_s: pedersen,
    pedersen_single_call_per_s: pedersenSingle,
    poseidon_per_s: poseidon,
    ecdsa_verify_per_s: verify,
    ecdsa_verify_first_key_per_s: verifyFirstKey,
    ecdsa_verify_first_key_batch_per_s: verifyFirstKeyBatch,
    ecdsa_sign_per_s: sign,
    pool_workers: pool.threads,
    pool_pedersen_per_s: med("pedersen_pool"),
    pool_poseidon_per_s: med("poseidon_pool"),
    pool_ecdsa_verify_per_s: med("verify_pool"),
    pool_ecdsa_verify_first_key_per_s: med("first_key_pool"),
    pool_speedup_pedersen: speedup("pedersen_pool", "pedersen_1"),
    pool_speedup_ecdsa_verify_first_key: speedup("first_key_pool", "first_key_1"),
    pool_rounds: rounds,
    js_pedersen_per_s: jsPedersen,
    js_poseidon_per_s: jsPoseidon,
    js_ecdsa_verify_per_s: jsVerify,
    js_ecdsa_sign_per_s: jsSign,
    js_all_cores_pedersen_per_s: jsPoolPedersen,
    ratio_pedersen: +(pedersen / jsPedersen).toFixed(1),
    ratio_poseidon: +(poseidon / jsPoseidon).toFixed(1),
    ratio_ecdsa_verify: +(verify / jsVerify).toFixed(1),
    ratio_ecdsa_verify_first_key: +(verifyFirstKey / jsVerify).toFixed(1),
    ratio_ecdsa_sign: +(sign / jsSign).toFixed(1),
    load_avg_1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0]!.toFixed(2) },
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: availableParallelism(), node: process.version },
  };
}

function packSignatures(addon: NativeAddon, items: readonly SignatureItem[]): Buffer {
  return addon.feltsToBuffer(items.flatMap((it) => [it.msgHash, it.r, it.s, it.publicKey]));
}

const result = await main();
console.log(JSON.stringify(result));
