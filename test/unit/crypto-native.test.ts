// Differential tests of the native addon against the @scure/starknet reference: committed
// 10,000-case vector files (generated once with scure, see test/vectors/crypto/README.md)
// plus live scure calls on fresh seeded inputs, and the edge cases of the native boundary.
import { readFileSync } from "node:fs";
import * as scure from "@scure/starknet";
import { beforeAll, describe, expect, it } from "vitest";
import { loadNativeAddon, type NativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { hashNodeTableWith, TABLE_REF } from "../../state/patricia-trie.js";
import { CURVE_ORDER, ecdsaInputs, P, pedersenInputs, SeededRandom } from "../vectors/crypto/prng.js";

const MAX = 1n << 251n;
let addon: NativeAddon;

beforeAll(() => {
  const loaded = loadNativeAddon();
  if (loaded instanceof Error) throw new Error(`native addon missing, run: node scripts/build-native.mjs (${loaded.message})`);
  addon = loaded;
});

function vectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../vectors/crypto/${name}`, import.meta.url), "utf8")) as T;
}
const pad = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");
const scurePedersen = (a: bigint, b: bigint) => BigInt(scure.pedersen(a, b));

function packPairs(a: readonly bigint[], b: readonly bigint[]): Buffer {
  const flat: bigint[] = [];
  a.forEach((x, i) => flat.push(x, b[i]!));
  return addon.feltsToBuffer(flat);
}

describe("native pedersen", () => {
  it("equals the 10,000 committed scure hashes (batch, buffer batch and single calls)", () => {
    const file = vectors<{ count: number; hashes: string[] }>("pedersen-10k.json");
    expect(file.count).toBe(10_000);
    const inputs = pedersenInputs(file.count);
    const want = file.hashes.map((h) => BigInt("0x" + h));
    const a = inputs.map((x) => x[0]), b = inputs.map((x) => x[1]);
    expect(addon.pedersenBatch(a, b)).toEqual(want);
    expect(addon.bufferToFelts(addon.pedersenBatchBuffer(packPairs(a, b)))).toEqual(want);
    for (let i = 0; i < 1000; i++) expect(addon.pedersen(a[i]!, b[i]!)).toBe(want[i]);
  });

  it("equals live scure on fresh random inputs and on 0, 1, P-1, 2^248 boundaries", () => {
    const rng = new SeededRandom(101);
    const cases: Array<[bigint, bigint]> = [];
    for (let i = 0; i < 150; i++) cases.push([rng.felt(), rng.felt()]);
    const edges = [0n, 1n, 2n, P - 1n, P - 2n, (1n << 248n) - 1n, 1n << 248n, (1n << 248n) + 1n, MAX, MAX - 1n];
    for (const x of edges) for (const y of [0n, 1n, P - 1n, (1n << 248n) - 1n]) cases.push([x, y]);
    const got = addon.pedersenBatch(cases.map((c) => c[0]), cases.map((c) => c[1]));
    cases.forEach(([x, y], i) => expect(got[i], `pedersen(${x}, ${y})`).toBe(scurePedersen(x, y)));
  });

  it("gives the committed hashes for every batch size around the affine-path threshold and chunk splits", () => {
    // Sizes below 64 take the Jacobian path; from 64 on, chunks of at most 512 pairs advance
    // row by row with one shared inversion per row (1025 splits into 342 + 341 + 342).
    const file = vectors<{ count: number; hashes: string[] }>("pedersen-10k.json");
    const inputs = pedersenInputs(1100);
    const want = file.hashes.slice(0, 1100).map((h) => BigInt("0x" + h));
    for (const size of [1, 2, 63, 64, 65, 511, 512, 513, 1025, 1100]) {
      const offset = size % 7;
      const slice = inputs.slice(offset, offset + size);
      const got = addon.pedersenBatch(slice.map((x) => x[0]), slice.map((x) => x[1]));
      expect(got, `batch of ${size}`).toEqual(want.slice(offset, offset + size));
    }
  });

  it("pedersen(0, 0) is the x coordinate of the shift point", () => {
    expect(addon.pedersen(0n, 0n)).toBe(0x49ee3eba8c1600700ee1b87eb599f16716b0b1022947733551fde4050ca6804n);
  });
});

describe("native poseidon", () => {
  it("equals live scure on 10,000 random pairs (single and batch)", () => {
    const rng = new SeededRandom(202);
    const a: bigint[] = [], b: bigint[] = [];
    for (let i = 0; i < 10_000; i++) a.push(rng.felt()), b.push(rng.felt());
    const want = a.map((x, i) => scure.poseidonHash(x, b[i]!));
    expect(addon.poseidonBatch(a, b)).toEqual(want);
    expect(addon.bufferToFelts(addon.poseidonBatchBuffer(packPairs(a, b)))).toEqual(want);
    for (let i = 0; i < 500; i++) expect(addon.poseidon(a[i]!, b[i]!)).toBe(want[i]);
  });

  it("equals scure on 0, 1, P-1 and poseidonMany of lengths 0..24", () => {
    for (const x of [0n, 1n, P - 1n]) for (const y of [0n, 1n, P - 1n]) expect(addon.poseidon(x, y)).toBe(scure.poseidonHash(x, y));
    const rng = new SeededRandom(203);
    for (let len = 0; len <= 24; len++) {
      const values = Array.from({ length: len }, () => rng.felt());
      expect(addon.poseidonMany(values), `length ${len}`).toBe(scure.poseidonHashMany(values));
    }
    expect(addon.poseidonMany([])).toBe(0x2272be0f580fd156823304800919530eaa97430e972d7213ee13f4fbf7a5dbcn);
  });
});

describe("native felt boundary", () => {
  const fns: Array<[string, (v: bigint) => unknown]> = [
    ["pedersen", (v) => addon.pedersen(v, 1n)],
    ["poseidon", (v) => addon.poseidon(1n, v)],
    ["poseidonMany", (v) => addon.poseidonMany([1n, v])],
    ["pedersenBatch", (v) => addon.pedersenBatch([1n], [v])],
    ["ecdsaVerify", (v) => addon.ecdsaVerify(1n, 1n, 1n, v)],
    ["ecdsaSign", (v) => addon.ecdsaSign(v, 1n)],
    ["feltsToBuffer", (v) => addon.feltsToBuffer([v])],
  ];
  for (const [name, call] of fns) {
    it(`${name} refuses P, 2^256 and negatives with RangeError ERR_FELT_RANGE`, () => {
      for (const bad of [P, P + 1n, 1n << 252n, 1n << 256n, -1n]) {
        expect(() => call(bad)).toThrow(RangeError);
        try {
          call(bad);
        } catch (err) {
          expect((err as { code?: string }).code).toBe("ERR_FELT_RANGE");
        }
      }
    });
  }

  it("refuses non-bigints with TypeError", () => {
    expect(() => addon.pedersen(1 as unknown as bigint, 2n)).toThrow(TypeError);
    expect(() => addon.poseidonMany("x" as unknown as bigint[])).toThrow(TypeError);
    expect(() => addon.pedersenBatchBuffer([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it("refuses buffers holding a value >= P or a partial record", () => {
    const buf = Buffer.alloc(64);
    buf.set(addon.feltsToBuffer([P - 1n]), 32);
    expect(addon.pedersenBatchBuffer(buf).length).toBe(32);
    buf.fill(0xff, 32);
    expect(() => addon.pedersenBatchBuffer(buf)).toThrow(/index 1 is not below the field prime P/);
    expect(() => addon.poseidonBatchBuffer(Buffer.alloc(63))).toThrow(RangeError);
    expect(() => addon.ecdsaVerifyBatchBuffer(Buffer.alloc(127))).toThrow(RangeError);
    expect(() => addon.pedersenBatch([1n, 2n], [1n])).toThrow(RangeError);
  });
});

describe("native trie-node tables", () => {
  // A random table: each entry takes its operands from earlier entries or from the felts,
  // with a mix of binary entries (len 0) and edges (len 1..251).
  function randomTable(rnd: SeededRandom, n: number, felts: bigint[]): Uint32Array {
    const t = new Uint32Array(3 * n);
    const operand = (i: number) => (i > 0 && rnd.below(2n) === 0n ? (TABLE_REF | Number(rnd.below(BigInt(i)))) >>> 0 : Number(rnd.below(BigInt(felts.length))));
    for (let i = 0; i < n; i++) {
      t[3 * i] = rnd.below(3n) === 0n ? 0 : 1 + Number(rnd.below(251n));
      t[3 * i + 1] = operand(i);
      t[3 * i + 2] = operand(i);
    }
    return t;
  }

  it("gives the records of the JS algorithm over scure, for Pedersen and Poseidon, chains and wide levels", () => {
    const rnd = new SeededRandom(0x7ab1e);
    // Felts at the top of the field and small ones (like edge paths).
    const felts = [0n, 1n, P - 1n, P - 2n, ...Array.from({ length: 60 }, () => rnd.below(P)), ...Array.from({ length: 20 }, () => rnd.below(1n << 20n))];
    for (const [kind, code, pairs] of [
      ["pedersen", 0, (a: bigint[], b: bigint[]) => scureBackend.pedersenBatch(a, b)],
      ["poseidon", 1, (a: bigint[], b: bigint[]) => scureBackend.poseidonBatch(a, b)],
    ] as const) {
      for (const n of [1, 7, 300]) {
        const table = randomTable(rnd, n, felts);
        const native = addon.hashNodeTable(code, table, addon.feltsToBuffer(felts), 0x10);
        const js = hashNodeTableWith(pairs, table, felts, 0x10);
        expect(native.length, `${kind} n=${n}`).toBe(98 * n);
        expect(Buffer.compare(native, Buffer.from(js)), `${kind} n=${n}`).toBe(0);
      }
    }
  });

  it("hashes tables on its hash thread exactly as inline, coalescing queued jobs, and rejects a bad one alone", async () => {
    const rnd = new SeededRandom(0x7ab1f);
    const felts = Array.from({ length: 50 }, () => rnd.below(P));
    const fb = addon.feltsToBuffer(felts);
    const tables = [1, 40, 700, 3].map((n) => randomTable(rnd, n, felts));
    const bad = Uint32Array.from([0, 0, 1, 0, (TABLE_REF | 5) >>> 0, 0]);
    // Submitted together, so the thread finds several queued and hashes them jointly.
    const kind = (i: number) => (i % 2) as 0 | 1;
    const jobs = tables.map((t, i) => addon.hashNodeTableAsync(kind(i), t, fb, 0x10 + i));
    const badJob = addon.hashNodeTableAsync(0, bad, fb, 0);
    await expect(badJob).rejects.toThrow(/not earlier/);
    const got = await Promise.all(jobs);
    got.forEach((buf, i) => expect(Buffer.compare(buf, addon.hashNodeTable(kind(i), tables[i]!, fb, 0x10 + i))).toBe(0));
    expect(() => addon.hashNodeTableAsync(0, new Uint32Array(2), fb, 0)).toThrow(TypeError);
  });

  it("reads the hashes out of records (recordFelts), refusing values >= P and bad offsets", () => {
    const rnd = new SeededRandom(0x7ab20);
    const felts = Array.from({ length: 30 }, () => rnd.below(P));
    const records = addon.hashNodeTable(0, randomTable(rnd, 25, felts), addon.feltsToBuffer(felts), 0x10);
    const want = Array.from({ length: 25 }, (_, i) => BigInt("0x" + records.subarray(98 * i + 1, 98 * i + 33).toString("hex")));
    expect(addon.recordFelts(records, 1, 98)).toEqual(want);
    expect(addon.recordFelts(records.subarray(0, 98 * 3 + 50), 1, 98)).toEqual(want.slice(0, 3));
    expect(() => addon.recordFelts(Buffer.alloc(64, 0xff), 0, 32)).toThrow(RangeError);
    expect(() => addon.recordFelts(records, 70, 98)).toThrow(TypeError);
  });

  it("adds an edge's length mod P to its hash", () => {
    // One edge over (P-1, P-1): its record's hash is pedersen(P-1, P-1) + 5 mod P.
    const table = Uint32Array.from([5, 0, 0]);
    const rec = addon.hashNodeTable(0, table, addon.feltsToBuffer([P - 1n]), 0x10);
    const want = (scurePedersen(P - 1n, P - 1n) + 5n) % P;
    expect(BigInt("0x" + rec.subarray(1, 33).toString("hex"))).toBe(want);
    expect([rec[0], rec[97]]).toEqual([0x10, 5]);
  });

  it("refuses forward references, lengths over 251, missing felts and felts >= P", () => {
    const felts = addon.feltsToBuffer([1n, 2n]);
    const bad = (t: number[], f: Uint8Array = felts) => () => addon.hashNodeTable(0, Uint32Array.from(t), f, 0);
    expect(bad([0, (TABLE_REF | 0) >>> 0, 1])).toThrow(/not earlier/);
    expect(bad([252, 0, 1])).toThrow(/edge length 252/);
    expect(bad([0, 0, 2])).toThrow(/names felt 2 of 2/);
    const big = Buffer.alloc(32, 0xff);
    expect(bad([0, 0, 0], big)).toThrow(RangeError);
    expect(() => addon.hashNodeTable(0, new Uint32Array(4), felts, 0)).toThrow(TypeError);
  });
});

describe("native ecdsa", () => {
  type EcdsaFile = { count: number; cases: Array<[string, string, string]> };
  let file: EcdsaFile;
  let inputs: ReturnType<typeof ecdsaInputs>;
  beforeAll(() => {
    file = vectors<EcdsaFile>("ecdsa-10k.json");
    inputs = ecdsaInputs(file.count);
  });

  it("signs the 10,000 committed cases exactly as scure (RFC 6979 k) and derives the same public keys", () => {
    expect(file.count).toBe(10_000);
    inputs.forEach(({ privateKey, msgHash }, i) => {
      const [r, s, pub] = file.cases[i]!.map((h) => BigInt("0x" + h));
      const [gr, gs] = addon.ecdsaSign(msgHash, privateKey);
      expect(gr, `case ${i} r`).toBe(r);
      expect(gs, `case ${i} s`).toBe(s);
      if (i < 1000) expect(addon.publicKey(privateKey)).toBe(pub);
    });
  });

  it("verifies all 10,000 committed signatures and rejects each with the message, r, s or key altered", () => {
    const items = Buffer.alloc(128 * file.count);
    const tampered: bigint[] = [];
    inputs.forEach(({ msgHash }, i) => {
      const [r, s, pub] = file.cases[i]!.map((h) => BigInt("0x" + h));
      items.set(addon.feltsToBuffer([msgHash, r!, s!, pub!]), 128 * i);
      const other = BigInt("0x" + file.cases[(i + 1) % file.count]![2]);
      const k = i % 4;
      tampered.push(k === 0 ? (msgHash + 1n) % MAX : msgHash, k === 1 ? (r! % (MAX - 1n)) + 1n : r!, k === 2 ? (s! % (MAX - 1n)) + 1n : s!, k === 3 && other !== pub ? other : k === 3 ? pub! ^ 1n : pub!);
    });
    expect([...addon.ecdsaVerifyBatchBuffer(items)].every((v) => v === 1)).toBe(true);
    const bad = addon.ecdsaVerifyBatchBuffer(addon.feltsToBuffer(tampered));
    expect([...bad].filter((v) => v === 1).length).toBe(0);
    // live reference on a slice of the tampered cases and the valid ones (scure verify is ~260/s)
    for (let i = 0; i < 150; i++) {
      const [m, r, s, pub] = tampered.slice(4 * i, 4 * i + 4) as [bigint, bigint, bigint, bigint];
      expect(addon.ecdsaVerify(m, r, s, pub)).toBe(scureBackend.ecdsaVerify(m, r, s, pub));
    }
  });

  it("agrees with live scure sign and verify on fresh keys (one y of each x is accepted)", () => {
    const rng = new SeededRandom(303);
    for (let i = 0; i < 60; i++) {
      const d = rng.below(CURVE_ORDER), m = rng.bits(251);
      const sig = scure.sign(pad(m), pad(d));
      expect(addon.ecdsaSign(m, d)).toEqual([sig.r, sig.s]);
      const pub = addon.publicKey(d);
      // n - d has the same x and the opposite y: its signatures verify under the same x key
      const [r2, s2] = addon.ecdsaSign(m, CURVE_ORDER - d);
      expect(addon.publicKey(CURVE_ORDER - d)).toBe(pub);
      expect(addon.ecdsaVerify(m, r2, s2, pub)).toBe(true);
      expect(scureBackend.ecdsaVerify(m, r2, s2, pub)).toBe(true);
    }
  });

  it("returns false for r or s of 0 or >= 2^251, msgHash >= 2^251, and keys off the curve", () => {
    const { privateKey, msgHash } = inputs[0]!;
    const [r, s, pub] = file.cases[0]!.map((h) => BigInt("0x" + h)) as [bigint, bigint, bigint];
    expect(addon.ecdsaVerify(msgHash, r, s, pub)).toBe(true);
    const cases: Array<[bigint, bigint, bigint, bigint]> = [
      [msgHash, 0n, s, pub], [msgHash, r, 0n, pub], [msgHash, MAX, s, pub], [msgHash, r, MAX, pub],
      [msgHash, P - 1n, s, pub], [msgHash, r, P - 1n, pub], [MAX, r, s, pub], [P - 1n, r, s, pub],
    ];
    // x coordinates with no point on the curve, and x = 0
    let offCurve = 0;
    for (let x = 1n; offCurve < 5; x++) {
      try {
        scure.Point.fromHex("02" + x.toString(16).padStart(64, "0"));
      } catch {
        cases.push([msgHash, r, s, x]);
        offCurve++;
      }
    }
    cases.push([msgHash, r, s, 0n]);
    for (const [m, rr, ss, k] of cases) {
      expect(addon.ecdsaVerify(m, rr, ss, k), `verify(${m}, ${rr}, ${ss}, ${k})`).toBe(false);
      expect(scureBackend.ecdsaVerify(m, rr, ss, k)).toBe(false);
    }
    expect(privateKey).toBeGreaterThan(0n);
  });

  it("verifies a message hash of 0 and a signature made for it", () => {
    const d = 0x1234n;
    const [r, s] = addon.ecdsaSign(0n, d);
    const sig = scure.sign(pad(0n), pad(d));
    expect([r, s]).toEqual([sig.r, sig.s]);
    expect(addon.ecdsaVerify(0n, r, s, addon.publicKey(d))).toBe(true);
  });

  it("refuses to sign with a private key of 0 or >= the curve order, or a msgHash >= 2^251", () => {
    expect(() => addon.ecdsaSign(1n, 0n)).toThrow(/privateKey: must be in \[1, curve order\)/);
    expect(() => addon.ecdsaSign(1n, CURVE_ORDER)).toThrow(RangeError);
    expect(() => scure.sign(pad(1n), pad(CURVE_ORDER))).toThrow();
    expect(() => addon.ecdsaSign(MAX, 1n)).toThrow(/msgHash: must be below 2\^251/);
    expect(() => scure.sign(pad(MAX), pad(1n))).toThrow(RangeError);
  });

  it("keeps a full key cache of tables in use instead of thrashing, and replaces a table gone idle", () => {
    const sig = (i: number) => {
      const [r, s, pub] = file.cases[i]!.map((h) => BigInt("0x" + h)) as [bigint, bigint, bigint];
      return [inputs[i]!.msgHash, r, s, pub] as const;
    };
    addon.setKeyCacheCapacity(0); // empties the cache
    addon.setKeyCacheCapacity(4);
    const before = addon.keyCacheStats();
    // ten distinct keys (cases 0..9) in rotation, five rounds: the first four seen twice get
    // tables; the other six are refused while those four stay in use
    for (let round = 0; round < 5; round++) for (let i = 0; i < 10; i++) expect(addon.ecdsaVerify(...sig(i))).toBe(true);
    let stats = addon.keyCacheStats();
    expect(stats.entries).toBe(4);
    expect(stats.builds - before.builds).toBe(4);
    expect(stats.hits - before.hits).toBe(12);
    expect(stats.refused - before.refused).toBe(12);
    // twenty keys seen once each leave the four tables idle; a key seen twice now replaces one
    for (let i = 10; i < 30; i++) expect(addon.ecdsaVerify(...sig(i))).toBe(true);
    expect(addon.ecdsaVerify(...sig(9))).toBe(true);
    expect(addon.ecdsaVerify(...sig(9))).toBe(true);
    stats = addon.keyCacheStats();
    expect(stats.entries).toBe(4);
    expect(stats.builds - before.builds).toBe(5);
    addon.setKeyCacheCapacity(256);
  });

  it("gives the same answers with the key cache off, and bounds the cache", () => {
    const slice = inputs.slice(0, 300);
    const items = slice.map(({ msgHash }, i) => {
      const [r, s, pub] = file.cases[i]!.map((h) => BigInt("0x" + h)) as [bigint, bigint, bigint];
      return [msgHash, i % 3 === 0 ? r + 1n : r, s, pub] as const;
    });
    addon.setKeyCacheCapacity(0);
    const uncached = items.map((it) => addon.ecdsaVerify(...it));
    addon.setKeyCacheCapacity(8);
    const cached = [...items, ...items].map((it) => addon.ecdsaVerify(...it));
    expect(cached).toEqual([...uncached, ...uncached]);
    expect(uncached.filter(Boolean).length).toBe(200);
    const stats = addon.keyCacheStats();
    expect(stats.capacity).toBe(8);
    expect(stats.entries).toBeLessThanOrEqual(8);
    expect(() => addon.setKeyCacheCapacity(-1)).toThrow(RangeError);
    addon.setKeyCacheCapacity(256);
  });
});
