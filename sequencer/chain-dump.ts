// Dump and load a whole chain: every key of the store (blocks, txs, trie nodes, flat state,
// diffs, snapshots, WAL) to one file and back into a fresh data directory, so the loaded
// node has the same head and roots. The node's epoch/lease record is not carried over.
//
// File: "PERPCHAIN-DUMP-1\n", then length-prefixed msgpack records: a header
// {head_block, head_hash, global_root, storage_format}, then [key, value] pairs, then a
// trailer {entries}. Values are copied as stored, so a dump is loadable only by a node of
// the same storage format (stored-records.ts); a dump without one is format 1.

import { createReadStream, createWriteStream } from "node:fs";
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

export async function dumpStore(store: KvStore, path: string): Promise<DumpSummary> {
  const ws = await WorldState.open(store);
  const head = ws.head();
  if (head === null) throw new DumpFormatError("nothing to dump: the chain is empty");
  const out = createWriteStream(path);
  let bytes = 0;
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => {
      bytes += b.length;
      out.write(b, (e) => (e ? reject(e) : resolve()));
    });
  const record = (v: unknown) => {
    const body = pack(v);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return write(Buffer.concat([len, body]));
  };
  await write(MAGIC);
  await record({ head_block: head.blockNumber, head_hash: toHex(head.blockHash), global_root: toHex(head.roots.globalRoot), storage_format: STORAGE_FORMAT_VERSION });
  let entries = 0;
  for await (const [k, v] of store.iterator({})) {
    if (k[0] === Column.nodeMeta && Buffer.from(k).subarray(1).toString() === "epoch") continue;
    await record([Buffer.from(k), Buffer.from(v)]);
    entries++;
  }
  await record({ entries });
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return { entries, bytes, head_block: head.blockNumber, head_hash: toHex(head.blockHash), global_root: toHex(head.roots.globalRoot) };
}

/** Load a dump into an EMPTY store; checks the head and its root after loading. */
export async function loadStore(path: string, store: KvStore): Promise<DumpSummary> {
  for await (const _ of store.iterator({ ...columnRange(Column.head), limit: 1 })) throw new DumpFormatError("target store is not empty");
  const data = await readAll(path);
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new DumpFormatError(`${path} is not a perpchain dump`);
  let off = MAGIC.length;
  const next = (): unknown => {
    if (off + 4 > data.length) throw new DumpFormatError("dump is truncated");
    const len = data.readUInt32BE(off);
    if (off + 4 + len > data.length) throw new DumpFormatError("dump is truncated");
    const v = unpack(data.subarray(off + 4, off + 4 + len));
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

async function readAll(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
