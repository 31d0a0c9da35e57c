// Header commitments against starknet_api's unit vectors (test/vectors/blocks/
// starknet-api-commitment-vectors.json): leaves, roots, state diff, counts, and a full
// block hash under both the 0.13.2 and 0.13.4 formulas.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { P, type Felt } from "../../state/felt.js";
import {
  CommitmentInputError,
  compareStarknetVersions,
  concatenatedCounts,
  eventCommitment,
  eventLeaf,
  messagesSentHash,
  receiptCommitment,
  receiptLeaf,
  revertReasonHash,
  stateDiffCommitment,
  stateDiffCommitmentAsync,
  stateDiffLength,
  transactionCommitment,
  transactionLeaf,
  type EventForCommitment,
  type MessageToL1,
  type ReceiptForCommitment,
  type StateDiffForCommitment,
} from "../../state/commitments.js";
import { computeBlockHeader } from "../../state/block-hash.js";
import { hashBackend, setHashBackend } from "../../state/crypto/hash.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";

const V = JSON.parse(readFileSync(new URL("../vectors/blocks/starknet-api-commitment-vectors.json", import.meta.url), "utf8"));
const f = (x: string | number): Felt => BigInt(x);

const event = (seed: number): EventForCommitment => ({
  fromAddress: BigInt(seed + 8),
  transactionHash: f(V.events.transaction_hash),
  keys: [BigInt(seed), BigInt(seed + 1)],
  data: [BigInt(seed + 2), BigInt(seed + 3), BigInt(seed + 4)],
});
const message = (seed: number): MessageToL1 => ({
  fromAddress: BigInt(seed),
  toAddress: BigInt(seed + 1),
  payload: [BigInt(seed + 2), BigInt(seed + 3)],
});
const receipt: ReceiptForCommitment = {
  transactionHash: f(V.receipt.transaction_hash),
  actualFee: BigInt(V.receipt.actual_fee),
  messagesSent: V.receipt.message_seeds.map(message),
  revertReason: V.receipt.revert_reason,
  l1Gas: BigInt(V.receipt.l1_gas),
  l1DataGas: BigInt(V.receipt.l1_data_gas),
};
function vectorStateDiff(): StateDiffForCommitment {
  const m = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [f(k), f(v)]));
  const sd = V.state_diff;
  return {
    deployed: m(sd.deployed),
    storage: new Map(Object.entries<Record<string, string>>(sd.storage).map(([a, w]) => [f(a), m(w)])),
    declared: m(sd.declared),
    deprecatedDeclared: sd.deprecated_declared.map(f),
    nonces: m(sd.nonces),
  };
}

describe("transaction commitment", () => {
  it("hashes a leaf as poseidon(tx_hash, signature...)", () => {
    const l = V.transaction.leaf;
    expect(transactionLeaf({ hash: f(l.hash), signature: l.signature.map(f) }, "0.13.4")).toBe(f(l.expected));
  });

  it("hashes an unsigned leaf as poseidon(tx_hash) from 0.13.4 and as poseidon(tx_hash, 0) before", async () => {
    const l = V.transaction.leaf_without_signature_v0_13_4;
    expect(transactionLeaf({ hash: f(l.hash), signature: [] }, "0.14.0")).toBe(f(l.expected));
    const c = V.transaction.commitment_empty_signature_v0_13_2;
    expect(await transactionCommitment([{ hash: f(c.hash), signature: [] }], "0.13.2")).toBe(f(c.expected));
  });

  it("roots two leaves in a height-64 Poseidon trie", async () => {
    const l = V.transaction.leaf;
    const tx = { hash: f(l.hash), signature: l.signature.map(f) };
    expect(await transactionCommitment([tx, tx], "0.13.4")).toBe(f(V.transaction.commitment_two_identical.expected));
  });

  it("is 0 for an empty block", async () => {
    expect(await transactionCommitment([], "0.14.0")).toBe(0n);
  });
});

describe("event commitment", () => {
  it("hashes an event leaf as poseidon(from, tx_hash, #keys, keys, #data, data)", () => {
    expect(eventLeaf(event(2))).toBe(f(V.events.leaf_seed_2));
  });

  it("roots three events", async () => {
    expect(await eventCommitment(V.events.seeds.map(event))).toBe(f(V.events.commitment));
  });

  it("rejects a key that is not a felt", () => {
    expect(() => eventLeaf({ ...event(0), keys: [P] })).toThrow(/event.keys\[0\]/);
  });
});

