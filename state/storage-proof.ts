// Merkle proofs in starknet_getStorageProof's format, and the verifier that checks them.
//
// A proof is the union of the nodes on the paths from a root to the requested leaves.
// A leaf that is absent is proven by a path ending in an edge whose path diverges from
// the key (or by the empty root). The verifier recomputes every node's hash from its
// content, so a tampered node, value or root is detected.
// This module never reads the clock, randomness or the environment.

import { P, toHex, type Felt } from "./felt.js";
import { hashBackend } from "./crypto/hash.js";
import { stepToward, type TrieHashKind, type TrieNode } from "./patricia-trie.js";
import { contractStateHash, globalStateRoot, STATE_TRIE_HEIGHT, type ContractRecord } from "./state-commitment.js";

/** Async node lookup (a world state's store, or a proof's node list). */
export type NodeFetcher = (hash: Felt) => Promise<TrieNode | undefined>;

export interface ProofNode {
  node_hash: string;
  node: { left: string; right: string } | { path: string; length: number; child: string };
}

export interface StorageProofResult {
  classes_proof: ProofNode[];
  contracts_proof: { nodes: ProofNode[]; contract_leaves_data: Array<{ nonce: string; class_hash: string; storage_root: string }> };
  contracts_storage_proofs: ProofNode[][];
  global_roots: { contracts_tree_root: string; classes_tree_root: string; block_hash: string };
}

export interface StorageProofRequest {
  classHashes: Felt[];
  contractAddresses: Felt[];
  contractsStorageKeys: Array<{ contractAddress: Felt; storageKeys: Felt[] }>;
}

/** What a proof generator needs from the chain at one block. */
export interface ProofSource {
  blockHash: Felt;
  contractsRoot: Felt;
  classesRoot: Felt;
  fetch(kind: TrieHashKind): NodeFetcher;
  /** Contract record behind a contracts-trie leaf hash. */
  contractPreimage(leaf: Felt): Promise<ContractRecord | undefined>;
}

export class ProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProofError";
  }
}

/** Nodes on the paths from `root` to each key, each once, root first. */
export async function collectProofNodes(fetch: NodeFetcher, height: number, root: Felt, keys: readonly Felt[]): Promise<Array<[Felt, TrieNode]>> {
  const out = new Map<Felt, TrieNode>();
  for (const key of keys) {
    let at: { ref: Felt; depth: number } | null = { ref: root, depth: 0 };
    while (at !== null && at.ref !== 0n && at.depth < height) {
      const node = await fetch(at.ref);
      if (node === undefined) throw new ProofError(`trie node 0x${at.ref.toString(16)} is missing`);
      out.set(at.ref, node);
      at = stepToward(node, key, height, at.depth); // null: the edge proves non-membership
    }
  }
  return [...out];
}

/** Leaf value under `root` proven by `nodes` (0 for a proven absence); throws if the proof does not hold. */
export function verifyProofPath(kind: TrieHashKind, height: number, root: Felt, key: Felt, nodes: ReadonlyMap<Felt, TrieNode>): Felt {
  const b = hashBackend();
  const h = kind === "pedersen" ? b.pedersen : b.poseidon;
  if (root === 0n) return 0n;
  let at = { ref: root, depth: 0 };
  while (at.depth < height) {
    const { ref, depth } = at;
    const node = nodes.get(ref);
    if (node === undefined) throw new ProofError(`proof lacks node 0x${ref.toString(16)} at depth ${depth}`);
    if (node.kind === "binary") {
      if (h(node.left, node.right) !== ref) throw new ProofError(`binary node 0x${ref.toString(16)} does not hash to its key`);
    } else {
      if (node.length < 1 || depth + node.length > height) throw new ProofError("edge length out of range");
      if ((h(node.child, node.path) + BigInt(node.length)) % P !== ref) throw new ProofError(`edge node 0x${ref.toString(16)} does not hash to its key`);
    }
    const next = stepToward(node, key, height, depth);
    if (next === null) return 0n;
    at = next;
  }
  return at.ref;
}

