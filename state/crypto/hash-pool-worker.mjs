// Worker thread of hash-pool.ts. Plain JavaScript so it loads the same way under node, tsx and
// vitest. It receives packed 32-byte big-endian felts and answers with packed results; with
// no native addon it computes with @scure/starknet. Reads no clock, randomness or environment.
import { parentPort, workerData } from "node:worker_threads";
import { createRequire } from "node:module";
import * as scure from "@scure/starknet";

const { addonPath } = workerData;
const native = addonPath ? createRequire(import.meta.url)(addonPath) : undefined;

function readFelt(bytes, offset) {
  let x = 0n;
  for (let i = 0; i < 32; i++) x = (x << 8n) | BigInt(bytes[offset + i]);
  return x;
}
function writeFelt(bytes, offset, x) {
  for (let i = 31; i >= 0; i--) {
    bytes[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}
const hex64 = (x) => "0x" + x.toString(16).padStart(64, "0");

// Mirrors scureBackend.ecdsaVerify (state/crypto/scure-backend.ts).
function scureVerify(msgHash, r, s, publicKey) {
  if (r <= 0n || r >= scure.MAX_VALUE || s <= 0n || s >= scure.MAX_VALUE || msgHash >= scure.MAX_VALUE) return false;
  const x = publicKey.toString(16).padStart(64, "0");
  for (const prefix of ["02", "03"]) {
    try {
      if (scure.verify(new scure.Signature(r, s), hex64(msgHash), "0x" + prefix + x)) return true;
    } catch {
      return false;
    }
  }
  return false;
}

function run(op, input, job) {
  if (native) {
    if (op === "table") return native.hashNodeTable(job.kind, new Uint32Array(job.table), input, job.prefix);
    if (op === "pedersen") return native.pedersenBatchBuffer(input);
    if (op === "poseidon") return native.poseidonBatchBuffer(input);
    if (op === "verify") return native.ecdsaVerifyBatchBuffer(input);
  }
  if (op === "pedersen" || op === "poseidon") {
    const n = input.length / 64;
    const out = new Uint8Array(32 * n);
    for (let i = 0; i < n; i++) {
      const a = readFelt(input, 64 * i), b = readFelt(input, 64 * i + 32);
      writeFelt(out, 32 * i, op === "pedersen" ? BigInt(scure.pedersen(a, b)) : scure.poseidonHash(a, b));
    }
    return out;
  }
  if (op === "verify") {
    const n = input.length / 128;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const o = 128 * i;
      out[i] = scureVerify(readFelt(input, o), readFelt(input, o + 32), readFelt(input, o + 64), readFelt(input, o + 96)) ? 1 : 0;
    }
    return out;
  }
  throw new TypeError(`unknown hash-pool op ${op}`);
}

parentPort.on("message", ({ id, op, bytes, table, kind, prefix }) => {
  try {
    const out = run(op, new Uint8Array(bytes), { table, kind, prefix });
    const copy = out.buffer.byteLength === out.byteLength ? out.buffer : out.slice().buffer;
    parentPort.postMessage({ id, bytes: copy }, [copy]);
  } catch (err) {
    parentPort.postMessage({ id, error: { name: err?.name, message: String(err?.message ?? err), code: err?.code } });
  }
});
