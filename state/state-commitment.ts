// The leaf and root formulas of Starknet's global state commitment.
//
// Sources (checked against the Starknet docs "State" page, pathfinder
// crates/merkle-tree/src/contract_state.rs and crates/pathfinder/src/state/block_hash.rs,
// juno core/state.go / core/contract.go):
//   contract state hash = pedersen(pedersen(pedersen(class_hash, storage_root), nonce), 0)
//                         (the last 0 is the contract-state version)
//   class leaf          = poseidon('CONTRACT_CLASS_LEAF_V0', compiled_class_hash)
//   global state root   = poseidon_hash_many('STARKNET_STATE_V0', contracts_root, classes_root),
//                         and 0 when both roots are 0 (Starknet 0.14 rule, DESIGN §3).
// A contract whose class hash, nonce and storage root are all 0 has no leaf.

import { encodeShortString, type Felt } from "./felt.js";
import { hashBackend } from "./crypto/hash.js";
import type { NodeTable, TableOperand } from "./patricia-trie.js";

/** Height of the storage, contracts and classes tries. */
export const STATE_TRIE_HEIGHT = 251;

export const CONTRACT_CLASS_LEAF_V0 = encodeShortString("CONTRACT_CLASS_LEAF_V0");
export const STARKNET_STATE_V0 = encodeShortString("STARKNET_STATE_V0");

export interface StateRoots {
  globalRoot: Felt;
  contractsRoot: Felt;
  classesRoot: Felt;
}

export interface ContractRecord {
  classHash: Felt;
  nonce: Felt;
  storageRoot: Felt;
}

export const EMPTY_CONTRACT: ContractRecord = Object.freeze({ classHash: 0n, nonce: 0n, storageRoot: 0n });

export function isEmptyContract(c: ContractRecord): boolean {
  return c.classHash === 0n && c.nonce === 0n && c.storageRoot === 0n;
}

/** Contract leaf value; 0 (no leaf) for an all-zero contract. */
export function contractStateHash(c: ContractRecord): Felt {
  if (isEmptyContract(c)) return 0n;
  const b = hashBackend();
  return b.pedersen(b.pedersen(b.pedersen(c.classHash, c.storageRoot), c.nonce), 0n);
}

/**
 * The contract state hash of a contract whose storage root is `storageRoot` in a node table
 * being built (so a block's leaves are hashed with its storage tries, in the same call).
 * The caller maps an all-zero contract to 0 (no leaf).
 */
export function contractStateHashInTable(t: NodeTable, classHash: Felt, storageRoot: TableOperand, nonce: Felt): TableOperand {
  return t.pair(t.pair(t.pair(t.felt(classHash), storageRoot), t.felt(nonce)), t.felt(0n));
}

export function classLeafHash(compiledClassHash: Felt): Felt {
  if (compiledClassHash === 0n) return 0n;
  return hashBackend().poseidon(CONTRACT_CLASS_LEAF_V0, compiledClassHash);
}

export function globalStateRoot(contractsRoot: Felt, classesRoot: Felt): Felt {
  if (contractsRoot === 0n && classesRoot === 0n) return 0n;
  return hashBackend().poseidonMany([STARKNET_STATE_V0, contractsRoot, classesRoot]);
}
