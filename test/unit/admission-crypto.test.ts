// Admission's crypto off the main thread (sequencer/admission-crypto.ts): a burst of
// submissions is hashed in one batch, with the same hashes as transactionHash; signatures
// whose key is known are verified on the hash thread and memoized, so the check __validate__
// makes afterwards is a memo hit; and a wrong key hint changes no answer.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AdmissionCrypto } from "../../sequencer/admission-crypto.js";
import { parseBroadcastedTxn, type BroadcastedTxn } from "../../sequencer/rpc/params.js";
import { transactionHash, unsignedInvokeJson } from "../../sequencer/tx-intake.js";
import { withVerifyCache } from "../../sequencer/verify-cache.js";
import { hashBackend, setHashBackend } from "../../state/crypto/hash.js";
import type { HashBackend } from "../../state/crypto/hash-backend.js";
import { createNativeBackend, loadNativeAddon } from "../../state/crypto/native-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";
import { encodeShortString, toHex } from "../../state/felt.js";
import { TxHashInputError } from "../../state/tx-hash.js";

const CHAIN_ID = encodeShortString("SN_PERPCHAIN");
const before = hashBackend();
let native: HashBackend;
beforeAll(() => {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw new Error(`native addon missing, run: node scripts/build-native.mjs (${addon.message})`);
  native = createNativeBackend(addon);
});
afterEach(() => setHashBackend(before));

/** The native backend under the verify memo, counting the verifications made on this thread. */
function countingBackend(): { backend: HashBackend; syncVerifies: () => number } {
  let n = 0;
  const inner: HashBackend = {
    ...native,
    ecdsaVerify: (m, r, s, k) => {
      n++;
      return native.ecdsaVerify(m, r, s, k);
    },
  };
  return { backend: withVerifyCache(inner), syncVerifies: () => n };
}

const PRIV = [0x1234n, 0x5678n, 0x9abcn];
function signedInvoke(sender: bigint, nonce: bigint, priv: bigint | null): BroadcastedTxn {
  const raw = unsignedInvokeJson(sender, nonce, [{ to: 0x55n, selector: 0x66n, calldata: [nonce, 2n] }], { l1_gas: 10n, l1_data_gas: 20n, l2_gas: 30n });
  const unsigned = parseBroadcastedTxn({ ...raw, signature: ["0x1", "0x2"] }, "tx");
  if (priv === null) return unsigned;
  const { r, s } = native.ecdsaSign(transactionHash(unsigned, CHAIN_ID), priv);
  return parseBroadcastedTxn({ ...raw, signature: [toHex(r), toHex(s)] }, "tx");
}

