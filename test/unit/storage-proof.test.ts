import { describe, expect, it } from "vitest";
import { MemoryKvStore } from "../../state/kv-store.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { buildStorageProof, ProofError, verifyStorageProof, type StorageProofRequest } from "../../state/storage-proof.js";
import { WorldState } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";

async function world() {
  const rnd = seededRandom(21);
  const ws = await WorldState.open(new MemoryKvStore());
  const d = emptyStateDiff();
  const contracts = [0x111n, 0x222n, 0x333n];
  const keys: bigint[] = [];
  for (const c of contracts) {
    d.deployed.set(c, 0xc1a55n);
    d.nonces.set(c, 3n);
    const m = new Map<bigint, bigint>();
    for (let i = 0; i < 20; i++) {
      const k = rnd.bits(251);
      keys.push(k);
      m.set(k, rnd.bits(200) + 1n);
    }
    d.storage.set(c, m);
  }
  d.declared.set(0xc1a55n, 0xc0de5n);
  const p = await ws.prepareCommit(0, d);
  await ws.commit(p, { blockHash: 0xb10cn });
  return { ws, d, contracts, keys, rnd };
}

describe("storage proofs", () => {
  it("verifies proofs of present and absent keys against the block's global root", async () => {
    const { ws, d, contracts, rnd } = await world();
    const c = contracts[1]!;
    const present = [...d.storage.get(c)!.keys()].slice(0, 5);
    const absent = [rnd.bits(251), 12345n];
    const req: StorageProofRequest = {
      classHashes: [0xc1a55n, 0x999n],
      contractAddresses: [c, 0x444n],
      contractsStorageKeys: [{ contractAddress: c, storageKeys: [...present, ...absent] }],
    };
    const proof = await buildStorageProof(await ws.proofSource(), req);
    expect(proof.global_roots.block_hash).toBe("0xb10c");
    const v = verifyStorageProof(proof, req, ws.head()!.roots.globalRoot);
    expect(v.storage.map((s) => s.value)).toEqual([...present.map((k) => d.storage.get(c)!.get(k)!), 0n, 0n]);
    expect(v.contracts[0]!.record.nonce).toBe(3n);
    expect(v.contracts[1]!.record).toEqual({ classHash: 0n, nonce: 0n, storageRoot: 0n });
    expect(v.classes[0]!.leaf).not.toBe(0n);
    expect(v.classes[1]!.leaf).toBe(0n);
  });

  it("rejects a tampered node, tampered leaf data and a wrong root", async () => {
    const { ws, d, contracts } = await world();
    const c = contracts[0]!;
    const req: StorageProofRequest = {
      classHashes: [],
      contractAddresses: [c],
      contractsStorageKeys: [{ contractAddress: c, storageKeys: [[...d.storage.get(c)!.keys()][0]!] }],
    };
    const root = ws.head()!.roots.globalRoot;
    const good = await buildStorageProof(await ws.proofSource(), req);
    expect(() => verifyStorageProof(good, req, root)).not.toThrow();
    expect(() => verifyStorageProof(good, req, root + 1n)).toThrow(ProofError);

    const badNode = structuredClone(good);
    const n = badNode.contracts_storage_proofs[0]!.at(-1)!.node;
    if ("child" in n) n.child = "0x" + (BigInt(n.child) + 1n).toString(16);
    else n.left = "0x" + (BigInt(n.left) + 1n).toString(16);
    expect(() => verifyStorageProof(badNode, req, root)).toThrow(ProofError);

    const badLeaf = structuredClone(good);
    badLeaf.contracts_proof.contract_leaves_data[0]!.nonce = "0x4";
    expect(() => verifyStorageProof(badLeaf, req, root)).toThrow(/does not match/);
  });

  it("proves values at a past block after later blocks changed them", async () => {
    const { ws, d, contracts } = await world();
    const c = contracts[2]!;
    const k = [...d.storage.get(c)!.keys()][3]!;
    const before = d.storage.get(c)!.get(k)!;
    const d2 = emptyStateDiff();
    d2.storage.set(c, new Map([[k, 77n]]));
    const p = await ws.prepareCommit(1, d2);
    await ws.commit(p, { blockHash: 0xb11cn });
    const req: StorageProofRequest = { classHashes: [], contractAddresses: [c], contractsStorageKeys: [{ contractAddress: c, storageKeys: [k] }] };
    const old = await buildStorageProof(await ws.proofSource(0), req);
    expect(verifyStorageProof(old, req, (await ws.rootsAt(0))!.globalRoot).storage[0]!.value).toBe(before);
    const now = await buildStorageProof(await ws.proofSource(), req);
    expect(verifyStorageProof(now, req, ws.head()!.roots.globalRoot).storage[0]!.value).toBe(77n);
  });
});
