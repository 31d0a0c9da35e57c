// packRecord (sequencer/msgpack-writer.ts) writes the very bytes msgpackr's
// Packr({ useBigIntExtension: true, useRecords: false }) writes, so the typed records it
// stores read back through msgpackr unchanged (the storage format does not move):
//   - on seeded random values of every kind it handles itself (bigints of every width and
//     sign, numbers of every msgpack form, ASCII strings of every header size, arrays and
//     objects past the fixed sizes, null/undefined/booleans) and of kinds it hands to
//     msgpackr (Maps, byte arrays, non-ASCII strings, dates);
//   - on the records of a real block (the block, its transaction with receipt and trace).

import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { packRecord } from "../../sequencer/msgpack-writer.js";
import { PerpchainNode } from "../../sequencer/node.js";
import { mulberry32 } from "../../sequencer/seeded-random.js";
import { keys } from "../../state/columns.js";
import { selectorFromName } from "../../state/crypto/hash.js";

const msgpackr = new Packr({ useBigIntExtension: true, useRecords: false });

function expectSameBytes(value: unknown): void {
  expect(Buffer.from(packRecord(value)).toString("hex")).toBe(Buffer.from(msgpackr.pack(value)).toString("hex"));
}

describe("packRecord writes msgpackr's bytes", () => {
  it("for bigints at every boundary of the int64, uint64 and extension forms", () => {
    const values: bigint[] = [0n, 1n, -1n, 127n, 128n, -32n, -33n];
    for (const bits of [31, 32, 53, 62, 63, 64, 65, 126, 127, 128, 190, 191, 192, 250, 251, 252, 254, 255, 256, 300, 1000, 2100]) {
      const p = 1n << BigInt(bits);
      values.push(p - 1n, p, p + 1n, -p, -p - 1n, -p + 1n);
    }
    values.push((1n << 251n) + 17n * (1n << 192n) + 1n); // the field prime
    for (const v of values) {
      expectSameBytes(v);
      expectSameBytes([v, { v }]);
    }
  });

  it("for numbers of every msgpack form", () => {
    const values = [0, -0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -1.25, 1e300, NaN, Infinity, -Infinity];
    for (const v of values) expectSameBytes(v);
  });

  it("for strings of every header size, ASCII or not", () => {
    for (const n of [0, 1, 31, 32, 63, 64, 255, 256, 65535, 65536]) {
      expectSameBytes("a".repeat(n));
      expectSameBytes("é".repeat(n));
      expectSameBytes("a".repeat(n) + "€");
    }
    expectSameBytes("pair \ud83d\ude00 and lone \ud800 surrogate");
  });

  it("for arrays and objects past the fixed sizes, and values it hands to msgpackr", () => {
    for (const n of [0, 15, 16, 65535, 65536]) expectSameBytes(Array.from({ length: n }, (_, i) => i));
    for (const n of [0, 15, 16, 40]) expectSameBytes(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    expectSameBytes({ a: undefined, b: null, c: true, d: false, e: [undefined, null] });
    expectSameBytes({ m: new Map<unknown, unknown>([[1n, "x"], ["k", [2n]]]), u: new Uint8Array([1, 2, 3]), b: Buffer.from("hi"), t: new Date(1_700_000_000_000) });
  });

  it("on seeded random trees", () => {
    const next = mulberry32(12);
    const int = (n: number) => next() % n;
    const leaf = (): unknown => {
      switch (int(9)) {
        case 0: {
          let v = 0n;
          const words = 1 + int(5);
          for (let w = 0; w < words; w++) v = (v << 64n) | (BigInt(next()) << 32n) | BigInt(next());
          v >>= BigInt(int(64 * words));
          return int(4) === 0 ? -v : v;
        }
        case 1:
          return next() - 2 ** 31;
        case 2:
          return int(300);
        case 3:
          return (next() - 2 ** 31) / 7;
        case 4:
          return "x".repeat(int(80)) + (int(5) === 0 ? "ü" : "");
        case 5:
          return int(2) === 0;
        case 6:
          return int(2) === 0 ? null : undefined;
        case 7:
          return BigInt(next());
        default:
          return "0x" + next().toString(16);
      }
    };
    const tree = (depth: number): unknown => {
      if (depth === 0 || int(3) === 0) return leaf();
      const n = int(10);
      if (int(2) === 0) return Array.from({ length: n }, () => tree(depth - 1));
      return Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}${int(3) === 0 ? "_" + int(100) : ""}`, tree(depth - 1)]));
    };
    for (let i = 0; i < 300; i++) expectSameBytes(tree(5));
  });

  it("on the records of a real block: the stored bytes are what msgpackr writes for them", async () => {
    const node = await PerpchainNode.open({ seed: 3, accounts: 2, clock: () => 1_700_000_000_000, blockGeneration: { mode: "demand" } });
    try {
      const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
      const hash = await node.submitSignedInvoke(node.genesis.accounts[0]!.address, node.accountKeys[0]!.privateKey, [
        { to: strk, selector: selectorFromName("transfer"), calldata: [node.genesis.accounts[1]!.address, 1_000n, 0n] },
      ]);
      await node.createBlock();
      for (const key of [keys.txByHash(hash), keys.blockByNumber(1)]) {
        const stored = (await node.world.store.get(key))!;
        const record = msgpackr.unpack(stored);
        expect(Buffer.from(msgpackr.pack(record)).equals(Buffer.from(stored))).toBe(true);
        expect(packRecord(record).equals(Buffer.from(stored))).toBe(true);
      }
    } finally {
      await node.stop();
    }
  });
});