describe("receipt commitment", () => {
  it("hashes messages, the revert reason, fee and gas into the receipt leaf", () => {
    expect(messagesSentHash([message(0), message(1)])).toBe(f(V.receipt.messages_hash_seeds_0_1));
    expect(revertReasonHash("ABC")).toBe(f(V.receipt.revert_reason_hash_ABC));
    expect(revertReasonHash(undefined)).toBe(0n);
    expect(receiptLeaf(receipt)).toBe(f(V.receipt.leaf));
  });

  it("roots one reverted receipt", async () => {
    expect(await receiptCommitment([receipt])).toBe(f(V.receipt.commitment));
  });

  it("distinguishes a revert with an empty reason from success", () => {
    const ok = { ...receipt };
    delete ok.revertReason;
    expect(receiptLeaf({ ...receipt, revertReason: "" })).not.toBe(receiptLeaf(ok));
  });
});

describe("state diff commitment", () => {
  it("matches the starknet_api vector with every section filled", async () => {
    expect(stateDiffCommitment(vectorStateDiff())).toBe(f(V.state_diff.commitment));
    expect(await stateDiffCommitmentAsync(vectorStateDiff())).toBe(f(V.state_diff.commitment));
    // The same on the native addon's hash thread (the path block headers take).
    const previous = hashBackend();
    try {
      selectHashBackend({ prefer: "native" });
      expect(await stateDiffCommitmentAsync(vectorStateDiff())).toBe(f(V.state_diff.commitment));
    } finally {
      setHashBackend(previous);
    }
    expect(stateDiffLength(vectorStateDiff())).toBe(3 + 3 + 2 + 1 + 1);
  });

  it("does not depend on insertion order", () => {
    const a = vectorStateDiff();
    const b: StateDiffForCommitment = {
      deployed: new Map([...a.deployed].reverse()),
      storage: new Map([...a.storage].reverse().map(([k, w]) => [k, new Map([...w].reverse())])),
      declared: new Map([...a.declared].reverse()),
      deprecatedDeclared: a.deprecatedDeclared!,
      nonces: a.nonces,
    };
    expect(stateDiffCommitment(b)).toBe(f(V.state_diff.commitment));
  });

  it("skips contracts whose storage map is empty", () => {
    const a = vectorStateDiff();
    const b = vectorStateDiff();
    b.storage.set(0x99n, new Map());
    expect(stateDiffCommitment(b)).toBe(stateDiffCommitment(a));
  });
});

describe("concatenated counts", () => {
  it("packs tx, event, state-diff counts and the DA byte", () => {
    const c = V.concatenated_counts;
    expect(concatenatedCounts(c.tx, c.events, c.state_diff_length, c.l1_da_mode)).toBe(f(c.expected));
    expect(concatenatedCounts(1, 0, 0, "CALLDATA")).toBe(1n << 192n);
  });

  it("rejects negative counts and unknown DA modes", () => {
    expect(() => concatenatedCounts(-1, 0, 0, "BLOB")).toThrow(CommitmentInputError);
    expect(() => concatenatedCounts(0, 0, 0, "blob" as "BLOB")).toThrow(/l1_da_mode/);
  });
});

describe("block hash from raw block data (starknet_api regression)", () => {
  it.each([
    ["0.13.2", V.block_hash.expected_0_13_2],
    ["0.13.4", V.block_hash.expected_0_13_4],
  ])("reproduces the %s block hash", async (version, expected) => {
    const header = await computeBlockHeader({
      blockNumber: 1,
      parentHash: 11n,
      stateRoot: 2n,
      sequencerAddress: 3n,
      timestamp: 4,
      l1DaMode: "BLOB",
      l1GasPrice: { priceInWei: 7n, priceInFri: 6n },
      l1DataGasPrice: { priceInWei: 9n, priceInFri: 10n },
      l2GasPrice: { priceInWei: 12n, priceInFri: 11n },
      starknetVersion: version,
      transactions: [
        {
          hash: 1n,
          signature: [2n, 3n],
          events: [],
          actualFee: receipt.actualFee,
          messagesSent: receipt.messagesSent,
          revertReason: receipt.revertReason!,
          l1Gas: receipt.l1Gas,
          l1DataGas: receipt.l1DataGas,
        },
      ],
      stateDiff: vectorStateDiff(),
    });
    expect(header.blockHash).toBe(f(expected));
  });
});

describe("starknet version ordering", () => {
  it("orders dotted versions numerically", () => {
    expect(compareStarknetVersions("0.13.10", "0.13.4")).toBe(1);
    expect(compareStarknetVersions("0.14", "0.14.0")).toBe(0);
    expect(compareStarknetVersions("0.13.2", "0.13.2.1")).toBe(-1);
    expect(() => compareStarknetVersions("latest", "0.14.0")).toThrow(CommitmentInputError);
  });
});
