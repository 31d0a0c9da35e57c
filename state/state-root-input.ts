// Roots of a whole state given as JSON (the `state-root` CLI's engine): the way outsiders
// compare our commitment with other Starknet implementations.
//
// Input:  {"contracts": [{"address", "class_hash", "nonce"?, "storage"?: {key: value}}],
//          "classes"?: {class_hash: compiled_class_hash}}
// Output: {"global_root", "contracts_trie_root", "classes_trie_root",
//          "contracts": {address: {"storage_root", "contract_hash"}}}

import { FeltError, parseAddress, parseFelt, toHex, type Felt } from "./felt.js";
import { MemoryKvStore } from "./kv-store.js";
import { emptyStateDiff, type StateDiff } from "./state-diff.js";
import { contractStateHash } from "./state-commitment.js";
import { WorldState } from "./world-state.js";

/** Invalid state-root input; `field` is a JSON path such as contracts[2].storage. */
export class StateInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "StateInputError";
  }
}

export interface StateRootOutput {
  global_root: string;
  contracts_trie_root: string;
  classes_trie_root: string;
  contracts: Record<string, { storage_root: string; contract_hash: string }>;
}

/** Validate the JSON input into a state diff from the empty state. */
export function parseStateInput(json: unknown): StateDiff {
  if (!isObject(json)) throw new StateInputError("$", "expected a JSON object");
  const diff = emptyStateDiff();
  const contracts = json.contracts ?? [];
  if (!Array.isArray(contracts)) throw new StateInputError("contracts", "expected an array");
  contracts.forEach((c: unknown, i: number) => {
    const at = `contracts[${i}]`;
    if (!isObject(c)) throw new StateInputError(at, "expected an object");
    if (c.address === undefined) throw new StateInputError(`${at}.address`, "missing field");
    if (c.class_hash === undefined) throw new StateInputError(`${at}.class_hash`, "missing field");
    const address = felt(() => parseAddress(c.address, `${at}.address`));
    if (diff.deployed.has(address) || diff.storage.has(address) || diff.nonces.has(address))
      throw new StateInputError(`${at}.address`, "duplicate contract address");
    const classHash = felt(() => parseFelt(c.class_hash, `${at}.class_hash`));
    const nonce = c.nonce === undefined ? 0n : felt(() => parseFelt(c.nonce, `${at}.nonce`));
    diff.deployed.set(address, classHash);
    diff.nonces.set(address, nonce);
    const storage = c.storage ?? {};
    if (!isObject(storage)) throw new StateInputError(`${at}.storage`, "expected an object of key → value");
    const writes = new Map<Felt, Felt>();
    for (const [k, v] of Object.entries(storage)) {
      const key = felt(() => parseAddress(k, `${at}.storage key ${k.slice(0, 70)}`));
      const value = felt(() => parseFelt(v, `${at}.storage[${k.slice(0, 70)}]`));
      writes.set(key, value);
    }
    if (writes.size > 0) diff.storage.set(address, writes);
  });
  const classes = json.classes ?? {};
  if (!isObject(classes)) throw new StateInputError("classes", "expected an object of class_hash → compiled_class_hash");
  for (const [k, v] of Object.entries(classes)) {
    const c = felt(() => parseFelt(k, `classes key ${k.slice(0, 70)}`));
    diff.declared.set(c, felt(() => parseFelt(v, `classes[${k.slice(0, 70)}]`)));
  }
  return diff;
}

/** Commit the state into a fresh in-memory world state and report its roots. */
export async function computeStateRoots(diff: StateDiff): Promise<StateRootOutput> {
  const ws = await WorldState.open(new MemoryKvStore());
  const prepared = await ws.prepareCommit(0, diff);
  await ws.commit(prepared, { blockHash: 0n });
  const contracts: StateRootOutput["contracts"] = {};
  const addrs = new Set<Felt>([...diff.deployed.keys(), ...diff.storage.keys(), ...diff.nonces.keys()]);
  for (const a of addrs) {
    const rec = ws.getContract(a);
    contracts[toHex(a)] = { storage_root: toHex(rec.storageRoot), contract_hash: toHex(contractStateHash(rec)) };
  }
  const r = prepared.roots;
  return {
    global_root: toHex(r.globalRoot),
    contracts_trie_root: toHex(r.contractsRoot),
    classes_trie_root: toHex(r.classesRoot),
    contracts,
  };
}

function felt(f: () => Felt): Felt {
  try {
    return f();
  } catch (e) {
    if (e instanceof FeltError) throw new StateInputError(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
