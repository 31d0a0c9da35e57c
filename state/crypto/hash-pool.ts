// Worker-thread pool for big hash and signature batches: splits a batch across cores, runs
// small batches inline on the calling thread. Workers are created lazily, are unref'd while
// idle (never keep the process alive) and are ended by close(). With the native addon the
// workers run it; without it they run the @scure/starknet reference.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Felt } from "../felt.js";
import { P } from "../felt.js";
import type { HashBackend } from "./hash-backend.js";
import { hashNodeTableWith, type TrieHashKind } from "../patricia-trie.js";
import { hashBackend } from "./hash.js";
import type { NativeAddon } from "./native-backend.js";
import { loadNativeAddon, NATIVE_ADDON_PATH } from "./native-backend.js";

export interface SignatureItem {
  msgHash: Felt;
  r: Felt;
  s: Felt;
  publicKey: Felt;
}

export interface HashPoolOptions {
  /** Worker threads; default: available cores. */
  threads?: number;
  /** Hash batches smaller than this run inline (default 64 pairs). */
  inlineHashesBelow?: number;
  /** Verify batches smaller than this run inline (default 16 items). */
  inlineVerifiesBelow?: number;
  /** Addon file; `null` forces the JS reference in workers. Default: the built addon if it loads. */
  addonPath?: string | null;
  /** Backend for inline work; default: the active one (hash.ts). */
  inlineBackend?: HashBackend;
  /**
   * With one thread, still send batches to the worker (default false: one thread runs inline).
   * The caller's thread then stays free while the worker hashes: a block commit overlaps its
   * bookkeeping with the hashing of trie levels.
   */
  offload?: boolean;
}

type Op = "pedersen" | "poseidon" | "verify" | "table";

/** What a "table" job carries besides its felts. */
interface TableJob {
  table: ArrayBuffer;
  kind: 0 | 1;
  prefix: number;
}

interface Job {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Job>;
}

export class HashPool {
  readonly threads: number;
  private readonly inlineHashesBelow: number;
  private readonly inlineVerifiesBelow: number;
  private readonly addonPath: string | null;
  private readonly addon: NativeAddon | undefined;
  private readonly inlineBackend: HashBackend | undefined;
  private readonly offload: boolean;
  private workers: PoolWorker[] = [];
  private nextId = 1;
  private nextTableWorker = 0;
  private closed = false;

