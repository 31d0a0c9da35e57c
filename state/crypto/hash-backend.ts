// The one interface every Starknet hash backend implements (reference JS, native addon, ...).
// Batch calls exist so a whole trie level or a block's worth of hashes crosses into a
// backend once. Inputs are trusted felts (< P); validation is the caller's job at the edge.

import type { Felt } from "../felt.js";

/** One signature check: (r, s) over msgHash for the public key (x coordinate). */
export interface EcdsaItem {
  msgHash: Felt;
  r: Felt;
  s: Felt;
  publicKey: Felt;
}

/** A signature check over a program operand (see HashBackend.poseidonProgramVerifyAsync). */
export interface ProgramCheck {
  /** The message hash: a felt index of the program, or PROGRAM_REF | job for a job's output. */
  msg: number;
  r: Felt;
  s: Felt;
  publicKey: Felt;
}

export interface AsyncHashOptions {
  urgent?: boolean;
}

export interface HashBackend {
  /** Short name printed at start-up ("native", "scure-js", ...). */
  readonly name: string;
  pedersen(a: Felt, b: Felt): Felt;
  /** Poseidon hash of two felts (Starknet's poseidon_hash(x, y)). */
  poseidon(a: Felt, b: Felt): Felt;
  /** Poseidon hash of a sequence (Starknet's poseidon_hash_many, with padding). */
  poseidonMany(values: readonly Felt[]): Felt;
  /** Pedersen of n pairs: out[i] = pedersen(a[i], b[i]). */
  pedersenBatch(a: readonly Felt[], b: readonly Felt[]): Felt[];
  /** Poseidon of n pairs: out[i] = poseidon(a[i], b[i]). */
  poseidonBatch(a: readonly Felt[], b: readonly Felt[]): Felt[];
  /**
   * Optional: hash a trie-node table in one call (format in state/patricia-trie.ts). Without
   * it the table is hashed rank by rank through pedersenBatch/poseidonBatch.
   */
  hashNodeTable?(kind: "pedersen" | "poseidon", table: Uint32Array, felts: readonly Felt[], prefix: number): Uint8Array;
  /** Optional: hashNodeTable on a thread of the backend's own, so the caller can go on meanwhile. */
  hashNodeTableAsync?(kind: "pedersen" | "poseidon", table: Uint32Array, felts: readonly Felt[], prefix: number): Promise<Uint8Array>;
  /**
   * Optional: a Poseidon program (state/crypto/hash-plan.ts: jobs of poseidon_hash_many whose
   * operands are felts or earlier jobs' outputs) on the backend's own thread; one output per job.
   * `urgent`: a request waits on it, so it must not wait behind bulk work (a block's node tables).
   */
  poseidonProgramAsync?(ops: Uint32Array, felts: readonly Felt[], opts?: AsyncHashOptions): Promise<Felt[]>;
  /**
   * Optional: poseidonProgramAsync, then ecdsaVerify of each check over its operand, in one job
   * on the backend's own thread (a caller that needs both waits for one trip, not two).
   */
  poseidonProgramVerifyAsync?(ops: Uint32Array, felts: readonly Felt[], checks: readonly ProgramCheck[], opts?: AsyncHashOptions): Promise<{ outputs: Felt[]; valid: boolean[] }>;
  /** Optional: ecdsaVerify of many items on the backend's own thread. */
  ecdsaVerifyBatchAsync?(items: readonly EcdsaItem[], opts?: AsyncHashOptions): Promise<boolean[]>;
  /** Optional: the felts at offset, offset + stride, ... of fixed-size records (node-table hashes). */
  recordFelts?(bytes: Uint8Array, offset: number, stride: number): Felt[];
  /** Stark ECDSA verify of (r, s) over msgHash for the public key (x coordinate). */
  ecdsaVerify(msgHash: Felt, r: Felt, s: Felt, publicKey: Felt): boolean;
  /** Stark ECDSA sign (RFC 6979 deterministic k, as starknet.js/scure). */
  ecdsaSign(msgHash: Felt, privateKey: Felt): { r: Felt; s: Felt };
}
