// Test support: every record (trie node, contract preimage) a stored state reaches, read
// straight from the store (no cache), and every record the store holds, so pruning tests can
// check that nothing reachable is missing and nothing unreachable is left.

import { Column, columnRange, keys, readFelt } from "../../state/columns.js";
import type { Felt } from "../../state/felt.js";
import type { KvStore } from "../../state/kv-store.js";
import { stepToward, type TrieNode } from "../../state/patricia-trie.js";
import { STATE_TRIE_HEIGHT, type StateRoots } from "../../state/state-commitment.js";
import { decodeNode } from "../../state/world-state.js";

const COLUMNS = [Column.pedersenNode, Column.poseidonNode, Column.contractStatePreimage];

/** Every stored record, as "column:hash hex". */
export async function storedRecords(store: KvStore): Promise<Set<string>> {
  const out = new Set<string>();
  for (const c of COLUMNS) for await (const [k] of store.iterator(columnRange(c))) out.add(`${c}:${readFelt(k, 1).toString(16)}`);
  return out;
}

/**
 * Walk a trie from the store only, adding each node's record name to `seen`; returns the leaves.
 * Throws when a reachable node is missing.
 */
export async function walkTrie(store: KvStore, kind: "pedersen" | "poseidon", root: Felt, seen: Set<string>): Promise<Map<Felt, Felt>> {
  const leaves = new Map<Felt, Felt>();
  if (root === 0n) return leaves;
  const column = kind === "pedersen" ? Column.pedersenNode : Column.poseidonNode;
  const visit = async (hash: Felt, depth: number, prefix: Felt): Promise<void> => {
    if (depth === STATE_TRIE_HEIGHT) {
      leaves.set(prefix, hash);
      return;
    }
    const raw = await store.get(keys.trieNode(kind, hash));
    if (raw === undefined) throw new Error(`${kind} node ${hash.toString(16)} reachable at depth ${depth} is missing`);
    seen.add(`${column}:${hash.toString(16)}`);
    const node: TrieNode = decodeNode(raw);
    if (node.kind === "binary") {
      await visit(node.left, depth + 1, prefix << 1n);
      await visit(node.right, depth + 1, (prefix << 1n) | 1n);
    } else {
      const key = ((prefix << BigInt(node.length)) | node.path) << BigInt(STATE_TRIE_HEIGHT - depth - node.length);
      const next = stepToward(node, key, STATE_TRIE_HEIGHT, depth)!;
      await visit(next.ref, next.depth, (prefix << BigInt(node.length)) | node.path);
    }
  };
  await visit(root, 0, 0n);
  return leaves;
}

/** A whole state read from its roots: contract → storage leaves, and the classes trie's leaves. */
export async function walkState(store: KvStore, roots: StateRoots, seen: Set<string>): Promise<{ contracts: Map<Felt, { record: Uint8Array; storage: Map<Felt, Felt> }>; classes: Map<Felt, Felt> }> {
  const contracts = new Map<Felt, { record: Uint8Array; storage: Map<Felt, Felt> }>();
  for (const [addr, leaf] of await walkTrie(store, "pedersen", roots.contractsRoot, seen)) {
    const pre = await store.get(keys.contractStatePreimage(leaf));
    if (pre === undefined) throw new Error(`preimage of contract ${addr.toString(16)} is missing`);
    seen.add(`${Column.contractStatePreimage}:${leaf.toString(16)}`);
    contracts.set(addr, { record: pre, storage: await walkTrie(store, "pedersen", readFelt(pre, 64), seen) });
  }
  return { contracts, classes: await walkTrie(store, "poseidon", roots.classesRoot, seen) };
}
