// A writable view over a StateReader with a checkpoint stack: every write and every
// emitted event is journaled, so reverting a checkpoint undoes exactly what happened
// since it was taken (a failed call discards its writes and events, nothing else).
// The base reader is never written; toStateDiff() returns the net changes.

import type { Felt } from "../../state/felt.js";
import { type StateDiff, type StateReader, emptyStateDiff } from "../../state/state-diff.js";
import type { StateDiffSize } from "./gas.js";

/** An event as emitted, with the emitting contract. */
export interface EmittedEvent {
  from_address: Felt;
  keys: Felt[];
  data: Felt[];
}

type Undo =
  | { kind: "storage"; address: Felt; key: Felt; prev: Felt | undefined }
  | { kind: "nonce"; address: Felt; prev: Felt | undefined }
  | { kind: "class"; address: Felt; prev: Felt | undefined }
  | { kind: "declare"; classHash: Felt; prev: Felt | undefined }
  | { kind: "event" };

export class JournaledState implements StateReader {
  private readonly storage = new Map<Felt, Map<Felt, Felt>>();
  private readonly nonces = new Map<Felt, Felt>();
  private readonly classes = new Map<Felt, Felt>();
  private readonly declared = new Map<Felt, Felt>();
  private readonly journal: Undo[] = [];
  private readonly marks: number[] = [];
  readonly events: EmittedEvent[] = [];

  constructor(readonly base: StateReader) {}

  getStorage(address: Felt, key: Felt): Felt {
    const v = this.storage.get(address)?.get(key);
    return v !== undefined ? v : this.base.getStorage(address, key);
  }
  getNonce(address: Felt): Felt {
    const v = this.nonces.get(address);
    return v !== undefined ? v : this.base.getNonce(address);
  }
  getClassHash(address: Felt): Felt {
    const v = this.classes.get(address);
    return v !== undefined ? v : this.base.getClassHash(address);
  }
  getCompiledClassHash(classHash: Felt): Felt {
    const v = this.declared.get(classHash);
    return v !== undefined ? v : this.base.getCompiledClassHash(classHash);
  }

  setStorage(address: Felt, key: Felt, value: Felt): void {
    let m = this.storage.get(address);
    if (!m) this.storage.set(address, (m = new Map()));
    this.journal.push({ kind: "storage", address, key, prev: m.get(key) });
    m.set(key, value);
  }
  setNonce(address: Felt, nonce: Felt): void {
    this.journal.push({ kind: "nonce", address, prev: this.nonces.get(address) });
    this.nonces.set(address, nonce);
  }
  setClassHash(address: Felt, classHash: Felt): void {
    this.journal.push({ kind: "class", address, prev: this.classes.get(address) });
    this.classes.set(address, classHash);
  }
  declare(classHash: Felt, compiledClassHash: Felt): void {
    this.journal.push({ kind: "declare", classHash, prev: this.declared.get(classHash) });
    this.declared.set(classHash, compiledClassHash);
  }
  emitEvent(event: EmittedEvent): void {
    this.journal.push({ kind: "event" });
    this.events.push(event);
  }

  get depth(): number {
    return this.marks.length;
  }
  checkpoint(): void {
    this.marks.push(this.journal.length);
  }
  /** Keep everything since the last checkpoint (it merges into the enclosing one). */
  commit(): void {
    if (this.marks.pop() === undefined) throw new Error("JournaledState.commit without checkpoint");
  }
  /** Undo everything since the last checkpoint. */
  revert(): void {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Error("JournaledState.revert without checkpoint");
    while (this.journal.length > mark) {
      const u = this.journal.pop()!;
      switch (u.kind) {
        case "storage": {
          const m = this.storage.get(u.address)!;
          if (u.prev === undefined) m.delete(u.key);
          else m.set(u.key, u.prev);
          break;
        }
        case "nonce":
          restore(this.nonces, u.address, u.prev);
          break;
        case "class":
          restore(this.classes, u.address, u.prev);
          break;
        case "declare":
          restore(this.declared, u.classHash, u.prev);
          break;
        case "event":
          this.events.pop();
          break;
      }
    }
  }

  /** Net changes against the base: writes that restore the base value are dropped. */
  toStateDiff(): StateDiff {
    const diff = emptyStateDiff();
    for (const [address, m] of this.storage) {
      for (const [key, value] of m) {
        if (this.base.getStorage(address, key) === value) continue;
        let out = diff.storage.get(address);
        if (!out) diff.storage.set(address, (out = new Map()));
        out.set(key, value);
      }
    }
    for (const [a, n] of this.nonces) if (this.base.getNonce(a) !== n) diff.nonces.set(a, n);
    for (const [a, c] of this.classes) if (this.base.getClassHash(a) !== c) diff.deployed.set(a, c);
    for (const [c, cc] of this.declared) if (this.base.getCompiledClassHash(c) !== cc) diff.declared.set(c, cc);
    return diff;
  }
}

function restore(m: Map<Felt, Felt>, k: Felt, prev: Felt | undefined): void {
  if (prev === undefined) m.delete(k);
  else m.set(k, prev);
}

/** Size of a diff as the L1 data-gas formula counts it (see gas.ts). */
export function stateDiffSize(diff: StateDiff): StateDiffSize {
  const modified = new Set<Felt>([...diff.storage.keys(), ...diff.nonces.keys(), ...diff.deployed.keys()]);
  let storageWrites = 0;
  for (const m of diff.storage.values()) storageWrites += m.size;
  return {
    modifiedContracts: modified.size,
    storageWrites,
    classHashUpdates: diff.deployed.size,
    declaredClasses: diff.declared.size,
  };
}

/** A StateReader over a StateDiff (for genesis and tests): unset values read as 0. */
export class DiffStateReader implements StateReader {
  constructor(readonly diff: StateDiff) {}
  getStorage(address: Felt, key: Felt): Felt {
    return this.diff.storage.get(address)?.get(key) ?? 0n;
  }
  getNonce(address: Felt): Felt {
    return this.diff.nonces.get(address) ?? 0n;
  }
  getClassHash(address: Felt): Felt {
    return this.diff.deployed.get(address) ?? 0n;
  }
  getCompiledClassHash(classHash: Felt): Felt {
    return this.diff.declared.get(classHash) ?? 0n;
  }
}
