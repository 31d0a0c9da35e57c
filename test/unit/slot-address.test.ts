// contracts/perp/slot-address.ts: the memoized map-entry addresses are exactly Cairo's
// pedersen(base, key) mod (2^251 - 256), however they were computed (alone, or in a batch of
// sequential keys ahead of use), with either hash backend; and the runtime's mapEntryAddress
// they rest on.

import { afterAll, describe, expect, it } from "vitest";
import { pedersen, setHashBackend, hashBackend } from "../../state/crypto/hash.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { mapEntryAddress, STORAGE_ADDRESS_BOUND } from "../../contracts/runtime/index.js";
import { entryAddress, sequentialEntryAddress, storageVarAddress } from "../../contracts/perp/slot-address.js";

const original = hashBackend();
afterAll(() => setHashBackend(original));

const expected = (base: bigint, key: bigint) => pedersen(base, key) % STORAGE_ADDRESS_BOUND;

describe("sequentialEntryAddress", () => {
  it("gives Cairo's address for sequential, repeated and older keys (native backend)", () => {
    selectHashBackend({ prefer: "native" });
    expect(hashBackend().name).toBe("native");
    const base = storageVarAddress("perp_orders_test_seq");
    for (let id = 1n; id <= 150n; id++) expect(sequentialEntryAddress(base, id)).toBe(expected(base, id));
    // a jump ahead, then keys far behind the newest batch (hashed alone), then repeats
    for (const id of [1_000n, 1_001n, 5n, 70n, 999n, 1_063n, 1_064n, 1_065n, 0n]) expect(sequentialEntryAddress(base, id)).toBe(expected(base, id));
    // the same memo answers entryAddress
    expect(entryAddress(base, 1_030n)).toBe(expected(base, 1_030n));
    expect(() => sequentialEntryAddress(base, -1n)).toThrow();
  });

  it("hashes one key at a time with the JS backend, with the same addresses", () => {
    setHashBackend(scureBackend);
    const base = storageVarAddress("perp_orders_test_js");
    for (const id of [7n, 8n, 9n]) expect(sequentialEntryAddress(base, id)).toBe(expected(base, id));
  });
});

describe("mapEntryAddress", () => {
  it("chains Pedersen over the keys and reduces once, memoized or not", () => {
    selectHashBackend({ prefer: "native" });
    const base = storageVarAddress("ERC20_balances");
    // a small key, a full-width address, a key above 2^250
    const keys = [1n, 0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7n, (1n << 250n) + 12345n];
    for (let round = 0; round < 2; round++) {
      for (const k of keys) expect(mapEntryAddress(base, [k])).toBe(expected(base, k));
      expect(mapEntryAddress(base, [keys[0]!, keys[1]!])).toBe(pedersen(pedersen(base, keys[0]!), keys[1]!) % STORAGE_ADDRESS_BOUND);
    }
    expect(() => mapEntryAddress(base, [-5n])).toThrow();
  });
});
