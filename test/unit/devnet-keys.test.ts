// Predeployed account keys: the same as starknet-devnet's for the same --seed (vector data
// from starknet-devnet's own start-up log; see test/vectors/devnet/PROVENANCE.md).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deriveAccountKeys, deriveOperatorKeys } from "../../sequencer/predeployed-accounts.js";
import { toHex } from "../../state/felt.js";

const vector = JSON.parse(readFileSync(new URL("../vectors/devnet/starknet-devnet-seed0-keys.json", import.meta.url), "utf8")) as {
  seed: number;
  accounts: Array<{ private_key: string; public_key: string }>;
};

describe("predeployed account keys", () => {
  it("are starknet-devnet's keys for --seed 0 (private and public, in order)", () => {
    const keys = deriveAccountKeys(vector.seed, vector.accounts.length);
    expect(keys.map((k) => ({ private_key: toHex(k.privateKey), public_key: toHex(k.publicKey) }))).toEqual(vector.accounts);
  });

  it("are a prefix of a longer list and differ between seeds", () => {
    const ten = deriveAccountKeys(42, 10);
    expect(deriveAccountKeys(42, 3)).toEqual(ten.slice(0, 3));
    expect(new Set(ten.map((k) => k.privateKey)).size).toBe(10);
    expect(deriveAccountKeys(43, 1)[0]!.privateKey).not.toBe(ten[0]!.privateKey);
  });

  it("refuses a seed that is not a u32, like starknet-devnet's --seed", () => {
    expect(() => deriveAccountKeys(-1, 1)).toThrow(RangeError);
    expect(() => deriveAccountKeys(2 ** 32, 1)).toThrow(RangeError);
    expect(() => deriveAccountKeys(1.5, 1)).toThrow(RangeError);
  });

  it("give the operator a key that is none of the accounts'", () => {
    const op = deriveOperatorKeys(0);
    expect(deriveAccountKeys(0, 10).some((k) => k.privateKey === op.privateKey)).toBe(false);
  });
});
