// Dump and load a whole chain: every key of the store (blocks, txs, trie nodes, flat state,
// diffs, snapshots, WAL) to one file and back into a fresh data directory, so the loaded
// node has the same head and roots. The node's epoch/lease record is not carried over.
//
// File: "PERPCHAIN-DUMP-1\n", then length-prefixed msgpack records: a header
// {head_block, head_hash, global_root, storage_format}, then [key, value] pairs, then a
// trailer {entries}. Values are copied as stored, so a dump is loadable only by a node of
// the same storage format (stored-records.ts); a dump without one is format 1.
// Never leaves a half-written dump: a dump is written beside its target and renamed into place.

import { open, readFile, rename, unlink } from "node:fs/promises";
import { pack, unpack } from "msgpackr";
import { Column, columnRange } from "../state/columns.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { toHex } from "../state/felt.js";
import { WorldState } from "../state/world-state.js";
import { STORAGE_FORMAT_VERSION } from "./stored-records.js";

const MAGIC = Buffer.from("PERPCHAIN-DUMP-1\n");

export interface DumpSummary {
  entries: number;
  bytes: number;
  head_block: number;
  head_hash: string;
  global_root: string;
}

export class DumpFormatError extends Error {}

/**
 * Write the whole store to `path`, atomically: records go to a temporary file beside it, which
 * is synced and renamed over `path` only when complete, so a failed dump (disk full, bad
 * directory) leaves no half-written file and rejects with the file system's error.
 */
export async function dumpStore(store: KvStore, path: string): Promise<DumpSummary> {
  const ws = await WorldState.open(store);
  const head = ws.head();
  if (head === null) throw new DumpFormatError("nothing to dump: the chain is empty");
  const tmp = `${path}.partial-${process.pid}-${++partialCounter}`;
  const file = await open(tmp, "wx");
  let bytes = 0;
  let entries = 0;
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      await file.write(chunk);
    };
    const write = async (b: Buffer) => {
      pending.push(b);
      pendingBytes += b.length;
      bytes += b.length;
      if (pendingBytes >= FLUSH_BYTES) await flush();
    };
    const record = (v: unknown) => {
      const body = pack(v);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      return write(Buffer.concat([len, body]));
    };
    await write(MAGIC);
    await record({ head_block: head.blockNumber, head_hash: toHex(head.blockHash), global_root: toHex(head.roots.globalRoot), storage_format: STORAGE_FORMAT_VERSION });
    for await (const [k, v] of store.iterator({})) {
      if (k[0] === Column.nodeMeta && Buffer.from(k).subarray(1).toString() === "epoch") continue;
      await record([Buffer.from(k), Buffer.from(v)]);
      entries++;
    }
    await record({ entries });
    await flush();
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return { entries, bytes, head_block: head.blockNumber, head_hash: toHex(head.blockHash), global_root: toHex(head.roots.globalRoot) };
}

/** Dump writes are gathered into chunks of this size. */
const FLUSH_BYTES = 1 << 20;
let partialCounter = 0;

/** Load a dump into an EMPTY store; checks the head and its root after loading. */
export async function loadStore(path: string, store: KvStore): Promise<DumpSummary> {
  for await (const _ of store.iterator({ ...columnRange(Column.head), limit: 1 })) throw new DumpFormatError("target store is not empty");
  const data = await readFile(path);
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new DumpFormatError(`${path} is not a perpchain dump`);
  let off = MAGIC.length;
  const next = (): unknown => {
    if (off + 4 > data.length) throw new DumpFormatError("dump is truncated");
    const len = data.readUInt32BE(off);
    if (off + 4 + len > data.length) throw new DumpFormatError("dump is truncated");
    let v: unknown;
    try {
      v = unpack(data.subarray(off + 4, off + 4 + len));
    } catch (e) {
      throw new DumpFormatError(`dump record at byte ${off} does not decode: ${(e as Error).message}`);
    }
    off += 4 + len;
    return v;
  };
  const header = next() as { head_block: number; head_hash: string; global_root: string; storage_format?: number };
  const format = header.storage_format ?? 1;
  if (format !== STORAGE_FORMAT_VERSION) {
    throw new DumpFormatError(`${path} holds storage format ${format}; this perpchain loads format ${STORAGE_FORMAT_VERSION} only (load it with the perpchain version that wrote it)`);
  }
  let ops: KvOp[] = [];
  let entries = 0;
  let headOp: KvOp | null = null;
  for (;;) {
    const r = next();
    if (!Array.isArray(r)) {
      if ((r as { entries: number }).entries !== entries) throw new DumpFormatError("dump entry count does not match its trailer");
      break;
    }
    const [k, v] = r as [Uint8Array, Uint8Array];
    const op: KvOp = { type: "put", key: k, value: v };
    // The head pointer is written last, so an interrupted load leaves no head at all.
    if (k[0] === Column.head) headOp = op;
    else ops.push(op);
    entries++;
    if (ops.length >= 10_000) {
      await store.batch(ops);
      ops = [];
    }
  }
  if (headOp === null) throw new DumpFormatError("dump has no head");
  await store.batch([...ops, headOp]);
  const ws = await WorldState.open(store);
  const head = ws.head()!;
  if (toHex(head.roots.globalRoot) !== header.global_root || head.blockNumber !== header.head_block) throw new DumpFormatError("loaded head does not match the dump header");
  return { entries, bytes: data.length, head_block: head.blockNumber, head_hash: toHex(head.blockHash), global_root: toHex(head.roots.globalRoot) };
}
