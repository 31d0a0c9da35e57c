// Poseidon plans and programs (state/crypto/hash-plan.ts) and the native addon's hash-thread
// functions: poseidonProgram(Async), poseidonProgramVerifyAsync and ecdsaVerifyBatchAsync give
// what the per-call functions give (and the @scure/starknet reference), and a malformed
// program is refused at the call with a typed error, before anything is queued.
import * as scure from "@scure/starknet";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashBackend, setHashBackend } from "../../state/crypto/hash.js";
import { compilePlans, evalPlan, evalPlans, evalPlansVerifying, many, runProgram, type HashPlan } from "../../state/crypto/hash-plan.js";
import { createNativeBackend, loadNativeAddon, type NativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { CURVE_ORDER, P, SeededRandom } from "../vectors/crypto/prng.js";

let addon: NativeAddon;
const before = hashBackend();
beforeAll(() => {
  const loaded = loadNativeAddon();
  if (loaded instanceof Error) throw new Error(`native addon missing, run: node scripts/build-native.mjs (${loaded.message})`);
  addon = loaded;
});
afterEach(() => setHashBackend(before));

/** Random nested plans: felts, empty and long `many`s, several levels deep. */
function randomPlans(rng: SeededRandom, count: number): HashPlan[] {
  const plan = (depth: number): HashPlan => {
    if (depth === 0 || rng.below(4n) === 0n) return rng.below(P);
    const n = Number(rng.below(depth === 3 ? 12n : 5n));
    return many(Array.from({ length: n }, () => plan(depth - 1)));
  };
  return Array.from({ length: count }, () => plan(3));
}

/** The reference: poseidon_hash_many of @scure/starknet, recursively. */
function scureEval(p: HashPlan): bigint {
  return typeof p === "bigint" ? p : BigInt(scure.poseidonHashMany(p.many.map(scureEval)));
}

describe("hash plans", () => {
  it("evalPlan, evalPlans (native hash thread) and runProgram agree with @scure/starknet on 120 random nested plans", async () => {
    const plans = randomPlans(new SeededRandom(0x5eed01), 120);
    const want = plans.map(scureEval);
    setHashBackend(createNativeBackend(addon));
    expect(plans.map(evalPlan)).toEqual(want);
    expect(await evalPlans(plans)).toEqual(want);
    const program = compilePlans(plans);
    const jobs = runProgram(program);
    expect(jobs.length).toBe(program.jobs);
    const sync = addon.recordFelts(addon.poseidonProgram(program.ops, addon.feltsToBuffer(program.felts)), 0, 32);
    expect(sync).toEqual(jobs);
    setHashBackend(scureBackend);
    expect(await evalPlans(plans)).toEqual(want); // no hash thread: computed on the calling thread
  });

  it("a plan list of bare felts needs no job, and an empty list gives an empty answer", async () => {
    setHashBackend(createNativeBackend(addon));
    expect(compilePlans([5n, 7n]).jobs).toBe(0);
    expect(await evalPlans([5n, 7n])).toEqual([5n, 7n]);
    expect(await evalPlans([])).toEqual([]);
    expect(await evalPlans([many([])])).toEqual([BigInt(scure.poseidonHashMany([]))]);
  });

  it("a malformed program is refused at the call (ERR_POSEIDON_PROGRAM), not on the hash thread", () => {
    const felts = addon.feltsToBuffer([1n, 2n]);
    const cases: Array<[Uint32Array, RegExp]> = [
      [new Uint32Array([2, 0, 2]), /names felt 2/],
      [new Uint32Array([1, 0x80000000]), /names job 0/],
      [new Uint32Array([1, 0, 2, 0x80000001, 0]), /names job 1/],
      [new Uint32Array([3, 0, 1]), /wants 3 operands, 2 remain/],
    ];
    for (const [ops, msg] of cases) {
      for (const call of [() => addon.poseidonProgram(ops, felts), () => addon.poseidonProgramAsync(ops, felts)]) {
        let err: (Error & { code?: string }) | undefined;
        try {
          void call();
        } catch (e) {
          err = e as Error & { code?: string };
        }
        expect(err?.code).toBe("ERR_POSEIDON_PROGRAM");
        expect(err?.message).toMatch(msg);
      }
    }
    expect(() => addon.poseidonProgramAsync(new Uint32Array([1, 0]), addon.feltsToBuffer([P - 1n]).fill(0xff))).toThrow(/not below the field prime/);
  });
});

describe("ecdsaVerifyBatchAsync", () => {
  it("agrees with ecdsaVerify on valid, tampered and out-of-range signatures, for repeated keys (hash-thread key tables)", async () => {
    const rng = new SeededRandom(0xec0dd);
    const keys = Array.from({ length: 3 }, () => 1n + rng.below(CURVE_ORDER - 1n));
    const items = [];
    for (let i = 0; i < 60; i++) {
      const priv = keys[i % 3]!;
      const msgHash = rng.below(1n << 251n);
      const { r, s } = createNativeBackend(addon).ecdsaSign(msgHash, priv);
      const publicKey = addon.publicKey(priv);
      const kind = i % 4;
      items.push(
        kind === 0 ? { msgHash, r, s, publicKey } : kind === 1 ? { msgHash: msgHash ^ 1n, r, s, publicKey } : kind === 2 ? { msgHash, r, s: P - 1n, publicKey } : { msgHash, r, s, publicKey: addon.publicKey(keys[(i + 1) % 3]!) },
      );
    }
    const want = items.map((it) => addon.ecdsaVerify(it.msgHash, it.r, it.s, it.publicKey));
    expect(want.filter(Boolean).length).toBe(15);
    expect(await createNativeBackend(addon).ecdsaVerifyBatchAsync!(items)).toEqual(want);
  });
});

describe("poseidonProgramVerifyAsync", () => {
  it("gives the program's outputs and, in the same job, ecdsaVerify's answer over each check's job output or felt", async () => {
    const rng = new SeededRandom(0x5e1f);
    const native = createNativeBackend(addon);
    const priv = 1n + rng.below(CURVE_ORDER - 1n);
    const publicKey = addon.publicKey(priv);
    const plans = randomPlans(rng, 24);
    plans.push(rng.below(P)); // a bare felt: its check names a felt of the program
    const values = plans.map(evalPlan);
    // Even plans signed by the key, odd ones tampered with (s + 1) or signed by another key.
    const checks = values.map((v, i) => {
      const { r, s } = native.ecdsaSign(v % (1n << 251n) === v ? v : 0n, priv);
      return { plan: i, r, s: i % 4 === 1 ? s + 1n : s, publicKey: i % 4 === 3 ? addon.publicKey(priv + 1n) : publicKey };
    });
    const want = checks.map((c) => addon.ecdsaVerify(values[c.plan]!, c.r, c.s, c.publicKey));
    expect(want.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    expect(want.filter((w) => !w).length).toBeGreaterThanOrEqual(10);
    setHashBackend(native);
    const got = await evalPlansVerifying(plans, checks, { urgent: true });
    expect(got).toEqual({ values, valid: want });
    // No checks: the hashes alone. And a backend without the combined job says so (undefined).
    expect(await evalPlansVerifying(plans, [])).toEqual({ values, valid: [] });
    setHashBackend(scureBackend);
    expect(await evalPlansVerifying(plans, checks)).toBeUndefined();
  });

  it("refuses at the call a check naming no operand, a count mismatch, or a check value out of range", () => {
    const felts = addon.feltsToBuffer([1n, 2n]);
    const ops = new Uint32Array([2, 0, 1]);
    const one = addon.feltsToBuffer([1n, 2n, 3n]);
    const cases: Array<[Uint8Array, Uint32Array, RegExp]> = [
      [one, new Uint32Array([0x80000001]), /check 0 names job 1/],
      [one, new Uint32Array([2]), /check 0 names felt 2/],
      [one, new Uint32Array([0, 1]), /1 checks but 2 message operands/],
      [addon.feltsToBuffer([1n, 2n, 3n]).fill(0xff, 64), new Uint32Array([0]), /not below the field prime/],
    ];
    for (const [checks, msgs, msg] of cases) expect(() => addon.poseidonProgramVerifyAsync(ops, felts, checks, msgs, true)).toThrow(msg);
    expect(() => addon.poseidonProgramVerifyAsync(ops, felts, new Uint8Array(95), new Uint32Array([0]))).toThrow(/multiple of 96/);
  });
});

describe("the urgent hash thread", () => {
  it("an urgent job queued behind bulk node tables does not wait for the ones still waiting", async () => {
    // A big Pedersen table (a chain of binary nodes), so the thread is busy while the rest is queued.
    const n = 6000;
    const table = new Uint32Array(3 * n);
    for (let i = 1; i < n; i++) table.set([0, (0x80000000 | (i - 1)) >>> 0, 1], 3 * i);
    table.set([0, 0, 1], 0);
    const felts = addon.feltsToBuffer([3n, 5n]);
    const order: string[] = [];
    const done = [
      addon.hashNodeTableAsync(0, table, felts, 0).then(() => order.push("A")),
      // Poseidon (kind 1): tables of one kind queued together are hashed as one job, and B must stay a job of its own.
      addon.hashNodeTableAsync(1, table, felts, 0).then(() => order.push("B")),
      addon.poseidonProgramAsync(new Uint32Array([2, 0, 1]), felts, true).then(() => order.push("urgent")),
    ];
    await Promise.all(done);
    // A may or may not have started when the urgent job came; B had not (A takes tens of ms, and B is of another kind, so not merged into A).
    expect(order.indexOf("urgent")).toBeLessThan(order.indexOf("B"));
    expect(order.indexOf("A")).toBeLessThan(order.indexOf("B"));
  });
});
