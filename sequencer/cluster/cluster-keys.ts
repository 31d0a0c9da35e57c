// The etcd key layout of one chain: every key of a cluster lives under
// `/perpchain/<chainId>/` (the namespace the coordinator's client is bound to), so several
// chains can share one etcd. Keys are fixed-width where they are ranged over, so that byte
// order is numeric order.
//
// Never holds values or talks to etcd: names only.

/** Namespace prefix of a chain's keys. */
export function chainPrefix(chainId: string): string {
  if (chainId.length === 0 || chainId.includes("/")) throw new RangeError(`chain id '${chainId}' cannot name an etcd prefix`);
  return `/perpchain/${chainId}/`;
}

export const LEADER_KEY = "leader";
/** Decimal number of the head block (compared byte-for-byte by the commit transaction). */
export const HEAD_KEY = "head";
/** Hash of block 0, written once by whichever node initialises the cluster. */
export const GENESIS_KEY = "genesis";
export const BLOCKS_PREFIX = "blocks/";
export const TXS_PREFIX = "txs/";
export const MEMBERS_PREFIX = "members/";
export const AUDIT_PREFIX = "audit/";

const NUMBER_WIDTH = 12;

export function blockKey(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`block number ${n} is not a non-negative integer`);
  return BLOCKS_PREFIX + String(n).padStart(NUMBER_WIDTH, "0");
}

export function blockNumberOfKey(key: string): number {
  return Number(key.slice(BLOCKS_PREFIX.length));
}

/** A batch of admitted transactions, by the token of the leader that admitted them and its sequence. */
export function txBatchKey(token: string, seq: number): string {
  return `${TXS_PREFIX}${token.padStart(20, "0")}/${String(seq).padStart(NUMBER_WIDTH, "0")}`;
}

/** A node id as it may appear in an etcd key: 1-64 characters of [A-Za-z0-9_.-]. */
export function isNodeId(v: string): boolean {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(v);
}

export function memberKey(nodeId: string): string {
  if (!isNodeId(nodeId)) throw new RangeError(`node id '${nodeId}' must be 1-64 characters of [A-Za-z0-9_.-]`);
  return MEMBERS_PREFIX + nodeId;
}

/** A rollback audit record, ordered by wall-clock time of the rollback. */
export function auditKey(at_ms: number, nodeId: string): string {
  return `${AUDIT_PREFIX}${String(at_ms).padStart(15, "0")}-${nodeId}`;
}

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