describe("AdmissionCrypto", () => {
  it("hashes a burst in one batch with transactionHash's values, and prefetched signatures are memo hits afterwards", async () => {
    const { backend, syncVerifies } = countingBackend();
    setHashBackend(backend);
    const keyOf = new Map(PRIV.map((p, i) => [BigInt(100 + i), publicKey(p)]));
    const crypto = new AdmissionCrypto({ chainId: CHAIN_ID, publicKeyOf: (s) => keyOf.get(s) });
    const txs = Array.from({ length: 30 }, (_, i) => signedInvoke(BigInt(100 + (i % 3)), BigInt(i), PRIV[i % 3]!));
    const hashes = await Promise.all(txs.map((tx) => crypto.hash(tx, tx.type === "INVOKE" ? tx.senderAddress : undefined)));
    expect(hashes).toEqual(txs.map((tx) => transactionHash(tx, CHAIN_ID)));
    expect(crypto.stats).toEqual({ batches: 1, txs: 30 });
    txs.forEach((tx, i) => {
      const [r, s] = tx.signature;
      expect(hashBackend().ecdsaVerify(hashes[i]!, r!, s!, keyOf.get(BigInt(100 + (i % 3)))!)).toBe(true);
    });
    expect(syncVerifies()).toBe(0);
  });

  it("hashes and verifies in one trip to the hash thread; a backend without the combined job verifies in a second", async () => {
    const keyOf = new Map(PRIV.map((p, i) => [BigInt(100 + i), publicKey(p)]));
    const txs = Array.from({ length: 6 }, (_, i) => signedInvoke(BigInt(100 + (i % 3)), BigInt(i), PRIV[i % 3]!));
    for (const combined of [true, false]) {
      const { backend, syncVerifies } = countingBackend();
      const trips = { combined: 0, hashes: 0, verifies: 0 };
      const counted: HashBackend = {
        ...backend,
        poseidonProgramVerifyAsync: combined ? (...a) => (trips.combined++, backend.poseidonProgramVerifyAsync!(...a)) : undefined,
        poseidonProgramAsync: (...a) => (trips.hashes++, backend.poseidonProgramAsync!(...a)),
        ecdsaVerifyBatchAsync: (...a) => (trips.verifies++, backend.ecdsaVerifyBatchAsync!(...a)),
      };
      setHashBackend(withVerifyCache(counted));
      const crypto = new AdmissionCrypto({ chainId: CHAIN_ID, publicKeyOf: (s) => keyOf.get(s) });
      const hashes = await Promise.all(txs.map((tx) => crypto.hash(tx, tx.type === "INVOKE" ? tx.senderAddress : undefined)));
      expect(hashes).toEqual(txs.map((tx) => transactionHash(tx, CHAIN_ID)));
      expect(trips).toEqual(combined ? { combined: 1, hashes: 0, verifies: 0 } : { combined: 0, hashes: 1, verifies: 1 });
      txs.forEach((tx, i) => expect(hashBackend().ecdsaVerify(hashes[i]!, tx.signature[0]!, tx.signature[1]!, keyOf.get(BigInt(100 + (i % 3)))!)).toBe(true));
      expect(syncVerifies()).toBe(0); // every answer came from the hash thread, through the memo
    }
  });

  it("a wrong key hint or a bad signature changes no answer: the check on this thread decides", async () => {
    const { backend, syncVerifies } = countingBackend();
    setHashBackend(backend);
    const wrongKey = publicKey(0x4242n);
    const crypto = new AdmissionCrypto({ chainId: CHAIN_ID, publicKeyOf: () => wrongKey });
    const good = signedInvoke(100n, 0n, PRIV[0]!);
    const forged = signedInvoke(100n, 1n, PRIV[1]!); // signed with another key than the account's
    const [hGood, hForged] = await Promise.all([crypto.hash(good, 100n), crypto.hash(forged, 100n)]);
    const account = publicKey(PRIV[0]!);
    expect(hashBackend().ecdsaVerify(hGood, good.signature[0]!, good.signature[1]!, account)).toBe(true);
    expect(hashBackend().ecdsaVerify(hForged, forged.signature[0]!, forged.signature[1]!, account)).toBe(false);
    expect(syncVerifies()).toBe(2); // the hint named another key: both were checked here
    expect(hashBackend().ecdsaVerify(hGood, good.signature[0]!, good.signature[1]!, wrongKey)).toBe(false);
    expect(syncVerifies()).toBe(2); // ... and the prefetched answer for the hinted key is in the memo
  });

  it("a field that cannot be hashed throws at the call, and without a hash thread hashes come back at once", async () => {
    setHashBackend(countingBackend().backend);
    const crypto = new AdmissionCrypto({ chainId: CHAIN_ID, publicKeyOf: () => undefined });
    const bad = { ...signedInvoke(100n, 0n, null), tip: 1n << 64n } as BroadcastedTxn;
    expect(() => crypto.hash(bad, 100n)).toThrow(TxHashInputError);
    setHashBackend(scureBackend);
    const tx = signedInvoke(100n, 0n, null);
    expect(await crypto.hash(tx, 100n)).toBe(transactionHash(tx, CHAIN_ID));
    expect(crypto.stats.batches).toBe(0);
  });
});

describe("AdmissionCrypto, a batch the hash thread refuses", () => {
  it("is hashed again here, transaction by transaction: each still gets its own answer", async () => {
    const refuse = () => Promise.reject(new RangeError("refused"));
    const refusing: HashBackend = { ...countingBackend().backend, poseidonProgramAsync: refuse, poseidonProgramVerifyAsync: refuse };
    setHashBackend(refusing);
    const crypto = new AdmissionCrypto({ chainId: CHAIN_ID, publicKeyOf: () => undefined });
    const txs = [signedInvoke(100n, 0n, null), signedInvoke(101n, 1n, null)];
    const hashes = await Promise.all(txs.map((tx) => crypto.hash(tx, 100n)));
    expect(hashes).toEqual(txs.map((tx) => transactionHash(tx, CHAIN_ID)));
  });
});

function publicKey(priv: bigint): bigint {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw addon;
  return addon.publicKey(priv);
}