  constructor(options: HashPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new RangeError(`HashPool threads: expected an integer in [1, 64], got ${threads}`);
    }
    this.threads = threads;
    this.inlineHashesBelow = options.inlineHashesBelow ?? 64;
    this.inlineVerifiesBelow = options.inlineVerifiesBelow ?? 16;
    this.inlineBackend = options.inlineBackend;
    this.offload = options.offload ?? false;
    if (options.addonPath === null) {
      this.addonPath = null;
    } else {
      const path = options.addonPath ?? NATIVE_ADDON_PATH;
      const addon = loadNativeAddon(path);
      this.addon = addon instanceof Error ? undefined : addon;
      this.addonPath = addon instanceof Error ? null : path;
    }
  }

  /** "native" when workers run the addon, else "scure-js". */
  get workerBackend(): string {
    return this.addonPath ? "native" : "scure-js";
  }

  pedersenBatch(a: readonly Felt[], b: readonly Felt[]): Promise<Felt[]> {
    return this.pairBatch("pedersen", a, b);
  }

  poseidonBatch(a: readonly Felt[], b: readonly Felt[]): Promise<Felt[]> {
    return this.pairBatch("poseidon", a, b);
  }

  /**
   * Hash a trie-node table (format in state/patricia-trie.ts) on a worker, the next one in
   * turn. Runs inline without the addon, below the inline threshold, or with one thread and
   * no offload.
   */
  async hashNodeTable(kind: TrieHashKind, table: Uint32Array, felts: readonly Felt[], prefix: number): Promise<Uint8Array> {
    this.assertOpen();
    if (!this.addon || table.length / 3 < this.inlineHashesBelow || (this.threads === 1 && !this.offload)) {
      // Inline on this pool's inline backend, like the pair batches.
      const b = this.backend();
      if (b.hashNodeTable) return b.hashNodeTable(kind, table, felts, prefix);
      return hashNodeTableWith(kind === "pedersen" ? (x, y) => b.pedersenBatch(x, y) : (x, y) => b.poseidonBatch(x, y), table, felts, prefix);
    }
    const bytes = this.addon.feltsToBuffer(felts);
    // A copy is transferred: the caller still reads its table once the hashes are back.
    const job: TableJob = { table: table.slice().buffer as ArrayBuffer, kind: kind === "pedersen" ? 0 : 1, prefix };
    return this.send(this.nextTableWorker++ % this.threads, "table", bytes, job);
  }

  /** Stark ECDSA verify of many items, split evenly (each worker keeps its own key cache). */
  async ecdsaVerifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    this.assertOpen();
    if (items.length < this.inlineVerifiesBelow || this.threads === 1) {
      const backend = this.backend();
      return items.map((it) => backend.ecdsaVerify(it.msgHash, it.r, it.s, it.publicKey));
    }
    const groups: number[][] = Array.from({ length: this.threads }, () => []);
    const chunk = Math.ceil(items.length / this.threads);
    for (let i = 0; i < items.length; i++) groups[Math.floor(i / chunk)]!.push(i);
    const packed = groups.map((indices) => {
      const flat: Felt[] = [];
      for (const i of indices) {
        const it = items[i]!;
        flat.push(it.msgHash, it.r, it.s, it.publicKey);
      }
      return this.pack(flat);
    });
    const out = new Array<boolean>(items.length);
    await Promise.all(
      groups.map(async (indices, w) => {
        if (indices.length === 0) return;
        const res = await this.send(w, "verify", packed[w]!);
        indices.forEach((i, k) => (out[i] = res[k] === 1));
      }),
    );
    return out;
  }

  /** Terminates the workers; later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers;
    this.workers = [];
    for (const w of workers) for (const job of w.pending.values()) job.reject(new Error("HashPool closed"));
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private async pairBatch(op: "pedersen" | "poseidon", a: readonly Felt[], b: readonly Felt[]): Promise<Felt[]> {
    this.assertOpen();
    if (a.length !== b.length) throw new RangeError(`${op}Batch: a has ${a.length} items, b has ${b.length}`);
    if (a.length < this.inlineHashesBelow || (this.threads === 1 && !this.offload)) {
      const backend = this.backend();
      return op === "pedersen" ? backend.pedersenBatch(a, b) : backend.poseidonBatch(a, b);
    }
    // Pack (and range-check) every chunk before sending any, so a bad felt rejects the whole
    // call without leaving work in flight.
    const chunk = Math.ceil(a.length / this.threads);
    const packed: Uint8Array[] = [];
    for (let start = 0; start < a.length; start += chunk) {
      const end = Math.min(a.length, start + chunk);
      const flat = new Array<Felt>(2 * (end - start));
      for (let i = start; i < end; i++) {
        flat[2 * (i - start)] = a[i]!;
        flat[2 * (i - start) + 1] = b[i]!;
      }
      packed.push(this.pack(flat));
    }
    const parts = packed.map((bytes, w) => this.send(w, op, bytes).then((out) => this.unpack(out)));
    return (await Promise.all(parts)).flat();
  }

  private backend(): HashBackend {
    return this.inlineBackend ?? hashBackend();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("HashPool is closed");
  }

  private pack(values: readonly Felt[]): Uint8Array {
    if (this.addon) return this.addon.feltsToBuffer(values);
    const out = new Uint8Array(32 * values.length);
    values.forEach((v, i) => {
      if (typeof v !== "bigint" || v < 0n || v >= P) throw new RangeError(`felt at index ${i} is not in [0, P)`);
      let x = v;
      for (let k = 31; k >= 0; k--, x >>= 8n) out[32 * i + k] = Number(x & 0xffn);
    });
    return out;
  }

  private unpack(bytes: Uint8Array): Felt[] {
    if (this.addon) return this.addon.bufferToFelts(bytes);
    const out = new Array<Felt>(bytes.length / 32);
    for (let i = 0; i < out.length; i++) {
      let x = 0n;
      for (let k = 0; k < 32; k++) x = (x << 8n) | BigInt(bytes[32 * i + k]!);
      out[i] = x;
    }
    return out;
  }

  private send(index: number, op: Op, input: Uint8Array, table?: TableJob): Promise<Uint8Array> {
    const pw = this.worker(index);
    const id = this.nextId++;
    // Transfer (not clone) exactly the input bytes: the packed buffers made by pack() own their
    // memory and are sent once; anything sharing a larger ArrayBuffer is copied first.
    const owned = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
    const bytes = (owned ? input.buffer : input.slice().buffer) as ArrayBuffer;
    return new Promise<Uint8Array>((resolve, reject) => {
      pw.pending.set(id, { resolve, reject });
      pw.worker.ref(); // keep the process alive while work is outstanding
      pw.worker.postMessage({ id, op, bytes, ...table }, table ? [bytes, table.table] : [bytes]);
    });
  }

  private worker(index: number): PoolWorker {
    let pw = this.workers[index];
    if (pw) return pw;
    const worker = new Worker(new URL("./hash-pool-worker.mjs", import.meta.url), {
      workerData: { addonPath: this.addonPath },
    });
    const created: PoolWorker = { worker, pending: new Map() };
    worker.on("message", (msg: { id: number; bytes?: ArrayBuffer; error?: { name?: string; message: string; code?: string } }) => {
      const job = created.pending.get(msg.id);
      if (!job) return;
      created.pending.delete(msg.id);
      if (created.pending.size === 0) worker.unref();
      if (msg.error) {
        const err = msg.error.name === "RangeError" ? new RangeError(msg.error.message) : new Error(msg.error.message);
        if (msg.error.code) Object.assign(err, { code: msg.error.code });
        job.reject(err);
      } else {
        job.resolve(new Uint8Array(msg.bytes!));
      }
    });
    worker.on("error", (err) => {
      for (const job of created.pending.values()) job.reject(err);
      created.pending.clear();
      if (this.workers[index] === created) delete this.workers[index];
    });
    worker.unref();
    this.workers[index] = created;
    pw = created;
    return pw;
  }
}
