// Named snapshots: a name pinned to a block (number, hash, roots). Rolling back to a
// snapshot moves the head there and checks the resulting root is the pinned one.
// Snapshots above a rollback target no longer exist on the chain and are deleted in the
// rollback's own batch. Stored typed (stored-records.ts); the JSON below is what the
// appchain_* methods answer, rendered by rpc-json.ts.

import { Column, columnRange, key } from "../state/columns.js";
import type { KvOp, KvStore } from "../state/kv-store.js";
import { snapshotJson } from "./rpc-json.js";
import { decodeSnapshot, encodeSnapshot, type StoredSnapshot } from "./stored-records.js";

/** A snapshot as the appchain_* methods answer it. */
export interface Snapshot {
  name: string;
  block_number: number;
  block_hash: string;
  global_root: string;
  contracts_root: string;
  classes_root: string;
  /** Chain time (seconds) when taken. */
  created_at: number;
}

const NAME_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

export class SnapshotStore {
  private readonly byName = new Map<string, Snapshot>();

  private constructor(private readonly store: KvStore) {}

  static async open(store: KvStore): Promise<SnapshotStore> {
    const s = new SnapshotStore(store);
    for await (const [, v] of store.iterator(columnRange(Column.snapshot))) {
      const snap = snapshotJson(decodeSnapshot(v));
      s.byName.set(snap.name, snap);
    }
    return s;
  }

  static validName(name: unknown): name is string {
    return typeof name === "string" && NAME_RE.test(name);
  }

  get(name: string): Snapshot | undefined {
    return this.byName.get(name);
  }

  list(): Snapshot[] {
    return [...this.byName.values()].sort((a, b) => a.block_number - b.block_number || a.name.localeCompare(b.name));
  }

  async put(s: StoredSnapshot): Promise<Snapshot> {
    await this.store.batch([{ type: "put", key: snapshotKey(s.name), value: encodeSnapshot(s) }]);
    const json = snapshotJson(s);
    this.byName.set(s.name, json);
    return json;
  }

  async delete(name: string): Promise<boolean> {
    if (!this.byName.has(name)) return false;
    await this.store.batch([{ type: "del", key: snapshotKey(name) }]);
    this.byName.delete(name);
    return true;
  }

  /** Deletions of snapshots pinned above `target` (for a rollback's batch). */
  opsForRollback(target: number): { ops: KvOp[]; names: string[] } {
    const names = [...this.byName.values()].filter((s) => s.block_number > target).map((s) => s.name);
    return { ops: names.map((n) => ({ type: "del" as const, key: snapshotKey(n) })), names };
  }

  /** After the rollback batch landed. */
  forget(names: readonly string[]): void {
    for (const n of names) this.byName.delete(n);
  }
}

function snapshotKey(name: string): Buffer {
  return key(Column.snapshot, Buffer.from(name, "utf8"));
}