/** Build the starknet_getStorageProof answer for one block. */
export async function buildStorageProof(src: ProofSource, req: StorageProofRequest): Promise<StorageProofResult> {
  const classesNodes = await collectProofNodes(src.fetch("poseidon"), STATE_TRIE_HEIGHT, src.classesRoot, req.classHashes);
  const contractAddrs = [...req.contractAddresses];
  const contractNodes = await collectProofNodes(src.fetch("pedersen"), STATE_TRIE_HEIGHT, src.contractsRoot, contractAddrs);
  const nodeMap = new Map(contractNodes);
  const leafData: StorageProofResult["contracts_proof"]["contract_leaves_data"] = [];
  for (const a of contractAddrs) {
    const rec = await contractAt(src, nodeMap, a);
    leafData.push({ nonce: toHex(rec.nonce), class_hash: toHex(rec.classHash), storage_root: toHex(rec.storageRoot) });
  }
  const storageProofs: ProofNode[][] = [];
  for (const { contractAddress, storageKeys } of req.contractsStorageKeys) {
    const pathNodes = await collectProofNodes(src.fetch("pedersen"), STATE_TRIE_HEIGHT, src.contractsRoot, [contractAddress]);
    const rec = await contractAt(src, new Map(pathNodes), contractAddress);
    const nodes = await collectProofNodes(src.fetch("pedersen"), STATE_TRIE_HEIGHT, rec.storageRoot, storageKeys);
    storageProofs.push(nodes.map(toProofNode));
  }
  return {
    classes_proof: classesNodes.map(toProofNode),
    contracts_proof: { nodes: contractNodes.map(toProofNode), contract_leaves_data: leafData },
    contracts_storage_proofs: storageProofs,
    global_roots: { contracts_tree_root: toHex(src.contractsRoot), classes_tree_root: toHex(src.classesRoot), block_hash: toHex(src.blockHash) },
  };
}

async function contractAt(src: ProofSource, nodes: ReadonlyMap<Felt, TrieNode>, address: Felt): Promise<ContractRecord> {
  const leaf = verifyProofPath("pedersen", STATE_TRIE_HEIGHT, src.contractsRoot, address, nodes);
  if (leaf === 0n) return { classHash: 0n, nonce: 0n, storageRoot: 0n };
  const rec = await src.contractPreimage(leaf);
  if (rec === undefined) throw new ProofError(`contract state preimage of 0x${leaf.toString(16)} is missing`);
  return rec;
}

export function toProofNode([hash, n]: [Felt, TrieNode]): ProofNode {
  return {
    node_hash: toHex(hash),
    node: n.kind === "binary" ? { left: toHex(n.left), right: toHex(n.right) } : { path: toHex(n.path), length: n.length, child: toHex(n.child) },
  };
}

export function fromProofNodes(nodes: readonly ProofNode[]): Map<Felt, TrieNode> {
  const m = new Map<Felt, TrieNode>();
  for (const { node_hash, node } of nodes) {
    const h = BigInt(node_hash);
    if ("left" in node) m.set(h, { kind: "binary", left: BigInt(node.left), right: BigInt(node.right) });
    else m.set(h, { kind: "edge", child: BigInt(node.child), path: BigInt(node.path), length: node.length });
  }
  return m;
}

export interface VerifiedStorageProof {
  contracts: Array<{ address: Felt; record: ContractRecord }>;
  storage: Array<{ address: Felt; key: Felt; value: Felt }>;
  classes: Array<{ classHash: Felt; leaf: Felt }>;
}

/**
 * Check a whole proof against an expected global state root: the roots combine to it,
 * every contract's leaf data hashes to the proven leaf, every storage value is proven
 * under that contract's storage root. Returns the proven values; throws ProofError.
 */
export function verifyStorageProof(proof: StorageProofResult, req: StorageProofRequest, expectedGlobalRoot: Felt): VerifiedStorageProof {
  const contractsRoot = BigInt(proof.global_roots.contracts_tree_root);
  const classesRoot = BigInt(proof.global_roots.classes_tree_root);
  if (globalStateRoot(contractsRoot, classesRoot) !== expectedGlobalRoot) throw new ProofError("global roots do not combine to the expected state root");
  const contractNodes = fromProofNodes(proof.contracts_proof.nodes);
  const contracts = req.contractAddresses.map((address, i) => {
    const d = proof.contracts_proof.contract_leaves_data[i];
    if (d === undefined) throw new ProofError(`missing leaf data for contract ${toHex(address)}`);
    const record: ContractRecord = { classHash: BigInt(d.class_hash), nonce: BigInt(d.nonce), storageRoot: BigInt(d.storage_root) };
    const leaf = verifyProofPath("pedersen", STATE_TRIE_HEIGHT, contractsRoot, address, contractNodes);
    if (leaf !== contractStateHash(record)) throw new ProofError(`leaf data of contract ${toHex(address)} does not match the proven leaf`);
    return { address, record };
  });
  const storage: VerifiedStorageProof["storage"] = [];
  req.contractsStorageKeys.forEach(({ contractAddress, storageKeys }, i) => {
    const c = contracts.find((x) => x.address === contractAddress);
    if (c === undefined) throw new ProofError(`storage proof for ${toHex(contractAddress)} needs that contract in contract_addresses`);
    const nodes = fromProofNodes(proof.contracts_storage_proofs[i] ?? []);
    for (const key of storageKeys) storage.push({ address: contractAddress, key, value: verifyProofPath("pedersen", STATE_TRIE_HEIGHT, c.record.storageRoot, key, nodes) });
  });
  const classNodes = fromProofNodes(proof.classes_proof);
  const classes = req.classHashes.map((classHash) => ({ classHash, leaf: verifyProofPath("poseidon", STATE_TRIE_HEIGHT, classesRoot, classHash, classNodes) }));
  return { contracts, storage, classes };
}
