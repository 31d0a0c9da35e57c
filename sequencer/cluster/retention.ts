// etcd retention: which blocks the leader may delete from etcd. A block stays while any
// live member has not applied it (a follower catches up from etcd) and while it is inside
// the retention window below the head (a restarted node or a rollback may need it).
// etcd's own history of overwritten revisions is bounded by auto-compaction (started with
// --auto-compaction-mode/--auto-compaction-retention), not here.
//
// Pure: no I/O, no clock.

import type { MemberRecord } from "./cluster-records.js";

/**
 * The lowest block number etcd must keep: min(every live member's applied height + 1,
 * head − window + 1), never above the head. Blocks below it may be deleted.
 */
export function retentionFloor(head: number, members: readonly Pick<MemberRecord, "applied_height" | "role">[], window_blocks: number): number {
  if (!Number.isSafeInteger(window_blocks) || window_blocks < 1) throw new RangeError(`retention window must be ≥ 1 block, got ${window_blocks}`);
  let floor = Math.max(1, head - window_blocks + 1);
  // A halted member will never apply more from etcd; it must not pin the chain forever.
  for (const m of members) if (m.role !== "halted") floor = Math.min(floor, m.applied_height + 1);
  return Math.max(1, Math.min(floor, head));
}
