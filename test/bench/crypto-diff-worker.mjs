// Worker of crypto-diff.ts: compares the native addon with @scure/starknet on one shard of the
// cases. Plain JavaScript that registers tsx, so it imports the very TypeScript modules the
// node uses (scureBackend, loadNativeAddon) under node, tsx or vitest alike.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const scure = await import("@scure/starknet");
const { scureBackend } = await import("../../state/crypto/scure-backend.ts");
const { loadNativeAddon } = await import("../../state/crypto/native-backend.ts");

const addon = loadNativeAddon();
if (addon instanceof Error) throw addon;
const { cases, keys, pubs, start } = workerData;
const pad = (v) => "0x" + v.toString(16).padStart(64, "0");
const mismatches = { pedersen: 0, pedersen_batch: 0, poseidon: 0, sign: 0, verify: 0, verify_first_key: 0 };
const firstMismatch = {};
const note = (kind, i, detail) => {
  mismatches[kind]++;
  if (!(kind in firstMismatch)) firstMismatch[kind] = { index: start + i, ...detail };
};

const scurePedersen = cases.map(([a, b]) => BigInt(scure.pedersen(a, b)));
const batch = addon.pedersenBatch(cases.map((c) => c[0]), cases.map((c) => c[1]));
for (let i = 0; i < cases.length; i++) {
  const [a, b, m] = cases[i];
  const idx = start + i;
  if (addon.pedersen(a, b) !== scurePedersen[i]) note("pedersen", i, { a: pad(a), b: pad(b) });
  if (batch[i] !== scurePedersen[i]) note("pedersen_batch", i, { a: pad(a), b: pad(b) });
  if (addon.poseidon(a, b) !== scure.poseidonHash(a, b)) note("poseidon", i, { a: pad(a), b: pad(b) });
  const k = idx % keys.length;
  const sig = scure.sign(pad(m), pad(keys[k]));
  const [r, s] = addon.ecdsaSign(m, keys[k]);
  if (r !== sig.r || s !== sig.s) note("sign", i, { m: pad(m), key: k });
  // alternate valid and tampered signatures
  const vr = idx % 2 === 0 ? r : (r % ((1n << 251n) - 1n)) + 1n;
  const want = scureBackend.ecdsaVerify(m, vr, s, pubs[k]);
  addon.setKeyCacheCapacity(256);
  if (addon.ecdsaVerify(m, vr, s, pubs[k]) !== want) note("verify", i, { m: pad(m), r: pad(vr), s: pad(s), key: k });
  // the same check on the first-time-key path (no key table)
  addon.setKeyCacheCapacity(0);
  if (addon.ecdsaVerify(m, vr, s, pubs[k]) !== want) note("verify_first_key", i, { m: pad(m), r: pad(vr), s: pad(s), key: k });
  if (i % 500 === 499) parentPort.postMessage({ progress: 500 });
}
parentPort.postMessage({ progress: cases.length % 500, mismatches, firstMismatch });
