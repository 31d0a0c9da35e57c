// Backend selection (self-test, fallback, forced JS) and the worker-thread hash pool.
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as scure from "@scure/starknet";
import { afterAll, describe, expect, it } from "vitest";
import { hashBackend, pedersen, setHashBackend } from "../../state/crypto/hash.js";
import { HashPool } from "../../state/crypto/hash-pool.js";
import { TABLE_REF } from "../../state/patricia-trie.js";
import { loadNativeAddon } from "../../state/crypto/native-backend.js";
import { activeHashBackendName, hashBackendLogLine, NativeBackendError, selectHashBackend, selfTest } from "../../state/crypto/select-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { P, SeededRandom } from "../vectors/crypto/prng.js";

afterAll(() => setHashBackend(scureBackend));

describe("selectHashBackend", () => {
  it("installs the native backend when the addon loads and passes its self-test", () => {
    const sel = selectHashBackend();
    expect(sel.name).toBe("native");
    expect(activeHashBackendName()).toBe("native");
    expect(hashBackendLogLine()).toBe("hash backend: native (self-test passed)");
    expect(pedersen(1n, 2n)).toBe(BigInt(scure.pedersen(1n, 2n)));
  });

  it("falls back to scure-js with the reason when the addon is missing", () => {
    const sel = selectHashBackend({ addonPath: "/nonexistent/perpchain_crypto.node" });
    expect(sel.name).toBe("scure-js");
    expect(hashBackend()).toBe(scureBackend);
    expect(sel.logLine).toMatch(/^hash backend: scure-js \(native addon not loaded \(Cannot find module/);
  });

  it("uses scure-js when told to, and throws when native is demanded but unusable", () => {
    expect(selectHashBackend({ prefer: "js" }).logLine).toBe("hash backend: scure-js (forced by option)");
    expect(() => selectHashBackend({ prefer: "native", addonPath: "/nonexistent.node" })).toThrow(NativeBackendError);
  });

  it("self-test passes for the reference and names the first wrong answer of a broken backend", () => {
    expect(selfTest(scureBackend)).toBeUndefined();
    expect(selfTest({ ...scureBackend, poseidon: () => 0n })).toBe("poseidon(1, 2)");
    expect(selfTest({ ...scureBackend, ecdsaVerify: () => true })).toBe("ecdsaVerify (wrong message)");
  });
});

describe("HashPool", () => {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw addon;
  const rng = new SeededRandom(404);
  const a = Array.from({ length: 3001 }, () => rng.felt());
  const b = Array.from({ length: 3001 }, () => rng.felt());

  it("splits big pedersen and poseidon batches across workers with the same results as one call", async () => {
    const pool = new HashPool({ threads: 2 });
    try {
      expect(pool.workerBackend).toBe("native");
      expect(await pool.pedersenBatch(a, b)).toEqual(addon.pedersenBatch(a, b));
      expect(await pool.poseidonBatch(a, b)).toEqual(addon.poseidonBatch(a, b));
      expect(await pool.pedersenBatch(a.slice(0, 3), b.slice(0, 3))).toEqual(addon.pedersenBatch(a.slice(0, 3), b.slice(0, 3)));
    } finally {
      await pool.close();
    }
  });

  it("hashes trie-node tables on its one offload thread exactly as the addon does inline, and refuses bad tables", async () => {
    const pool = new HashPool({ threads: 1, offload: true, inlineHashesBelow: 1 });
    try {
      // A wide level of 2,000 pairs, then chains over them (edges of length 1..251).
      const n = 3000;
      const table = new Uint32Array(3 * n);
      for (let i = 0; i < n; i++) {
        table[3 * i] = i < 2000 ? 0 : 1 + (i % 251);
        table[3 * i + 1] = i < 2000 ? 2 * i : (TABLE_REF | (i - 1000)) >>> 0;
        table[3 * i + 2] = i < 2000 ? 2 * i + 1 : i;
      }
      const felts = [...a, ...b].slice(0, 4000);
      const inline = addon.hashNodeTable(0, table, addon.feltsToBuffer(felts), 0x10);
      const offloaded = await pool.hashNodeTable("pedersen", table, felts, 0x10);
      expect(Buffer.compare(Buffer.from(offloaded), inline)).toBe(0);
      expect(table[3 * 2500 + 1]).toBe((TABLE_REF | 1500) >>> 0); // the caller's table is intact
      await expect(pool.hashNodeTable("pedersen", Uint32Array.from([0, (TABLE_REF | 1) >>> 0, 0]), felts, 0)).rejects.toThrow(/not earlier/);
    } finally {
      await pool.close();
    }
  });

  it("verifies signature batches (valid and invalid mixed) in workers", async () => {
    const pool = new HashPool({ threads: 2, inlineVerifiesBelow: 1 });
    try {
      const items = Array.from({ length: 200 }, (_, i) => {
        const d = BigInt(1000 + (i % 7)), m = a[i]! % (1n << 251n);
        const [r, s] = addon.ecdsaSign(m, d);
        return { msgHash: m, r, s: i % 5 === 0 ? s + 1n : s, publicKey: addon.publicKey(d) };
      });
      const got = await pool.ecdsaVerifyBatch(items);
      expect(got).toEqual(items.map((_, i) => i % 5 !== 0));
    } finally {
      await pool.close();
    }
  });

  it("runs the scure reference in workers when there is no addon", async () => {
    const pool = new HashPool({ threads: 2, addonPath: null, inlineHashesBelow: 1, inlineBackend: scureBackend });
    try {
      expect(pool.workerBackend).toBe("scure-js");
      const got = await pool.pedersenBatch(a.slice(0, 6), b.slice(0, 6));
      expect(got).toEqual(a.slice(0, 6).map((x, i) => BigInt(scure.pedersen(x, b[i]!))));
    } finally {
      await pool.close();
    }
  });

  it("rejects felts >= P with RangeError and refuses work after close()", async () => {
    const pool = new HashPool({ threads: 2 });
    await expect(pool.pedersenBatch([...a.slice(0, 100), P], b.slice(0, 101))).rejects.toThrow(RangeError);
    await expect(pool.pedersenBatch(a.slice(0, 2), b.slice(0, 1))).rejects.toThrow(RangeError);
    await pool.close();
    await expect(pool.pedersenBatch(a, b)).rejects.toThrow(/closed/);
    expect(() => new HashPool({ threads: 0 })).toThrow(RangeError);
  });

  it("does not keep the process alive when not closed", () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-pool-"));
    const script = join(dir, "alive.mts");
    const poolUrl = new URL("../../state/crypto/hash-pool.ts", import.meta.url).href;
    writeFileSync(script, `import { HashPool } from ${JSON.stringify(poolUrl)};\n` +
      `const pool = new HashPool({ threads: 2 });\n` +
      `const out = await pool.pedersenBatch(Array.from({ length: 500 }, (_, i) => BigInt(i)), Array.from({ length: 500 }, () => 7n));\n` +
      `console.log(out.length);\n`);
    const res = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000, cwd: process.cwd() });
    expect(res.stderr).toBe("");
    expect(res.signal).toBeNull();
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe("500");
  });
});
