// Native hash backend: our C++ addon (state/crypto/native/, built by node-gyp into
// build/Release/perpchain_crypto.node). Loading never throws: a missing or broken build is
// reported as an Error value so select-backend.ts can fall back to the JS reference.
// The addon checks every felt at its boundary (RangeError, code ERR_FELT_RANGE, for values
// >= P or negative; TypeError for non-bigints).

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Felt } from "../felt.js";
import type { HashBackend } from "./hash-backend.js";

/** What the compiled addon exports (see state/crypto/native/addon.cc). */
export interface NativeAddon {
  pedersen(a: Felt, b: Felt): Felt;
  poseidon(a: Felt, b: Felt): Felt;
  poseidonMany(values: readonly Felt[]): Felt;
  pedersenBatch(a: readonly Felt[], b: readonly Felt[]): Felt[];
  poseidonBatch(a: readonly Felt[], b: readonly Felt[]): Felt[];
  /** Pairs as 64-byte records (a, b big-endian) -> 32-byte hashes. */
  pedersenBatchBuffer(pairs: Uint8Array): Buffer;
  poseidonBatchBuffer(pairs: Uint8Array): Buffer;
  /** A trie-node table (kind 0 Pedersen, 1 Poseidon) -> 98-byte records; see state/patricia-trie.ts. */
  hashNodeTable(kind: 0 | 1, table: Uint32Array, felts: Uint8Array, prefix: number): Buffer;
  /** hashNodeTable on the addon's hash thread (one per JS environment); errors reject. */
  hashNodeTableAsync(kind: 0 | 1, table: Uint32Array, felts: Uint8Array, prefix: number): Promise<Buffer>;
  /** Poseidon program (see state/crypto/hash-plan.ts) -> 32 bytes per job; poseidonProgramAsync on the hash thread. */
  poseidonProgram(ops: Uint32Array, felts: Uint8Array): Buffer;
  /** `urgent`: a caller waits on it to answer a request; it runs on a second hash thread, never behind a block's bulk hashing. */
  poseidonProgramAsync(ops: Uint32Array, felts: Uint8Array, urgent?: boolean): Promise<Buffer>;
  /**
   * The program's outputs (32 bytes per job), then one byte per check (1 = valid): check i is a
   * 96-byte (r, s, publicKey) record over the message operand msgs[i] (a felt index, or bit 31 |
   * job). One job on the hash thread.
   */
  poseidonProgramVerifyAsync(ops: Uint32Array, felts: Uint8Array, checks: Uint8Array, msgs: Uint32Array, urgent?: boolean): Promise<Buffer>;
  /** ecdsaVerifyBatchBuffer on the hash thread (which keeps key tables of its own). */
  ecdsaVerifyBatchAsync(items: Uint8Array, urgent?: boolean): Promise<Buffer>;
  ecdsaVerify(msgHash: Felt, r: Felt, s: Felt, publicKey: Felt): boolean;
  /** Items as 128-byte records (msgHash, r, s, publicKey) -> one byte each, 1 = valid. */
  ecdsaVerifyBatchBuffer(items: Uint8Array): Buffer;
  ecdsaSign(msgHash: Felt, privateKey: Felt): [Felt, Felt];
  publicKey(privateKey: Felt): Felt;
  feltsToBuffer(values: readonly Felt[]): Buffer;
  bufferToFelts(bytes: Uint8Array): Felt[];
  /** The felts at offset, offset + stride, ... of fixed-size records (0 <= offset <= stride - 32). */
  recordFelts(bytes: Uint8Array, offset: number, stride: number): Felt[];
  setKeyCacheCapacity(entries: number): void;
  /** Key-table cache counters; `refused`: second sightings not given a table because the cache was full of tables in use. */
  keyCacheStats(): { entries: number; capacity: number; hits: number; misses: number; builds: number; refused: number };
}

/** Where node-gyp puts the addon, relative to this file (repo root /build/Release). */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL("../../build/Release/perpchain_crypto.node", import.meta.url));

/** Loads the addon; returns the Error instead of throwing when it is missing or broken. */
export function loadNativeAddon(path: string = NATIVE_ADDON_PATH): NativeAddon | Error {
  try {
    const load = createRequire(import.meta.url);
    return load(path) as NativeAddon;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** A HashBackend over a loaded addon. */
export function createNativeBackend(addon: NativeAddon): HashBackend {
  return {
    name: "native",
    pedersen: (a, b) => addon.pedersen(a, b),
    poseidon: (a, b) => addon.poseidon(a, b),
    poseidonMany: (values) => addon.poseidonMany(values),
    pedersenBatch: (a, b) => addon.pedersenBatch(a, b),
    poseidonBatch: (a, b) => addon.poseidonBatch(a, b),
    hashNodeTable: (kind, table, felts, prefix) => addon.hashNodeTable(kind === "pedersen" ? 0 : 1, table, addon.feltsToBuffer(felts), prefix),
    recordFelts: (bytes, offset, stride) => addon.recordFelts(bytes, offset, stride),
    hashNodeTableAsync: (kind, table, felts, prefix) => addon.hashNodeTableAsync(kind === "pedersen" ? 0 : 1, table, addon.feltsToBuffer(felts), prefix),
    async poseidonProgramAsync(ops, felts, opts) {
      return addon.recordFelts(await addon.poseidonProgramAsync(ops, addon.feltsToBuffer(felts), opts?.urgent === true), 0, 32);
    },
    async poseidonProgramVerifyAsync(ops, felts, checks, opts) {
      const flat = new Array<Felt>(3 * checks.length);
      const msgs = new Uint32Array(checks.length);
      checks.forEach((c, i) => {
        flat[3 * i] = c.r;
        flat[3 * i + 1] = c.s;
        flat[3 * i + 2] = c.publicKey;
        msgs[i] = c.msg;
      });
      const out = await addon.poseidonProgramVerifyAsync(ops, addon.feltsToBuffer(felts), addon.feltsToBuffer(flat), msgs, opts?.urgent === true);
      const hashed = out.length - checks.length;
      return { outputs: addon.recordFelts(out.subarray(0, hashed), 0, 32), valid: Array.from(out.subarray(hashed), (b) => b === 1) };
    },
    async ecdsaVerifyBatchAsync(items, opts) {
      const flat = new Array<Felt>(4 * items.length);
      items.forEach((it, i) => {
        flat[4 * i] = it.msgHash;
        flat[4 * i + 1] = it.r;
        flat[4 * i + 2] = it.s;
        flat[4 * i + 3] = it.publicKey;
      });
      const out = await addon.ecdsaVerifyBatchAsync(addon.feltsToBuffer(flat), opts?.urgent === true);
      return Array.from(out, (b) => b === 1);
    },
    ecdsaVerify: (msgHash, r, s, publicKey) => addon.ecdsaVerify(msgHash, r, s, publicKey),
    ecdsaSign(msgHash, privateKey) {
      const [r, s] = addon.ecdsaSign(msgHash, privateKey);
      return { r, s };
    },
  };
}
